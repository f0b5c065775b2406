//! Short-lived shared counters and flags (rate-limit windows, negative caches, debounce), kept in
//! the database so every process sharing it sees the same values.

use okra_core::time::now_ms;

use crate::db::Db;
use crate::error::Result;

/// Adds `delta` to the counter at `key` (creating it), sets its expiry, and returns the new value.
/// Scoped by owner and environment like every tenant row; global counters use empty strings.
pub async fn add(
    db: &Db,
    owner_id: &str,
    env: &str,
    key: &str,
    delta: i64,
    expires_at: i64,
) -> Result<i64> {
    let _w = db.write_guard().await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO ephemeral (owner_id, env, key, value, counter, expires_at) VALUES ($1, $2, $3, '', $4, $5) \
         ON CONFLICT (owner_id, env, key) DO UPDATE SET counter = ephemeral.counter + excluded.counter, expires_at = excluded.expires_at \
         RETURNING counter",
    )
    .bind(owner_id)
    .bind(env)
    .bind(key)
    .bind(delta)
    .bind(expires_at)
    .fetch_one(db.pool())
    .await?)
}

/// Adds `delta` to the counter at `key` within a fixed window and returns the new value: an
/// expired counter starts again from `delta` with a new window of `window_ms` from `now`; a live
/// one keeps its window (so attempts inside it never extend it). The counter never goes below 0.
/// One statement: concurrent callers each see their own increment.
pub async fn add_in_window(
    db: &Db,
    owner_id: &str,
    env: &str,
    key: &str,
    delta: i64,
    now: i64,
    window_ms: i64,
) -> Result<i64> {
    let _w = db.write_guard().await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO ephemeral (owner_id, env, key, value, counter, expires_at) \
         VALUES ($1, $2, $3, '', CASE WHEN $4 > 0 THEN $4 ELSE 0 END, $5) \
         ON CONFLICT (owner_id, env, key) DO UPDATE SET \
           counter = CASE WHEN ephemeral.expires_at <= $6 THEN excluded.counter \
                          WHEN ephemeral.counter + $4 < 0 THEN 0 \
                          ELSE ephemeral.counter + $4 END, \
           expires_at = CASE WHEN ephemeral.expires_at <= $6 THEN excluded.expires_at \
                             ELSE ephemeral.expires_at END \
         RETURNING counter",
    )
    .bind(owner_id)
    .bind(env)
    .bind(key)
    .bind(delta)
    .bind(now.saturating_add(window_ms))
    .bind(now)
    .fetch_one(db.pool())
    .await?)
}

/// The counter at `key`, or 0 when absent or expired.
pub async fn get(db: &Db, owner_id: &str, env: &str, key: &str) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar(
        "SELECT counter FROM ephemeral WHERE owner_id = $1 AND env = $2 AND key = $3 AND expires_at > $4",
    )
    .bind(owner_id)
    .bind(env)
    .bind(key)
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    Ok(v.unwrap_or(0))
}

/// Deletes expired entries. Returns how many.
pub async fn purge_expired(db: &Db) -> Result<u64> {
    let _w = db.write_guard().await?;
    Ok(sqlx::query("DELETE FROM ephemeral WHERE expires_at <= $1")
        .bind(now_ms())
        .execute(db.pool())
        .await?
        .rows_affected())
}
