//! Hot reads in one trip: a statement and its parameters go to the database once, and its rows
//! come back decoded by one function whatever the engine.
//!
//! SQLite: the statement runs on a pooled rusqlite connection on a blocking thread, prepared once
//! per connection and cached. sqlx's SQLite driver runs each statement on a worker thread of its
//! own and hands every command and row across a channel, so a lookup of a few statements paid
//! several thread wake-ups: a third of the CPU of `customers/getById` went to them (issue 9).
//! Here a request costs one hand-off to the blocking pool and back. PostgreSQL: the statement
//! goes through the sqlx pool, one round trip; the hot statements are written so that one
//! statement answers a whole operation (joins and correlated subqueries instead of follow-up
//! queries).
//!
//! Statements use `$1`, `$2`, … on both engines; SQLite numbers such parameters by name, and
//! [`bind_sqlite`] binds each by the number in its name, so a statement may use `$1` twice.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::OpenFlags;
use sqlx::Row;
use tokio::sync::Semaphore;

use crate::error::{Result, StoreError};

/// A parameter of a hot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(i: i64) -> Self {
        Param::Int(i)
    }
}

/// The columns of one result row, by position, whatever the engine returned it.
pub trait Columns {
    /// A non-null text column.
    fn text(&self, i: usize) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// A non-null integer column.
    fn int(&self, i: usize) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// A nullable blob column.
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>>;
    /// A nullable floating-point column.
    fn opt_real(&self, i: usize) -> Result<Option<f64>>;
}

fn decode_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("unexpected column value: {e}"))
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String> {
        self.get(i).map_err(decode_error)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.get(i).map_err(decode_error)
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.get(i).map_err(decode_error)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.get(i).map_err(decode_error)
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        self.get(i).map_err(decode_error)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        self.get(i).map_err(decode_error)
    }
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(self.try_get(i)?)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        Ok(self.try_get(i)?)
    }
}

/// Read connections to one SQLite file, used one at a time on blocking threads.
pub(crate) struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
    busy_timeout: Duration,
    statement_timeout: Duration,
}

/// Prepared statements each read connection keeps (the hot reads, with room to spare).
const STATEMENT_CACHE: usize = 64;
/// SQLite virtual-machine steps between checks of a statement's deadline.
const PROGRESS_STEPS: i32 = 10_000;

impl SqliteReaders {
    /// Readers of the file at `path`, at most `max` at once. Connections open on first use (the
    /// file exists by then: `Db::connect` opened it through sqlx).
    pub(crate) fn new(
        path: &Path,
        max: usize,
        acquire_timeout: Duration,
        busy_timeout: Duration,
        statement_timeout: Duration,
    ) -> Self {
        SqliteReaders {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
            acquire_timeout,
            busy_timeout,
            statement_timeout,
        }
    }

    fn open(&self) -> Result<rusqlite::Connection> {
        // Read-write flags with `query_only`: a read-only open of a WAL database fails when its
        // `-shm` file is missing, and the writer (another pool) owns all writes anyway.
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA foreign_keys = ON;")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `f` on a read connection on a blocking thread: one hand-off for all its statements.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let permit =
            tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    StoreError::Unavailable("timed out waiting for a read connection".into())
                })?
                .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = me.idle.lock().ok().and_then(|mut v| v.pop());
            let conn = match idle {
                Some(c) => c,
                None => me.open()?,
            };
            // A runaway statement is interrupted at its deadline, like PostgreSQL's
            // statement_timeout.
            let deadline = Instant::now() + me.statement_timeout;
            conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() > deadline));
            let out = f(&conn);
            conn.progress_handler(PROGRESS_STEPS, None::<fn() -> bool>);
            // A connection that saw the file go away or break is dropped, not pooled again.
            let broken = matches!(
                &out,
                Err(StoreError::Unavailable(_) | StoreError::Corrupt(_))
            );
            if !broken {
                if let Ok(mut v) = me.idle.lock() {
                    v.push(conn);
                }
            }
            out
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }

    /// Closes the pooled connections and refuses new reads.
    pub(crate) fn close(&self) {
        self.permits.close();
        if let Ok(mut v) = self.idle.lock() {
            v.clear();
        }
    }
}

/// Binds `params` to a prepared SQLite statement: a parameter named `$n` (or `?n`) takes
/// `params[n - 1]`; an anonymous `?` takes the parameter at its position.
pub(crate) fn bind_sqlite(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: &[Param],
) -> Result<()> {
    for index in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(index) {
            Some(name) => name[1..]
                .parse::<usize>()
                .map_err(|_| StoreError::Corrupt(format!("parameter {name} is not numbered")))?,
            None => index,
        };
        let param = params
            .get(n.wrapping_sub(1))
            .ok_or_else(|| StoreError::Corrupt(format!("no value for parameter {n}")))?;
        match param {
            Param::Text(s) => stmt.raw_bind_parameter(index, s.as_str())?,
            Param::Int(i) => stmt.raw_bind_parameter(index, *i)?,
        }
    }
    Ok(())
}

