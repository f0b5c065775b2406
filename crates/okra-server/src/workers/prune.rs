//! Deleting finished jobs past `job_retention_hours`, so the queue table holds recent history
//! rather than every job ever run, and putting jobs whose lease ran out back in the queue. Every
//! worker process does both; the statements are idempotent, so several doing it at once only
//! repeat each other's (cheap, indexed) query.

use std::time::Duration;

use okra_store::jobs;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;

/// How often a worker process prunes (and once at start).
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Rows deleted per statement: short write transactions, so SQLite's writer lock is never held
/// long while a backlog is deleted.
const BATCH: i64 = 1000;

/// Batches per round: a huge backlog is worked off over several rounds, never in one long loop.
const MAX_BATCHES: usize = 1000;

/// Prunes now and then every [`PRUNE_EVERY`] until `shutdown`.
pub(super) async fn prune_loop(state: AppState, shutdown: CancellationToken) {
    // Saturating: a huge setting means "keep forever", never a wrapped negative (delete all).
    let retention_ms = i64::try_from(state.config.job_retention_hours)
        .unwrap_or(i64::MAX)
        .saturating_mul(3_600_000);
    loop {
        prune_round(&state, retention_ms, &shutdown).await;
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn prune_round(state: &AppState, retention_ms: i64, shutdown: &CancellationToken) {
    let mut deleted = 0;
    for _ in 0..MAX_BATCHES {
        if shutdown.is_cancelled() {
            break;
        }
        match jobs::prune(&state.db, retention_ms, BATCH).await {
            Ok(n) => {
                deleted += n;
                if n < BATCH as u64 {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning finished jobs failed");
                break;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "pruned finished jobs");
    }
}

/// Puts jobs whose lease ran out back in the queue every half lease (at least every second), so
/// they do not wait behind a backlog: a claim prefers queued jobs.
pub(super) async fn requeue_loop(state: AppState, shutdown: CancellationToken) {
    let every = Duration::from_millis((state.config.job_lease_secs * 500).max(1000));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        match jobs::requeue_expired(&state.db, BATCH).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(requeued = n, "jobs whose lease ran out were queued again");
                state.jobs_ready.notify_waiters();
            }
            Err(e) => tracing::warn!(error = %e, "requeueing jobs whose lease ran out failed"),
        }
    }
}
