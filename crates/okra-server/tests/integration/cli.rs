//! The `okra-server` binary: first start, credentials, key management against a running server,
//! and graceful shutdown on SIGTERM (README, "Command line").

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::backend_tests;
use crate::common::{drop_database, fresh_database, Backend, UNAUTHORIZED};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_okra-server");

pub(crate) fn command(data_dir: &Path, database_url: &Option<String>) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("OKRA_DATABASE_URL")
        .env("OKRA_LOG_LEVEL", "warn");
    if let Some(url) = database_url {
        c.arg("--database-url").arg(url);
    }
    c.stdin(Stdio::null());
    c
}

pub(crate) async fn run(
    data_dir: &Path,
    database_url: &Option<String>,
    args: &[&str],
) -> (bool, String, String) {
    let out = command(data_dir, database_url)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Starts `serve` and returns the child, its base URL and everything it printed before listening.
pub(crate) async fn serve(
    data_dir: &Path,
    database_url: &Option<String>,
) -> (Child, String, String) {
    let mut child = command(data_dir, database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (base, printed) = crate::common::wait_until_listening(&mut child).await;
    (child, base, printed)
}

/// The credentials file the first-start banner names.
pub(crate) fn credentials_file(printed: &str) -> String {
    printed
        .split(" they are also in ")
        .nth(1)
        .and_then(|r| r.split(" (mode 0600)").next())
        .unwrap_or_else(|| panic!("banner names the file: {printed}"))
        .to_string()
}

fn key_from_banner(printed: &str, env: &str, kind: &str) -> String {
    printed
        .lines()
        .find(|l| l.trim_start().starts_with(env) && l.contains(&format!(" {kind} ")))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no {env} {kind} key in: {printed}"))
        .to_string()
}

async fn first_start_prints_keys_once_and_the_cli_manages_them(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    let (mut child, base, printed) = serve(dir.path(), &url).await;
    let sandbox = key_from_banner(&printed, "sandbox", "secret");
    assert!(sandbox.starts_with("sk_sandbox_"));
    assert!(key_from_banner(&printed, "production", "secret").starts_with("sk_live_"));
    assert!(key_from_banner(&printed, "sandbox", "publishable").starts_with("pk_sandbox_"));
    assert!(printed.contains("whsec_"));

    // credentials.json (one file per database): 0600, same keys.
    let creds_path = std::path::PathBuf::from(credentials_file(&printed));
    assert_eq!(creds_path.parent(), Some(dir.path()));
    if url.is_none() {
        assert!(creds_path.ends_with("credentials.json"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&creds_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dir.path().join("keys.json"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
    assert!(creds["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["key"] == sandbox.as_str()));

    let http = reqwest::Client::new();
    let get = |key: Option<String>| {
        let mut r = http.get(format!("{base}/v2/sandbox/banks/list"));
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    let r = get(Some(sandbox.clone())).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["data"]["banks"]
            .as_array()
            .unwrap()
            .len(),
        28
    );
    let r = get(None).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.text().await.unwrap(), UNAUTHORIZED);

    // keys create prints the key and nothing else, and it works on the running server at once.
    let (ok, out, _) = run(
        dir.path(),
        &url,
        &["keys", "create", "--owner", "default", "--env", "sandbox"],
    )
    .await;
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let new_key = lines[0].to_string();
    assert!(okra_core::apikey::parse(&new_key).is_some());
    assert_eq!(
        get(Some(new_key.clone())).await.unwrap().status().as_u16(),
        200
    );

    // keys list shows hints, never keys; revoke takes effect within a second.
    let (ok, out, _) = run(dir.path(), &url, &["keys", "list", "--owner", "default"]).await;
    assert!(ok);
    assert!(!out.contains(&new_key) && !out.contains(&sandbox));
    let tail = &new_key[new_key.len() - 4..];
    let id = out
        .lines()
        .find(|l| l.contains(&format!("…{tail}")))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let (ok, _, err) = run(dir.path(), &url, &["keys", "revoke", &id]).await;
    assert!(ok, "{err}");
    // A separate server process honours the revocation once its key cache entry expires. The exact
    // bound (the cache TTL) is asserted with a manual clock in `auth.rs`; here the point is that the
    // CLI's write reaches another process, so the bound is only there to end the loop.
    let revoked = Instant::now();
    while get(Some(new_key.clone())).await.unwrap().status().as_u16() != 401 {
        assert!(
            revoked.elapsed() < Duration::from_secs(10),
            "revoked key still accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ok, _, _) = run(dir.path(), &url, &["keys", "revoke", &id]).await;
    assert!(!ok, "revoking twice fails");

    // Other commands, while the server runs.
    let (ok, out, _) = run(
        dir.path(),
        &url,
        &["webhooks", "secret", "--owner", "default"],
    )
    .await;
    assert!(ok);
    assert_eq!(out.trim(), creds["webhook_secret"].as_str().unwrap());
    let (ok, out, _) = run(dir.path(), &url, &["owners", "create", "acme"]).await;
    assert!(ok);
    let acme: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(acme["keys"].as_array().unwrap().len(), 4);
    let (ok, _, err) = run(dir.path(), &url, &["owners", "create", "acme"]).await;
    assert!(!ok && err.contains("already exists"));
    let (ok, out, _) = run(
        dir.path(),
        &url,
        &["wallet", "topup", "--owner", "acme", "--amount", "250.5"],
    )
    .await;
    assert!(ok);
    let wallet: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(wallet["env"], "sandbox", "topup defaults to sandbox: {out}");
    assert_eq!(wallet["owner"], "acme");
    assert_eq!(wallet["balance"], 1_000_250.5);
    let (ok, _, _) = run(dir.path(), &url, &["migrate"]).await;
    assert!(ok);

    // SIGTERM: graceful exit.
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(25), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");

    // A second start prints no keys.
    let (mut child, _, printed) = serve(dir.path(), &url).await;
    assert!(!printed.contains("sk_sandbox_"), "{printed}");
    child.kill().await.unwrap();
    if let Some(u) = &url {
        drop_database(&b, u).await;
    }
}

backend_tests!(first_start_prints_keys_once_and_the_cli_manages_them);

#[tokio::test]
async fn sandbox_users_prints_logins_of_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &None,
        &[
            "sandbox",
            "users",
            "--bank",
            "guaranty-trust-bank",
            "--count",
            "3",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let network = okra_sandbox::Network::default();
    for line in lines {
        let mut cols = line.split('\t');
        let (username, password) = (cols.next().unwrap(), cols.next().unwrap());
        assert_eq!(okra_sandbox::Network::password_for(username), password);
        let person = network
            .person_by_username("guaranty-trust-bank", username)
            .expect("a person of the network");
        assert!(person
            .accounts
            .iter()
            .any(|a| a.bank.slug == "guaranty-trust-bank"));
        let summary: serde_json::Value = serde_json::from_str(cols.next().unwrap()).unwrap();
        assert_eq!(summary["index"], person.index);
    }
    let (ok, _, _) = run(
        dir.path(),
        &None,
        &["sandbox", "users", "--bank", "no-such-bank"],
    )
    .await;
    assert!(!ok);
}
