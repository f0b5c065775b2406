//! The background job queue: a table in the same database as the state it belongs to.
//!
//! * [`enqueue`] runs on the caller's connection, so a job is written in the same transaction as
//!   the state change that needs it (an outbox: nothing is lost if the process dies in between).
//! * [`claim`] takes one due job atomically: `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent
//!   workers never wait on or take the same row, and a single `UPDATE … RETURNING` on SQLite, whose
//!   writes are serialised anyway. A claim sets a lease and a fresh lease token.
//! * A job whose lease ran out (its worker died or hung) is due again; [`complete`] and [`fail`]
//!   only act when the caller still holds the lease token, so a worker that lost its lease cannot
//!   overwrite the outcome of the worker that took the job over.
//! * Failures are retried with exponential backoff until `max_attempts`, then the job is `failed`.
//! * Every time here is the DATABASE's clock ([`now_sql`]), never the process's: workers on hosts
//!   whose clocks disagree still agree on when a lease ran out or a retry is due, because one clock
//!   writes `lease_until`/`run_at` and the same clock compares them.
//! * [`prune`] deletes finished jobs (`done`, `failed`) past a retention, in bounded batches.

use okra_core::id::new_id;
use rand::Rng;
use sqlx::{AnyConnection, Row};

use crate::db::{Backend, Db};
use crate::error::Result;

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Handler name, e.g. `record.process`.
    pub kind: String,
    /// Handler input.
    pub payload: serde_json::Value,
    /// Owner the job works for, if any.
    pub owner_id: Option<String>,
    /// Environment, if any.
    pub env: Option<String>,
    /// Delay before the first run (ms, counted on the database's clock); 0 means now.
    pub delay_ms: i64,
    /// Attempts before the job is marked failed.
    pub max_attempts: i64,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now, up to 8 attempts.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        NewJob {
            kind: kind.into(),
            payload,
            owner_id: None,
            env: None,
            delay_ms: 0,
            max_attempts: 8,
        }
    }
}

/// A job held by a worker under a lease.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// Job id.
    pub id: String,
    /// Handler name.
    pub kind: String,
    /// Handler input.
    pub payload: serde_json::Value,
    /// Owner, if any.
    pub owner_id: Option<String>,
    /// Environment, if any.
    pub env: Option<String>,
    /// This attempt's number (1 for the first run).
    pub attempt: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Proof of holding the lease.
    pub lease_token: String,
    /// When it was due (ms, the database's clock).
    pub run_at: i64,
}

/// The state of a job, for tests and operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Attempts started so far.
    pub attempts: i64,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Next due time (ms).
    pub run_at: i64,
}

/// The database's "now" in epoch milliseconds, as an SQL expression for `backend`.
///
/// PostgreSQL's `now()` is the transaction's start (stable within a statement); SQLite's `'now'`
/// is fixed for the duration of one statement. Either way one statement compares against a single
/// instant, and every process sharing the database uses the same clock.
pub fn now_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)",
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

/// Writes a job on `conn` (inside the caller's transaction). Returns its id.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob) -> Result<String> {
    let id = new_id();
    let now = now_sql(crate::db::backend_of(conn));
    sqlx::query(&format!(
        "INSERT INTO jobs (id, kind, payload, owner_id, env, status, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', {now} + $6, 0, $7, {now}, {now})"
    ))
    .bind(&id)
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.owner_id.as_deref())
    .bind(job.env.as_deref())
    .bind(job.delay_ms.max(0))
    .bind(job.max_attempts.max(1))
    .execute(conn)
    .await?;
    Ok(id)
}

/// Claims one due job (queued and due, or running with an expired lease) for `lease_ms`.
pub async fn claim(db: &Db, lease_ms: i64) -> Result<Option<ClaimedJob>> {
    claim_from(db, lease_ms, i64::MIN).await
}

