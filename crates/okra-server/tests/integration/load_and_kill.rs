//! Issue 14: the load-and-kill test. Clients keep linking (sandbox connections with identity,
//! whose webhooks go to a receiver) and paying for BVN verifies (each with its own
//! `Idempotency-Key`, sent again until it is answered) while the server binary is SIGKILLed and
//! restarted three times. Afterwards:
//!
//! - no committed write is lost: every connection answered 200 is stored;
//! - no charge is doubled or lost: the wallet went down by exactly one price per verify key and
//!   holds one receipt per key;
//! - no webhook is lost: every stored record's `AUTH_SUCCESS` and `IDENTITY_IS_READY` reach the
//!   receiver, including those of connections whose answer died with the server;
//! - nothing answered 500.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::receiver::{Answer, Receiver};
use crate::common::{drop_database, fresh_database, wait_until_listening, Backend};

const KILLS: usize = 3;
const LOAD_BETWEEN_KILLS: Duration = Duration::from_millis(2500);
const CONNECT: &str = "/v2/sandbox/link/connect";
const BVN_VERIFY: &str = "/v2/sandbox/products/kyc/bvn-verify";

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Record ids of connections answered 200.
    records: BTreeSet<String>,
    /// Verify keys answered 200, with the receipt of their answer.
    verified: BTreeMap<String, String>,
    /// Every status answered, counted.
    statuses: BTreeMap<u16, usize>,
    /// Requests that got no answer (the server died under them).
    unanswered: usize,
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    idempotency: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut req = client
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(body);
    if let Some(k) = idempotency {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.ok()?;
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.ok()?;
    Some((status, body))
}

async fn wallet(client: &reqwest::Client, base: &str, key: &str) -> f64 {
    let (status, body) = post(
        client,
        base,
        "/v2/sandbox/wallet/get",
        key,
        None,
        &json!({}),
    )
    .await
    .expect("wallet/get answers");
    assert_eq!(status, 200, "{body}");
    body["data"]["balance"].as_f64().unwrap()
}

