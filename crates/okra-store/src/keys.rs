//! API keys. Only the SHA-256 of a key is stored; lookups go by that hash.

use okra_core::apikey::KeyKind;
use okra_core::id::new_id;
use okra_core::time::now_ms;
use okra_core::Environment;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};

/// What a presented key resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGrant {
    /// Key id.
    pub key_id: String,
    /// Owner the key belongs to.
    pub owner_id: String,
    /// Environment the key works in.
    pub env: Environment,
    /// Secret or publishable.
    pub kind: KeyKind,
    /// The stored hash, hex (compared in constant time by the caller).
    pub key_hash: String,
    /// Set once revoked.
    pub revoked_at: Option<i64>,
}

/// One row of `keys list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub id: String,
    /// Owner name.
    pub owner: String,
    /// Environment.
    pub env: Environment,
    /// Kind.
    pub kind: KeyKind,
    /// Non-secret hint.
    pub hint: String,
    /// Creation time (ms).
    pub created_at: i64,
    /// Revocation time (ms).
    pub revoked_at: Option<i64>,
}

fn env_of(s: &str) -> Result<Environment> {
    s.parse().map_err(StoreError::Corrupt)
}

fn kind_of(s: &str) -> Result<KeyKind> {
    KeyKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown key kind {s}")))
}

/// Stores a new key's hash. Returns the key id.
pub async fn insert(
    conn: &mut AnyConnection,
    owner_id: &str,
    env: Environment,
    kind: KeyKind,
    key_hash: &str,
    hint: &str,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_keys (id, owner_id, env, kind, key_hash, hint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(owner_id)
    .bind(env.as_str())
    .bind(kind.as_str())
    .bind(key_hash)
    .bind(hint)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(id)
}

/// The statement [`find_by_hash`] runs (public so that the plan test checks it).
pub const BY_HASH_SQL: &str =
    "SELECT id, owner_id, env, kind, key_hash, revoked_at FROM api_keys WHERE key_hash = $1";

/// Resolves a key hash (one indexed point lookup).
pub async fn find_by_hash(db: &Db, key_hash: &str) -> Result<Option<KeyGrant>> {
    let row = sqlx::query(BY_HASH_SQL)
        .bind(key_hash)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(KeyGrant {
        key_id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        env: env_of(row.try_get("env")?)?,
        kind: kind_of(row.try_get("kind")?)?,
        key_hash: row.try_get("key_hash")?,
        revoked_at: row.try_get("revoked_at")?,
    }))
}

/// Keys of one owner (by name) or of all owners, oldest first.
pub async fn list(db: &Db, owner_name: Option<&str>) -> Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT k.id, o.name AS owner, k.env, k.kind, k.hint, k.created_at, k.revoked_at \
         FROM api_keys k JOIN owners o ON o.id = k.owner_id \
         WHERE ($1 IS NULL OR o.name = $1) ORDER BY k.created_at, k.id",
    )
    .bind(owner_name)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyInfo {
                id: r.try_get("id")?,
                owner: r.try_get("owner")?,
                env: env_of(r.try_get("env")?)?,
                kind: kind_of(r.try_get("kind")?)?,
                hint: r.try_get("hint")?,
                created_at: r.try_get("created_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revokes a key by id. Returns false when no active key has that id.
pub async fn revoke(db: &Db, key_id: &str) -> Result<bool> {
    let _w = db.write_guard().await?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(key_id)
            .execute(db.pool())
            .await?;
    Ok(done.rows_affected() == 1)
}
