//! Idempotency keys of paid calls: the same `Idempotency-Key` with the same body replays the
//! first response (charged once); with another body it is refused; while the first call runs it
//! is refused too. The response is sealed (it holds an identity).
//!
//! A key is claimed in a transaction of its own before the call asks its data source, and
//! completed in the call's own transaction (the one that charges), so a committed charge always
//! has its response stored. A call that fails releases its claim; a claim whose process died is
//! taken over once it is older than the lease.

use okra_core::id::new_id;
use sqlx::AnyConnection;

use crate::crypto::Keyring;
use crate::db::{backend_of, Backend, Db};
use crate::error::Result;
use crate::Tenant;

/// Associated-data context of the sealed response (see `rekey`).
pub const RESPONSE_CONTEXT: &str = "idempotency_keys.response";

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is this call's, under this token: go on, then [`complete_on`] or [`release`]
    /// with it (a call whose claim was taken over can neither complete nor release it).
    Fresh(String),
    /// The key answered before: its status and body (opened).
    Replay {
        /// HTTP status of the first answer.
        status: u16,
        /// Its body.
        body: Vec<u8>,
    },
    /// The key was used with another request.
    Mismatch,
    /// The first call with this key is still running.
    Running,
}

/// Timing of a claim.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Now (ms).
    pub now: i64,
    /// How long an answer is replayed (ms).
    pub ttl_ms: i64,
    /// After how long a running claim is taken over (ms).
    pub lease_ms: i64,
}

/// Claims `key` for a request whose hash is `request_hash`.
pub async fn claim(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    key: &str,
    request_hash: &str,
    t: Lifetimes,
) -> Result<Claim> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let lock = match backend_of(conn) {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let token = new_id();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (id, owner_id, env, key, request_hash, claim, status, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $8, 'running', $6, $7) ON CONFLICT (owner_id, env, key) DO NOTHING",
    )
    .bind(new_id())
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(key)
    .bind(request_hash)
    .bind(t.now)
    .bind(t.now + t.ttl_ms)
    .bind(&token)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Claim::Fresh(token));
    }
    type Row = (
        String,
        String,
        String,
        Option<i64>,
        Option<Vec<u8>>,
        i64,
        i64,
    );
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT id, request_hash, status, response_status, response_enc, created_at, expires_at \
         FROM idempotency_keys WHERE owner_id = $1 AND env = $2 AND key = $3{lock}"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, hash, status, response_status, response, created_at, expires_at)) = row else {
        // Deleted between the two statements (a released claim): the caller may retry.
        return Ok(Claim::Running);
    };
    let stale = expires_at <= t.now || (status == "running" && created_at + t.lease_ms <= t.now);
    let claim = if stale {
        sqlx::query(
            "UPDATE idempotency_keys SET request_hash = $1, status = 'running', response_status = NULL, \
             response_enc = NULL, created_at = $2, expires_at = $3, claim = $5 WHERE id = $4",
        )
        .bind(request_hash)
        .bind(t.now)
        .bind(t.now + t.ttl_ms)
        .bind(&id)
        .bind(&token)
        .execute(&mut *conn)
        .await?;
        Claim::Fresh(token)
    } else if hash != request_hash {
        Claim::Mismatch
    } else if status == "done" {
        let body = match response {
            Some(sealed) => keyring.open(RESPONSE_CONTEXT, &sealed)?,
            None => Vec::new(),
        };
        Claim::Replay {
            status: response_status.unwrap_or(200).clamp(100, 599) as u16,
            body,
        }
    } else {
        Claim::Running
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the answer of the call that holds `key` under `token`, on the call's transaction.
/// Returns false when the claim is no longer this call's (taken over after its lease): the
/// caller must then roll back, or two calls would have charged for one key.
pub async fn complete_on(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    key: &str,
    token: &str,
    status: u16,
    body: &[u8],
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE idempotency_keys SET status = 'done', response_status = $1, response_enc = $2 \
         WHERE owner_id = $3 AND env = $4 AND key = $5 AND claim = $6 AND status = 'running'",
    )
    .bind(i64::from(status))
    .bind(keyring.seal(RESPONSE_CONTEXT, body))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(key)
    .bind(token)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Gives up the claim on `key` held under `token` after a call that failed (nothing was
/// charged): the same key may be sent again.
pub async fn release(db: &Db, tenant: &Tenant, key: &str, token: &str) -> Result<()> {
    let _w = db.write_guard().await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE owner_id = $1 AND env = $2 AND key = $3 AND claim = $4 \
         AND status = 'running'",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(key)
    .bind(token)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes keys past their expiry. Returns how many.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64> {
    let _w = db.write_guard().await?;
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}
