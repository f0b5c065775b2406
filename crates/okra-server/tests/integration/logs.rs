//! Issue 3: nothing personal in logs at any level. Runs the real binary with debug logging, drives
//! every flow that exists with personal data in the database, in request bodies and in headers,
//! and scans the captured logs for the values used. Extend it as flows are added.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::common::{Backend, TestServer};
use crate::pii_at_rest::people;

const BIN: &str = env!("CARGO_BIN_EXE_okra-server");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_contain_no_personal_data_or_keys() {
    // A harness server on a fresh data dir writes the people (through the store) and then stops;
    // the real binary with debug logging serves the same data dir.
    // No workers in this process: the child below does the work. (A worker here has no job
    // handlers, and a product job it claimed first failed and waited out its backoff.)
    let s = TestServer::start_with(
        Backend::Sqlite,
        |c| c.role = okra_server::config::Role::Api,
        okra_server::workers::Registry::default(),
    )
    .await;
    let customer_ids = crate::pii_at_rest::write_people(&s).await;
    let data_dir = s.config.data_dir.clone();
    let creds = s.creds.clone();
    let sandbox_key = s.sandbox_key();
    let live_key = s.key("production", "secret");
    let publishable = s.key("sandbox", "publishable");
    let log_path = data_dir.join("server.log");
    let log_file = std::fs::File::create(&log_path).unwrap();

    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("OKRA_LOG_LEVEL", "debug")
        .env_remove("OKRA_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;

    let http = reqwest::Client::new();
    let post = |path: &str, key: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let person = &people()[0];
    // Reads that decrypt personal data.
    assert_eq!(
        post("/v2/sandbox/customers/list", &sandbox_key, json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    for id in &customer_ids {
        assert_eq!(
            post(
                "/v2/sandbox/customers/getById",
                &sandbox_key,
                json!({"id": id})
            )
            .await
            .unwrap()
            .status(),
            200
        );
    }
    // Sandbox customers and fault injection carry logins, BVNs and NUBANs.
    let created = post("/v2/sandbox/customers/create", &sandbox_key, json!([{"name": "Logscan Person", "username": "logscan-user", "password": person.password, "bank": "zenith-bank"}])).await.unwrap();
    assert_eq!(created.status(), 200);
    let _ = post(
        "/v2/sandbox/customers/create",
        &sandbox_key,
        json!([{"username": "logscan-user", "password": person.password}]),
    )
    .await;
    assert_eq!(
        post(
            "/v2/sandbox/faults/create",
            &sandbox_key,
            json!({"type": "watch_listed", "bvn": person.bvn})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        post(
            "/v2/sandbox/faults/create",
            &sandbox_key,
            json!({"type": "no_bvn", "bank": "guaranty-trust-bank", "nuban": person.nuban})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let _ = post("/v2/sandbox/faults/list", &sandbox_key, json!({})).await;
    // Personal data in bodies, valid and invalid, and in query strings.
    let _ = post(
        "/v2/sandbox/customers/getById",
        &sandbox_key,
        json!({"id": person.bvn, "bvn": person.bvn, "nuban": person.nuban, "phone": person.phone}),
    )
    .await;
    let _ = post(
        "/v2/sandbox/customers/list",
        &sandbox_key,
        json!({"limit": person.nin}),
    )
    .await;
    let _ = http
        .post(format!("{base}/v2/sandbox/customers/list"))
        .bearer_auth(&sandbox_key)
        .header("content-type", "application/json")
        .body(format!("{{\"email\": \"{}\",", person.email))
        .send()
        .await;
    let _ = http
        .get(format!(
            "{base}/v2/sandbox/banks/getById?id={}&bvn={}",
            person.bvn, person.bvn
        ))
        .bearer_auth(&sandbox_key)
        .send()
        .await;
    let _ = http
        .get(format!("{base}/v2/sandbox/unknown/{}", person.phone))
        .send()
        .await;
    // A connection: login, accounts, identity and balances through the product jobs, webhooks
    // with personal data in their bodies, and the reads of what it wrote.
    let hook = crate::common::receiver::Receiver::start(crate::common::receiver::Answer::Ok).await;
    let (login, linked, bank) = crate::linking::person_with(&s, 1);
    let connected = post(
        "/v2/sandbox/link/connect",
        &sandbox_key,
        json!({"bank": bank, "username": login.username, "password": login.password,
               "products": ["auth", "accounts", "identity", "balance"], "callback_url": hook.url}),
    )
    .await
    .unwrap();
    assert_eq!(connected.status(), 200);
    let connected: serde_json::Value = connected.json().await.unwrap();
    let record = connected["data"]["record_id"].as_str().unwrap().to_string();
    hook.wait_until(Duration::from_secs(30), |got| {
        got.iter().any(|d| d.code() == "IDENTITY_IS_READY")
            && got.iter().any(|d| d.code() == "BALANCE_SUCCESS")
    })
    .await;
    for (path, body) in [
        ("/v2/sandbox/records/getById", json!({"id": record})),
        (
            "/v2/sandbox/accounts/getByCustomer",
            json!({"customer": connected["data"]["customer_id"]}),
        ),
        ("/v2/sandbox/webhooks/deliveries", json!({})),
        (
            "/v2/sandbox/callback/trigger",
            json!({"recordIds": [record]}),
        ),
    ] {
        assert_eq!(
            post(path, &sandbox_key, body).await.unwrap().status(),
            200,
            "{path}"
        );
    }
    let _ = http
        .get(format!(
            "{base}/v2/sandbox/callback?record={record}&method=IDENTITY"
        ))
        .bearer_auth(&sandbox_key)
        .send()
        .await;
    let _ = post(
        "/v2/sandbox/link/connect",
        &sandbox_key,
        json!({"bank": bank, "username": login.username, "password": "not-the-password"}),
    )
    .await;
    // KYC verifies (paid, one with an Idempotency-Key, one refused twice) and the identity reads.
    let held = &linked.accounts[0];
    let bvn = linked.bvn.clone().unwrap();
    let verified = http
        .post(format!("{base}/v2/sandbox/products/kyc/nuban-verify"))
        .bearer_auth(&sandbox_key)
        .header("Idempotency-Key", "logscan-1")
        .json(&json!({"bank": held.bank, "nuban": held.nuban}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    for (path, body) in [
        ("/v2/sandbox/products/kyc/bvn-verify", json!({"bvn": bvn})),
        (
            "/v2/sandbox/products/kyc/nuban-name-verify",
            json!({"bank": held.bank, "nuban": held.nuban}),
        ),
        (
            "/v2/sandbox/products/kyc/customer-verify",
            json!({"customer": connected["data"]["customer_id"]}),
        ),
        ("/v2/sandbox/identity/getByBvn", json!({"bvn": bvn})),
        (
            "/v2/sandbox/identity/getByNuban",
            json!({"bank": held.bank, "nuban": held.nuban}),
        ),
        ("/v2/sandbox/products/identities", json!({})),
        ("/v2/sandbox/wallet/receipts", json!({})),
    ] {
        assert_eq!(
            post(path, &sandbox_key, body).await.unwrap().status(),
            200,
            "{path}"
        );
    }
    let unheld = okra_core::nuban::make_nuban(
        okra_core::banks::find(&held.bank).unwrap().cbn_code,
        "999999997",
    )
    .unwrap();
    for _ in 0..2 {
        let _ = post(
            "/v2/sandbox/products/kyc/nuban-verify",
            &sandbox_key,
            json!({"bank": held.bank, "nuban": unheld}),
        )
        .await;
    }
    let _ = post(
        "/v2/sandbox/products/kyc/bvn-verify",
        &sandbox_key,
        json!({"bvn": "22299999999"}),
    )
    .await;
    // Balance runs: a refresh failing at the bank (its failure is logged), then a refresh and a
    // check with their callbacks and webhooks, and getByType.
    let accounts: serde_json::Value = post(
        "/v2/sandbox/accounts/getByCustomer",
        &sandbox_key,
        json!({"customer": connected["data"]["customer_id"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let account = accounts["data"]["accounts"][0]["_id"].clone();
    let _ = post(
        "/v2/sandbox/faults/create",
        &sandbox_key,
        json!({"type": "timeout", "bank": bank, "count": 1}),
    )
    .await;
    for (op, method) in [
        ("refresh", "BALANCE"),
        ("refresh", "BALANCE"),
        ("check", "CHECK_BALANCE"),
    ] {
        let started: serde_json::Value = post(
            &format!("/v2/sandbox/balance/{op}"),
            &sandbox_key,
            json!({"account_id": account}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let run = started["data"]["record"].as_str().unwrap().to_string();
        for _ in 0..100 {
            let answer: serde_json::Value = http
                .get(format!(
                    "{base}/v2/sandbox/callback?record={run}&method={method}"
                ))
                .bearer_auth(&sandbox_key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["data"]["status"] != "processing" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    hook.wait_until(Duration::from_secs(30), |got| {
        got.iter().any(|d| d.code() == "BALANCE_FAILED")
            && got.iter().filter(|d| d.code() == "BALANCE_SUCCESS").count() >= 2
    })
    .await;
    let _ = post(
        "/v2/sandbox/balance/getByType",
        &sandbox_key,
        json!({"type": "ledger_balance", "value": "0"}),
    )
    .await;

    // Keys in headers: valid, wrong environment, publishable, garbage that looks like a key.
    let _ = http
        .get(format!("{base}/v2/banks/list"))
        .bearer_auth(&sandbox_key)
        .send()
        .await;
    let _ = http
        .get(format!("{base}/v2/banks/list"))
        .bearer_auth(&live_key)
        .send()
        .await;
    let _ = http
        .get(format!("{base}/v2/sandbox/banks/list"))
        .bearer_auth(&publishable)
        .send()
        .await;
    let _ = http
        .get(format!("{base}/v2/sandbox/banks/list"))
        .header("authorization", format!("Bearer {}", person.password))
        .send()
        .await;

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("request finished"),
        "debug logs were captured:\n{logs}"
    );
    assert!(logs.lines().count() > 10, "debug logging is on:\n{logs}");
    let mut forbidden: Vec<String> = Vec::new();
    for p in people() {
        forbidden.extend([
            p.bvn.to_string(),
            p.nin.to_string(),
            p.phone.to_string(),
            p.phone[1..].to_string(),
            p.email.to_string(),
            p.dob.to_string(),
            p.address.to_string(),
            p.maiden.to_string(),
            p.photo.to_string(),
            p.nuban.clone(),
            p.password.to_string(),
        ]);
    }
    for k in &creds.keys {
        forbidden.push(k.key.clone());
        forbidden.push(k.key[k.key.len() - 12..].to_string());
    }
    forbidden.push(creds.webhook_secret.clone());
    forbidden.extend([
        linked.bvn.clone().unwrap(),
        linked.phone.clone(),
        login.password.clone(),
    ]);
    forbidden.extend(linked.accounts.iter().map(|a| a.nuban.clone()));
    forbidden.extend([unheld, "22299999999".to_string()]);
    forbidden.push("logscan-user".to_string());
    for value in forbidden {
        assert!(!logs.contains(&value), "the logs contain `{value}`");
    }
    s.stop().await;
}
