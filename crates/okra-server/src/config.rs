//! Configuration: built-in defaults, then `okra.toml`, then `OKRA_*` environment variables, then
//! command-line flags (README, "Configuration"). Secrets are wrapped in [`Secret`] so `Debug` and logs show
//! `[redacted]` instead of their value.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A configuration value that must never be printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which parts of the server a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Only the HTTP API.
    Api,
    /// Only the background workers.
    Worker,
    /// Both (the default).
    All,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// All settings. Every field has a default; see the README's configuration table.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// A separate address serving only `/metrics` (then the API's address does not serve it).
    pub metrics_listen: Option<String>,
    /// Directory for the SQLite file, `credentials.json` and the generated key file.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of SQLite in the data dir.
    pub database_url: Option<Secret>,
    /// Absolute base URL clients reach this server at (for asset and callback URLs); defaults to
    /// `http://<listen address>`.
    pub public_url: Option<String>,
    /// API, workers or both.
    pub role: Role,
    /// `tracing` filter, e.g. `info` or `okra_server=debug`.
    pub log_level: String,
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    /// Longest time one request may take, in seconds.
    pub request_timeout_secs: u64,
    /// Longest wait for a database connection before answering 503, in milliseconds.
    pub db_acquire_timeout_ms: u64,
    /// Longest wait of an SQLite writer for the write lock held by another writer (of this or
    /// another process) before answering 503, in milliseconds.
    pub db_busy_timeout_ms: u64,
    /// Largest number of database connections per process.
    pub db_max_connections: u32,
    /// Jobs one worker process runs at once.
    pub worker_concurrency: usize,
    /// Lease a worker holds on a job before another may take it over, in seconds.
    pub job_lease_secs: u64,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub job_poll_ms: u64,
    /// First retry delay of a failed job, in milliseconds (doubles per attempt).
    pub job_backoff_base_ms: u64,
    /// Largest retry delay, in milliseconds.
    pub job_backoff_max_ms: u64,
    /// Longest one job attempt may run, in seconds; a longer one is cancelled and counts as a
    /// failed attempt (retried with backoff).
    pub job_timeout_secs: u64,
    /// How long finished jobs (done or failed for good) are kept before workers delete them, in hours.
    pub job_retention_hours: u64,
    /// Data keys for encryption at rest, `ID:BASE64[,ID:BASE64…]`, current first. Generated into
    /// the data dir when absent.
    pub data_key: Option<Secret>,
    /// Key for blind indexes, base64 of 32 bytes. Generated into the data dir when absent.
    pub index_key: Option<Secret>,
    /// How long to wait for in-flight requests and jobs at shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    /// Seed of the simulated bank network: the same seed gives the same people everywhere.
    pub sandbox_seed: u64,
    /// Number of people in the simulated bank network.
    pub sandbox_population: u64,
    /// Requests per minute one API key may make (0 turns the limit off).
    pub rate_limit_per_minute: u32,
    /// Data source of the sandbox: `simulated`, or the base URL of a connector adapter.
    pub sandbox_source: String,
    /// Data source of production: `simulated`, or the base URL of a connector adapter.
    pub production_source: String,
    /// Bearer token okra-server sends to connector adapters.
    pub connector_token: Option<Secret>,
    /// Private hosts or CIDRs a production connector adapter may live at.
    pub connector_allowed_hosts: Vec<String>,
    /// Longest time one data-source call may take before it counts as a timeout (503).
    pub source_timeout_ms: u64,
    // Connection hygiene (the HTTP listener).
    /// Longest time a client may take to send a request's head, in seconds; the same timer
    /// closes a keep-alive connection left idle that long between requests.
    pub header_read_timeout_secs: u64,
    /// Most connections one process holds open at once; past it new connections get a 503
    /// envelope and are closed.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes; larger ones get 431. A path over
    /// 64 KiB gets 414 whatever this says.
    pub max_header_bytes: usize,
    /// Origins browsers may call the publishable-key routes from (`*` for any). Secret-key routes
    /// never answer CORS; credentials are never allowed.
    pub cors_origins: Vec<String>,
    /// Whether the widget shows an integrator's `logo` given as an `https` URL on another host
    /// (the one request the widget would then make elsewhere). Off: only `data:` and local logos.
    pub widget_remote_logos: bool,
    /// Failed authentications one client address may make per minute before its requests are
    /// answered 429 without a key lookup (0 turns the throttle off).
    pub auth_failures_per_minute: u32,
    /// Create the PostgreSQL database of `database_url` when it does not exist (`--create-database`).
    pub create_database: bool,
    /// Waits between webhook delivery attempts (`"5s, 5m, 30m, 2h, 5h, 10h, 10h"`: eight attempts),
    /// each spread by ±20 % jitter.
    pub webhook_retry_schedule: String,
    /// Longest time a webhook receiver may take to answer, in seconds (then the attempt failed).
    pub webhook_timeout_secs: u64,
    /// Private hosts or CIDRs production webhooks may be delivered to (the SSRF guard refuses
    /// private, loopback and link-local addresses otherwise; sandbox webhooks may go anywhere).
    pub webhook_allowed_hosts: Vec<String>,
    /// How long a link session from `links/new` stays usable, in seconds.
    pub link_ttl_secs: u64,
    /// Price of `products/kyc/customer-verify`, in credits (two decimals).
    pub price_customer_verify: f64,
    /// Price of `products/kyc/bvn-verify`, in credits.
    pub price_bvn_verify: f64,
    /// Price of `products/kyc/nuban-verify`, in credits.
    pub price_nuban_verify: f64,
    /// Price of `products/kyc/nuban-name-verify`, in credits.
    pub price_nuban_name_verify: f64,
    /// How long a paid call's `Idempotency-Key` replays its first answer, in hours.
    pub idempotency_ttl_hours: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            data_dir: PathBuf::from("./okra-data"),
            database_url: None,
            public_url: None,
            role: Role::All,
            log_level: "info".into(),
            log_format: LogFormat::Pretty,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            db_acquire_timeout_ms: 1500,
            db_busy_timeout_ms: 5000,
            db_max_connections: 16,
            worker_concurrency: 4,
            job_lease_secs: 30,
            job_poll_ms: 500,
            job_backoff_base_ms: 1000,
            job_backoff_max_ms: 3_600_000,
            job_timeout_secs: 300,
            job_retention_hours: 72,
            data_key: None,
            index_key: None,
            shutdown_grace_secs: 20,
            sandbox_seed: 2020,
            sandbox_population: 10_000_000,
            rate_limit_per_minute: 600,
            sandbox_source: "simulated".into(),
            production_source: "simulated".into(),
            connector_token: None,
            connector_allowed_hosts: Vec::new(),
            source_timeout_ms: 15_000,
            header_read_timeout_secs: 10,
            max_connections: 4096,
            max_header_bytes: 128 * 1024,
            cors_origins: vec!["*".into()],
            widget_remote_logos: false,
            auth_failures_per_minute: 120,
            create_database: false,
            webhook_retry_schedule: "5s, 5m, 30m, 2h, 5h, 10h, 10h".into(),
            webhook_timeout_secs: 15,
            webhook_allowed_hosts: Vec::new(),
            link_ttl_secs: 3600,
            price_customer_verify: 1.2,
            price_bvn_verify: 1.2,
            price_nuban_verify: 1.2,
            price_nuban_name_verify: 0.7,
            idempotency_ttl_hours: 24,
        }
    }
}

