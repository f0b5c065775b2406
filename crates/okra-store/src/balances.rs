//! Balances of accounts, with their daily history (`periodic`) in the same row so a balance and its
//! history are read with one indexed query.

use okra_core::id::new_id;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::Result;
use crate::multirow::{self, InsertRow, SqlValue};
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

/// Inserts a balance on `conn`. Returns its id. The row is built by [`BalanceRow`] and written by
/// [`multirow::insert`], as bulk loads are.
pub async fn insert(conn: &mut AnyConnection, tenant: &Tenant, new: &NewBalance) -> Result<String> {
    let id = new_id();
    let row = BalanceRow::new(id.clone(), new.clone());
    multirow::insert(conn, tenant, &[row]).await?;
    Ok(id)
}

/// A balance ready to insert: the column values [`insert`] writes, with an id chosen by the caller.
#[derive(Clone, Debug)]
pub struct BalanceRow {
    id: String,
    new: NewBalance,
    periodic: String,
    created_at: i64,
}

impl BalanceRow {
    /// `new` as [`insert`] writes it; `created_at` defaults to now.
    pub fn new(id: String, new: NewBalance) -> Self {
        let periodic = new.periodic.to_string();
        Self::with_periodic_json(id, new, periodic)
    }

    /// As [`BalanceRow::new`] with `periodic` already serialised (`new.periodic` is ignored), so a
    /// loader need not build a `serde_json::Value` for each of the 60 entries of a history.
    pub fn with_periodic_json(id: String, mut new: NewBalance, periodic: String) -> Self {
        new.periodic = Value::Null;
        BalanceRow {
            id,
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
            periodic,
        }
    }
}

impl InsertRow for BalanceRow {
    const INSERT: &'static str = "INSERT INTO balances (owner_id, env, id, account_id, customer_id, record_id, available_minor, ledger_minor, currency, periodic, created_at, last_updated)";
    const COLUMNS: usize = 12;

    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        out.extend([
            SqlValue::from(self.id.as_str()),
            SqlValue::from(self.new.account_id.as_str()),
            SqlValue::from(self.new.customer_id.as_str()),
            SqlValue::from(self.new.record_id.as_str()),
            SqlValue::from(self.new.available_minor),
            SqlValue::from(self.new.ledger_minor),
            SqlValue::from(self.new.currency.as_str()),
            SqlValue::from(self.periodic.as_str()),
            SqlValue::from(self.created_at),
            SqlValue::from(self.created_at),
        ]);
    }
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
