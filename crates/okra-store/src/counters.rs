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
//! so two transactions of one tenant queue on that row instead of deadlocking over the others;
//! balances' amount buckets (`balance_amount_counts`) come last, after the tenant's balance row,
//! also when a refresh moves a balance's amounts ([`move_amounts`]).

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
    /// A balance's (available, ledger) amounts in minor units, counted by amount bucket
    /// ([`amount_bucket`]) for `balance/getByType`; `None` for other rows.
    pub amounts: Option<(Option<i64>, Option<i64>)>,
}

/// The kind of a balance amount in `balance_amount_counts`: the available amount.
pub const AVAILABLE: &str = "available";
/// The ledger amount.
pub const LEDGER: &str = "ledger";

/// The bucket a balance amount (minor units) is counted under: the amount itself below 1,000,
/// else its number of digits × 1,000 + its first three digits (1,000–1,009 is 4100, 72,500,000
/// is 8725), negated for negative amounts. Buckets grow with the amount, each is one contiguous
/// range ([`bucket_top`]) holding at most a thousandth of a decade, so a count of the amounts at
/// least V sums the counters of the buckets above V's and counts only V's own bucket in the
/// index. Migration 0018 computes the same in SQL (kept equal by the counters test).
pub fn amount_bucket(amount: i64) -> i64 {
    let magnitude = amount.unsigned_abs();
    let positive = if magnitude < 1000 {
        magnitude as i64
    } else {
        let digits = magnitude.ilog10() as i64 + 1;
        let first3 = (magnitude / 10u64.pow(digits as u32 - 3)) as i64;
        digits * 1000 + first3
    };
    if amount < 0 {
        -positive
    } else {
        positive
    }
}

/// The largest amount in the bucket of `amount` that is still ≥ `amount`'s bucket start — the
/// top of the range `[amount, top]` the index counts for a bucket only partly at least `amount`.
pub fn bucket_top(amount: i64) -> i64 {
    // The range of a magnitude bucket: [first3 × 10^(digits−3), (first3 + 1) × 10^(digits−3) − 1].
    let range = |magnitude: u64| -> (i64, i64) {
        if magnitude < 1000 {
            return (magnitude as i64, magnitude as i64);
        }
        let digits = magnitude.ilog10() + 1;
        let scale = 10u64.pow(digits - 3);
        let first3 = magnitude / scale;
        (
            (first3 * scale) as i64,
            ((first3 + 1) * scale - 1).min(i64::MAX as u64) as i64,
        )
    };
    let (low, high) = range(amount.unsigned_abs());
    if amount < 0 {
        -low
    } else {
        high
    }
}

/// Amount-bucket counter rows a set of rows adds to: ((kind, bucket), n), sorted by key.
type AmountSums = Vec<((&'static str, i64), i64)>;

fn amount_sums<'a>(rows: impl IntoIterator<Item = Counted<'a>>, sign: i64) -> AmountSums {
    let mut sums: BTreeMap<(&'static str, i64), i64> = BTreeMap::new();
    for (available, ledger) in rows.into_iter().filter_map(|r| r.amounts) {
        for (kind, amount) in [(AVAILABLE, available), (LEDGER, ledger)] {
            if let Some(a) = amount {
                *sums.entry((kind, amount_bucket(a))).or_default() += sign;
            }
        }
    }
    sums.into_iter().filter(|(_, n)| *n != 0).collect()
}

const AMOUNTS_HEAD: &str = "INSERT INTO balance_amount_counts (owner_id, env, kind, bucket, n)";
const AMOUNTS_TAIL: &str = "ON CONFLICT (owner_id, env, kind, bucket) DO UPDATE SET n = balance_amount_counts.n + excluded.n";

/// Moves a balance's amounts from `old` to `new` (available, ledger) in its amount-bucket
/// counters on `conn`, in the caller's transaction (a refresh updating a balance in place).
pub async fn move_amounts(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    old: (Option<i64>, Option<i64>),
    new: (Option<i64>, Option<i64>),
) -> Result<()> {
    let as_counted = |amounts| Counted {
        collection: BALANCES,
        customer: None,
        created_at: 0,
        amounts: Some(amounts),
    };
    let mut sums: BTreeMap<(&'static str, i64), i64> = BTreeMap::new();
    for (key, n) in amount_sums([as_counted(old)], -1)
        .into_iter()
        .chain(amount_sums([as_counted(new)], 1))
    {
        *sums.entry(key).or_default() += n;
    }
    let rows: AmountSums = sums.into_iter().filter(|(_, n)| *n != 0).collect();
    if rows.is_empty() {
        return Ok(());
    }
    // Queue on the tenant's balance row first, as every balance insert does ([`add`]): the
    // bucket rows are then only ever taken by a transaction holding it, so no two deadlock.
    sqlx::query(&format!(
        "{TOTALS_HEAD} VALUES ($1, $2, $3, '', 0) {TOTALS_TAIL}"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(BALANCES)
    .execute(&mut *conn)
    .await?;
    add_amounts(conn, tenant, &rows).await
}

async fn add_amounts(conn: &mut AnyConnection, tenant: &Tenant, rows: &AmountSums) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    multirow::upsert_rows(
        conn,
        tenant,
        AMOUNTS_HEAD,
        5,
        AMOUNTS_TAIL,
        rows,
        |q, ((kind, bucket), n)| q.bind(*kind).bind(*bucket).bind(*n),
    )
    .await
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
    let rows: Vec<Counted<'a>> = rows.into_iter().collect();
    let amounts = amount_sums(rows.iter().copied(), 1);
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
    .await?;
    // Amount buckets last: every balance writer has queued on the tenant's row by now.
    add_amounts(conn, tenant, &amounts).await
}

/// [`add`] on a bulk load's rusqlite transaction ([`crate::loader`]): the same rows, one cached
/// statement per counter row.
pub(crate) fn add_sqlite<'a>(
    conn: &rusqlite::Connection,
    tenant: &Tenant,
    rows: impl IntoIterator<Item = Counted<'a>>,
) -> Result<()> {
    let rows: Vec<Counted<'a>> = rows.into_iter().collect();
    let amounts = amount_sums(rows.iter().copied(), 1);
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
    let mut upsert = conn.prepare_cached(&format!(
        "{AMOUNTS_HEAD} VALUES (?1, ?2, ?3, ?4, ?5) {AMOUNTS_TAIL}"
    ))?;
    for ((kind, bucket), n) in amounts {
        upsert.execute(rusqlite::params![owner, env, kind, bucket, n])?;
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
    let rows: Vec<Counted<'a>> = rows.into_iter().collect();
    let amounts = amount_sums(rows.iter().copied(), 1);
    let (totals, days) = sums(rows);
    if totals.is_empty() {
        return Ok(());
    }
    let (collections, customers, ns) = columns(&totals);
    unnest_upsert(
        conn,
        tenant,
        TOTALS_HEAD,
        "text",
        TOTALS_TAIL,
        collections,
        customers,
        ns,
    )
    .await?;
    let (collections, day_list, ns) = columns(&days);
    unnest_upsert(
        conn,
        tenant,
        DAYS_HEAD,
        "bigint",
        DAYS_TAIL,
        collections,
        day_list,
        ns,
    )
    .await?;
    if !amounts.is_empty() {
        let (kinds, buckets, ns) = columns(&amounts);
        unnest_upsert(
            conn,
            tenant,
            AMOUNTS_HEAD,
            "bigint",
            AMOUNTS_TAIL,
            kinds,
            buckets,
            ns,
        )
        .await?;
    }
    Ok(())
}

/// Counter rows `((text key, second key), n)` as three columns.
fn columns<'k, K: Copy>(rows: &[((&'k str, K), i64)]) -> (Vec<&'k str>, Vec<K>, Vec<i64>) {
    let mut out = (Vec::with_capacity(rows.len()), Vec::new(), Vec::new());
    for ((first, second), n) in rows {
        out.0.push(*first);
        out.1.push(*second);
        out.2.push(*n);
    }
    out
}

