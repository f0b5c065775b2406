//! Issue 7, items 2 and 3: concurrent writers. Two server processes and a `sandbox load` on one
//! SQLite file never answer 5xx and the load succeeds; concurrent `customers/create` calls of one
//! owner never pick the same simulated person, on both backends.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use okra_core::Environment;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::backend_tests;
use crate::binary;
use crate::common::{Backend, TestServer};

/// Writing clients, and how long they write.
const WRITERS: usize = 8;
const WRITE_FOR: Duration = Duration::from_secs(10);

/// What the writers saw: statuses other than 200 with their bodies, and the customers made.
#[derive(Default)]
struct Seen {
    failures: Vec<(u16, String)>,
    created: Vec<Value>,
}

/// `WRITERS` clients POST `customers/create` with 1–3 new usernames each, round-robin over
/// `bases`, for `WRITE_FOR`.
async fn write_for_a_while(bases: Vec<String>, key: String) -> Seen {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let until = Instant::now() + WRITE_FOR;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (client, bases, key, seen) = (client.clone(), bases.clone(), key.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..100_000usize {
                if Instant::now() >= until {
                    return;
                }
                let items: Vec<Value> = (0..1 + n % 3)
                    .map(|i| json!({"username": format!("w{w}-{n}-{i}"), "noOfAccount": 1}))
                    .collect();
                let base = &bases[(w + n) % bases.len()];
                let path = "/v2/sandbox/customers/create";
                let (status, text) = binary::post(&client, base, path, &key, &Value::Array(items))
                    .await
                    .expect("the server answers");
                let mut seen = seen.lock().await;
                if status == 200 {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    seen.created
                        .extend(v["data"].as_array().unwrap().iter().cloned());
                } else {
                    seen.failures.push((status, text));
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(seen).ok().unwrap().into_inner()
}

fn assert_no_server_errors(seen: &Seen) {
    eprintln!(
        "{} customers created, {} calls refused",
        seen.created.len(),
        seen.failures.len()
    );
    let errors: Vec<_> = seen.failures.iter().filter(|(s, _)| *s >= 500).collect();
    assert!(
        errors.is_empty(),
        "{} of {} calls answered 5xx, e.g. {:?}",
        errors.len(),
        seen.failures.len() + seen.created.len(),
        errors.first()
    );
    assert!(seen.failures.is_empty(), "{:?}", seen.failures.first());
    assert!(!seen.created.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_a_load_share_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = binary::create_owner(dir.path(), &None, "writers").await;
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut c = binary::command(dir.path(), &None);
        c.args(["serve", "--listen", "127.0.0.1:0"])
            // A limit nobody reaches, so the limiter's once-a-second database sync still writes.
            .env("OKRA_RATE_LIMIT_PER_MINUTE", "1000000")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let mut child = c.spawn().unwrap();
        let (base, _) = crate::common::wait_until_listening(&mut child).await;
        servers.push((child, base));
    }
    let bases: Vec<String> = servers.iter().map(|(_, b)| b.clone()).collect();
    let writers = tokio::spawn(write_for_a_while(bases.clone(), key.clone()));
    // `sandbox load` runs again and again while the servers write (bounded by the window).
    let until = Instant::now() + WRITE_FOR;
    let mut loads = 0;
    while Instant::now() < until && loads < 100 {
        let start = (loads * 300).to_string();
        let out = binary::command(dir.path(), &None)
            .args(["sandbox", "load", "--owner", "writers", "--people", "300"])
            .args(["--start", &start, "--batch", "100"])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "load {loads}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        loads += 1;
    }
    let seen = writers.await.unwrap();
    eprintln!("{loads} loads of 300 people ran beside the writers");
    assert_no_server_errors(&seen);
    let client = reqwest::Client::new();
    let all = binary::all_customers(&client, &bases[0], &key).await;
    assert_eq!(all.len(), seen.created.len() + loads * 300);
    for (mut child, _) in servers {
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }
}

async fn concurrent_creates_make_distinct_people(b: Backend) {
    let s = TestServer::start_with(
        b,
        // A limit nobody reaches, so the limiter's database sync still writes.
        |c| c.rate_limit_per_minute = 1_000_000,
        okra_server::workers::Registry::default(),
    )
    .await;
    let seen = write_for_a_while(vec![s.base.clone()], s.sandbox_key()).await;
    assert_no_server_errors(&seen);
    // Every customer made is its own person: its own id, login and simulated-network slot.
    let tenant = s.tenant(Environment::Sandbox);
    let (mut ids, mut logins, mut persons, mut bvns) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    for c in &seen.created {
        let id = c["id"].as_str().unwrap();
        assert!(ids.insert(id.to_string()), "{id} twice");
        assert!(logins.insert(c["sandbox"]["username"].to_string()));
        let stored = okra_store::customers::get(&s.db, &s.state().keyring(), &tenant, id)
            .await
            .unwrap()
            .unwrap();
        assert!(persons.insert(stored.sandbox_person.unwrap()));
        assert!(bvns.insert(stored.bvn.unwrap()));
    }
    let list = s.sandbox_customers_page().await;
    assert_eq!(
        list["data"]["pagination"]["totalDocs"].as_u64().unwrap(),
        seen.created.len() as u64
    );
    s.stop().await;
}

backend_tests!(concurrent_creates_make_distinct_people);
