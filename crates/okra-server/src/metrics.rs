//! Prometheus metrics (`GET /metrics`, or on `metrics_listen` when configured): requests by route
//! template and status with latency histograms, data-source calls by outcome, webhook delivery
//! attempts by outcome, and — read at scrape time — the job queue (depth and age of the oldest
//! due job per status and kind) and the database pool (open and idle connections).
//!
//! Each server keeps its own registry (not a process-global one), so several servers in one
//! process — the integration tests — count apart. Labels are bounded: route templates (never raw
//! paths, which clients choose), status codes, fixed outcome words.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use okra_core::source::SourceError;

/// Latency buckets of requests, in seconds: 1 ms to 30 s (the request timeout).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    source_calls: IntCounterVec,
    webhook_attempts: IntCounterVec,
    jobs: IntGaugeVec,
    jobs_oldest: IntGaugeVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "okra_http_requests_total",
                "HTTP requests answered, by route template, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "okra_http_request_duration_seconds",
                "Time to answer HTTP requests, by route template and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("valid metric");
        let source_calls = IntCounterVec::new(
            Opts::new(
                "okra_source_calls_total",
                "Calls to the data sources (banks, identity registry), by environment and outcome",
            ),
            &["env", "outcome"],
        )
        .expect("valid metric");
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "okra_webhook_attempts_total",
                "Webhook delivery attempts, by outcome (delivered, retry, failed, gone)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let jobs = IntGaugeVec::new(
            Opts::new(
                "okra_jobs",
                "Jobs in the queue, by status (queued, running) and kind",
            ),
            &["status", "kind"],
        )
        .expect("valid metric");
        let jobs_oldest = IntGaugeVec::new(
            Opts::new(
                "okra_jobs_oldest_due_age_seconds",
                "How long the oldest due job has waited, by status and kind",
            ),
            &["status", "kind"],
        )
        .expect("valid metric");
        let pool_size = IntGauge::new(
            "okra_db_pool_connections",
            "Open database connections of this process",
        )
        .expect("valid metric");
        let pool_idle = IntGauge::new(
            "okra_db_pool_idle_connections",
            "Idle database connections of this process",
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(source_calls.clone()),
            Box::new(webhook_attempts.clone()),
            Box::new(jobs.clone()),
            Box::new(jobs_oldest.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_idle.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            source_calls,
            webhook_attempts,
            jobs,
            jobs_oldest,
            pool_size,
            pool_idle,
        }
    }

    /// Counts an answered request (`method` as [`method_label`] names it).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Counts a data-source call by how it ended.
    pub fn source_call(&self, env: &str, result: Result<(), &SourceError>) {
        let outcome = match result {
            Ok(()) => "ok",
            Err(SourceError::Timeout) => "timeout",
            Err(SourceError::BankUnavailable) => "unavailable",
            Err(SourceError::Other(_)) => "error",
            Err(_) => "refused",
        };
        self.source_calls.with_label_values(&[env, outcome]).inc();
    }

    /// Counts a webhook delivery attempt: `delivered`, `retry`, `failed` (given up) or `gone`.
    pub fn webhook_attempt(&self, outcome: &str) {
        self.webhook_attempts.with_label_values(&[outcome]).inc();
    }

    /// The text exposition, after reading the queue and the pool.
    pub async fn render(&self, db: &okra_store::Db) -> String {
        match okra_store::jobs::queue_stats(db).await {
            Ok(stats) => {
                self.jobs.reset();
                self.jobs_oldest.reset();
                for s in stats {
                    let labels = [s.status.as_str(), s.kind.as_str()];
                    self.jobs.with_label_values(&labels).set(s.count);
                    self.jobs_oldest
                        .with_label_values(&labels)
                        .set(s.oldest_ms / 1000);
                }
            }
            // The scrape still answers (with the last values) when the database does not.
            Err(e) => tracing::warn!(error = %e, "metrics: reading the job queue failed"),
        }
        self.pool_size.set(i64::from(db.pool().size()));
        self.pool_idle.set(db.pool().num_idle() as i64);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// A request method as a metrics label and in logs: the standard methods by name, any other
/// (HTTP allows any token, of any length) as `OTHER`, so that a client cannot make a label, a
/// series or a log line per request.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    static KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::PATCH,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", |known| known.as_str())
}
