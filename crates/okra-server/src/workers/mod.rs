//! Background workers: claim due jobs from the queue (okra-store/src/jobs.rs), run their handler
//! under a lease that a heartbeat keeps alive, and record the outcome. Handlers must be
//! idempotent: a job may run again after its worker died mid-way.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use okra_store::jobs::{self, ClaimedJob};
use tokio_util::sync::CancellationToken;

use crate::app::AppState;

/// Why a job failed, and whether trying again can help.
#[derive(Debug)]
pub struct JobError {
    /// What went wrong (stored on the job; keep personal data out of it).
    pub message: String,
    /// Retry with backoff (true) or give up now (false).
    pub retry: bool,
}

impl JobError {
    /// A failure worth retrying (timeouts, unavailable sources).
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: true,
        }
    }

    /// A failure that will not go away by retrying.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: false,
        }
    }
}

/// A job handler.
pub type Handler =
    Arc<dyn Fn(AppState, ClaimedJob) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// Job kinds and their handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    /// Registers `handler` for jobs of `kind`.
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(AppState, ClaimedJob) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |s, j| Box::pin(handler(s, j))),
        );
    }

    fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }
}

/// The handlers of the server's own jobs. Product issues register theirs here.
pub fn registry() -> Registry {
    Registry::default()
}

/// Runs `concurrency` worker loops until `shutdown`; each finishes the job it holds before exiting.
pub async fn run(
    state: AppState,
    registry: Arc<Registry>,
    concurrency: usize,
    shutdown: CancellationToken,
) {
    let mut loops = tokio::task::JoinSet::new();
    for n in 0..concurrency {
        loops.spawn(worker_loop(
            n,
            state.clone(),
            registry.clone(),
            shutdown.clone(),
        ));
    }
    while loops.join_next().await.is_some() {}
    tracing::info!("workers stopped");
}

async fn worker_loop(
    n: usize,
    state: AppState,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) {
    let poll = Duration::from_millis(state.config.job_poll_ms);
    let lease_ms = (state.config.job_lease_secs * 1000) as i64;
    while !shutdown.is_cancelled() {
        match jobs::claim(&state.db, lease_ms).await {
            Ok(Some(job)) => run_one(&state, &registry, job, lease_ms).await,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = state.jobs_ready.notified() => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "claiming a job failed");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}

async fn run_one(state: &AppState, registry: &Registry, job: ClaimedJob, lease_ms: i64) {
    let span =
        tracing::info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempt);
    let _enter = span.enter();
    if job.attempt > job.max_attempts {
        // Its lease expired more often than it may be tried: a worker keeps dying on it.
        let _ = jobs::fail(&state.db, &job, "lease expired on every attempt", None).await;
        tracing::warn!("job abandoned after its lease expired on every attempt");
        return;
    }
    let Some(handler) = registry.get(&job.kind) else {
        let _ = jobs::fail(&state.db, &job, "no handler for this job kind", None).await;
        tracing::error!("no handler for job kind");
        return;
    };
    // Keep the lease while the handler runs.
    let beat = {
        let db = state.db.clone();
        let job = job.clone();
        tokio::spawn(async move {
            let every = Duration::from_millis((lease_ms / 3).max(50) as u64);
            loop {
                tokio::time::sleep(every).await;
                match jobs::heartbeat(&db, &job, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(error = %e, "job heartbeat failed"),
                }
            }
        })
    };
    // A panicking handler is a failed attempt, not a dead worker.
    let outcome = tokio::spawn(handler(state.clone(), job.clone())).await;
    beat.abort();
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(JobError::retry("handler panicked")),
    };
    let recorded = match &result {
        Ok(()) => jobs::complete(&state.db, &job).await,
        Err(e) => {
            let delay = e.retry.then(|| {
                jobs::backoff_ms(
                    job.attempt,
                    state.config.job_backoff_base_ms as i64,
                    state.config.job_backoff_max_ms as i64,
                )
            });
            jobs::fail(&state.db, &job, &e.message, delay).await
        }
    };
    match (result, recorded) {
        (Ok(()), Ok(true)) => tracing::debug!("job done"),
        (Err(e), Ok(true)) => tracing::warn!(error = %e.message, retry = e.retry, "job failed"),
        (_, Ok(false)) => tracing::warn!("job lease was lost before the outcome was recorded"),
        (_, Err(e)) => tracing::error!(error = %e, "recording the job outcome failed"),
    }
}
