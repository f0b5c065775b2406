//! `sandbox load` and `migrate` leave the planner's statistics current (README, "Command line"):
//! after them the row count the planner believes for `customers` is the real one, instead of none
//! (SQLite before its first ANALYZE, PostgreSQL without autovacuum) or a stale one.

use okra_store::db::{sqlite_url, Backend as Engine, DbOptions};
use okra_store::Db;

use crate::backend_tests;
use crate::cli::run;
use crate::common::{drop_database, fresh_database, Backend};

/// The planner's row count for `customers`: SQLite's first `sqlite_stat1` number of the page
/// index, PostgreSQL's `pg_class.reltuples`. `None` when there are no statistics.
async fn believed_customers(db: &Db) -> Option<i64> {
    match db.backend() {
        // No `sqlite_stat1` table at all (never analysed) reads as no statistics too.
        Engine::Sqlite => sqlx::query_scalar::<_, String>(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'customers_page'",
        )
        .fetch_optional(db.pool())
        .await
        .ok()
        .flatten()
        .and_then(|s| s.split(' ').next()?.parse().ok()),
        Engine::Postgres => {
            let n: f64 = sqlx::query_scalar(
                "SELECT reltuples::float8 FROM pg_class WHERE relname = 'customers'",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            (n >= 0.0).then_some(n as i64)
        }
    }
}

async fn open(dir: &std::path::Path, url: &Option<String>) -> Db {
    let url = url
        .clone()
        .unwrap_or_else(|| sqlite_url(&dir.join(okra_server::bootstrap::SQLITE_FILE)));
    Db::connect(&url, &DbOptions::default()).await.unwrap()
}

async fn succeeds(dir: &std::path::Path, url: &Option<String>, args: &[&str]) {
    let (ok, _, err) = run(dir, url, args).await;
    assert!(ok, "{args:?}: {err}");
}

async fn load_and_migrate_leave_statistics_current(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    succeeds(dir.path(), &url, &["owners", "create", "demo"]).await;
    succeeds(
        dir.path(),
        &url,
        &["sandbox", "load", "--owner", "demo", "--people", "30"],
    )
    .await;
    let db = open(dir.path(), &url).await;
    assert_eq!(
        believed_customers(&db).await,
        Some(30),
        "after sandbox load"
    );

    // Ten more customers written behind the planner's back, then `migrate`.
    for i in 0..10 {
        sqlx::query(
            "INSERT INTO customers (id, owner_id, env, name, created_at, last_updated) \
             SELECT $1, id, 'sandbox', 'Extra', 0, 0 FROM owners WHERE name = 'demo'",
        )
        .bind(format!("{i:024x}"))
        .execute(db.pool())
        .await
        .unwrap();
    }
    db.close().await;
    succeeds(dir.path(), &url, &["migrate"]).await;
    let db = open(dir.path(), &url).await;
    assert_eq!(believed_customers(&db).await, Some(40), "after migrate");
    db.close().await;
    if let Some(url) = &url {
        drop_database(&b, url).await;
    }
}

backend_tests!(load_and_migrate_leave_statistics_current);
