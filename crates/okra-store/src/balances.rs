//! Balances of accounts, with their daily history (`periodic`) in the same row so a balance and its
//! history are read with one indexed query.
//!
//! The history is stored compactly ([`history_column`]): `[["YYYY-MM-DD", available, ledger], …]`
//! in minor units, oldest first, about 0.8 KB for 30 days. Okra's `periodic` shape (an object per
//! day and series, each with an `_id`) is five times larger and is rendered when read
//! ([`Balance::periodic`]), with ids derived from the balance's id so every read answers the same.

use okra_core::id::new_id;
use okra_core::source::DailyBalance;
use okra_core::ObjectId;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::counters::BALANCES;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::multirow::{self, Counted, InsertRow, SqlValue};
use crate::Tenant;

mod reads;
pub mod refresh;

pub use reads::{
    get_view, page, AmountKind, BalanceFilter, BalanceView, PageSql, GET_SQL, MAX_OPTION_PAIRS,
};

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
    /// End-of-day balances, oldest first.
    pub history: Vec<DailyBalance>,
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
    /// End-of-day balances, oldest first.
    pub history: Vec<DailyBalance>,
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
        BalanceRow {
            id,
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            periodic: history_column(&new.history),
            new,
        }
    }
}

/// The `periodic` column of a history: `[["YYYY-MM-DD", available_minor, ledger_minor], …]`.
pub fn history_column(history: &[DailyBalance]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(2 + history.len() * 32);
    out.push('[');
    for (i, day) in history.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Dates come from sources as `YYYY-MM-DD`; JSON-escape anyway so the column always parses.
        let date = serde_json::to_string(&day.date).unwrap_or_else(|_| "\"\"".into());
        let _ = write!(out, "[{date},{},{}]", day.available_minor, day.ledger_minor);
    }
    out.push(']');
    out
}

/// A history from its `periodic` column. Also reads the column as it was first written (Okra's
/// `{available_balance: [{_id, amount, date}], ledger_balance: […]}` in major units), so balances
/// loaded before the compact form still read.
pub fn history_from_column(column: &str) -> Result<Vec<DailyBalance>> {
    let corrupt = |why: &str| StoreError::Corrupt(format!("balance history: {why}"));
    if column.starts_with('[') {
        let days: Vec<(String, i64, i64)> = serde_json::from_str(column)?;
        return Ok(days
            .into_iter()
            .map(|(date, available_minor, ledger_minor)| DailyBalance {
                date,
                available_minor,
                ledger_minor,
            })
            .collect());
    }
    let legacy: Value = serde_json::from_str(column)?;
    let series = |name: &str| {
        legacy[name]
            .as_array()
            .cloned()
            .ok_or_else(|| corrupt("no series"))
    };
    let (available, ledger) = (series("available_balance")?, series("ledger_balance")?);
    let minor = |v: &Value| {
        (v["amount"].as_f64())
            .map(|a| (a * 100.0).round() as i64)
            .ok_or_else(|| corrupt("an amount is not a number"))
    };
    if available.len() != ledger.len() {
        return Err(corrupt("series of different lengths"));
    }
    available
        .iter()
        .zip(&ledger)
        .map(|(a, l)| {
            let date = a["date"].as_str().ok_or_else(|| corrupt("no date"))?;
            if l["date"].as_str() != Some(date) {
                return Err(corrupt("series on different days"));
            }
            Ok(DailyBalance {
                date: date.to_string(),
                available_minor: minor(a)?,
                ledger_minor: minor(l)?,
            })
        })
        .collect()
}

impl Balance {
    /// Okra's `periodic` object: `{available_balance: [{_id, amount, date}], ledger_balance:
    /// […]}`, amounts in major units. Entry `_id`s are derived from the balance id and the entry's
    /// day (sub-document `2 × day` for the available series, `2 × day + 1` for the ledger's, the
    /// day counted from 1970-01-01), so an entry keeps its id when a refresh adds a day or the
    /// oldest days are let go. Entries stored in the first form had ids of their own, which are
    /// not kept. A balance id that is not an ObjectId, or a day that is not `YYYY-MM-DD`, is
    /// corrupt data: no stable ids can be derived from it.
    pub fn periodic(&self) -> Result<Value> {
        let parent = ObjectId::parse(&self.id)
            .ok_or_else(|| StoreError::Corrupt(format!("balance id {:?}", self.id)))?;
        let days = (self.history.iter())
            .map(|d| {
                okra_core::time::parse_date(&d.date)
                    .map(|date| okra_core::time::day_start_ms(date).div_euclid(86_400_000))
                    .and_then(|since| u32::try_from(since).ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("balance day {:?}", d.date)))
            })
            .collect::<Result<Vec<u32>>>()?;
        let series = |series: u32, pick: fn(&DailyBalance) -> i64| -> Vec<Value> {
            (self.history.iter().zip(&days))
                .map(|(day, n)| {
                    json!({
                        "_id": parent.derived(n.saturating_mul(2) + series).to_string(),
                        "amount": pick(day) as f64 / 100.0,
                        "date": day.date,
                    })
                })
                .collect()
        };
        Ok(json!({
            "available_balance": series(0, |d| d.available_minor),
            "ledger_balance": series(1, |d| d.ledger_minor),
        }))
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

