//! Balances of accounts, with their daily history (`periodic`) in the same row so a balance and its
//! history are read with one indexed query.

use okra_core::id::new_id;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

/// A balance to record.
#[derive(Clone, Debug, Default)]
pub struct NewBalance {
    /// Account.
    pub account_id: String,
    /// Holder.
    pub customer_id: String,
    /// Record that fetched it.
    pub record_id: String,
    /// Available balance in minor units.
    pub available_minor: Option<i64>,
    /// Ledger balance in minor units.
    pub ledger_minor: Option<i64>,
    /// Currency.
    pub currency: String,
    /// `{available_balance: [{_id, amount, date}], ledger_balance: [...]}`.
    pub periodic: Value,
    /// Creation time (ms); now when `None`.
    pub created_at: Option<i64>,
}

/// A stored balance.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    /// Balance id.
    pub id: String,
    /// Account.
    pub account_id: String,
    /// Holder.
    pub customer_id: String,
    /// Record.
    pub record_id: String,
    /// Available (minor units).
    pub available_minor: Option<i64>,
    /// Ledger (minor units).
    pub ledger_minor: Option<i64>,
    /// Currency.
    pub currency: String,
    /// Daily history.
    pub periodic: Value,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts a balance on `conn`. Returns its id. The row is built by [`crate::bulk::BalanceRow`],
/// shared with bulk loads.
pub async fn insert(conn: &mut AnyConnection, tenant: &Tenant, new: &NewBalance) -> Result<String> {
    let id = new_id();
    let row = crate::bulk::BalanceRow::new(id.clone(), new.clone());
    crate::bulk::insert_balances(conn, tenant, &[row]).await?;
    Ok(id)
}

/// One balance by id, within the tenant.
pub async fn get(db: &Db, tenant: &Tenant, id: &str) -> Result<Option<Balance>> {
    let row = sqlx::query(
        "SELECT id, account_id, customer_id, record_id, available_minor, ledger_minor, currency, periodic, created_at, last_updated \
         FROM balances WHERE id = $1 AND owner_id = $2 AND env = $3",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Balance {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        customer_id: r.try_get("customer_id")?,
        record_id: r.try_get("record_id")?,
        available_minor: r.try_get("available_minor")?,
        ledger_minor: r.try_get("ledger_minor")?,
        currency: r.try_get("currency")?,
        periodic: serde_json::from_str(r.try_get("periodic")?)?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    }))
}
