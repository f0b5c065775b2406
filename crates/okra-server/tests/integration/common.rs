//! Test harness: starts the real server on 127.0.0.1:0 over SQLite (always) or a fresh PostgreSQL
//! database (when `OKRA_TEST_POSTGRES_URL` is set; under `CI=true` its absence is a failure).

use std::sync::Arc;
use std::time::Duration;

use okra_server::clock::ManualClock;

use okra_server::bootstrap;
use okra_server::config::Config;
use okra_server::server::{self, Running};
use okra_server::services::owners::OwnerCredentials;
use okra_server::workers::Registry;
use okra_store::Db;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Which database a test runs against.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

mod postgres;
pub mod receiver;
pub use postgres::*;

/// Generates `sqlite` and `postgres` variants of async test functions taking a [`Backend`]; the
/// PostgreSQL ones only when the suite is built with `OKRA_TEST_POSTGRES_URL` set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(okra_test_postgres)]
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::common::run_postgres_test(super::$name)
                }
            )*
        }
    };
}

/// A running server for one test.
pub struct TestServer {
    pub base: String,
    pub creds: OwnerCredentials,
    pub db: Db,
    #[allow(dead_code)]
    pub config: Config,
    pub backend: Backend,
    pub client: reqwest::Client,
    /// The clock of the key cache and the limits: it only moves when a test advances it.
    pub clock: Arc<ManualClock>,
    /// The job handlers of its workers (a second process runs the same).
    registry: Registry,
    running: Option<Running>,
    pub database_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// A decoded response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub const UNAUTHORIZED: &str = r#"{"name":"APIError","status":"error","message":"Unauthorized - You don't have access to this route.","extra":null}"#;

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}, Registry::default()).await
    }

    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
        registry: Registry,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(&backend).await;
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: database_url.clone().map(okra_server::config::Secret::new),
            job_poll_ms: 50,
            ..Config::default()
        };
        tweak(&mut config);
        let (db, keyring) = bootstrap::open(&config).await.expect("open");
        let (creds, _) = bootstrap::first_start(&db, &keyring, &config)
            .await
            .unwrap()
            .expect("first start creates the owner");
        let clock = ManualClock::at(okra_core::time::now_ms());
        let running = server::start_with_clock(
            config.clone(),
            db.clone(),
            keyring,
            registry.clone(),
            clock.clone(),
        )
        .await
        .expect("start");
        let base = running
            .addr
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        TestServer {
            base,
            creds,
            db,
            config,
            backend,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            clock,
            registry,
            running: Some(running),
            database_url,
            _dir: Some(dir),
        }
    }

    pub fn state(&self) -> &okra_server::app::AppState {
        &self.running.as_ref().unwrap().state
    }

    /// Where `/metrics` is served when `metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().unwrap().metrics_addr
    }

    /// A key of the default owner: env `sandbox`/`production`, kind `secret`/`publishable`.
    pub fn key(&self, env: &str, kind: &str) -> String {
        self.creds
            .keys
            .iter()
            .find(|k| k.env.as_str() == env && k.kind == kind)
            .unwrap()
            .key
            .clone()
    }

    /// A new sandbox secret key of the default owner (not cached anywhere yet).
    pub async fn new_sandbox_key(&self) -> String {
        okra_server::services::owners::create_key(
            &self.db,
            "default",
            okra_core::Environment::Sandbox,
            okra_core::apikey::KeyKind::Secret,
        )
        .await
        .unwrap()
        .unwrap()
    }

    pub fn sandbox_key(&self) -> String {
        self.key("sandbox", "secret")
    }

    pub fn tenant(&self, env: okra_core::Environment) -> okra_store::Tenant {
        okra_store::Tenant {
            owner_id: self.creds.owner_id.clone(),
            env,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let res = req.send().await.expect("request");
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            text: res.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Reply {
        self.request(Method::GET, path, key, None, None).await
    }

    /// The status of a `GET`.
    pub async fn get_status(&self, path: &str, key: Option<&str>) -> u16 {
        self.get(path, key).await.status.as_u16()
    }

    /// Page 1 of the default owner's sandbox customers, as JSON.
    pub async fn sandbox_customers_page(&self) -> Value {
        let key = self.sandbox_key();
        self.post(
            "/v2/sandbox/customers/list",
            Some(&key),
            serde_json::json!({}),
        )
        .await
        .json()
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: Value) -> Reply {
        self.request(
            Method::POST,
            path,
            key,
            Some(&body.to_string()),
            Some("application/json"),
        )
        .await
    }

    /// Another server process on the same database and data dir (as a second `serve` would be),
    /// its workers running the same jobs.
    pub async fn second_process(&self) -> TestServer {
        let config = self.config.clone();
        let (db, keyring) = bootstrap::open(&config).await.expect("open");
        let running = server::start_with_clock(
            config.clone(),
            db.clone(),
            keyring,
            self.registry.clone(),
            self.clock.clone(),
        )
        .await
        .expect("start");
        TestServer {
            base: running
                .addr
                .map(|a| format!("http://{a}"))
                .unwrap_or_default(),
            creds: self.creds.clone(),
            db,
            config,
            backend: self.backend.clone(),
            client: self.client.clone(),
            clock: self.clock.clone(),
            registry: self.registry.clone(),
            running: Some(running),
            database_url: None,
            _dir: None,
        }
    }

    /// Stops the server and workers gracefully but keeps the database for inspection.
    pub async fn running_stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.db.close().await;
        if let Some(url) = &self.database_url {
            drop_database(&self.backend, url).await;
        }
    }
}

/// Asserts the error envelope `{"status":"error","message":msg,"data":{}}` with `status`.
pub fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.text);
    let v = reply.json();
    assert_eq!(v["status"], "error", "{}", reply.text);
    assert_eq!(v["message"], message, "{}", reply.text);
    assert!(reply.header("x-request-id").is_some());
}

/// Waits until a spawned `okra-server serve` prints its listening line; returns the base URL and
/// everything it printed before. Its stdout must be piped.
pub async fn wait_until_listening(child: &mut tokio::process::Child) -> (String, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut printed = String::new();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(rest) = line.strip_prefix("okra-server listening on ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("server exited before listening: {printed}");
    })
    .await
    .expect("server did not start");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (base, printed)
}

/// Asserts a command exited successfully, showing what it wrote to stderr otherwise.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
