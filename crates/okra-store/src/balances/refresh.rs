//! What `balance/refresh` and `balance/check` keep: the debounce of each account (one row per
//! account and method in `balance_refreshes`, so that every process agrees), and a refresh's write
//! (the account's latest balance updated in place, one history point per day).

use okra_core::source::DailyBalance;
use sqlx::{AnyConnection, Row};

use super::{balance_from, history_column, Balance, COLUMNS};
use crate::error::{Result, StoreError};
use crate::Tenant;

/// How long a successful run is reused by the next refreshes of its account (ms): the guide's
/// debounce.
pub const DEBOUNCE_MS: i64 = 60_000;
/// Days of history a balance keeps (the newest).
pub const HISTORY_KEPT_DAYS: usize = 400;

/// Claims the run of `method` on `account_id` for `record_id` on `conn`, in the caller's write
/// transaction: `None` when the claim is ours (write the record, queue its job), or the record
/// of the run to reuse (one still running, or one that succeeded within [`DEBOUNCE_MS`]).
///
/// One statement decides: the insert, or on a clash the takeover of a run that failed, finished
/// long enough ago, or started more than `stale_ms` ago (longer than its job can live: a run
/// whose job was lost). On PostgreSQL a concurrent claimer waits on the row and then sees the
/// winner's run; on SQLite write transactions exclude each other. The row is the tenant's (account
/// ids are unique across tenants, and the caller checked the account); it is never taken over
/// for another tenant.
pub async fn claim(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    account_id: &str,
    method: &str,
    record_id: &str,
    now: i64,
    stale_ms: i64,
) -> Result<Option<String>> {
    let won = sqlx::query(
        "INSERT INTO balance_refreshes (account_id, method, owner_id, env, record_id, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL) \
         ON CONFLICT (account_id, method) DO UPDATE SET owner_id = excluded.owner_id, env = excluded.env, \
         record_id = excluded.record_id, started_at = excluded.started_at, finished_at = NULL \
         WHERE balance_refreshes.owner_id = excluded.owner_id AND balance_refreshes.env = excluded.env \
         AND ((balance_refreshes.finished_at IS NOT NULL AND balance_refreshes.finished_at <= $7) \
         OR balance_refreshes.started_at <= $8) \
         RETURNING record_id",
    )
    .bind(account_id)
    .bind(method)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(record_id)
    .bind(now)
    .bind(now - DEBOUNCE_MS)
    .bind(now - stale_ms)
    .fetch_optional(&mut *conn)
    .await?;
    if won.is_some() {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT record_id FROM balance_refreshes WHERE account_id = $1 AND method = $2 \
         AND owner_id = $3 AND env = $4",
    )
    .bind(account_id)
    .bind(method)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(row.try_get("record_id")?)),
        None => Err(StoreError::Conflict(
            "the account's refresh belongs to another tenant".into(),
        )),
    }
}

/// Ends the run of `record_id` on `conn`: a success is reused for [`DEBOUNCE_MS`] from `now`, a
/// failure not at all (the next refresh asks the bank again). A run already replaced is left.
pub async fn finish(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    account_id: &str,
    method: &str,
    record_id: &str,
    succeeded: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE balance_refreshes SET finished_at = $1 \
         WHERE account_id = $2 AND method = $3 AND record_id = $4 AND owner_id = $5 AND env = $6",
    )
    .bind(if succeeded { now } else { 0 })
    .bind(account_id)
    .bind(method)
    .bind(record_id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest balance of `account_id` on `conn`, locked for the rest of the transaction on
/// PostgreSQL (SQLite's write transactions exclude each other already).
pub async fn latest_for_update(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    account_id: &str,
) -> Result<Option<Balance>> {
    let lock = match crate::db::backend_of(conn) {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM balances WHERE account_id = $1 AND owner_id = $2 AND env = $3 \
         ORDER BY created_at DESC, id DESC LIMIT 1{lock}"
    ))
    .bind(account_id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(balance_from).transpose()
}

/// Writes `balance` (its amounts, currency, history and `last_updated`) over the stored row
/// `was` (as [`latest_for_update`] read it), moving its amounts' counters in the same transaction.
pub async fn update(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    was: &Balance,
    balance: &Balance,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE balances SET available_minor = $1, ledger_minor = $2, currency = $3, periodic = $4, \
         last_updated = $5 WHERE id = $6 AND owner_id = $7 AND env = $8",
    )
    .bind(balance.available_minor)
    .bind(balance.ledger_minor)
    .bind(&balance.currency)
    .bind(history_column(&balance.history))
    .bind(balance.last_updated)
    .bind(&balance.id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(&mut *conn)
    .await?;
    // The counters move from `was`: it must be the row just overwritten.
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "balance {} was not there to update",
            balance.id
        )));
    }
    crate::counters::move_amounts(
        conn,
        tenant,
        (was.available_minor, was.ledger_minor),
        (balance.available_minor, balance.ledger_minor),
    )
    .await
}

/// `history` with `point` as its entry for `point.date`: the day's entry replaced (the latest of
/// a day wins) or added in date order, keeping the newest [`HISTORY_KEPT_DAYS`] days.
pub fn with_point(mut history: Vec<DailyBalance>, point: DailyBalance) -> Vec<DailyBalance> {
    match history.binary_search_by(|d| d.date.as_str().cmp(point.date.as_str())) {
        Ok(i) => history[i] = point,
        Err(i) => history.insert(i, point),
    }
    if history.len() > HISTORY_KEPT_DAYS {
        history.drain(..history.len() - HISTORY_KEPT_DAYS);
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, minor: i64) -> DailyBalance {
        DailyBalance {
            date: date.into(),
            available_minor: minor,
            ledger_minor: minor,
        }
    }

    #[test]
    fn one_point_per_day_and_the_latest_wins() {
        let history = vec![day("2026-11-01", 1), day("2026-11-03", 3)];
        let added = with_point(history.clone(), day("2026-11-02", 2));
        assert_eq!(
            added,
            vec![
                day("2026-11-01", 1),
                day("2026-11-02", 2),
                day("2026-11-03", 3)
            ]
        );
        let replaced = with_point(added, day("2026-11-03", 30));
        assert_eq!(replaced.len(), 3);
        assert_eq!(replaced[2], day("2026-11-03", 30));
        assert_eq!(
            with_point(Vec::new(), day("2026-11-04", 4)),
            vec![day("2026-11-04", 4)]
        );
    }

    #[test]
    fn the_history_keeps_its_newest_days() {
        let start = time::Date::from_calendar_date(2025, time::Month::January, 1).unwrap();
        let long: Vec<DailyBalance> = (0..HISTORY_KEPT_DAYS as i64)
            .map(|i| day(&(start + time::Duration::days(i)).to_string(), i))
            .collect();
        let next = with_point(long, day("2099-01-01", -1));
        assert_eq!(next.len(), HISTORY_KEPT_DAYS);
        assert_eq!(next[0].date, "2025-01-02");
        assert_eq!(next.last().unwrap().date, "2099-01-01");
    }
}