/// [`claim`] looking only at queued jobs due at or after `from_run_at` (ms, the database's clock)
/// — and at expired leases as usual. A worker that just claimed a job due at `t` passes a little
/// less than `t`: on PostgreSQL the index entries before it are mostly dead versions of jobs
/// already claimed (every claim leaves one until VACUUM), which a search from the start of the
/// queue would step over at every claim. Workers search from the start again whenever this
/// finds nothing, so no due job is left behind.
pub async fn claim_from(db: &Db, lease_ms: i64, from_run_at: i64) -> Result<Option<ClaimedJob>> {
    let token = new_id();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let now = now_sql(db.backend());
    // Two index searches, each stopping at its first row: the queued job due first
    // (`jobs_ready`, ordered as the ORDER BY), else a job whose lease ran out (`jobs_lease`). One
    // search with OR collected every due job and sorted them at each claim (a backlog of n jobs
    // cost n rows a claim). Queued jobs come first because the lease search walks the index
    // entries of every job that ever ran and is not yet vacuumed (PostgreSQL keeps the dead
    // `running` versions until then): searched at every claim under a backlog, it grew with the
    // backlog. Leases that ran out while jobs stay queued are put back in the queue by
    // [`requeue_expired`], which workers run every few seconds.
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = {now} + $1, lease_token = $2, updated_at = {now} \
         WHERE id = COALESCE( \
             (SELECT id FROM jobs WHERE status = 'queued' AND run_at >= $3 AND run_at <= {now} ORDER BY run_at, id LIMIT 1 {lock}), \
             (SELECT id FROM jobs WHERE status = 'running' AND lease_until < {now} ORDER BY lease_until LIMIT 1 {lock})) \
         RETURNING id, kind, payload, owner_id, env, attempts, max_attempts, run_at"
    );
    let _w = db.write_guard().await?;
    let row = sqlx::query(&sql)
        .bind(lease_ms)
        .bind(&token)
        .bind(from_run_at)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let payload: String = row.try_get("payload")?;
    Ok(Some(ClaimedJob {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: serde_json::from_str(&payload)?,
        owner_id: row.try_get("owner_id")?,
        env: row.try_get("env")?,
        attempt: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        lease_token: token,
        run_at: row.try_get("run_at")?,
    }))
}

/// Puts up to `batch` running jobs whose lease ran out (their worker died or hung) back in the
/// queue, due now; returns how many. A claim takes such jobs itself when no queued job is due;
/// this keeps them from waiting behind a queue that never empties.
pub async fn requeue_expired(db: &Db, batch: i64) -> Result<u64> {
    let now = now_sql(db.backend());
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let _w = db.write_guard().await?;
    let r = sqlx::query(&format!(
        "UPDATE jobs SET status = 'queued', run_at = {now}, lease_until = NULL, lease_token = NULL, updated_at = {now} \
         WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_until < {now} ORDER BY lease_until LIMIT $1 {lock})"
    ))
    .bind(batch)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected())
}

