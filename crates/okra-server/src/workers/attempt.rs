//! One attempt at a claimed job: the handler runs in its own task under the job timeout, a
//! heartbeat keeps the lease while (and only while) the attempt may still run, and the outcome is
//! recorded if the lease is still ours.

use std::time::Duration;

use okra_store::jobs::{self, ClaimedJob};
use tokio::time::Instant;
use tracing::Instrument;

use super::{JobError, Registry};
use crate::app::AppState;

/// Runs the job kind's abandon hook, if it has one.
async fn abandon(state: &AppState, registry: &Registry, job: ClaimedJob, reason: &str) {
    if let Some(hook) = registry.abandoned(&job.kind) {
        hook(state.clone(), job, reason.to_string()).await;
    }
}

/// Runs one attempt of `job` inside a `job` span (attached to the futures, not entered across
/// awaits, so the span follows the work across threads and never leaks onto other tasks).
pub(super) async fn run_one(state: &AppState, registry: &Registry, job: ClaimedJob, lease_ms: i64) {
    let span =
        tracing::info_span!("job", job_id = %job.id, kind = %job.kind, attempt = job.attempt);
    attempt(state, registry, job, lease_ms)
        .instrument(span)
        .await
}

async fn attempt(state: &AppState, registry: &Registry, job: ClaimedJob, lease_ms: i64) {
    if job.attempt > job.max_attempts {
        // Its lease expired more often than it may be tried: a worker keeps dying on it.
        let reason = "lease expired on every attempt";
        let _ = jobs::fail(&state.db, &job, reason, None).await;
        tracing::warn!("job abandoned after its lease expired on every attempt");
        abandon(state, registry, job, reason).await;
        return;
    }
    let Some(handler) = registry.get(&job.kind) else {
        let _ = jobs::fail(&state.db, &job, "no handler for this job kind", None).await;
        tracing::error!("no handler for job kind");
        return;
    };
    let timeout = Duration::from_secs(state.config.job_timeout_secs);
    // A configured timeout too large for the clock means "no practical limit", not a panic.
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400));
    let beat = tokio::spawn(
        keep_lease(state.db.clone(), job.clone(), lease_ms, deadline).in_current_span(),
    );
    // Its own task: a panicking handler is a failed attempt, not a dead worker.
    let mut task = tokio::spawn(handler(state.clone(), job.clone()).in_current_span());
    let outcome = tokio::time::timeout_at(deadline, &mut task).await;
    beat.abort();
    let result = match outcome {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err(JobError::retry("handler panicked")),
        Err(_) => {
            // Cancel the hung handler (it is dropped at its next await point) and count the
            // attempt as failed; the retry may run on any worker.
            task.abort();
            Err(JobError::retry(format!(
                "timed out after {} s",
                timeout.as_secs()
            )))
        }
    };
    let recorded = match &result {
        Ok(super::Outcome::Settled) => Ok(true),
        Ok(super::Outcome::Complete) => jobs::complete(&state.db, &job).await,
        Err(e) => {
            let delay = e.retry.then(|| {
                e.retry_in_ms.unwrap_or_else(|| {
                    jobs::backoff_ms(
                        job.attempt,
                        state.config.job_backoff_base_ms as i64,
                        state.config.job_backoff_max_ms as i64,
                    )
                })
            });
            jobs::fail(&state.db, &job, &e.message, delay).await
        }
    };
    if let Err(e) = &result {
        if !e.retry || job.attempt >= job.max_attempts {
            // Failed for good: whatever the job stood for must not wait on it for ever (the
            // handler may not have run its own failure handling: a timeout or a panic).
            abandon(state, registry, job.clone(), &e.message).await;
        }
    }
    match (result, recorded) {
        (Ok(_), Ok(true)) => tracing::debug!("job done"),
        (Err(e), Ok(true)) => tracing::warn!(error = %e.message, retry = e.retry, "job failed"),
        (_, Ok(false)) => tracing::warn!("job lease was lost before the outcome was recorded"),
        (_, Err(e)) => tracing::error!(error = %e, "recording the job outcome failed"),
    }
}

/// Extends the lease every third of it until the attempt's deadline, never after: if the worker
/// cannot even record the timeout (database gone, runtime starved), the lease still runs out
/// `lease_ms` after the deadline and another worker takes the job over.
async fn keep_lease(db: okra_store::Db, job: ClaimedJob, lease_ms: i64, deadline: Instant) {
    let every = Duration::from_millis((lease_ms / 3).max(50) as u64);
    loop {
        tokio::time::sleep(every).await;
        if Instant::now() >= deadline {
            break;
        }
        match jobs::heartbeat(&db, &job, lease_ms).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => tracing::warn!(error = %e, "job heartbeat failed"),
        }
    }
}
