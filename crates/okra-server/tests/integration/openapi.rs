//! `/openapi.json` documents every implemented route.

use crate::common::{Backend, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_openapi_document() {
    let s = TestServer::start(Backend::Sqlite).await;
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.status.as_u16(), 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let mut missing = Vec::new();
    for (path, _) in okra_server::api::versioned_routes() {
        for base in ["/v2", "/v2/sandbox"] {
            let full = format!("{base}/{path}");
            if !paths.contains_key(&full) {
                missing.push(full);
            }
        }
    }
    for (path, _) in okra_server::api::sandbox_routes() {
        let full = format!("/v2/sandbox/{path}");
        if !paths.contains_key(&full) {
            missing.push(full);
        }
        assert!(
            !paths.contains_key(&format!("/v2/{path}")),
            "sandbox-only {path} documented in production"
        );
    }
    for (path, _) in okra_server::api::unversioned_routes() {
        if !paths.contains_key(path) {
            missing.push(path.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json: {missing:?}"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    s.stop().await;
}
