//! The PostgreSQL side of the harness: whether it is tested at all, a fresh database per test, and
//! dropping it even when the test fails.

use okra_store::Db;

use super::Backend;

/// The PostgreSQL admin URL for tests, if any. Under `CI=true` its absence is a failure.
pub fn postgres_url() -> Option<String> {
    match std::env::var("OKRA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but OKRA_TEST_POSTGRES_URL is not set: the PostgreSQL backend must be tested");
            }
            None
        }
    }
}

/// The one visible trace of an untested backend: `cargo test` prints this test as ignored with
/// its reason (the PostgreSQL variants are compiled only when the URL is set at build time).
#[cfg(not(okra_test_postgres))]
#[test]
#[ignore = "OKRA_TEST_POSTGRES_URL is not set: PostgreSQL backend NOT tested"]
fn postgres_backend() {}

/// Under `CI=true` an untested PostgreSQL backend fails the run.
#[cfg(not(okra_test_postgres))]
#[test]
fn postgres_backend_is_required_under_ci() {
    postgres_url();
}

thread_local! {
    /// Test databases created on this thread and not dropped yet: `(admin URL, name)`.
    static CREATED: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Drops, when it goes out of scope (also while a failed test unwinds), every test database
/// created on this thread since it was made and not dropped by the test itself.
#[cfg_attr(not(okra_test_postgres), allow(dead_code))] // used by the PostgreSQL variants only
pub struct DropTestDatabases(());

#[cfg_attr(not(okra_test_postgres), allow(dead_code))] // used by the PostgreSQL variants only
impl DropTestDatabases {
    pub fn new() -> Self {
        CREATED.with(|c| c.borrow_mut().clear());
        DropTestDatabases(())
    }
}

impl Drop for DropTestDatabases {
    fn drop(&mut self) {
        let left: Vec<(String, String)> = CREATED.with(|c| c.borrow_mut().drain(..).collect());
        if left.is_empty() {
            return;
        }
        // A thread of its own: this may run inside a runtime, where blocking on another is refused.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                for (admin, name) in left {
                    drop_named(&admin, &name).await;
                }
            });
        })
        .join();
    }
}

/// Runs one PostgreSQL variant: a runtime of its own, and the databases it creates dropped even
/// when it panics. The tests were built with `OKRA_TEST_POSTGRES_URL` set: missing now, it fails.
#[cfg_attr(not(okra_test_postgres), allow(dead_code))] // used by the PostgreSQL variants only
pub fn run_postgres_test<F: std::future::Future<Output = ()>>(test: impl FnOnce(Backend) -> F) {
    let url = postgres_url()
        .expect("built with OKRA_TEST_POSTGRES_URL set but run without it: set it or rebuild");
    let _cleanup = DropTestDatabases::new();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test(Backend::Postgres(url)));
}

/// A fresh database URL for one test: a new PostgreSQL database, or `None` for SQLite in the data dir.
pub async fn fresh_database(backend: &Backend) -> Option<String> {
    let Backend::Postgres(admin) = backend else {
        return None;
    };
    let name = format!("okra_test_{}", okra_core::id::new_id());
    let admin_db = Db::connect(admin, &okra_store::DbOptions::default())
        .await
        .expect("connect to OKRA_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin_db.pool())
        .await
        .expect("create test database");
    admin_db.close().await;
    CREATED.with(|c| c.borrow_mut().push((admin.clone(), name.clone())));
    Some(replace_database(admin, &name))
}

/// `admin` with its database name replaced.
pub fn replace_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

/// Drops a test database created by [`fresh_database`].
pub async fn drop_database(backend: &Backend, url: &str) {
    let Backend::Postgres(admin) = backend else {
        return;
    };
    let name = url
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    CREATED.with(|c| c.borrow_mut().retain(|(_, n)| *n != name));
    drop_named(admin, &name).await;
}

async fn drop_named(admin: &str, name: &str) {
    if let Ok(admin_db) = Db::connect(admin, &okra_store::DbOptions::default()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(admin_db.pool())
            .await;
        admin_db.close().await;
    }
}

/// The harness itself: a PostgreSQL test that fails still drops its database.
#[cfg(okra_test_postgres)]
#[test]
fn a_failed_postgres_test_leaves_no_database_behind() {
    let created = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = created.clone();
    let failed = std::thread::spawn(move || {
        run_postgres_test(|b| async move {
            let url = fresh_database(&b).await.unwrap();
            *seen.lock().unwrap() = Some(url);
            panic!("deliberate failure: the harness must still drop this test's database");
        })
    })
    .join();
    assert!(failed.is_err(), "the test body panicked");
    let url = created
        .lock()
        .unwrap()
        .clone()
        .expect("a database was created");
    let name = url.rsplit('/').next().unwrap().to_string();
    let admin = postgres_url().unwrap();
    let left: i64 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let db = Db::connect(&admin, &okra_store::DbOptions::default())
                .await
                .unwrap();
            let n = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_one(db.pool())
                .await
                .unwrap();
            db.close().await;
            n
        });
    assert_eq!(left, 0, "database {name} was left behind");
}