async fn steady_writes_survive_repeated_sigkills(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    let key = crate::binary::create_owner(dir.path(), &url, "load-and-kill").await;
    let hook = Receiver::start(Answer::Ok).await;
    let serve = || {
        let mut c = crate::binary::command(dir.path(), &url);
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .env("OKRA_REQUEST_TIMEOUT_SECS", "2")
            // The per-key limit would answer most of this load 429; it is tested on its own.
            .env("OKRA_RATE_LIMIT_PER_MINUTE", "0")
            .env("OKRA_JOB_LEASE_SECS", "2")
            .env("OKRA_JOB_POLL_MS", "50")
            .env("OKRA_WEBHOOK_RETRY_SCHEDULE", "1s, 1s, 1s, 1s, 1s")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c.spawn().unwrap()
    };
    let mut child = serve();
    let (first_base, _) = wait_until_listening(&mut child).await;
    let base = Arc::new(RwLock::new(first_base.clone()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let config = okra_server::config::Config::default();
    let before = wallet(&client, &first_base, &key).await;

    // People of the simulated network who can link and be verified.
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    let people: Arc<Vec<(okra_core::source::Credentials, String, String)>> = Arc::new(
        network
            .sample_users(None, 400)
            .into_iter()
            .filter(|(_, p)| !p.is_company && p.bvn.is_some() && !p.accounts.is_empty())
            .map(|(c, p)| {
                let bank = p.accounts[0].bank.clone();
                (c, bank, p.bvn.unwrap())
            })
            .take(60)
            .collect(),
    );
    assert!(people.len() >= 20);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let running = Arc::new(AtomicBool::new(true));
    let mut clients = tokio::task::JoinSet::new();
    for worker in 0..4usize {
        let (client, base, key, seen, running, people) = (
            client.clone(),
            base.clone(),
            key.clone(),
            seen.clone(),
            running.clone(),
            people.clone(),
        );
        let hook_url = hook.url.clone();
        clients.spawn(async move {
            let mut n = 0usize;
            while running.load(Ordering::Relaxed) {
                n += 1;
                let (creds, bank, bvn) = &people[(worker * 17 + n) % people.len()];
                if worker % 2 == 0 {
                    // A connection: sent once; an unanswered one may or may not be stored.
                    let body = json!({"bank": bank, "username": creds.username,
                        "password": creds.password, "products": ["auth", "identity"],
                        "callback_url": hook_url});
                    let at = base.read().unwrap().clone();
                    let answer = post(&client, &at, CONNECT, &key, None, &body).await;
                    let mut seen = seen.lock().unwrap();
                    match answer {
                        Some((status, body)) => {
                            *seen.statuses.entry(status).or_default() += 1;
                            if status == 200 {
                                let record = body["data"]["record_id"]
                                    .as_str()
                                    .unwrap_or_else(|| panic!("a record id: {body}"));
                                seen.records.insert(record.to_string());
                            }
                        }
                        None => seen.unanswered += 1,
                    }
                } else {
                    // A paid verify: its key is sent again until it is answered.
                    let idem = format!("verify-{worker}-{n}");
                    let started = Instant::now();
                    loop {
                        let at = base.read().unwrap().clone();
                        let answer = post(
                            &client,
                            &at,
                            BVN_VERIFY,
                            &key,
                            Some(&idem),
                            &json!({"bvn": bvn}),
                        )
                        .await;
                        let done = {
                            let mut seen = seen.lock().unwrap();
                            match &answer {
                                Some((status, body)) => {
                                    *seen.statuses.entry(*status).or_default() += 1;
                                    if *status == 200 {
                                        let receipt = body["data"]["receipt"]["data"]["receipt"]
                                            ["_id"]
                                            .as_str()
                                            .unwrap_or_else(|| panic!("a receipt: {body}"))
                                            .to_string();
                                        seen.verified.insert(idem.clone(), receipt);
                                    }
                                    *status == 200
                                }
                                None => {
                                    seen.unanswered += 1;
                                    false
                                }
                            }
                        };
                        if done {
                            break;
                        }
                        assert!(
                            started.elapsed() < Duration::from_secs(60),
                            "{idem} never answered: {answer:?}"
                        );
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }

    for _ in 0..KILLS {
        tokio::time::sleep(LOAD_BETWEEN_KILLS).await;
        // SIGKILL: no destructor, no graceful shutdown; requests and jobs die mid-way.
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        child = serve();
        let (next, _) = wait_until_listening(&mut child).await;
        *base.write().unwrap() = next;
    }
    tokio::time::sleep(LOAD_BETWEEN_KILLS).await;
    running.store(false, Ordering::Relaxed);
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let at = base.read().unwrap().clone();

    // Nothing answered 500 (or anything but these).
    for status in seen.statuses.keys() {
        assert!(
            matches!(status, 200 | 409 | 503),
            "answered {status}: {:?}",
            seen.statuses
        );
    }
    assert!(seen.unanswered > 0, "requests were in flight at the kills");
    assert!(
        seen.records.len() >= 5 && seen.verified.len() >= 5,
        "{:?}",
        seen.statuses
    );

    // No committed write lost: every connection answered 200 is stored.
    let config = okra_server::config::Config {
        data_dir: dir.path().to_path_buf(),
        database_url: url.clone().map(okra_server::config::Secret::new),
        ..Default::default()
    };
    let (db, _) = okra_server::bootstrap::open(&config).await.unwrap();
    // The connections' records (a verify makes a record too, without a webhook URL).
    let stored: BTreeSet<String> =
        sqlx::query_scalar::<_, String>("SELECT id FROM records WHERE callback_url IS NOT NULL")
            .fetch_all(db.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost: Vec<_> = seen.records.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "connections answered 200 but not stored: {lost:?}"
    );

    // No charge doubled or lost: one price and one receipt per key.
    let receipts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(
        receipts as usize,
        seen.verified.len(),
        "one receipt per key"
    );
    let distinct: BTreeSet<&String> = seen.verified.values().collect();
    assert_eq!(
        distinct.len(),
        seen.verified.len(),
        "each key its own receipt"
    );
    let charged = before - wallet(&client, &at, &key).await;
    let expected = config.price_bvn_verify * seen.verified.len() as f64;
    assert!(
        (charged - expected).abs() < 1e-6,
        "charged {charged} for {} verifies (expected {expected})",
        seen.verified.len()
    );

    // No webhook lost: every stored record's events arrive, those of unanswered connections too.
    let want = |got: &[crate::common::receiver::Delivery]| {
        let by: BTreeSet<(String, String)> = got
            .iter()
            .map(|d| {
                let v = d.json();
                (v["record"].as_str().unwrap_or("").to_string(), d.code())
            })
            .collect();
        stored.iter().all(|r| {
            by.contains(&(r.clone(), "AUTH_SUCCESS".into()))
                && by.contains(&(r.clone(), "IDENTITY_IS_READY".into()))
        })
    };
    let waited = Instant::now();
    while !want(&hook.received()) && waited.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = hook.received();
    if !want(&got) {
        let by: BTreeSet<(String, String)> = got
            .iter()
            .map(|d| {
                (
                    d.json()["record"].as_str().unwrap_or("").to_string(),
                    d.code(),
                )
            })
            .collect();
        let mut missing = Vec::new();
        for r in &stored {
            for code in ["AUTH_SUCCESS", "IDENTITY_IS_READY"] {
                if !by.contains(&(r.clone(), code.to_string())) {
                    let outbox: Vec<(String, String)> = sqlx::query_as(
                        "SELECT event_code, status FROM webhook_messages WHERE record_id = $1",
                    )
                    .bind(r)
                    .fetch_all(db.pool())
                    .await
                    .unwrap();
                    let jobs: Vec<(String, String)> =
                        sqlx::query_as("SELECT kind, status FROM jobs WHERE payload LIKE $1")
                            .bind(format!("%{r}%"))
                            .fetch_all(db.pool())
                            .await
                            .unwrap_or_default();
                    let answered = seen.records.contains(r);
                    missing.push(format!(
                        "{r} {code} (answered: {answered}; outbox {outbox:?}; jobs {jobs:?})"
                    ));
                }
            }
        }
        panic!("webhooks lost: {missing:#?}");
    }
    eprintln!(
        "load and kill: {KILLS} SIGKILLs; {} connections answered ({} stored in all), {} verifies \
         charged once each, {} requests cut off, {} webhook deliveries; statuses {:?}",
        seen.records.len(),
        stored.len(),
        seen.verified.len(),
        seen.unanswered,
        got.len(),
        seen.statuses
    );
    db.close().await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    if let Some(u) = &url {
        drop_database(&b, u).await;
    }
}

backend_tests!(steady_writes_survive_repeated_sigkills);
