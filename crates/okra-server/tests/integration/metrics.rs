//! Issue 14, item 6: `/metrics` scraped as Prometheus would: requests by route template and
//! status with latency histograms, data-source calls and their errors, webhook delivery attempts,
//! the job queue's depth and age, the database pool; and on its own address when configured.

use std::time::Duration;

use serde_json::json;

use crate::backend_tests;
use crate::common::receiver::{Answer, Receiver};
use crate::common::{Backend, TestServer};
use crate::linking::{connect, linking_server, person_with};

/// The value of the sample of `name` whose labels include every `label="value"` of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(s: &TestServer) -> String {
    let r = s.get("/metrics", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    r.text
}

async fn metrics_count_requests_sources_webhooks_and_the_queue(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let key = s.sandbox_key();
    for _ in 0..3 {
        assert_eq!(
            s.get_status("/v2/sandbox/banks/list", Some(&key)).await,
            200
        );
    }
    assert_eq!(s.get_status("/v2/sandbox/banks/list", None).await, 401);
    assert_eq!(
        s.get_status("/v2/sandbox/no/such/route/22212345678", Some(&key))
            .await,
        404
    );

    // A connection: bank calls, and webhooks to a receiver.
    let hook = Receiver::start(Answer::Ok).await;
    let (creds, _, bank) = person_with(&s, 1);
    let r = connect(
        &s,
        json!({"bank": bank, "username": creds.username, "password": creds.password,
               "products": ["auth", "balance"], "callback_url": hook.url}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    hook.wait_until(Duration::from_secs(15), |got| got.len() >= 2)
        .await;
    // A scripted outage answers as the bank would.
    let fault = json!({"type": "bank_down", "bank": bank, "count": 1});
    let r = s.post("/v2/sandbox/faults/create", Some(&key), fault).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let down = connect(
        &s,
        json!({"bank": bank, "username": creds.username, "password": creds.password}),
    )
    .await;
    assert_eq!(down.status, 503, "{}", down.text);

    let mut text = String::new();
    for _ in 0..50 {
        text = scrape(&s).await;
        if sample(
            &text,
            "okra_webhook_attempts_total",
            &[r#"outcome="delivered""#],
        )
        .unwrap_or(0.0)
            >= 2.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = r#"route="/v2/sandbox/banks/list""#;
    assert_eq!(
        sample(
            &text,
            "okra_http_requests_total",
            &[list, r#"status="200""#, r#"method="GET""#]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            "okra_http_requests_total",
            &[list, r#"status="401""#]
        ),
        Some(1.0)
    );
    // Unknown paths are one label, never the raw path (which may hold personal data).
    assert!(!text.contains("22212345678"));
    assert!(sample(&text, "okra_http_requests_total", &[r#"status="404""#]).is_some());
    assert_eq!(
        sample(&text, "okra_http_request_duration_seconds_count", &[list]),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            "okra_http_request_duration_seconds_bucket",
            &[list, r#"le="30""#]
        ),
        Some(4.0),
        "a histogram with buckets up to the request timeout"
    );
    assert!(
        sample(
            &text,
            "okra_source_calls_total",
            &[r#"env="sandbox""#, r#"outcome="ok""#]
        )
        .unwrap()
            >= 2.0
    );
    assert_eq!(
        sample(
            &text,
            "okra_source_calls_total",
            &[r#"outcome="unavailable""#]
        ),
        Some(1.0)
    );
    assert!(
        sample(
            &text,
            "okra_webhook_attempts_total",
            &[r#"outcome="delivered""#]
        )
        .unwrap()
            >= 2.0,
        "{text}"
    );
    assert!(sample(&text, "okra_db_pool_connections", &[]).unwrap() >= 1.0);
    s.stop().await;
}

async fn the_job_queue_shows_its_depth_and_age(b: Backend) {
    // An API-only process: nothing works the queue, so the connection's jobs wait.
    let s = linking_server(b, |c| c.role = okra_server::config::Role::Api).await;
    let (creds, _, bank) = person_with(&s, 1);
    let r = connect(
        &s,
        json!({"bank": bank, "username": creds.username, "password": creds.password,
               "products": ["auth", "identity", "balance"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = scrape(&s).await;
    let queued: f64 = (text.lines())
        .filter(|l| l.starts_with("okra_jobs{") && l.contains(r#"status="queued""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
        .fetch_one(s.db.pool())
        .await
        .unwrap();
    assert!(stored >= 2, "identity and balance jobs wait");
    assert_eq!(queued, stored as f64, "{text}");
    let oldest = (text.lines())
        .filter(|l| {
            l.starts_with("okra_jobs_oldest_due_age_seconds{") && l.contains(r#"status="queued""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    assert!(
        oldest >= 1.0,
        "the oldest due job has waited a second: {text}"
    );
    s.stop().await;
}

async fn metrics_move_to_their_own_address(b: Backend) {
    let s = TestServer::start_with(
        b,
        |c| c.metrics_listen = Some("127.0.0.1:0".into()),
        okra_server::workers::registry(),
    )
    .await;
    assert_eq!(
        s.get_status("/metrics", None).await,
        404,
        "not on the API's address"
    );
    let addr = s.metrics_addr().expect("a metrics address");
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("okra_http_requests_total"));
    let r = reqwest::get(format!("http://{addr}/v2/sandbox/banks/list"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "only /metrics there");
    s.stop().await;
}

/// HTTP allows any token as a method, of any length: found by an adversarial run, each one was a
/// new label on every histogram bucket (300 requests made `/metrics` 326 MB). Methods outside
/// the standard ones are now one label, `OTHER`, in metrics and logs.
#[tokio::test]
async fn unknown_methods_are_one_label() {
    let s = TestServer::start(Backend::Sqlite).await;
    for i in 0..20 {
        let method =
            reqwest::Method::from_bytes(format!("M{i}{}", "A".repeat(2000)).as_bytes()).unwrap();
        let r = s
            .client
            .request(method, format!("{}/v2/sandbox/banks/list", s.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let text = scrape(&s).await;
    assert!(!text.contains("AAAA"), "a method became a label");
    assert_eq!(
        sample(
            &text,
            "okra_http_request_duration_seconds_count",
            &[r#"method="OTHER""#]
        ),
        Some(20.0)
    );
    assert!(text.len() < 200_000, "/metrics is {} bytes", text.len());
    s.stop().await;
}

backend_tests!(
    metrics_count_requests_sources_webhooks_and_the_queue,
    the_job_queue_shows_its_depth_and_age,
    metrics_move_to_their_own_address,
);
