//! An unreachable database answers 503 within about 2 seconds, never hangs; `/ready` says so.

use std::time::{Duration, Instant};

#[cfg(okra_test_postgres)]
use tokio::io::copy_bidirectional;
#[cfg(okra_test_postgres)]
use tokio::net::{TcpListener, TcpStream};
#[cfg(okra_test_postgres)]
use tokio::task::JoinSet;

use crate::common::{assert_error, Backend, TestServer};
#[cfg(okra_test_postgres)]
use crate::common::{fresh_database, postgres_url, replace_database};

const DB_DOWN: &str = "Service temporarily unavailable, please retry.";

async fn assert_unavailable_fast(s: &TestServer) {
    for path in ["/v2/sandbox/banks/list", "/ready"] {
        let started = Instant::now();
        // A fresh key each time so the answer cannot come from the key cache.
        let r = s.get(path, Some(&s.sandbox_key())).await;
        let took = started.elapsed();
        assert_error(&r, 503, DB_DOWN);
        assert!(r.json()["request_id"].is_string());
        assert!(took < Duration::from_secs(3), "{path} took {took:?}");
    }
    // Liveness does not depend on the database.
    assert_eq!(s.get("/health", None).await.status.as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_database_gone_is_503() {
    let s = TestServer::start(Backend::Sqlite).await;
    assert_eq!(s.get("/ready", None).await.status.as_u16(), 200);
    // The embedded database cannot be unplugged; closing the pool is the same failure seen from
    // the request path (no connection can be had).
    s.db.close().await;
    s.clock.advance(okra_server::http::auth::CACHE_TTL_MS + 1);
    assert_unavailable_fast(&s).await;
    s.stop().await;
}

/// A TCP proxy to PostgreSQL that the test can cut.
#[cfg(okra_test_postgres)]
async fn proxy_to(target: String) -> (String, JoinSet<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        let mut conns = JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            conns.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, tasks)
}

#[cfg(okra_test_postgres)]
fn host_port(url: &str) -> String {
    let after = url.split("://").nth(1).unwrap();
    let hostpart = after.split('/').next().unwrap();
    let hostpart = hostpart.rsplit('@').next().unwrap();
    if hostpart.is_empty() {
        "127.0.0.1:5432".into()
    } else if hostpart.contains(':') {
        hostpart.to_string()
    } else {
        format!("{hostpart}:5432")
    }
}

// Compiled only when the suite is built to test PostgreSQL (see `common::postgres`), so without
// it this test is absent, not silently "ok".
#[cfg(okra_test_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_is_503_within_two_seconds() {
    let admin =
        postgres_url().expect("built to test PostgreSQL: OKRA_TEST_POSTGRES_URL must be set");
    let backend = Backend::Postgres(admin.clone());
    let direct = fresh_database(&backend).await.unwrap();
    let (proxy, mut tasks) = proxy_to(host_port(&admin)).await;
    let db_name = direct
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let via_proxy = replace_database(&admin.replacen(&host_port(&admin), &proxy, 1), &db_name);
    let s = TestServer::start_with(
        Backend::Sqlite, // the harness must not create another database: we point it at ours
        |c| c.database_url = Some(okra_server::config::Secret::new(via_proxy.clone())),
        Default::default(),
    )
    .await;
    assert_eq!(s.get("/ready", None).await.status.as_u16(), 200);
    // Cut the network: the proxy stops accepting and drops every open connection.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    s.clock.advance(okra_server::http::auth::CACHE_TTL_MS + 1);
    assert_unavailable_fast(&s).await;
    s.stop().await;
    crate::common::drop_database(&backend, &direct).await;
}

/// A database dropped under a running server is "unreachable", not a bug: 503, never 500.
#[cfg(okra_test_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_database_dropped_is_503() {
    let admin =
        postgres_url().expect("built to test PostgreSQL: OKRA_TEST_POSTGRES_URL must be set");
    let backend = Backend::Postgres(admin.clone());
    let s = TestServer::start(backend.clone()).await;
    assert_eq!(s.get_status("/ready", None).await, 200);
    let url = s.database_url.clone().expect("a PostgreSQL test database");
    crate::common::drop_database(&backend, &url).await;
    s.clock.advance(okra_server::http::auth::CACHE_TTL_MS + 1);
    assert_unavailable_fast(&s).await;
    s.stop().await;
}
