//! Helpers for tests that run the real `okra-server` binary as separate processes (several
//! processes on one database, SIGKILL): a process of its own is the only way to share an SQLite
//! file the way two deployed servers do, or to die without running any destructor.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::process::{Child, Command};

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_okra-server");

/// `okra-server --data-dir DIR [--database-url URL]` with quiet logs.
pub fn command(data_dir: &Path, database_url: &Option<String>) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("OKRA_DATABASE_URL")
        .env("OKRA_LOG_LEVEL", "warn")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        c.arg("--database-url").arg(url);
    }
    c
}

/// Runs `okra-server owners create NAME` and returns the new owner's sandbox secret key.
pub async fn create_owner(data_dir: &Path, database_url: &Option<String>, name: &str) -> String {
    let out = command(data_dir, database_url)
        .args(["owners", "create", name])
        .output()
        .await
        .unwrap();
    crate::common::assert_success(&out);
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    creds["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["env"] == "sandbox" && k["kind"] == "secret")
        .and_then(|k| k["key"].as_str())
        .expect("a sandbox secret key")
        .to_string()
}

/// Starts `okra-server serve` on 127.0.0.1 and returns the child (killed on drop) and its base URL.
pub async fn serve(data_dir: &Path, database_url: &Option<String>) -> (Child, String) {
    let (child, base, _) = crate::cli::serve(data_dir, database_url).await;
    (child, base)
}

/// POSTs `body` to `base + path` with `key`; returns the status and the body text, or `None`
/// when no answer came (connection refused or reset: the server died).
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> Option<(u16, String)> {
    let res = client
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    Some((status, res.text().await.ok()?))
}

/// Every sandbox customer of the key's owner, through `customers/list` (100 a page).
pub async fn all_customers(client: &reqwest::Client, base: &str, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1..=1000 {
        let body = serde_json::json!({"page": page, "limit": 100});
        let (status, text) = post(client, base, "/v2/sandbox/customers/list", key, &body)
            .await
            .expect("customers/list answers");
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let customers = v["data"]["customers"].as_array().unwrap().clone();
        let done = customers.len() < 100;
        all.extend(customers);
        if done {
            return all;
        }
    }
    panic!("more than 100,000 customers");
}