/// `sql` with each `$n` replaced by `params[n - 1]` as an SQL literal: integers as digits, text
/// single-quoted with quotes doubled (PostgreSQL's `standard_conforming_strings`, on by default
/// since 9.1, so backslashes are plain characters). The hot statements hold no `$` but their
/// placeholders. Text with a NUL byte is refused (no SQL literal can hold it).
pub(crate) fn with_literals(sql: &str, params: &[Param]) -> Result<String> {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let n: usize = rest[at + 1..at + 1 + digits]
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("a `$` that is no placeholder in {sql}")))?;
        match params.get(n.wrapping_sub(1)) {
            Some(Param::Int(i)) => out.push_str(&i.to_string()),
            Some(Param::Text(t)) if !t.contains('\0') => {
                out.push('\'');
                out.push_str(&t.replace('\'', "''"));
                out.push('\'');
            }
            Some(Param::Text(_)) => {
                return Err(StoreError::Corrupt("a NUL byte in a text parameter".into()))
            }
            None => return Err(StoreError::Corrupt(format!("no value for parameter {n}"))),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Runs `sql` with `params` on an SQLite read connection and maps every row.
pub(crate) fn sqlite_rows<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Param],
    map: impl Fn(&dyn Columns) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_sqlite(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The file an SQLite URL names, when it names one (not an in-memory database).
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    let text = path.to_string_lossy();
    if text.is_empty() || text.contains(":memory:") || text.starts_with("file:") {
        return None;
    }
    Some(path.to_path_buf())
}

/// The statements of one kind of page of a table's rows (identities, balances): the page's ids
/// from one index (`$1` owner, `$2` env, `$3` limit, `$4` offset, the filter's values from `$5`),
/// each row by primary key, and the total beside every row. SQLite names the rows with
/// `IN (ids)`; PostgreSQL fetches each with a LATERAL subquery that `OFFSET 0` keeps from becoming
/// a hash join (the customers' layout, `customers::page_sql`).
#[derive(Debug)]
pub struct PageSql {
    /// The page on SQLite.
    pub sqlite: String,
    /// The page on PostgreSQL.
    pub postgres: String,
    /// The total alone (a page past the end has no row to carry it).
    pub total: String,
    /// Run as a kept prepared statement ([`Db::query`](crate::db::Db::query)): its best plan does
    /// not depend on the page's LIMIT and OFFSET (one account's or customer's few rows), so a
    /// generic plan is as good. The others are planned for each call's values
    /// ([`Db::query_replanned`](crate::db::Db::query_replanned)).
    pub prepared: bool,
}

/// The shape of one table's pages: the table, its alias, the columns of a row and their joins.
pub(crate) struct PageShape {
    /// Table name.
    pub table: &'static str,
    /// Its alias in `columns` and `joins`.
    pub alias: &'static str,
    /// The selected columns (before the total).
    pub columns: &'static str,
    /// Joins of the row's related rows, each by primary key (a leading space).
    pub joins: &'static str,
}

/// The order of a page: newest first, ties by id.
pub(crate) const NEWEST_FIRST: &str = "created_at DESC, id DESC";
/// The same order written so that no index can serve it: for filters whose matches are few and
/// come from another index (options), so that no planner walks the tenant's rows in order instead
/// of sorting the matches.
pub(crate) const NEWEST_FIRST_SORTED: &str = "created_at + 0 DESC, id DESC";

impl PageSql {
    /// The page of `shape` whose ids `scope` (a WHERE clause) names in `order`, with `total`.
    pub(crate) fn new(shape: &PageShape, scope: &str, total: &str, order: &str) -> PageSql {
        let PageShape {
            table,
            alias,
            columns,
            joins,
        } = shape;
        let ids =
            format!("SELECT id FROM {table} WHERE {scope} ORDER BY {order} LIMIT $3 OFFSET $4");
        PageSql {
            sqlite: format!(
                "SELECT {columns}, {total} FROM {table} {alias}{joins} WHERE {alias}.id IN ({ids})"
            ),
            postgres: format!(
                "SELECT {columns}, {total} FROM ({ids}) p CROSS JOIN LATERAL \
                 (SELECT * FROM {table} WHERE id = p.id OFFSET 0) {alias}{joins}"
            ),
            total: format!("SELECT {total}"),
            prepared: false,
        }
    }

    /// This page, run as a kept prepared statement (see [`PageSql::prepared`]).
    pub(crate) fn prepared(self) -> PageSql {
        PageSql {
            prepared: true,
            ..self
        }
    }

