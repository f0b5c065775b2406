//! Row counts kept in the same transaction as the rows, so that a total (`totalDocs`) or a count
//! between two dates reads a few counter rows instead of counting the tenant's rows.
//!
//! Two tables (migration 0008): `row_counts` holds one row per (owner, env, collection, customer),
//! the customer `''` for the tenant's whole collection, and `daily_row_counts` one row per (owner,
//! env, collection, UTC day). They are not named after this module on purpose: a module named
//! after a table is a table module to `scripts/check-layers`, and every table module uses this
//! helper. Inserting rows bumps them with one `INSERT … ON CONFLICT DO UPDATE SET
//! n = n + excluded.n` per table on the inserting transaction: a rolled-back insert moves no
//! counter, and concurrent inserters add up (PostgreSQL holds each bumped row until commit; SQLite
//! writers hold the write lock). [`crate::multirow::insert`] calls [`add`] for every row type that
//! says it is counted ([`crate::multirow::InsertRow::counted`]), and `records::insert_rows` calls
//! it itself, so no insert path can forget a counter.
//!
//! Lock order: within one call the rows are bumped sorted by key, the whole-collection row first,
//! so two transactions of one tenant queue on that row instead of deadlocking over the others.

use std::collections::BTreeMap;

use sqlx::AnyConnection;
use time::Date;

use crate::db::Db;
use crate::error::Result;
use crate::multirow;
use crate::Tenant;

/// The tenant's customers.
pub const CUSTOMERS: &str = "customers";
/// The tenant's accounts, also counted per customer.
pub const ACCOUNTS: &str = "accounts";
/// The tenant's records, also counted per customer.
pub const RECORDS: &str = "records";

/// Milliseconds in a UTC day: `created_at / DAY_MS` is the day a row is counted under.
const DAY_MS: i64 = 86_400_000;

/// One inserted row as its counters see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted<'a> {
    /// The collection the row is counted in ([`CUSTOMERS`], [`ACCOUNTS`], [`RECORDS`]).
    pub collection: &'static str,
    /// The customer the row belongs to, for collections also counted per customer.
    pub customer: Option<&'a str>,
    /// The row's creation time (ms), which picks its day.
    pub created_at: i64,
}

/// The UTC day number (days since 1970-01-01) of a millisecond timestamp, as the migration's
/// backfill computes it (`created_at / 86400000`; no row predates 1970).
fn day_of_ms(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// The UTC day number of a date.
fn day_of_date(date: Date) -> i64 {
    day_of_ms(okra_core::time::day_start_ms(date))
}

/// Adds `rows`, just inserted on `conn` for `tenant`, to their counters, on the same transaction.
pub async fn add<'a>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: impl IntoIterator<Item = Counted<'a>>,
) -> Result<()> {
    // Summed per key first: one statement may not bump the same row twice (PostgreSQL), and the
    // sorted keys give every transaction the same lock order.
    let mut totals: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut days: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    for row in rows {
        *totals.entry((row.collection, "")).or_default() += 1;
        if let Some(customer) = row.customer {
            *totals.entry((row.collection, customer)).or_default() += 1;
        }
        *days
            .entry((row.collection, day_of_ms(row.created_at)))
            .or_default() += 1;
    }
    if totals.is_empty() {
        return Ok(());
    }
    let totals: Vec<_> = totals.into_iter().collect();
    multirow::upsert_rows(
        conn,
        tenant,
        "INSERT INTO row_counts (owner_id, env, collection, customer_id, n)",
        5,
        "ON CONFLICT (owner_id, env, collection, customer_id) DO UPDATE SET n = row_counts.n + excluded.n",
        &totals,
        |q, ((collection, customer), n)| q.bind(*collection).bind(*customer).bind(*n),
    )
    .await?;
    let days: Vec<_> = days.into_iter().collect();
    multirow::upsert_rows(
        conn,
        tenant,
        "INSERT INTO daily_row_counts (owner_id, env, collection, day, n)",
        5,
        "ON CONFLICT (owner_id, env, collection, day) DO UPDATE SET n = daily_row_counts.n + excluded.n",
        &days,
        |q, ((collection, day), n)| q.bind(*collection).bind(*day).bind(*n),
    )
    .await
}

/// How many rows of `collection` the tenant has (`totalDocs`).
pub async fn total(db: &Db, tenant: &Tenant, collection: &str) -> Result<u64> {
    for_customer(db, tenant, collection, "").await
}

/// How many rows of `collection` ([`ACCOUNTS`], [`RECORDS`]) belong to the tenant's customer.
pub async fn for_customer(
    db: &Db,
    tenant: &Tenant,
    collection: &str,
    customer_id: &str,
) -> Result<u64> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT n FROM row_counts WHERE owner_id = $1 AND env = $2 AND collection = $3 AND customer_id = $4",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(collection)
    .bind(customer_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

/// How many rows of `collection` the tenant created from `from_day` to `to_day`, whole UTC days,
/// both included (0 when `to_day` is before `from_day`): one row per day summed, never the rows.
pub async fn count_between(
    db: &Db,
    tenant: &Tenant,
    collection: &str,
    from_day: Date,
    to_day: Date,
) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM daily_row_counts \
         WHERE owner_id = $1 AND env = $2 AND collection = $3 AND day >= $4 AND day <= $5",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(collection)
    .bind(day_of_date(from_day))
    .bind(day_of_date(to_day))
    .fetch_one(db.pool())
    .await?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_whole_utc_days() {
        let d = time::macros::date!(2024 - 02 - 29);
        let start = okra_core::time::day_start_ms(d);
        assert_eq!(day_of_ms(start), day_of_date(d));
        assert_eq!(day_of_ms(start + DAY_MS - 1), day_of_date(d));
        assert_eq!(day_of_ms(start - 1), day_of_date(d) - 1);
        assert_eq!(day_of_date(time::macros::date!(1970 - 01 - 02)), 1);
    }
}
