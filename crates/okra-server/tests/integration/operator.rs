//! Issue 7, operator items through the real binary: keys shared by every process of one database,
//! credentials files never overwritten, and the CLI's answers to mistakes.

use std::path::Path;

use crate::backend_tests;
use crate::cli::{run, serve};
use crate::common::{drop_database, fresh_database, Backend};

/// A database two data dirs can share: a fresh PostgreSQL database, or the SQLite file of `first`.
async fn shared_database(b: &Backend, first: &Path) -> Option<String> {
    match b {
        Backend::Postgres(_) => fresh_database(b).await,
        Backend::Sqlite => Some(okra_store::db::sqlite_url(&first.join("okra.db"))),
    }
}

fn keys_of(dir: &Path) -> (String, String) {
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
    (
        file["data_keys"].as_str().unwrap().to_string(),
        file["index_key"].as_str().unwrap().to_string(),
    )
}

async fn a_process_with_other_keys_refuses_to_start(b: Backend) {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let url = shared_database(&b, first.path()).await;
    let (ok, _, err) = run(first.path(), &url, &["owners", "create", "acme"]).await;
    assert!(ok, "{err}");

    // Another data dir on the same database: no keys.json there, so it must not invent keys.
    for args in [&["migrate"][..], &["serve", "--listen", "127.0.0.1:0"][..]] {
        let (ok, _, err) = run(second.path(), &url, args).await;
        assert!(!ok, "{args:?} must refuse");
        assert!(
            err.contains("keys.json")
                && err.contains("OKRA_DATA_KEY")
                && err.contains("OKRA_INDEX_KEY"),
            "names the fix: {err}"
        );
        assert_eq!(err.matches("okra-server:").count(), 1, "one message: {err}");
    }
    assert!(
        !second.path().join("keys.json").exists(),
        "no keys generated"
    );

    // Keys of its own (another server's keys.json) are refused too.
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(elsewhere.path(), &None, &["migrate"]).await;
    assert!(ok, "{err}");
    std::fs::copy(
        elsewhere.path().join("keys.json"),
        second.path().join("keys.json"),
    )
    .unwrap();
    let (ok, _, err) = run(second.path(), &url, &["owners", "list"]).await;
    assert!(
        !ok && err.contains("do not match") && err.contains("index key"),
        "{err}"
    );

    // The fix the message names works: the first server's keys, by environment.
    let (data_key, index_key) = keys_of(first.path());
    let shared = |args: &'static [&'static str]| {
        let mut c = crate::cli::command(second.path(), &url);
        c.args(args)
            .env("OKRA_DATA_KEY", &data_key)
            .env("OKRA_INDEX_KEY", &index_key);
        c
    };
    let out = shared(&["webhooks", "secret", "--owner", "acme"])
        .output()
        .await
        .unwrap();
    crate::common::assert_success(&out);

    // After a rotation, a copy of the old keys.json lacks the new key and is refused.
    let stale = tempfile::tempdir().unwrap();
    std::fs::copy(
        first.path().join("keys.json"),
        stale.path().join("keys.json"),
    )
    .unwrap();
    let (ok, _, err) = run(first.path(), &url, &["keys", "rotate-data-key"]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(stale.path(), &url, &["migrate"]).await;
    assert!(!ok && err.contains("data key 2 is missing"), "{err}");
    let (ok, _, err) = run(first.path(), &url, &["migrate"]).await;
    assert!(ok, "the rotated keys were recorded: {err}");

    if let (Backend::Postgres(_), Some(u)) = (&b, &url) {
        drop_database(&b, u).await;
    }
}

/// A database other than the data dir's SQLite file: a fresh PostgreSQL one, or another SQLite file.
async fn other_database(b: &Backend, elsewhere: &Path) -> String {
    match b {
        Backend::Postgres(_) => fresh_database(b).await.unwrap(),
        Backend::Sqlite => okra_store::db::sqlite_url(&elsewhere.join("other.db")),
    }
}

async fn another_database_never_overwrites_the_credentials_file(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let (mut child, _, printed) = serve(dir.path(), &None).await;
    child.kill().await.unwrap();
    assert!(printed.contains("sk_sandbox_"));
    let creds_path = dir.path().join("credentials.json");
    let original = std::fs::read(&creds_path).unwrap();

    // The same data dir (and keys) pointed at a new database: a first start there too.
    let url = Some(other_database(&b, elsewhere.path()).await);
    let (mut child, _, printed) = serve(dir.path(), &url).await;
    child.kill().await.unwrap();
    assert_eq!(
        std::fs::read(&creds_path).unwrap(),
        original,
        "credentials.json kept"
    );
    let written = crate::cli::credentials_file(&printed);
    assert_ne!(Path::new(&written), creds_path);
    let other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
    let sandbox_key = other["keys"][0]["key"].as_str().unwrap();
    assert!(
        printed.contains(sandbox_key),
        "the new file has the printed keys"
    );
    assert!(!String::from_utf8_lossy(&original).contains(sandbox_key));
    let name = Path::new(&written)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("credentials-") && !name.contains("postgres@"),
        "{name}"
    );

    if let (Backend::Postgres(_), Some(u)) = (&b, &url) {
        drop_database(&b, u).await;
    }
}