    fn counted(&self) -> Option<Counted<'_>> {
        Some(Counted {
            collection: BALANCES,
            customer: Some(&self.new.customer_id),
            created_at: self.created_at,
            amounts: Some((self.new.available_minor, self.new.ledger_minor)),
        })
    }
}

pub(crate) const COLUMNS: &str = "id, account_id, customer_id, record_id, available_minor, ledger_minor, currency, periodic, created_at, last_updated";

pub(crate) fn balance_from(r: &sqlx::any::AnyRow) -> Result<Balance> {
    Ok(Balance {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        customer_id: r.try_get("customer_id")?,
        record_id: r.try_get("record_id")?,
        available_minor: r.try_get("available_minor")?,
        ledger_minor: r.try_get("ledger_minor")?,
        currency: r.try_get("currency")?,
        history: history_from_column(r.try_get("periodic")?)?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

/// One balance by id, within the tenant.
pub async fn get(db: &Db, tenant: &Tenant, id: &str) -> Result<Option<Balance>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM balances WHERE id = $1 AND owner_id = $2 AND env = $3"
    ))
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(balance_from).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, available_minor: i64, ledger_minor: i64) -> DailyBalance {
        DailyBalance {
            date: date.into(),
            available_minor,
            ledger_minor,
        }
    }

    #[test]
    fn values_have_their_postgres_types() {
        let new = NewBalance {
            available_minor: Some(1),
            ledger_minor: Some(2),
            history: vec![day("2026-11-01", 1, 2)],
            ..NewBalance::default()
        };
        let row = BalanceRow::new("x".into(), new);
        let mut values = Vec::new();
        row.values(&mut values);
        crate::multirow::check_postgres_types(BalanceRow::INSERT, BalanceRow::COLUMNS, &values);
    }

    #[test]
    fn histories_round_trip_through_the_compact_column() {
        let history = vec![day("2026-11-01", 150, 200), day("2026-11-02", -5, 0)];
        let column = history_column(&history);
        assert_eq!(column, r#"[["2026-11-01",150,200],["2026-11-02",-5,0]]"#);
        assert_eq!(history_from_column(&column).unwrap(), history);
        assert_eq!(history_from_column("[]").unwrap(), vec![]);
        assert!(history_from_column("[[1,2]]").is_err());
    }

    #[test]
    fn the_first_stored_form_still_reads() {
        let legacy = r#"{"available_balance":[{"_id":"a","amount":1.5,"date":"2026-11-01"}],
                         "ledger_balance":[{"_id":"b","amount":2.07,"date":"2026-11-01"}]}"#;
        assert_eq!(
            history_from_column(legacy).unwrap(),
            vec![day("2026-11-01", 150, 207)]
        );
        assert!(history_from_column(r#"{"available_balance":[]}"#).is_err());
        let uneven =
            r#"{"available_balance":[{"amount":1,"date":"2026-11-01"}],"ledger_balance":[]}"#;
        assert!(history_from_column(uneven).is_err());
        let shifted = r#"{"available_balance":[{"amount":1,"date":"2026-11-01"}],
                          "ledger_balance":[{"amount":1,"date":"2026-11-02"}]}"#;
        assert!(history_from_column(shifted).is_err());
    }

    #[test]
    fn periodic_renders_okras_shape_with_stable_distinct_ids() {
        let balance = Balance {
            id: ObjectId::new().to_string(),
            account_id: String::new(),
            customer_id: String::new(),
            record_id: String::new(),
            available_minor: Some(150),
            ledger_minor: Some(200),
            currency: "NGN".into(),
            history: vec![day("2026-11-01", 150, 200), day("2026-11-02", 99, 101)],
            created_at: 0,
            last_updated: 0,
        };
        let p = balance.periodic().unwrap();
        assert_eq!(p, balance.periodic().unwrap());
        assert_eq!(p["available_balance"][0]["amount"], 1.5);
        assert_eq!(p["ledger_balance"][1]["amount"], 1.01);
        assert_eq!(p["ledger_balance"][1]["date"], "2026-11-02");
        let ids: std::collections::HashSet<&str> = ["available_balance", "ledger_balance"]
            .iter()
            .flat_map(|s| p[s].as_array().unwrap())
            .map(|e| e["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 4);
        assert!(ids.iter().all(|id| ObjectId::is_valid(id)));
        // A day added keeps every other entry's id.
        let longer = Balance {
            history: vec![
                day("2026-10-31", 1, 1),
                day("2026-11-01", 150, 200),
                day("2026-11-02", 99, 101),
            ],
            ..balance.clone()
        };
        let q = longer.periodic().unwrap();
        assert_eq!(
            q["available_balance"][1]["_id"],
            p["available_balance"][0]["_id"]
        );
        assert_eq!(q["ledger_balance"][2]["_id"], p["ledger_balance"][1]["_id"]);
        let bad_day = Balance {
            history: vec![day("yesterday", 1, 1)],
            ..balance.clone()
        };
        assert!(bad_day.periodic().is_err());
        let corrupt = Balance {
            id: "not-an-id".into(),
            ..balance
        };
        assert!(corrupt.periodic().is_err());
    }
}
