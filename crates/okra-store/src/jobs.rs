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

use okra_core::id::new_id;
use okra_core::time::now_ms;
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
    /// Earliest start (ms); `None` means now.
    pub run_at: Option<i64>,
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
            run_at: None,
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

/// Writes a job on `conn` (inside the caller's transaction). Returns its id.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob) -> Result<String> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, owner_id, env, status, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $8, $8)",
    )
    .bind(&id)
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.owner_id.as_deref())
    .bind(job.env.as_deref())
    .bind(job.run_at.unwrap_or(now))
    .bind(job.max_attempts.max(1))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Claims one due job (queued and due, or running with an expired lease) for `lease_ms`.
pub async fn claim(db: &Db, lease_ms: i64) -> Result<Option<ClaimedJob>> {
    let now = now_ms();
    let token = new_id();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $1, lease_token = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND lease_until < $3) \
                     ORDER BY run_at, id LIMIT 1 {lock}) \
         RETURNING id, kind, payload, owner_id, env, attempts, max_attempts"
    );
    let _w = db.write_guard().await?;
    let row = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(&token)
        .bind(now)
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
    }))
}

/// Extends the lease of a running job. False when the lease was lost.
pub async fn heartbeat(db: &Db, job: &ClaimedJob, lease_ms: i64) -> Result<bool> {
    let _w = db.write_guard().await?;
    let now = now_ms();
    let r = sqlx::query(
        "UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_token = $4 AND status = 'running'",
    )
    .bind(now + lease_ms)
    .bind(now)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a job done. False when the caller no longer held the lease (the outcome is ignored).
pub async fn complete(db: &Db, job: &ClaimedJob) -> Result<bool> {
    let _w = db.write_guard().await?;
    let r = sqlx::query(
        "UPDATE jobs SET status = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = $1 \
         WHERE id = $2 AND lease_token = $3 AND status = 'running'",
    )
    .bind(now_ms())
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(db.pool())
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
    let now = now_ms();
    let retry = retry_in_ms.filter(|_| job.attempt < job.max_attempts);
    let (status, run_at) = match retry {
        Some(ms) => ("queued", now + ms),
        None => ("failed", now),
    };
    let error: String = error.chars().take(2000).collect();
    let _w = db.write_guard().await?;
    let r = sqlx::query(
        "UPDATE jobs SET status = $1, run_at = $2, last_error = $3, lease_until = NULL, lease_token = NULL, updated_at = $4 \
         WHERE id = $5 AND lease_token = $6 AND status = 'running'",
    )
    .bind(status)
    .bind(run_at)
    .bind(error)
    .bind(now)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected() == 1)
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