/// Migrations run without the pool's statement timeout: one rebuilds indexes and backfills counters
/// over whole tables, which on a large database takes longer than any request may (a 1-million
/// customer database took 29 s for migration 0016). A pool whose statements may run 1 ms still
/// migrates a new database.
async fn migrations_are_not_cut_by_the_statement_timeout(b: Backend) {
    let Some(url) = fresh_database(&b).await else {
        return; // SQLite has no statement timeout in migrations.
    };
    let options = okra_store::db::DbOptions {
        statement_timeout: std::time::Duration::from_millis(1),
        ..okra_store::db::DbOptions::default()
    };
    let db = okra_store::Db::connect(&url, &options).await.unwrap();
    db.migrate().await.unwrap();
    let short: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(short, "1ms", "the pool's connections keep their timeout");
    db.close().await;
    drop_database(&b, &url).await;
}

backend_tests!(
    migrations_are_not_cut_by_the_statement_timeout,
    a_process_with_other_keys_refuses_to_start,
    another_database_never_overwrites_the_credentials_file
);

#[tokio::test]
async fn cli_refuses_bad_owner_names_and_log_levels() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(65);
    for name in ["", "   ", long.as_str(), "bad\tname"] {
        let (ok, out, err) = run(dir.path(), &None, &["owners", "create", name]).await;
        assert!(!ok && out.is_empty(), "{name:?} refused: {out}");
        assert!(err.contains("owner name"), "{err}");
    }
    let (ok, out, _) = run(dir.path(), &None, &["owners", "list"]).await;
    assert!(ok);
    assert!(out.is_empty(), "no owner was created: {out}");

    let out = crate::cli::command(dir.path(), &None)
        .arg("migrate")
        .env("OKRA_LOG_LEVEL", "verbose")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "an invalid log_level is an error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("log_level") && err.contains("verbose"),
        "{err}"
    );
}

#[tokio::test]
async fn pretty_logs_have_no_colour_codes_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::cli::command(dir.path(), &None)
        .arg("migrate")
        .env("OKRA_LOG_LEVEL", "debug")
        .env("OKRA_LOG_FORMAT", "pretty")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "some log lines were written: {err}");
    let start: String = err.chars().take(300).collect();
    assert!(!err.contains('\u{1b}'), "escape codes in a pipe: {start:?}");
}

#[tokio::test]
async fn wallet_topup_defaults_to_sandbox_and_says_which_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(dir.path(), &None, &["owners", "create", "acme"]).await;
    assert!(ok, "{err}");
    let (ok, out, err) = run(
        dir.path(),
        &None,
        &["wallet", "topup", "--owner", "acme", "--amount", "10"],
    )
    .await;
    assert!(ok, "{err}");
    let w: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(w["env"], "sandbox");
    assert_eq!(w["owner"], "acme");
    assert_eq!(w["balance"], 1_000_010.0);
    let (ok, out, _) = run(
        dir.path(),
        &None,
        &[
            "wallet",
            "topup",
            "--owner",
            "acme",
            "--amount",
            "10",
            "--env",
            "production",
        ],
    )
    .await;
    assert!(ok);
    let w: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (w["env"].as_str(), w["balance"].as_f64()),
        (Some("production"), Some(10.0))
    );
    // Amounts that would add nothing, or overflow the balance, are refused by name.
    for (amount, says) in [("0.001", "at least 0.01"), ("1e13", "less than")] {
        let (ok, _, err) = run(
            dir.path(),
            &None,
            &["wallet", "topup", "--owner", "acme", "--amount", amount],
        )
        .await;
        assert!(!ok && err.contains(says), "{amount}: {err}");
    }
    // `sandbox users` says what is wrong with its arguments.
    let (ok, _, err) = run(dir.path(), &None, &["sandbox", "users", "--count", "0"]).await;
    assert!(!ok && err.contains("--count must be at least 1"), "{err}");
    let (ok, _, err) = run(dir.path(), &None, &["sandbox", "users", "--bank", "nope"]).await;
    assert!(!ok && err.contains("no bank `nope`"), "{err}");
}

#[cfg(okra_test_postgres)]
#[tokio::test]
async fn a_missing_postgres_database_is_one_message_and_can_be_created() {
    let admin = crate::common::postgres_url().unwrap();
    let name = format!("okra_test_{}", okra_core::id::new_id());
    let url = Some(crate::common::replace_database(&admin, &name));
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(dir.path(), &url, &["migrate"]).await;
    assert!(!ok);
    assert_eq!(err.matches("okra-server:").count(), 1, "one message: {err}");
    assert_eq!(err.matches("does not exist").count(), 1, "said once: {err}");
    assert!(
        err.contains(&format!("createdb {name}")) && err.contains("--create-database"),
        "{err}"
    );
    let (ok, _, err) = run(dir.path(), &url, &["migrate", "--create-database"]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(dir.path(), &url, &["owners", "list"]).await;
    assert!(ok, "{err}");
    drop_database(&Backend::Postgres(admin), url.as_ref().unwrap()).await;
}
