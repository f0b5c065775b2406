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

/// The database name of a PostgreSQL URL (`postgres://…/name?…`).
#[cfg(okra_test_postgres)]
fn database_name(url: &str) -> String {
    let last = url.rsplit('/').next().unwrap();
    last.split('?').next().unwrap().to_string()
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
    let db_name = database_name(&direct);
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

/// A TCP proxy to PostgreSQL that can be stopped (listener closed, every connection dropped:
/// what a stopped PostgreSQL looks like to its clients, connection refused) and started again
/// on the same address.
#[cfg(okra_test_postgres)]
struct Proxy {
    addr: String,
    target: String,
    tasks: JoinSet<()>,
}

#[cfg(okra_test_postgres)]
impl Proxy {
    async fn start(addr: &str, target: &str) -> Proxy {
        // Restarting on the port it had: a moment's retry while the old socket goes away.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("proxy: binding {addr} again: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("proxy: cannot bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap().to_string();
        let mut tasks = JoinSet::new();
        let to = target.to_string();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = to.clone();
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(to).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy {
            addr,
            target: target.to_string(),
            tasks,
        }
    }

    async fn stop(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// PostgreSQL stops while requests (reads and writes) run: every answer is 200 or 503 (never a
/// 500); a request made after the stop is answered 503 within 2 seconds of the stop, and every
/// 503 comes within 2 seconds of its request (the pool's acquire timeout is 1.5 s); when it is
/// back, the same server answers 200 again without a restart; every write answered 200 is
/// stored, and nothing else is but a write in flight at the stop (its connection can drop between
/// COMMIT and the reply, which no server can tell from a failed COMMIT).
#[cfg(okra_test_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_load_answers_503_then_recovers() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let admin =
        postgres_url().expect("built to test PostgreSQL: OKRA_TEST_POSTGRES_URL must be set");
    let backend = Backend::Postgres(admin.clone());
    let direct = fresh_database(&backend).await.unwrap();
    let mut proxy = Proxy::start("127.0.0.1:0", &host_port(&admin)).await;
    let db_name = database_name(&direct);
    let via_proxy = replace_database(
        &admin.replacen(&host_port(&admin), &proxy.addr, 1),
        &db_name,
    );
    let s = Arc::new(
        TestServer::start_with(
            Backend::Sqlite, // pointed at our database below: the harness must not make another
            |c| c.database_url = Some(okra_server::config::Secret::new(via_proxy.clone())),
            Default::default(),
        )
        .await,
    );
    let key = s.sandbox_key();
    // (kind, status, took, link id when created, when answered)
    type Seen = (&'static str, u16, Duration, Option<String>, Instant);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let mut load = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (s, key, seen, running) = (s.clone(), key.clone(), seen.clone(), running.clone());
        load.spawn(async move {
            while running.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (kind, r) = if worker % 2 == 0 {
                    let body = serde_json::json!({"products": ["identity"]});
                    (
                        "write",
                        s.post("/v2/sandbox/links/new", Some(&key), body).await,
                    )
                } else {
                    let body = serde_json::json!({});
                    (
                        "read",
                        s.post("/v2/sandbox/customers/list", Some(&key), body).await,
                    )
                };
                let took = started.elapsed();
                let id = (kind == "write" && r.status == 200)
                    .then(|| r.json()["data"]["link_id"].as_str().unwrap().to_string());
                seen.lock()
                    .unwrap()
                    .push((kind, r.status.as_u16(), took, id, Instant::now()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_stop = seen.lock().unwrap().len();
    let stopping = Instant::now();
    proxy.stop().await; // PostgreSQL stops.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = seen.lock().unwrap().len();
    proxy = Proxy::start(&proxy.addr.clone(), &proxy.target.clone()).await; // and is back.
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tail: Vec<u16> = seen
            .lock()
            .unwrap()
            .iter()
            .rev()
            .take(8)
            .map(|x| x.1)
            .collect();
        if tail.len() == 8 && tail.iter().all(|&c| c == 200) {
            recovered = Some(back.elapsed());
            break;
        }
    }
    running.store(false, Ordering::Relaxed);
    while load.join_next().await.is_some() {}

    let seen = seen.lock().unwrap().clone();
    assert!(before_stop > 4, "load ran before the stop: {before_stop}");
    let outage = &seen[before_stop..during];
    let unavailable = outage.iter().filter(|x| x.1 == 503).count();
    assert!(
        unavailable >= 4,
        "503s while PostgreSQL was stopped: {outage:?}"
    );
    let first_after_stop = seen
        .iter()
        .filter(|x| x.4 - x.2 >= stopping)
        .min_by_key(|x| x.4)
        .unwrap();
    let first_503 = first_after_stop.4 - stopping;
    assert_eq!(first_after_stop.1, 503, "{first_after_stop:?}");
    assert!(
        first_503 < Duration::from_secs(2),
        "the first request after the stop was answered {first_503:?} after it"
    );
    for (kind, status, took, _, _) in &seen {
        assert!(matches!(status, 200 | 503), "{kind} answered {status}");
        let limit = Duration::from_secs(if *status == 503 { 2 } else { 3 });
        assert!(*took < limit, "{kind} {status} took {took:?}");
    }
    let recovered = recovered.expect("200s again once PostgreSQL is back, without a restart");
    // Every write answered 200 is stored; besides, at most the writes in flight at the stop.
    let created: Vec<&String> = seen.iter().filter_map(|x| x.3.as_ref()).collect();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM link_sessions")
        .fetch_all(s.db.pool())
        .await
        .unwrap();
    for id in &created {
        assert!(
            ids.contains(id),
            "link {id} was answered 200 but is not stored"
        );
    }
    let in_flight = seen
        .iter()
        .filter(|x| x.0 == "write" && x.1 == 503 && x.4 - x.2 < stopping && x.4 >= stopping)
        .count();
    assert!(
        ids.len() <= created.len() + in_flight,
        "{} stored, {} answered 200, {in_flight} in flight at the stop",
        ids.len(),
        created.len()
    );
    let slowest = seen.iter().map(|x| x.2).max().unwrap();
    eprintln!(
        "{} requests, {unavailable} answered 503 during the outage (the first request after the \
         stop {first_503:?} after it, the slowest answer {slowest:?}), 200 again {recovered:?} \
         after the restart",
        seen.len(),
    );
    proxy.stop().await;
    Arc::try_unwrap(s).ok().unwrap().stop().await;
    crate::common::drop_database(&backend, &direct).await;
}
