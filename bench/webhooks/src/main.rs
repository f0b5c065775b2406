//! bench/: signed webhook deliveries per second.
//!
//! `okra-bench-webhooks --messages N [--database-url URL] [--workers W]` writes N webhook
//! messages to the outbox of a fresh database (SQLite in a temporary directory, or the PostgreSQL
//! database URL given, which must be empty or absent with `--create-database` rights), starts
//! okra-server's workers (`--role worker`, W delivery loops, retries one second apart) and a
//! receiver on 127.0.0.1 that answers 500 to the first attempt of every message and 200 to the
//! second (half the attempts fail), and measures the time until every message was delivered. It
//! prints one line `BENCH_WEBHOOKS {json}` with the counts and rates, and exits non-zero when a
//! message was lost (not delivered) or a signature did not verify.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use okra_core::Environment;
use okra_server::app::AppState;
use okra_server::config::{Config, Role, Secret};
use okra_server::services::webhooks::outbox;
use okra_store::Tenant;
use serde_json::json;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// What the receiver saw: attempts per message id, and signatures that failed.
#[derive(Default)]
struct Seen {
    attempts: HashMap<String, u32>,
    delivered: usize,
    requests: usize,
    bad_signatures: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let messages: usize = arg(&args, "--messages").map_or(Ok(10_000), |v| v.parse())?;
    let workers: usize = arg(&args, "--workers").map_or(Ok(16), |v| v.parse())?;
    let database_url = arg(&args, "--database-url");
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone().map(Secret::new),
        create_database: database_url.is_some(),
        role: Role::Worker,
        worker_concurrency: workers,
        db_max_connections: (workers as u32 + 4).max(16),
        job_poll_ms: 20,
        webhook_retry_schedule: "1s, 1s, 1s".into(),
        log_level: "error".into(),
        ..Config::default()
    };
    let (db, keyring) = okra_server::bootstrap::open(&config).await?;
    let (creds, _) = okra_server::bootstrap::first_start(&db, &keyring, &config)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the database is not new: give an empty one"))?;
    let secret = okra_core::webhook_signature::decode_secret(&creds.webhook_secret)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    // The receiver: first attempt of each message 500, the second 200; signatures checked.
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let state_seen = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = state_seen.clone();
            let secret = secret.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                let now = okra_core::time::now_ms() / 1000;
                let valid = okra_core::webhook_signature::verify(
                    &secret,
                    h("webhook-id"),
                    h("webhook-timestamp"),
                    &body,
                    h("webhook-signature"),
                    now,
                )
                .is_ok();
                let mut seen = seen.lock().unwrap();
                seen.requests += 1;
                if !valid {
                    seen.bad_signatures += 1;
                }
                let n = seen
                    .attempts
                    .entry(h("webhook-id").to_string())
                    .or_insert(0);
                *n += 1;
                if *n == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    if *n == 2 {
                        seen.delivered += 1;
                    }
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // The outbox: N messages with a realistic body, written in batches of 500 per transaction.
    let state = AppState::new(
        db.clone(),
        config.clone(),
        keyring.clone(),
        "http://127.0.0.1".into(),
        okra_server::clock::system(),
    )?;
    let tenant = Tenant {
        owner_id: creds.owner_id.clone(),
        env: Environment::Sandbox,
    };
    let body = json!({"method": "BALANCE", "callback_type": "BALANCE", "code": "BALANCE_SUCCESS",
        "type": "CALLBACK", "env": "production-sandbox", "status": "is_success",
        "message": "Balance is ready", "options": {"loan": "L-1"}, "meta": {}, "bankName": "Zenith Bank",
        "nuban": "0123456789", "balance": {"available_balance": 1250.5, "ledger_balance": 1300.0, "currency": "NGN"}});
    let body = body.as_object().cloned().unwrap_or_default();
    let began_write = Instant::now();
    for chunk in (0..messages).collect::<Vec<_>>().chunks(500) {
        let mut tx = db.begin().await?;
        for _ in chunk {
            outbox::queue(
                tx.conn(),
                &state,
                &keyring,
                &tenant,
                None,
                "BALANCE_SUCCESS",
                &url,
                body.clone(),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let write_s = began_write.elapsed().as_secs_f64();

    // The workers, and the clock.
    let began = Instant::now();
    let running = okra_server::server::start(
        config.clone(),
        db.clone(),
        keyring.clone(),
        okra_server::workers::registry(),
    )
    .await?;
    let deadline = began + Duration::from_secs(600);
    loop {
        let delivered = seen.lock().unwrap().delivered;
        if delivered >= messages || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = began.elapsed().as_secs_f64();
    running.stop().await;
    let recorded: i64 = {
        let rows = okra_store::webhooks::page_attempts(&db, &tenant, 1, 0).await?;
        rows.1 as i64
    };
    let (delivered, requests, bad_signatures) = {
        let seen = seen.lock().unwrap();
        (seen.delivered, seen.requests, seen.bad_signatures)
    };
    let lost = messages - delivered.min(messages);
    println!(
        "BENCH_WEBHOOKS {}",
        json!({
            "messages": messages,
            "workers": workers,
            "backend": if database_url.is_some() { "postgres" } else { "sqlite" },
            "write_s": (write_s * 100.0).round() / 100.0,
            "seconds": (secs * 100.0).round() / 100.0,
            "delivered": delivered,
            "delivered_per_s": (delivered as f64 / secs).round(),
            "attempts": requests,
            "attempts_per_s": (requests as f64 / secs).round(),
            "attempts_recorded": recorded,
            "bad_signatures": bad_signatures,
            "lost": lost,
        })
    );
    db.close().await;
    if lost > 0 || bad_signatures > 0 {
        anyhow::bail!("{lost} messages lost, {bad_signatures} bad signatures");
    }
    Ok(())
}
