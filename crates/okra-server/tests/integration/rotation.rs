//! Issue 3: `keys rotate-data-key` re-seals everything under a new key while a server keeps serving.

use std::process::Stdio;

use okra_store::crypto::Keyring;
use serde_json::json;

use crate::backend_tests;
use crate::common::{Backend, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_okra-server");

async fn key_ids_in_use(s: &TestServer) -> Vec<u32> {
    let mut ids = Vec::new();
    for (table, column, _) in okra_store::rekey::SEALED_COLUMNS {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
        ))
        .fetch_all(s.db.pool())
        .await
        .unwrap();
        ids.extend(rows.iter().filter_map(|b| Keyring::key_id_of(b)));
    }
    ids.sort();
    ids.dedup();
    ids
}

async fn rotating_the_data_key_reseals_everything_while_serving(b: Backend) {
    let s = TestServer::start(b).await;
    let ids = crate::pii_at_rest::write_people(&s).await;
    assert_eq!(key_ids_in_use(&s).await, vec![1]);
    let url = s.database_url.clone();
    let dir = s.config.data_dir.clone();
    let command = |args: &[&str]| {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .arg("--data-dir")
            .arg(&dir)
            .env("OKRA_LOG_LEVEL", "warn")
            .stdin(Stdio::null());
        if let Some(u) = &url {
            c.arg("--database-url").arg(u);
        }
        c
    };
    // A separate server process keeps serving during the rotation.
    let mut server = command(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (base, _) = crate::common::wait_until_listening(&mut server).await;

    let out = command(&["keys", "rotate-data-key", "--batch", "1"])
        .output()
        .await
        .unwrap();
    crate::common::assert_success(&out);
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.contains("under data key 2; 0 values left under older keys"),
        "{summary}"
    );
    assert_eq!(key_ids_in_use(&s).await, vec![2]);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
    assert!(
        file["data_keys"].as_str().unwrap().starts_with("2:"),
        "new key first, old kept: {file}"
    );

    // The running server reads values sealed under the new key.
    let http = reqwest::Client::new();
    for id in &ids {
        let r = http
            .post(format!("{base}/v2/sandbox/customers/getById"))
            .bearer_auth(s.sandbox_key())
            .json(&json!({"id": id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    }
    // Lookups through blind indexes are unaffected (the index key does not rotate).
    let fresh = okra_server::bootstrap::load_keyring(&s.config).unwrap();
    let tenant = s.tenant(okra_core::Environment::Sandbox);
    let p = &crate::pii_at_rest::people()[0];
    let c = okra_store::customers::find_by_bvn(&s.db, &fresh, &tenant, p.bvn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.pii.emails, vec![p.email.to_string()]);
    server.kill().await.unwrap();
    s.stop().await;
}

backend_tests!(rotating_the_data_key_reseals_everything_while_serving);
