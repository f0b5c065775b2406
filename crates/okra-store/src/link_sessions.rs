//! Link sessions: the buildWithOptions options of one linking attempt, stored by `links/new` and
//! completed once by the connection they lead to. The options are sealed: they may carry a
//! customer's BVN (`customer.bvn`) and okra-js' `token`.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

/// Associated-data context of the sealed options.
pub const OPTIONS_CONTEXT: &str = "link_sessions.options";

/// A stored link session.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSession {
    /// Link id.
    pub id: String,
    /// The buildWithOptions options (functions stripped).
    pub options: Value,
    /// `open` or `completed` (an open session past `expires_at` has expired).
    pub status: String,
    /// The record its connection created.
    pub record_id: Option<String>,
    /// Expiry (ms).
    pub expires_at: i64,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Writes a new open session.
pub async fn insert(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
    options: &Value,
    created_at: i64,
    expires_at: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO link_sessions (id, owner_id, env, options_enc, status, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6)",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(keyring.seal_str(OPTIONS_CONTEXT, &options.to_string()))
    .bind(expires_at)
    .bind(created_at)
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// One session by id, within the tenant.
pub async fn get(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<LinkSession>> {
    let row = sqlx::query(
        "SELECT id, options_enc, status, record_id, expires_at, created_at FROM link_sessions \
         WHERE id = $1 AND owner_id = $2 AND env = $3",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let sealed: Vec<u8> = r.try_get("options_enc")?;
    let options = keyring.open_str(OPTIONS_CONTEXT, &sealed)?;
    Ok(Some(LinkSession {
        id: r.try_get("id")?,
        options: serde_json::from_str(&options)?,
        status: r.try_get("status")?,
        record_id: r.try_get("record_id")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
    }))
}

/// Completes an open, unexpired session with the record of its connection, on `conn` (inside the
/// connection's transaction). False when it was already used or has expired meanwhile: a link
/// connects once.
pub async fn complete(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    id: &str,
    record_id: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE link_sessions SET status = 'completed', record_id = $1 \
         WHERE id = $2 AND owner_id = $3 AND env = $4 AND status = 'open' AND expires_at > $5",
    )
    .bind(record_id)
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
