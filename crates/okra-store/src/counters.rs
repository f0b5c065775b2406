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
/// The tenant's identities, also counted per customer.
pub const IDENTITIES: &str = "identities";
/// The tenant's balances, also counted per customer.
pub const BALANCES: &str = "balances";

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
pub(crate) fn day_of_date(date: Date) -> i64 {
    day_of_ms(okra_core::time::day_start_ms(date))
}

/// Counter rows a set of inserted rows adds to: (collection, customer or `''`) totals and
/// (collection, day) totals, each sorted by key (the lock order).
type Sums<'a> = (Vec<((&'a str, &'a str), i64)>, Vec<((&'a str, i64), i64)>);

fn sums<'a>(rows: impl IntoIterator<Item = Counted<'a>>) -> Sums<'a> {
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
    (totals.into_iter().collect(), days.into_iter().collect())
}

const TOTALS_HEAD: &str = "INSERT INTO row_counts (owner_id, env, collection, customer_id, n)";
const TOTALS_TAIL: &str = "ON CONFLICT (owner_id, env, collection, customer_id) DO UPDATE SET n = row_counts.n + excluded.n";
const DAYS_HEAD: &str = "INSERT INTO daily_row_counts (owner_id, env, collection, day, n)";
const DAYS_TAIL: &str =
    "ON CONFLICT (owner_id, env, collection, day) DO UPDATE SET n = daily_row_counts.n + excluded.n";

/// Adds `rows`, just inserted on `conn` for `tenant`, to their counters, on the same transaction.
pub async fn add<'a>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: impl IntoIterator<Item = Counted<'a>>,
) -> Result<()> {
    let (totals, days) = sums(rows);
    if totals.is_empty() {
        return Ok(());
    }
    multirow::upsert_rows(
        conn,
        tenant,
        TOTALS_HEAD,
        5,
        TOTALS_TAIL,
        &totals,
        |q, ((collection, customer), n)| q.bind(*collection).bind(*customer).bind(*n),
    )
    .await?;
    multirow::upsert_rows(
        conn,
        tenant,
        DAYS_HEAD,
        5,
        DAYS_TAIL,
        &days,
        |q, ((collection, day), n)| q.bind(*collection).bind(*day).bind(*n),
    )
    .await
}

/// [`add`] on a bulk load's rusqlite transaction ([`crate::loader`]): the same rows, one cached
/// statement per counter row.
pub(crate) fn add_sqlite<'a>(
    conn: &rusqlite::Connection,
    tenant: &Tenant,
    rows: impl IntoIterator<Item = Counted<'a>>,
) -> Result<()> {
    let (totals, days) = sums(rows);
    let (owner, env) = (tenant.owner_id.as_str(), tenant.env.as_str());
    let mut upsert = conn.prepare_cached(&format!(
        "{TOTALS_HEAD} VALUES (?1, ?2, ?3, ?4, ?5) {TOTALS_TAIL}"
    ))?;
    for ((collection, customer), n) in totals {
        upsert.execute(rusqlite::params![owner, env, collection, customer, n])?;
    }
    let mut upsert = conn.prepare_cached(&format!(
        "{DAYS_HEAD} VALUES (?1, ?2, ?3, ?4, ?5) {DAYS_TAIL}"
    ))?;
    for ((collection, day), n) in days {
        upsert.execute(rusqlite::params![owner, env, collection, day, n])?;
    }
    Ok(())
}

/// [`add`] on a bulk load's PostgreSQL transaction ([`crate::loader`]): one statement per
/// counter table, the keys passed as arrays.
pub(crate) async fn add_postgres<'a>(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    rows: impl IntoIterator<Item = Counted<'a>>,
) -> Result<()> {
    let (totals, days) = sums(rows);
    if totals.is_empty() {
        return Ok(());
    }
    let (collections, customers, ns): (Vec<&str>, Vec<&str>, Vec<i64>) = totals
        .iter()
        .map(|((c, k), n)| (*c, *k, *n))
        .fold((vec![], vec![], vec![]), |mut acc, (c, k, n)| {
            acc.0.push(c);
            acc.1.push(k);
            acc.2.push(n);
            acc
        });
    sqlx::query(&format!(
        "{TOTALS_HEAD} SELECT $1, $2, c, k, n FROM UNNEST($3::text[], $4::text[], $5::bigint[]) \
         WITH ORDINALITY AS u(c, k, n, o) ORDER BY o {TOTALS_TAIL}"
    ))
    .bind(tenant.owner_id.as_str())
    .bind(tenant.env.as_str())
    .bind(collections)
    .bind(customers)
    .bind(ns)
    .execute(&mut *conn)
    .await?;
    let (collections, day_list, ns): (Vec<&str>, Vec<i64>, Vec<i64>) =
        days.iter()
            .fold((vec![], vec![], vec![]), |mut acc, ((c, d), n)| {
                acc.0.push(*c);
                acc.1.push(*d);
                acc.2.push(*n);
                acc
            });
    sqlx::query(&format!(
        "{DAYS_HEAD} SELECT $1, $2, c, d, n FROM UNNEST($3::text[], $4::bigint[], $5::bigint[]) \
         WITH ORDINALITY AS u(c, d, n, o) ORDER BY o {DAYS_TAIL}"
    ))
    .bind(tenant.owner_id.as_str())
    .bind(tenant.env.as_str())
    .bind(collections)
    .bind(day_list)
    .bind(ns)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows a spread counter is split over ([`add_spread`]).
const SPREAD: u64 = 16;

/// Adds `n` to a spread counter of the tenant's `collection`: one of 16 rows, picked by `key`, so
/// writers of one tenant that commit many small transactions at once (webhook delivery attempts)
/// rarely queue on the same counter row, as they would on the one row [`add`] keeps per tenant.
/// No daily counts. Read with [`total_spread`].
pub async fn add_spread(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    collection: &str,
    key: &str,
    n: i64,
) -> Result<()> {
    let shard = key
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % SPREAD;
    sqlx::query(&format!(
        "{TOTALS_HEAD} VALUES ($1, $2, $3, $4, $5) {TOTALS_TAIL}"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(collection)
    .bind(format!("~{shard:02}"))
    .bind(n)
    .execute(conn)
    .await?;
    Ok(())
}

/// The total of a spread counter ([`add_spread`]): its rows summed, found by the primary key's
/// prefix.
pub async fn total_spread(db: &Db, tenant: &Tenant, collection: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM row_counts WHERE owner_id = $1 AND env = $2 AND collection = $3",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(collection)
    .fetch_one(db.pool())
    .await?;
    Ok(n.max(0) as u64)
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
