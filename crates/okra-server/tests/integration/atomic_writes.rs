//! Issue 7, item 1: `customers/create` is all-or-nothing. A duplicate inside the request is found
//! before anything is written, and a process killed in the middle of 10-item batches leaves every
//! batch either whole or absent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::binary;
use crate::common::{assert_error, drop_database, fresh_database, Backend, TestServer};

async fn total(s: &TestServer) -> i64 {
    let list = s.sandbox_customers_page().await;
    list["data"]["pagination"]["totalDocs"].as_i64().unwrap()
}

async fn a_duplicate_in_the_batch_leaves_no_customer(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let path = "/v2/sandbox/customers/create";
    let item = |u: &str| json!({"username": u, "password": "pw", "bank": "guaranty-trust-bank"});
    assert_error(
        &s.post(path, Some(&key), json!([item("dupx1"), item("dupx1")]))
            .await,
        400,
        "A sandbox customer with the username dupx1 already exists",
    );
    // Usernames are compared as they log in: without case.
    assert_error(
        &s.post(
            path,
            Some(&key),
            json!([item("other"), item("Ada"), item("ada")]),
        )
        .await,
        400,
        "A sandbox customer with the username ada already exists",
    );
    assert_eq!(total(&s).await, 0, "nothing of a refused batch was written");

    // A later item whose username another customer holds: the earlier items are not written.
    let r = s.post(path, Some(&key), json!([item("taken")])).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_error(
        &s.post(path, Some(&key), json!([item("fresh1"), item("TAKEN")]))
            .await,
        400,
        "A sandbox customer with the username TAKEN already exists",
    );
    assert_eq!(total(&s).await, 1);
    // And the batch goes through once the clash is gone, every item at once.
    let r = s
        .post(path, Some(&key), json!([item("fresh1"), item("fresh2")]))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(total(&s).await, 3);
    s.stop().await;
}

/// Batches of this many customers, each username `b<batch>-<item>`.
const BATCH: usize = 10;
/// Concurrent clients sending batches, so that several are in flight when the process dies.
const CLIENTS: u64 = 6;
/// Batches answered before the kill.
const BEFORE_KILL: u64 = 12;

async fn a_killed_server_leaves_no_partial_batch(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    let key = binary::create_owner(dir.path(), &url, "batches").await;
    let (mut child, base) = binary::serve(dir.path(), &url).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let next = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let (enough_tx, mut enough) = tokio::sync::mpsc::channel::<()>(1);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let (next, answered, enough_tx) = (next.clone(), answered.clone(), enough_tx.clone());
        clients.push(tokio::spawn(async move {
            // Until the server stops answering (bounded: the kill comes after BEFORE_KILL).
            for _ in 0..10_000 {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let items: Vec<Value> = (0..BATCH)
                    .map(|i| json!({"username": format!("b{n}-{i}"), "password": "pw"}))
                    .collect();
                let path = "/v2/sandbox/customers/create";
                match binary::post(&client, &base, path, &key, &Value::Array(items)).await {
                    Some((200, _)) => {
                        if answered.fetch_add(1, Ordering::SeqCst) + 1 == BEFORE_KILL {
                            let _ = enough_tx.try_send(());
                        }
                    }
                    Some((status, text)) => panic!("batch {n}: {status} {text}"),
                    None => return,
                }
            }
        }));
    }
    drop(enough_tx);
    tokio::time::timeout(Duration::from_secs(120), enough.recv())
        .await
        .expect("batches are answered");
    // SIGKILL: no destructor, no graceful shutdown; batches in flight die mid-way.
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let sent = next.load(Ordering::SeqCst);
    assert!(
        sent > answered.load(Ordering::SeqCst),
        "batches were in flight at the kill"
    );

    let (mut child, base) = binary::serve(dir.path(), &url).await;
    let mut per_batch: BTreeMap<String, usize> = BTreeMap::new();
    for c in binary::all_customers(&client, &base, &key).await {
        let username = c["sandbox"]["username"].as_str().unwrap().to_string();
        let batch = username.split('-').next().unwrap().to_string();
        *per_batch.entry(batch).or_default() += 1;
    }
    let partial: Vec<_> = per_batch.iter().filter(|(_, n)| **n != BATCH).collect();
    assert!(
        partial.is_empty(),
        "{} of {} stored batches are partial: {partial:?}",
        partial.len(),
        per_batch.len()
    );
    assert!(per_batch.len() as u64 >= BEFORE_KILL, "{per_batch:?}");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    if let Some(u) = &url {
        drop_database(&b, u).await;
    }
}

backend_tests!(
    a_duplicate_in_the_batch_leaves_no_customer,
    a_killed_server_leaves_no_partial_batch,
);
