//! Running the server: bind, serve the API and run workers until a shutdown signal, then stop
//! accepting, finish in-flight requests and jobs, and exit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use okra_store::crypto::Keyring;
use okra_store::Db;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::{router, AppState};
use crate::config::{Config, Role};
use crate::http::listener::ListenerOptions;
use crate::workers::{self, Registry};

/// A running server.
pub struct Running {
    /// The address the API listens on (`None` for `--role worker`).
    pub addr: Option<SocketAddr>,
    /// The address `/metrics` is served on when `metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// The shared state (tests use its database handle).
    pub state: AppState,
    /// Cancel to shut down gracefully.
    pub shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Running {
    /// Waits until the server and workers have stopped.
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// Signals shutdown and waits for it to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

/// Starts the API (unless `role` is worker) and the workers (unless `role` is api) over an open database.
pub async fn start(
    config: Config,
    db: Db,
    keyring: Keyring,
    registry: Registry,
) -> anyhow::Result<Running> {
    start_with_clock(config, db, keyring, registry, crate::clock::system()).await
}

/// [`start`] with the clock of the key cache and the limits given (tests inject a manual one).
pub async fn start_with_clock(
    config: Config,
    db: Db,
    keyring: Keyring,
    registry: Registry,
    clock: Arc<dyn crate::clock::Clock>,
) -> anyhow::Result<Running> {
    let role = config.role;
    let (listener, addr) = if role == Role::Worker {
        (None, None)
    } else {
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        (Some(listener), Some(addr))
    };
    let metrics_listener = match &config.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("listening on {at} (metrics_listen)"))?,
        ),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let public_url = config.public_base(addr.unwrap_or_else(|| ([127, 0, 0, 1], 0).into()));
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let concurrency = config.worker_concurrency;
    let state = AppState::new(db, config, keyring, public_url, clock)?;
    let shutdown = CancellationToken::new();

    let api = listener.map(|listener| {
        let app = router(state.clone());
        let options = ListenerOptions::from_config(&state.config);
        tokio::spawn(crate::http::listener::serve(
            listener,
            app,
            options,
            shutdown.clone(),
        ))
    });
    let metrics = metrics_listener.map(|listener| {
        let options = ListenerOptions::from_config(&state.config);
        tokio::spawn(crate::http::listener::serve(
            listener,
            crate::app::metrics_router(state.clone()),
            options,
            shutdown.clone(),
        ))
    });
    tokio::spawn(crate::services::rekey::watch_key_file(
        state.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(
        state
            .rate_limiter
            .clone()
            .run_sync(state.db.clone(), shutdown.clone()),
    );
    let work = (role != Role::Api).then(|| {
        tokio::spawn(workers::run(
            state.clone(),
            Arc::new(registry),
            concurrency,
            shutdown.clone(),
        ))
    });

    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        token.cancelled().await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests and jobs");
        let finish = async {
            if let Some(api) = api {
                let _ = api.await;
            }
            if let Some(metrics) = metrics {
                let _ = metrics.await;
            }
            if let Some(work) = work {
                let _ = work.await;
            }
        };
        if tokio::time::timeout(grace, finish).await.is_err() {
            tracing::warn!("shutdown grace period ran out; exiting with work still in flight");
        }
    });
    Ok(Running {
        addr,
        metrics_addr,
        state,
        shutdown,
        task,
    })
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