/// Extends the lease of a running job to `lease_ms` from now. False when the lease was lost.
pub async fn heartbeat(db: &Db, job: &ClaimedJob, lease_ms: i64) -> Result<bool> {
    let now = now_sql(db.backend());
    let _w = db.write_guard().await?;
    let r = sqlx::query(&format!(
        "UPDATE jobs SET lease_until = {now} + $1, updated_at = {now} WHERE id = $2 AND lease_token = $3 AND status = 'running'"
    ))
    .bind(lease_ms)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a job done. False when the caller no longer held the lease (the outcome is ignored).
pub async fn complete(db: &Db, job: &ClaimedJob) -> Result<bool> {
    let now = now_sql(db.backend());
    let _w = db.write_guard().await?;
    let r = sqlx::query(&format!(
        "UPDATE jobs SET status = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = {now} \
         WHERE id = $1 AND lease_token = $2 AND status = 'running'"
    ))
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How a handler settles its job inside its own transaction ([`settle_on`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settle<'a> {
    /// Done.
    Done,
    /// Run again after `ms` milliseconds (or `failed` when its attempts are used up), recording
    /// `error`.
    RetryIn {
        /// Delay.
        ms: i64,
        /// Why this attempt failed.
        error: &'a str,
    },
    /// Failed for good, recording `error`.
    Fail {
        /// Why.
        error: &'a str,
    },
}

/// Settles a job on `conn`, in the transaction that wrote the job's outcome, so the outcome and
/// the job's state commit together (one write transaction instead of two, and no window where
/// the outcome is stored but the job would run again). False when the caller no longer held the
/// lease.
pub async fn settle_on(
    conn: &mut AnyConnection,
    job: &ClaimedJob,
    how: Settle<'_>,
) -> Result<bool> {
    let now = now_sql(crate::db::backend_of(conn));
    let (status, delay, error) = match how {
        Settle::Done => ("done", 0, None),
        Settle::RetryIn { ms, error } if job.attempt < job.max_attempts => (
            "queued",
            ms.max(0),
            Some(error.chars().take(2000).collect::<String>()),
        ),
        Settle::RetryIn { error, .. } | Settle::Fail { error } => {
            ("failed", 0, Some(error.chars().take(2000).collect()))
        }
    };
    let r = sqlx::query(&format!(
        "UPDATE jobs SET status = $1, run_at = {now} + $2, last_error = $3, lease_until = NULL, lease_token = NULL, updated_at = {now} \
         WHERE id = $4 AND lease_token = $5 AND status = 'running'"
    ))
    .bind(status)
    .bind(delay)
    .bind(error)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Delay before retry `attempt` (1-based): `base_ms * 2^(attempt-1)` capped at `max_ms`, ±20 % jitter.
pub fn backoff_ms(attempt: i64, base_ms: i64, max_ms: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 30) as u32;
    let raw = base_ms.saturating_mul(1i64 << exp).min(max_ms);
    let jitter = rand::thread_rng().gen_range(0.8..=1.2);
    ((raw as f64) * jitter) as i64
}

/// Records a failed attempt: back to `queued` after `retry_in_ms`, or `failed` when attempts are
/// used up (or `retry_in_ms` is `None`). False when the caller no longer held the lease.
pub async fn fail(
    db: &Db,
    job: &ClaimedJob,
    error: &str,
    retry_in_ms: Option<i64>,
) -> Result<bool> {
    let how = match retry_in_ms {
        Some(ms) => Settle::RetryIn { ms, error },
        None => Settle::Fail { error },
    };
    let _w = db.write_guard().await?;
    let mut conn = db.pool().acquire().await?;
    settle_on(&mut conn, job, how).await
}

/// Deletes up to `batch` finished jobs (`done`, or `failed` for good) whose last change is older
/// than `retention_ms` on the database's clock. Returns how many were deleted; call again while
/// it returns `batch` (small batches keep each write transaction, and SQLite's lock, short).
/// Queued and running jobs are never deleted, however old.
pub async fn prune(db: &Db, retention_ms: i64, batch: i64) -> Result<u64> {
    let now = now_sql(db.backend());
    let _w = db.write_guard().await?;
    let r = sqlx::query(&format!(
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
         WHERE status IN ('done', 'failed') AND updated_at < {now} - $1 LIMIT $2)"
    ))
    .bind(retention_ms.max(0))
    .bind(batch.max(1))
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected())
}

/// The state of one job.
pub async fn state(db: &Db, id: &str) -> Result<Option<JobState>> {
    let row = sqlx::query("SELECT status, attempts, last_error, run_at FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(JobState {
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        run_at: row.try_get("run_at")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for _ in 0..100 {
            let first = backoff_ms(1, 1000, 3_600_000);
            assert!((800..=1200).contains(&first));
            let fourth = backoff_ms(4, 1000, 3_600_000);
            assert!((6400..=9600).contains(&fourth));
            let huge = backoff_ms(60, 1000, 3_600_000);
            assert!(huge <= 4_320_000);
        }
    }
}

/// The queue as operators watch it: per status (`queued`, `running`) and kind, how many jobs and
/// how long the oldest due one has waited (ms, by the database's clock; 0 when none is due).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueStat {
    /// `queued` or `running`.
    pub status: String,
    /// The job kind (`product.balance`, `webhook.deliver`, …).
    pub kind: String,
    /// Jobs in that status.
    pub count: i64,
    /// Age of the oldest due job (queued: since it became due; running: since it was due).
    pub oldest_ms: i64,
}

/// [`QueueStat`]s of the whole queue (every tenant: the queue is the process's).
pub async fn queue_stats(db: &Db) -> Result<Vec<QueueStat>> {
    let now = now_sql(db.backend());
    let sql = format!(
        "SELECT status, kind, COUNT(*) AS n, \
         COALESCE(MAX(CASE WHEN run_at <= {now} THEN {now} - run_at ELSE 0 END), 0) AS oldest \
         FROM jobs WHERE status IN ('queued', 'running') GROUP BY status, kind"
    );
    let rows = sqlx::query(&sql).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(QueueStat {
                status: r.try_get("status")?,
                kind: r.try_get("kind")?,
                count: r.try_get("n")?,
                oldest_ms: r.try_get("oldest")?,
            })
        })
        .collect()
}
