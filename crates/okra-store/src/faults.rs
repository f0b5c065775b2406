//! Scripted sandbox faults (fault injection): what an owner asked its simulated banks to do wrong.

use okra_core::id::new_id;
use okra_core::time::now_ms;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

/// A fault to script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewFault {
    /// What goes wrong (`bank_down`, `timeout`, `slow`, …).
    pub kind: String,
    /// Only at this bank.
    pub bank_id: Option<String>,
    /// Blind index of the BVN or (bank, NUBAN) it is limited to.
    pub target_idx: Option<String>,
    /// Masked target, for listing.
    pub target_masked: Option<String>,
    /// Added latency (`slow`).
    pub delay_ms: i64,
    /// How many calls it affects; `None` until deleted.
    pub remaining: Option<i64>,
    /// When it stops applying (ms).
    pub expires_at: Option<i64>,
}

/// A stored fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Fault id.
    pub id: String,
    /// The fault.
    pub fault: NewFault,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Scripts a fault. Returns its id.
pub async fn insert(db: &Db, tenant: &Tenant, new: &NewFault) -> Result<String> {
    let id = new_id();
    let _w = db.write_guard().await?;
    sqlx::query(
        "INSERT INTO sandbox_faults (id, owner_id, env, kind, bank_id, target_idx, target_masked, delay_ms, remaining, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(&new.kind)
    .bind(new.bank_id.as_deref())
    .bind(new.target_idx.as_deref())
    .bind(new.target_masked.as_deref())
    .bind(new.delay_ms)
    .bind(new.remaining)
    .bind(new.expires_at)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// The tenant's faults that still apply, oldest first (one indexed query per data-source call).
pub async fn active(db: &Db, tenant: &Tenant) -> Result<Vec<Fault>> {
    let rows = sqlx::query(
        "SELECT id, kind, bank_id, target_idx, target_masked, delay_ms, remaining, expires_at, created_at FROM sandbox_faults \
         WHERE owner_id = $1 AND env = $2 AND (expires_at IS NULL OR expires_at > $3) AND (remaining IS NULL OR remaining > 0) \
         ORDER BY created_at, id",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(now_ms())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Fault {
                id: r.try_get("id")?,
                fault: NewFault {
                    kind: r.try_get("kind")?,
                    bank_id: r.try_get("bank_id")?,
                    target_idx: r.try_get("target_idx")?,
                    target_masked: r.try_get("target_masked")?,
                    delay_ms: r.try_get("delay_ms")?,
                    remaining: r.try_get("remaining")?,
                    expires_at: r.try_get("expires_at")?,
                },
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Takes one application of a limited fault, atomically: true when this call got one (the count
/// was still positive and the fault unexpired), false when it was used up, expired or deleted.
///
/// The decrement and the check are one statement (`UPDATE … WHERE remaining > 0 RETURNING`), so
/// concurrent calls, in this process or others, never take more applications than were scripted;
/// a copy of the fault read earlier says only that it *may* apply.
pub async fn consume(db: &Db, tenant: &Tenant, id: &str) -> Result<bool> {
    let _w = db.write_guard().await?;
    let row = sqlx::query(
        "UPDATE sandbox_faults SET remaining = remaining - 1 \
         WHERE id = $1 AND owner_id = $2 AND env = $3 AND remaining > 0 AND (expires_at IS NULL OR expires_at > $4) \
         RETURNING remaining",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}

/// Deletes one fault (`None` id: all of the tenant's). Returns how many were deleted.
pub async fn delete(db: &Db, tenant: &Tenant, id: Option<&str>) -> Result<u64> {
    let _w = db.write_guard().await?;
    let r = sqlx::query(
        "DELETE FROM sandbox_faults WHERE owner_id = $1 AND env = $2 AND ($3 IS NULL OR id = $3)",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(r.rows_affected())
}
