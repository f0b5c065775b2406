//! Application state and the router: every API route is mounted under `/v2` (production),
//! `/v2/sandbox` and its alias `/sandbox/v2` (sandbox), with the outer middleware around all of it.

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::MethodRouter;
use axum::{Extension, Router};
use okra_core::Environment;
use okra_store::crypto::Keyring;
use okra_store::Db;
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::api;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::auth::{KeyCache, PathEnv};
use crate::http::middleware::{panic_response, request_context};
use crate::http::throttle::AuthThrottle;
use crate::http::ApiError;

/// Shared state of one process: one allocation behind an `Arc`, so that the clones axum makes for
/// every request's extractors and middleware cost one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    /// The database.
    pub db: Db,
    /// Settings.
    pub config: Arc<Config>,
    /// Encryption and blind-index keys; replaced when `keys.json` changes (data-key rotation).
    keyring: Arc<std::sync::RwLock<Arc<Keyring>>>,
    /// Resolved API keys.
    pub keys: Arc<KeyCache>,
    /// Per-key request limits.
    pub rate_limiter: Arc<crate::http::rate_limit::RateLimiter>,
    /// Absolute base URL of this server (no trailing slash).
    pub public_url: Arc<str>,
    /// Wakes idle workers when a job is enqueued by this process.
    pub jobs_ready: Arc<Notify>,
    /// Data sources per environment.
    pub sources: Arc<crate::services::sources::Sources>,
    /// The bank list, read from the database once (it is the compiled-in catalogue, seeded at
    /// start and never changed while serving) and then served from memory.
    pub banks: Arc<tokio::sync::OnceCell<Arc<Vec<okra_store::banks::BankRow>>>>,
    /// The time source of the key cache and the limits (injected by tests).
    pub clock: Arc<dyn Clock>,
    /// Failed-authentication counts per client address.
    pub auth_throttle: Arc<AuthThrottle>,
    /// Webhook delivery: the retry schedule and the outbound clients.
    pub webhook_delivery: Arc<crate::services::webhooks::deliver::WebhookDelivery>,
    /// Prometheus metrics of this server.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// State over an open database; fails when the configured data sources are invalid.
    pub fn new(
        db: Db,
        config: Config,
        keyring: Keyring,
        public_url: String,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let per_minute = config.rate_limit_per_minute;
        let auth_failures = config.auth_failures_per_minute;
        let sources = Arc::new(crate::services::sources::Sources::from_config(&config)?);
        let webhook_delivery =
            Arc::new(crate::services::webhooks::deliver::WebhookDelivery::from_config(&config)?);
        Ok(AppState(Arc::new(Shared {
            db,
            config: Arc::new(config),
            keyring: Arc::new(std::sync::RwLock::new(Arc::new(keyring))),
            keys: Arc::new(KeyCache::new(clock.clone())),
            rate_limiter: Arc::new(crate::http::rate_limit::RateLimiter::new(
                per_minute,
                clock.clone(),
            )),
            auth_throttle: Arc::new(AuthThrottle::new(auth_failures, clock.clone())),
            banks: Arc::new(tokio::sync::OnceCell::new()),
            clock,
            public_url: public_url.into(),
            jobs_ready: Arc::new(Notify::new()),
            sources,
            webhook_delivery,
            metrics: Arc::new(crate::metrics::Metrics::new()),
        })))
    }
}

impl AppState {
    /// The current keyring.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.read().expect("keyring lock").clone()
    }

    /// Replaces the keyring (after the key file changed).
    pub fn set_keyring(&self, keyring: Keyring) {
        *self.keyring.write().expect("keyring lock") = Arc::new(keyring);
    }
}

/// Base paths and the environment each one serves.
pub const BASES: [(&str, Environment); 3] = [
    ("/v2", Environment::Production),
    ("/v2/sandbox", Environment::Sandbox),
    ("/sandbox/v2", Environment::Sandbox),
];

fn mount_api(
    mut router: Router<AppState>,
    routes: &[(&'static str, MethodRouter<AppState>)],
    sandbox_only: bool,
) -> Router<AppState> {
    for (base, env) in BASES {
        if sandbox_only && env != Environment::Sandbox {
            continue;
        }
        for (path, method_router) in routes {
            router = router.route(
                &format!("{base}/{path}"),
                method_router.clone().layer(Extension(PathEnv(env))),
            );
        }
    }
    router
}

/// The application of the `metrics_listen` address: `/metrics` alone (every other path 404).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(api::metrics::metrics))
        .fallback(|| async { ApiError::RouteNotFound })
        .with_state(state)
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    // Secret-key routes answer no CORS (see `http::cors`); the publishable-key routes of linking
    // and the widget do.
    let router = mount_api(Router::new(), &api::versioned_routes(), false);
    let router = mount_api(router, &api::sandbox_routes(), true);
    let cors = crate::http::cors::layer(&state.config.cors_origins);
    let with_cors = |routes: Vec<(&'static str, MethodRouter<AppState>)>| -> Vec<_> {
        (routes.into_iter())
            .map(|(path, r)| (path, r.layer(cors.clone())))
            .collect()
    };
    let router = mount_api(router, &with_cors(api::browser_routes()), false);
    let router = mount_api(router, &with_cors(api::sandbox_browser_routes()), true);
    let router = api::unversioned_routes()
        .into_iter()
        .fold(router, |r, (path, method_router)| {
            r.route(path, method_router)
        });
    // `/metrics` moves to its own listener when `metrics_listen` is set (operators keep it off
    // the public address).
    let router = if state.config.metrics_listen.is_none() {
        router.route("/metrics", axum::routing::get(api::metrics::metrics))
    } else {
        router
    };
    router
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(RequestBodyLimitLayer::new(state.config.body_limit_bytes))
        .layer(from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}