/// `head SELECT owner, env, a, b, n FROM UNNEST(a, b, n) … tail`: a counter table's rows of the
/// tenant upserted in one statement, in the given (lock) order; `second` is the SQL type of `b`.
#[allow(clippy::too_many_arguments)]
async fn unnest_upsert<K>(
    conn: &mut sqlx::PgConnection,
    tenant: &Tenant,
    head: &str,
    second: &str,
    tail: &str,
    first: Vec<&str>,
    keys: Vec<K>,
    ns: Vec<i64>,
) -> Result<()>
where
    Vec<K>: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    sqlx::query(&format!(
        "{head} SELECT $1, $2, a, b, n FROM UNNEST($3::text[], $4::{second}[], $5::bigint[]) \
         WITH ORDINALITY AS u(a, b, n, o) ORDER BY o {tail}"
    ))
    .bind(tenant.owner_id.as_str())
    .bind(tenant.env.as_str())
    .bind(first)
    .bind(keys)
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

    #[test]
    fn amount_buckets_grow_with_the_amount_and_hold_contiguous_ranges() {
        assert_eq!(amount_bucket(0), 0);
        assert_eq!(amount_bucket(999), 999);
        assert_eq!(amount_bucket(1000), 4100);
        assert_eq!(amount_bucket(1009), 4100);
        assert_eq!(amount_bucket(1010), 4101);
        assert_eq!(amount_bucket(72_500_000), 8725);
        assert_eq!(amount_bucket(-1009), -4100);
        assert_eq!(bucket_top(1000), 1009);
        assert_eq!(bucket_top(1005), 1009);
        assert_eq!(bucket_top(72_512_345), 72_599_999);
        assert_eq!(bucket_top(5), 5);
        assert_eq!(bucket_top(-1005), -1000);
        assert_eq!(bucket_top(-5), -5);
        assert_eq!(amount_bucket(i64::MAX), 19 * 1000 + 922);
        assert_eq!(bucket_top(i64::MAX), i64::MAX);
        let mut previous = i64::MIN;
        let mut amounts: Vec<i64> = (-30_000..30_000).collect();
        amounts.extend((0..60).map(|i| 7i64.pow(i % 22) + i64::from(i)));
        amounts.extend([i64::MIN + 1, -99_999_999_999, 99_999_999_999, i64::MAX]);
        amounts.sort();
        for a in amounts {
            let b = amount_bucket(a);
            assert!(b >= previous, "{a}");
            previous = b;
            let top = bucket_top(a);
            assert!(top >= a, "{a}");
            assert_eq!(amount_bucket(top), b, "{a}: its bucket ends at {top}");
            if top < i64::MAX {
                assert!(
                    amount_bucket(top + 1) > b,
                    "{a}: {top} + 1 is in the next bucket"
                );
            }
        }
    }

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