    /// The page statement on `backend`.
    pub fn page(&self, backend: crate::db::Backend) -> &str {
        match backend {
            crate::db::Backend::Sqlite => &self.sqlite,
            crate::db::Backend::Postgres => &self.postgres,
        }
    }

    /// Runs the page with `params` and maps its rows with `map`.
    pub(crate) async fn rows<T, F>(
        &'static self,
        db: &crate::db::Db,
        params: Vec<Param>,
        map: F,
    ) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T> + Send + 'static,
    {
        let statement = self.page(db.backend());
        if self.prepared {
            db.query(statement, params, map).await
        } else {
            db.query_replanned(statement, params, map).await
        }
    }

    /// The total alone, for a page past the end (no row carries it).
    pub(crate) async fn total_alone(
        &'static self,
        db: &crate::db::Db,
        params: Vec<Param>,
    ) -> Result<i64> {
        Ok(db
            .query_replanned(&self.total, params, |r| r.opt_int(0))
            .await?
            .into_iter()
            .next()
            .flatten()
            .unwrap_or(0))
    }
}

/// The most option pairs one `getByOptions` request may match.
pub const MAX_OPTION_PAIRS: usize = 10;

/// The parameters every page starts with: `$1` owner, `$2` env, `$3` limit, `$4` offset.
pub(crate) fn page_params(
    tenant: &crate::Tenant,
    page: okra_core::pagination::PageRequest,
) -> Vec<Param> {
    vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::Int(i64::from(page.limit)),
        Param::Int(page.offset()),
    ]
}

/// The parameters of a page of rows created from `from` to `to` (whole UTC days): the millisecond
/// range (`$5`, `$6`) and its day numbers for the daily counters (`$7`, `$8`).
pub(crate) fn date_params(from: time::Date, to: time::Date) -> Vec<Param> {
    let (start, end) = okra_core::time::day_range_ms(from, to);
    vec![
        Param::Int(start),
        Param::Int(end),
        Param::Int(crate::counters::day_of_date(from)),
        Param::Int(crate::counters::day_of_date(to)),
    ]
}

/// The parameters of a page of a customer's rows created from `from` to `to`: the customer (`$5`)
/// and the millisecond range (`$6`, `$7`).
pub(crate) fn customer_date_params(customer: &str, from: time::Date, to: time::Date) -> Vec<Param> {
    let (start, end) = okra_core::time::day_range_ms(from, to);
    vec![Param::from(customer), Param::Int(start), Param::Int(end)]
}

/// The parameters of [`options_filter`]: each pair's key and JSON value, from `$5` on.
pub(crate) fn option_params(pairs: &[(String, String)]) -> Vec<Param> {
    pairs
        .iter()
        .flat_map(|(k, v)| [Param::from(k.as_str()), Param::from(v.as_str())])
        .collect()
}

/// ` AND record_id IN (…)`: the records whose options hold all `n` (key, JSON value) pairs,
/// keys and values from `$5` on, joined over `record_options` (one index search per pair).
pub(crate) fn options_filter(n: usize) -> String {
    let mut sql = String::from(" AND record_id IN (SELECT o1.record_id FROM record_options o1");
    for k in 2..=n {
        let (key, value) = (3 + 2 * k, 4 + 2 * k);
        sql.push_str(&format!(
            " JOIN record_options o{k} ON o{k}.record_id = o1.record_id AND o{k}.owner_id = $1 \
             AND o{k}.env = $2 AND o{k}.key = ${key} AND o{k}.value = ${value}"
        ));
    }
    sql.push_str(" WHERE o1.owner_id = $1 AND o1.env = $2 AND o1.key = $5 AND o1.value = $6)");
    sql
}

#[cfg(test)]
mod tests {
    use super::{with_literals, Param};

    #[test]
    fn literals_replace_numbered_placeholders_and_quote_text() {
        let sql = "SELECT a FROM t WHERE o = $1 AND e = $2 AND x = $1 LIMIT $3 OFFSET $10";
        let mut params = vec![
            Param::from("ab'c\\"),
            Param::from("sandbox"),
            Param::Int(20),
        ];
        params.extend((4..=9).map(Param::Int));
        params.push(Param::Int(-5));
        assert_eq!(
            with_literals(sql, &params).unwrap(),
            "SELECT a FROM t WHERE o = 'ab''c\\' AND e = 'sandbox' AND x = 'ab''c\\' LIMIT 20 OFFSET -5"
        );
        assert!(with_literals("SELECT $2", &[Param::Int(1)]).is_err());
        assert!(with_literals("SELECT $x", &[]).is_err());
        assert!(with_literals("SELECT $1", &[Param::from("a\0b")]).is_err());
    }
}