/// Values given on the command line (highest precedence); `None` leaves lower layers alone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `serve --listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `serve --role`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `--create-database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_database: Option<bool>,
}

impl Config {
    /// Loads the layers. `file` is `--config`, else `okra.toml` in the working directory if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let toml = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("okra.toml"));
        if file.is_some() && !toml.exists() {
            anyhow::bail!("configuration file {} does not exist", toml.display());
        }
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&toml))
            .merge(Env::prefixed("OKRA_").ignore(&["test_postgres_url"]))
            .merge(Serialized::defaults(overrides))
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.body_limit_bytes < 1024 {
            anyhow::bail!("body_limit_bytes must be at least 1024");
        }
        if self.request_timeout_secs == 0
            || self.db_acquire_timeout_ms == 0
            || self.db_busy_timeout_ms == 0
        {
            anyhow::bail!("timeouts must be positive");
        }
        if self.header_read_timeout_secs == 0 {
            anyhow::bail!("header_read_timeout_secs must be positive");
        }
        if self.max_connections == 0 {
            anyhow::bail!("max_connections must be positive");
        }
        if self.max_header_bytes < 8192 {
            anyhow::bail!("max_header_bytes must be at least 8192");
        }
        if self.worker_concurrency == 0 || self.job_lease_secs == 0 || self.job_timeout_secs == 0 {
            anyhow::bail!(
                "worker_concurrency, job_lease_secs and job_timeout_secs must be positive"
            );
        }
        okra_core::webhook_delivery::RetrySchedule::parse(&self.webhook_retry_schedule)
            .map_err(|e| anyhow::anyhow!("webhook_retry_schedule: {e}"))?;
        if self.webhook_timeout_secs == 0 || self.link_ttl_secs == 0 {
            anyhow::bail!("webhook_timeout_secs and link_ttl_secs must be positive");
        }
        for (name, price) in [
            ("price_customer_verify", self.price_customer_verify),
            ("price_bvn_verify", self.price_bvn_verify),
            ("price_nuban_verify", self.price_nuban_verify),
            ("price_nuban_name_verify", self.price_nuban_name_verify),
        ] {
            if !price.is_finite() || !(0.0..1e9).contains(&price) {
                anyhow::bail!("{name} must be a number of credits from 0 to 1,000,000,000");
            }
        }
        if self.idempotency_ttl_hours == 0 {
            anyhow::bail!("idempotency_ttl_hours must be positive");
        }
        validate_log_level(&self.log_level)
    }

    /// True when the database is the SQLite file in the data dir (no `database_url`).
    pub fn uses_embedded_sqlite(&self) -> bool {
        self.database_url
            .as_ref()
            .is_none_or(|url| url.expose().is_empty())
    }

    /// The database URL to use: the configured one, else SQLite in the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.expose().is_empty() => url.expose().to_string(),
            _ => okra_store::db::sqlite_url(&self.data_dir.join("okra.db")),
        }
    }

    /// The public base URL for a server bound to `bound`.
    pub fn public_base(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
            _ => format!("http://{bound}"),
        }
    }
}

