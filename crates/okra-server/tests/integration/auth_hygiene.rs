//! Issue 7: authentication and response hygiene — two Authorization headers, throttled failures,
//! a bounded key cache, CORS only where a browser belongs, and headers that keep customer data out
//! of caches.

use reqwest::Method;

use crate::backend_tests;
use crate::common::{Backend, TestServer, UNAUTHORIZED};

async fn two_authorization_headers_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    for second in [key.clone(), "sk_sandbox_other".to_string()] {
        let r = s
            .client
            .get(format!("{}/v2/sandbox/banks/list", s.base))
            .header("authorization", format!("Bearer {key}"))
            .header("authorization", format!("Bearer {second}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        assert_eq!(r.text().await.unwrap(), UNAUTHORIZED);
    }
    // One header still works.
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&key)).await,
        200
    );
    s.stop().await;
}

async fn failed_authentication_is_throttled_per_address(b: Backend) {
    let s = TestServer::start_with(b, |c| c.auth_failures_per_minute = 5, Default::default()).await;
    let now = okra_core::time::now_ms();
    s.clock.set(now - now.rem_euclid(60_000) + 10_000);
    let good = s.sandbox_key();
    // A key used before the failures is cached as valid.
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&good)).await,
        200
    );
    for i in 0..5 {
        let r = s
            .get(
                "/v2/sandbox/banks/list",
                Some(&format!("sk_sandbox_guess{i}")),
            )
            .await;
        assert_eq!(r.text, UNAUTHORIZED, "attempt {i}");
    }
    // Over budget: refused before any lookup, with when to come back.
    let r = s
        .get("/v2/sandbox/banks/list", Some("sk_sandbox_guess9"))
        .await;
    assert_eq!(r.status.as_u16(), 429, "{}", r.text);
    assert_eq!(r.header("retry-after"), Some("50"));
    assert_eq!(
        r.json()["message"],
        "Too many requests, please try again in 50 seconds."
    );
    // A key not known to be valid is not looked up either, even a real one.
    let fresh = s.new_sandbox_key().await;
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&fresh)).await,
        429
    );
    // The key the address already proved keeps working, also once its cache entry has expired
    // (it is then looked up again, so a revocation would still apply).
    s.clock.advance(okra_server::http::auth::CACHE_TTL_MS * 3);
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&good)).await,
        200
    );
    // The next window starts afresh.
    s.clock
        .advance(50_000 - okra_server::http::auth::CACHE_TTL_MS * 3);
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&fresh)).await,
        200
    );
    let r = s
        .get("/v2/sandbox/banks/list", Some("sk_sandbox_guess10"))
        .await;
    assert_eq!(r.text, UNAUTHORIZED);
    s.stop().await;
}

async fn the_key_cache_is_bounded_and_keeps_hot_keys(b: Backend) {
    let s = TestServer::start(b).await;
    let cache = okra_server::http::auth::KeyCache::with_capacity(100, s.clock.clone());
    let good = s.sandbox_key();
    assert!(cache.resolve(&s.db, &good).await.unwrap().is_some());
    for i in 0..1_000 {
        // A flood of forged keys, each unknown.
        let forged = format!("sk_sandbox_flood{i:05}");
        assert!(cache.resolve(&s.db, &forged).await.unwrap().is_none());
        if i % 10 == 0 {
            assert!(cache.resolve(&s.db, &good).await.unwrap().is_some());
        }
        assert!(cache.len() <= 110, "cache grew to {}", cache.len());
    }
    assert!(
        cache.cached_valid(&good).is_some(),
        "the hot key was evicted by the flood"
    );
    s.stop().await;
}

async fn responses_carry_no_store_and_nosniff(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    for r in [
        s.post(
            "/v2/sandbox/customers/list",
            Some(&key),
            serde_json::json!({}),
        )
        .await,
        s.get("/v2/sandbox/banks/list", Some(&key)).await,
        s.get("/v2/sandbox/banks/list", None).await,
        s.get("/v2/nowhere", None).await,
    ] {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text);
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    s.stop().await;
}

async fn secret_key_routes_answer_no_cors(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let r = s
        .client
        .request(
            Method::OPTIONS,
            format!("{}/v2/sandbox/customers/list", s.base),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(r
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let r = s
        .client
        .post(format!("{}/v2/sandbox/customers/list", s.base))
        .header("origin", "https://evil.example")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(r
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    s.stop().await;
}

backend_tests!(
    two_authorization_headers_are_refused,
    failed_authentication_is_throttled_per_address,
    the_key_cache_is_bounded_and_keeps_hot_keys,
    responses_carry_no_store_and_nosniff,
    secret_key_routes_answer_no_cors,
);
