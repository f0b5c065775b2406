//! docs/api.md §1 and §4: every error is a JSON envelope with the documented status.

use reqwest::Method;
use serde_json::json;

use crate::backend_tests;
use crate::common::{assert_error, Backend, TestServer};

async fn unknown_paths_and_methods_answer_json(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    for path in [
        "/nope",
        "/v2/sandbox/nope",
        "/v2/identity/unknownOperation",
        "/v3/banks/list",
    ] {
        assert_error(&s.get(path, Some(&key)).await, 404, "Route not found");
        assert_error(&s.post(path, None, json!({})).await, 404, "Route not found");
    }
    let r = s
        .post("/v2/sandbox/banks/list", Some(&key), json!({}))
        .await;
    assert_error(&r, 405, "Method not allowed");
    assert!(
        r.header("allow").unwrap().contains("GET"),
        "Allow header: {:?}",
        r.header("allow")
    );
    let r = s.get("/v2/sandbox/customers/list", Some(&key)).await;
    assert_error(&r, 405, "Method not allowed");
    assert!(r.header("allow").unwrap().contains("POST"));
    let r = s
        .request(Method::DELETE, "/v2/banks/getById", Some(&key), None, None)
        .await;
    assert_error(&r, 405, "Method not allowed");
    s.stop().await;
}

async fn bad_bodies_get_400_413_415_422(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let path = "/v2/sandbox/customers/list";
    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some("{\"page\": 1,"),
            Some("application/json"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON body: "),
        "{}",
        r.text
    );
    assert_eq!(r.json()["data"], json!({}));

    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some("{\"page\": 1}"),
            Some("text/plain"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 415, "{}", r.text);
    assert_eq!(r.json()["status"], "error");
    let r = s
        .request(Method::POST, path, Some(&key), Some("{\"page\": 1}"), None)
        .await;
    assert_eq!(r.status.as_u16(), 415, "{}", r.text);

    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some(&huge),
            Some("application/json"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 413, "{}", r.text);
    assert_eq!(r.json()["status"], "error");

    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some("[1, 2]"),
            Some("application/json"),
        )
        .await;
    assert_error(&r, 422, "`body` must be an object");

    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some(&format!("{{\"x\": {deep}}}")),
            Some("application/json"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);

    // An empty body is an empty object: defaults apply.
    let r = s.request(Method::POST, path, Some(&key), None, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    // Unknown fields are ignored; JSON with a charset is JSON.
    let r = s
        .request(
            Method::POST,
            path,
            Some(&key),
            Some("{\"whatever\": [1]}"),
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    s.stop().await;
}

async fn request_ids_are_echoed_or_generated(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .client
        .get(format!("{}/health", s.base))
        .header("x-request-id", "client-abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-abc_123");
    let r = s
        .client
        .get(format!("{}/nope", s.base))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(okra_core::ObjectId::is_valid(&generated), "{generated}");
    let r = s.get("/v2/sandbox/banks/list", None).await;
    assert!(r.header("x-request-id").is_some());
    s.stop().await;
}

async fn server_errors_leak_nothing_and_carry_the_request_id(b: Backend) {
    let s = TestServer::start(b).await;
    // A row sealed under a key this server does not have: reading it is an internal error.
    sqlx::query("INSERT INTO customers (id, owner_id, env, name, pii_enc, created_at, last_updated) VALUES ($1, $2, 'sandbox', 'X', $3, 1, 1)")
        .bind(okra_core::id::new_id())
        .bind(&s.creds.owner_id)
        .bind(vec![1u8, 0, 0, 0, 99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28])
        .execute(s.db.pool())
        .await
        .unwrap();
    let r = s
        .post(
            "/v2/sandbox/customers/list",
            Some(&s.sandbox_key()),
            json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 500, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["message"],
        "Something went wrong. Please retry or contact support with the request id."
    );
    assert_eq!(v["request_id"].as_str(), r.header("x-request-id"));
    let lower = r.text.to_lowercase();
    for leak in ["customers", "key", "sqlx", "corrupt", "sealed", "panic"] {
        assert!(
            !lower.contains(leak),
            "500 body mentions {leak}: {}",
            r.text
        );
    }
    s.stop().await;
}

backend_tests!(
    unknown_paths_and_methods_answer_json,
    bad_bodies_get_400_413_415_422,
    request_ids_are_echoed_or_generated,
    server_errors_leak_nothing_and_carry_the_request_id,
);