/// Levels a bare `log_level` directive may name.
const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// Refuses a `log_level` that is not a `tracing` filter. A bare word that is not a level (`verbose`)
/// is legal filter syntax (a target at every level) but never what an operator means, so it is
/// refused too rather than silently logging nothing or everything.
fn validate_log_level(filter: &str) -> anyhow::Result<()> {
    let help = "use a level (trace, debug, info, warn, error, off) or directives such as `okra_server=debug,info`";
    if filter.trim().is_empty() {
        anyhow::bail!("log_level is empty: {help}");
    }
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !directive.contains(['=', '[', ':']);
        if bare && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            anyhow::bail!("log_level `{filter}`: `{directive}` is not a level; {help}");
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("log_level `{filter}` is not a valid filter ({e}); {help}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = Config {
            database_url: Some(Secret::new("postgres://u:hunter2@h/db")),
            data_key: Some(Secret::new("1:c2VjcmV0")),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("c2VjcmV0"));
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn log_levels_are_checked() {
        for ok in [
            "info",
            "DEBUG",
            "okra_server=debug,info",
            "warn,tower_http=off",
        ] {
            assert!(validate_log_level(ok).is_ok(), "{ok}");
        }
        for bad in ["verbose", "", "info,loud", "okra_server=loudest"] {
            let e = validate_log_level(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")) || bad.is_empty(), "{e}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "okra.toml",
                "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\nbody_limit_bytes = 4096",
            )?;
            jail.set_env("OKRA_LOG_LEVEL", "warn");
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9000");
            assert_eq!(c.log_level, "warn");
            assert_eq!(c.body_limit_bytes, 4096);
            let o = Overrides {
                listen: Some("127.0.0.1:1".into()),
                ..Overrides::default()
            };
            assert_eq!(Config::load(None, &o).unwrap().listen, "127.0.0.1:1");
            Ok(())
        });
    }
}
