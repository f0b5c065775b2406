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

/// The schema `schema` stands for, following a `$ref` into `components.schemas`.
fn resolve<'a>(doc: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// A schema that says what the value is: a type, or a composition of typed schemas. An absent
/// schema or `{}` ("any JSON value", what `serde_json::Value` documents) is untyped.
fn is_typed(doc: &serde_json::Value, schema: &serde_json::Value) -> bool {
    let s = resolve(doc, schema);
    if s.get("type").is_some() {
        return true;
    }
    ["oneOf", "anyOf", "allOf"].iter().any(|k| {
        s[*k]
            .as_array()
            .is_some_and(|parts| !parts.is_empty() && parts.iter().all(|p| is_typed(doc, p)))
    })
}

/// Every POST operation documents a typed JSON request body, and every operation's success
/// response shows the whole `{status, message, data}` envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_a_typed_request_and_the_envelope() {
    let s = TestServer::start(Backend::Sqlite).await;
    let doc = s.get("/openapi.json", None).await.json();
    let mut untyped = Vec::new();
    let mut bare = Vec::new();
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let versioned = path.starts_with("/v2/");
            if method == "post" {
                posts += 1;
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                if schema.is_null() || !is_typed(&doc, schema) {
                    untyped.push(path.clone());
                }
            }
            if versioned {
                let ok = &op["responses"]["200"]["content"]["application/json"]["schema"];
                let props = &resolve(&doc, ok)["properties"];
                if ["status", "message", "data"]
                    .iter()
                    .any(|f| props[*f].is_null())
                {
                    bare.push(format!("{method} {path}"));
                }
            }
        }
    }
    assert!(posts >= 11, "only {posts} POST operations documented");
    assert!(
        untyped.is_empty(),
        "POST operations without a typed request body: {untyped:?}"
    );
    assert!(
        bare.is_empty(),
        "operations whose 200 does not show the envelope: {bare:?}"
    );
    s.stop().await;
}
