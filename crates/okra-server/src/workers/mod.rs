//! Background workers: claim due jobs from the queue (okra-store/src/jobs.rs), run their handler
//! under a lease that a heartbeat keeps alive and within `job_timeout_secs` (`attempt`), record the
//! outcome, and delete finished jobs past `job_retention_hours` (`prune`). Handlers must be
//! idempotent: a job may run again after its worker died mid-way or its attempt timed out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use okra_store::jobs::{self, ClaimedJob};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::app::AppState;

/// Why a job failed, and whether trying again can help.
#[derive(Debug)]
pub struct JobError {
    /// What went wrong (stored on the job; keep personal data out of it).
    pub message: String,
    /// Retry with backoff (true) or give up now (false).
    pub retry: bool,
    /// Retry after exactly this many milliseconds instead of the queue's backoff (a webhook's
    /// own schedule, a receiver's `Retry-After`).
    pub retry_in_ms: Option<i64>,
}

impl JobError {
    /// A failure worth retrying (timeouts, unavailable sources).
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: true,
            retry_in_ms: None,
        }
    }

    /// A failure to retry after `ms` milliseconds.
    pub fn retry_in(message: impl Into<String>, ms: i64) -> Self {
        JobError {
            message: message.into(),
            retry: true,
            retry_in_ms: Some(ms.max(0)),
        }
    }

    /// A failure that will not go away by retrying.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retry: false,
            retry_in_ms: None,
        }
    }
}

/// What a successful handler leaves to the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Mark the job done (what `Ok(())` means).
    Complete,
    /// The handler settled the job itself, in the transaction of its outcome
    /// (`okra_store::jobs::settle_on`): nothing left to record.
    Settled,
}

impl From<()> for Outcome {
    fn from(_: ()) -> Self {
        Outcome::Complete
    }
}

/// The tenant a job belongs to (`owner_id` and `env` written when it was enqueued); a job
/// without a valid one fails for good.
pub fn job_tenant(job: &ClaimedJob) -> Result<okra_store::Tenant, JobError> {
    let owner_id =
        (job.owner_id.clone()).ok_or_else(|| JobError::permanent("job without an owner"))?;
    let env = (job.env.as_deref().unwrap_or(""))
        .parse::<okra_core::Environment>()
        .map_err(|_| JobError::permanent("job without a valid environment"))?;
    Ok(okra_store::Tenant { owner_id, env })
}

/// A job handler.
pub type Handler = Arc<
    dyn Fn(AppState, ClaimedJob) -> BoxFuture<'static, Result<Outcome, JobError>> + Send + Sync,
>;

/// Job kinds and their handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
    abandoned: HashMap<String, AbandonHandler>,
}

/// What a job kind does when one of its jobs is failed for good without its handler having
/// finished (its lease ran out on every attempt, its last attempt timed out or panicked): mark
/// what the job stood for as failed, so nothing waits on it for ever. Given the job and the reason.
pub type AbandonHandler =
    Arc<dyn Fn(AppState, ClaimedJob, String) -> BoxFuture<'static, ()> + Send + Sync>;

impl Registry {
    /// Registers `handler` for jobs of `kind`. It returns `Ok(())` (the worker marks the job
    /// done) or an [`Outcome`].
    pub fn register<F, Fut, R>(&mut self, kind: &str, handler: F)
    where
        F: Fn(AppState, ClaimedJob) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, JobError>> + Send + 'static,
        R: Into<Outcome> + 'static,
    {
        let handler = Arc::new(handler);
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |s, j| {
                let handler = handler.clone();
                Box::pin(async move { handler(s, j).await.map(Into::into) })
            }),
        );
    }

    /// Registers what to do when a job of `kind` is abandoned (see [`AbandonHandler`]). It may
    /// run after the handler's own failure handling, so it must be idempotent.
    pub fn on_abandon<F, Fut>(&mut self, kind: &str, abandon: F)
    where
        F: Fn(AppState, ClaimedJob, String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.abandoned.insert(
            kind.to_string(),
            Arc::new(move |s, j, reason| Box::pin(abandon(s, j, reason))),
        );
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }

    pub(crate) fn abandoned(&self, kind: &str) -> Option<AbandonHandler> {
        self.abandoned.get(kind).cloned()
    }
}

/// The handlers of the server's own jobs: webhook deliveries, the products of records, and
/// balance refreshes and checks.
pub fn registry() -> Registry {
    use crate::services::{balance_refresh, products, webhooks};
    let mut r = Registry::default();
    r.register(webhooks::DELIVER_JOB, webhooks::deliver::run);
    r.register(products::IDENTITY_JOB, products::run_identity);
    r.register(products::BALANCE_JOB, products::run_balance);
    r.on_abandon(webhooks::DELIVER_JOB, webhooks::deliver::abandon);
    r.on_abandon(products::IDENTITY_JOB, products::abandon);
    r.on_abandon(products::BALANCE_JOB, products::abandon);
    for kind in [balance_refresh::REFRESH_JOB, balance_refresh::CHECK_JOB] {
        r.register(kind, balance_refresh::run_job);
        r.on_abandon(kind, balance_refresh::abandon);
    }
    r
}

/// Runs `concurrency` worker loops and the pruner of finished jobs until `shutdown`; each loop
/// finishes the job it holds (within the job timeout) before exiting.
pub async fn run(
    state: AppState,
    registry: Arc<Registry>,
    concurrency: usize,
    shutdown: CancellationToken,
) {
    let mut loops = tokio::task::JoinSet::new();
    for n in 0..concurrency {
        loops.spawn(
            worker_loop(state.clone(), registry.clone(), shutdown.clone())
                .instrument(tracing::info_span!("worker", worker = n)),
        );
    }
    loops.spawn(prune::prune_loop(state.clone(), shutdown.clone()));
    loops.spawn(prune::requeue_loop(state.clone(), shutdown.clone()));
    while loops.join_next().await.is_some() {}
    tracing::info!("workers stopped");
}

/// How far before the last claimed job's due time a worker's next search starts, and how often
/// it searches the whole queue again regardless (see `jobs::claim_from`).
const CURSOR_MARGIN_MS: i64 = 5_000;
const CURSOR_RESET: Duration = Duration::from_secs(1);

async fn worker_loop(state: AppState, registry: Arc<Registry>, shutdown: CancellationToken) {
    let poll = Duration::from_millis(state.config.job_poll_ms);
    let lease_ms = (state.config.job_lease_secs * 1000) as i64;
    // Where this worker's next search of the queue starts: a little before the last job it
    // claimed, so a backlog's already-claimed head is not stepped over at every claim; the whole
    // queue is searched again when that finds nothing, and at least every second.
    let mut cursor = i64::MIN;
    let mut cursor_set = tokio::time::Instant::now();
    while !shutdown.is_cancelled() {
        if cursor_set.elapsed() >= CURSOR_RESET {
            cursor = i64::MIN;
            cursor_set = tokio::time::Instant::now();
        }
        match jobs::claim_from(&state.db, lease_ms, cursor).await {
            Ok(Some(job)) => {
                if cursor == i64::MIN {
                    cursor_set = tokio::time::Instant::now();
                }
                cursor = job.run_at.saturating_sub(CURSOR_MARGIN_MS);
                attempt::run_one(&state, &registry, job, lease_ms).await
            }
            Ok(None) if cursor != i64::MIN => cursor = i64::MIN,
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = state.jobs_ready.notified() => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job failed");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}

mod attempt;
mod prune;
