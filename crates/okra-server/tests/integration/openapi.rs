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

/// Every `$ref` in `value`, with where it was found.
fn refs(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push((at.to_string(), v.as_str().unwrap_or("").to_string()));
                } else {
                    refs(v, &format!("{at}/{k}"), out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The document is whole: every `$ref` resolves; every error status an operation can give is
/// listed with its body schema (401 where a key is needed; 400, 413, 415 and 422 where a body
/// is read; 429, 500 and 503 on every API operation); the webhooks are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_resolves_and_every_error_status_has_its_body() {
    let s = TestServer::start(Backend::Sqlite).await;
    let doc = s.get("/openapi.json", None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 100, "only {} references", found.len());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, r)| {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            !schemas.contains_key(name)
        })
        .collect();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
    // A request schema is the request's own, not a reference to itself.
    for (name, schema) in schemas {
        assert!(
            schema.get("$ref").is_none(),
            "components.schemas.{name} is only a reference"
        );
    }

    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
            });
            let mut want: Vec<&str> = Vec::new();
            if secured {
                want.push("401");
            }
            if op.get("requestBody").is_some() {
                want.extend(["400", "413", "415", "422"]);
            }
            if path.starts_with("/v2/") {
                want.extend(["429", "500", "503"]);
            }
            for status in want {
                if !responses.contains_key(status) {
                    missing.push(format!("{method} {path}: {status}"));
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"];
                    if !is_typed(&doc, schema) {
                        missing.push(format!("{method} {path}: body of {status}"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");

    let webhooks = doc["webhooks"].as_object().expect("OpenAPI 3.1 webhooks");
    for event in [
        "AUTH_SUCCESS",
        "ACCOUNTS_SUCCESS",
        "IDENTITY_IS_READY",
        "IDENTITY_FAILED",
        "BALANCE_SUCCESS",
        "BALANCE_FAILED",
    ] {
        let op = &webhooks[event]["post"];
        assert!(op["requestBody"]["content"]["application/json"]["schema"].is_object());
        let headers: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for h in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            assert!(headers.contains(&h), "{event} documents {h}");
        }
    }
    s.stop().await;
}

/// The served document is the committed `docs/openapi.json`: a change to any operation, request
/// or response shows up as a diff to review. `OKRA_UPDATE_OPENAPI=1` rewrites the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_its_snapshot() {
    let s = TestServer::start(Backend::Sqlite).await;
    let served = s.get("/openapi.json", None).await.json();
    s.stop().await;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var("OKRA_UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(&file, &pretty).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    if committed == pretty {
        return;
    }
    let old: serde_json::Value = serde_json::from_str(&committed).unwrap_or_default();
    let mut changed: Vec<String> = Vec::new();
    for section in ["paths", "webhooks"] {
        let (a, b) = (&old[section], &served[section]);
        let keys: std::collections::BTreeSet<&String> = a
            .as_object()
            .into_iter()
            .chain(b.as_object())
            .flat_map(|m| m.keys())
            .collect();
        changed.extend(
            keys.into_iter()
                .filter(|k| a[k.as_str()] != b[k.as_str()])
                .map(|k| format!("{section} {k}")),
        );
    }
    if old["components"] != served["components"] {
        changed.push("components".into());
    }
    panic!(
        "/openapi.json differs from docs/openapi.json in {changed:?}: if the change is meant, \
         run `OKRA_UPDATE_OPENAPI=1 cargo test --test integration openapi::` and review the diff"
    );
}

/// `/docs` is Swagger UI over `/openapi.json`, every file from this server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_and_its_files_are_served_here() {
    let s = TestServer::start(Backend::Sqlite).await;
    let page = s.get("/docs/", None).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(page.text.contains("swagger-ui-bundle.js"));
    // Nothing in the page or its start-up script names another host.
    let init = s.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status.as_u16(), 200);
    assert!(
        init.text.contains("\"url\": \"/openapi.json\""),
        "{}",
        init.text
    );
    for text in [&page.text, &init.text] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{text}"
        );
    }
    for (file, kind) in [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
    ] {
        let r = s.get(&format!("/docs/{file}"), None).await;
        assert_eq!(r.status.as_u16(), 200, "{file}");
        assert!(r.header("content-type").unwrap().contains(kind), "{file}");
        assert!(r.text.len() > 10_000, "{file} is the real file");
    }
    let missing = s.get("/docs/nothing-here.js", None).await;
    assert_eq!(missing.status.as_u16(), 404);
    assert_eq!(missing.json()["message"], "Route not found");
    s.stop().await;
}
