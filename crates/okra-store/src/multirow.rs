//! Table-agnostic helpers for writing and probing many rows per statement.
//!
//! Each table module owns its row type and implements [`InsertRow`] for it (its column list and
//! its values as [`SqlValue`]s); its single-row `insert` writes through [`insert`], which binds
//! those values to sqlx, and a bulk load writes the same values through [`crate::loader`]: one
//! builder for both. This module knows no table: it chunks rows under the backends' parameter limits,
//! builds the multi-row `VALUES` text, and looks up which values of an indexed column exist.

use std::collections::HashSet;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

pub use crate::counters::Counted;
use crate::error::Result;
use crate::Tenant;

/// Bind parameters per statement: under SQLite's 32766 (and so PostgreSQL's 65535) limit.
const MAX_PARAMS: usize = 32_000;
/// Rows per statement at most, so one statement stays a few megabytes even for wide rows.
const MAX_ROWS: usize = 1_000;

/// A query being bound, as [`insert_rows`] hands it to a table's binder.
pub type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// One column value of a row, independent of the driver that writes it: the same values feed
/// sqlx ([`insert`]), rusqlite and PostgreSQL `COPY` ([`crate::loader`]). A null keeps its type
/// (PostgreSQL checks a parameter's type against its column's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SqlValue<'a> {
    /// INTEGER / BIGINT.
    Int(Option<i64>),
    /// REAL / DOUBLE PRECISION.
    Real(Option<f64>),
    /// TEXT.
    Text(Option<&'a str>),
    /// BLOB / BYTEA.
    Blob(Option<&'a [u8]>),
}

impl From<i64> for SqlValue<'_> {
    fn from(v: i64) -> Self {
        SqlValue::Int(Some(v))
    }
}
impl From<Option<i64>> for SqlValue<'_> {
    fn from(v: Option<i64>) -> Self {
        SqlValue::Int(v)
    }
}
impl From<f64> for SqlValue<'_> {
    fn from(v: f64) -> Self {
        SqlValue::Real(Some(v))
    }
}
impl From<Option<f64>> for SqlValue<'_> {
    fn from(v: Option<f64>) -> Self {
        SqlValue::Real(v)
    }
}
impl<'a> From<&'a str> for SqlValue<'a> {
    fn from(v: &'a str) -> Self {
        SqlValue::Text(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for SqlValue<'a> {
    fn from(v: Option<&'a str>) -> Self {
        SqlValue::Text(v)
    }
}
impl<'a> From<&'a [u8]> for SqlValue<'a> {
    fn from(v: &'a [u8]) -> Self {
        SqlValue::Blob(Some(v))
    }
}
impl<'a> From<Option<&'a [u8]>> for SqlValue<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        SqlValue::Blob(v)
    }
}

/// Binds one value to a sqlx query.
pub fn bind_value<'q>(q: AnyQuery<'q>, v: SqlValue<'q>) -> AnyQuery<'q> {
    match v {
        SqlValue::Int(v) => q.bind(v),
        SqlValue::Real(v) => q.bind(v),
        SqlValue::Text(v) => q.bind(v),
        SqlValue::Blob(v) => q.bind(v),
    }
}

/// A row that knows its table's INSERT: implemented by each table module for its row type.
pub trait InsertRow {
    /// `INSERT INTO <table> (owner_id, env, …)`: the columns, in value order.
    const INSERT: &'static str;
    /// Parameters per row, `owner_id` and `env` included.
    const COLUMNS: usize;
    /// Pushes this row's values after `owner_id` and `env` (supplied by the writer), in order:
    /// `COLUMNS - 2` of them. The one description of the row every writer uses.
    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>);
    /// The row as its counters see it, for a counted table; [`insert`] bumps them in the same
    /// transaction. Uncounted tables keep the default.
    fn counted(&self) -> Option<Counted<'_>> {
        None
    }
}

/// Rows held by reference (a loader's batch keeps its rows and passes `Vec<&Row>`).
impl<T: InsertRow> InsertRow for &T {
    const INSERT: &'static str = T::INSERT;
    const COLUMNS: usize = T::COLUMNS;
    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        (**self).values(out)
    }
    fn counted(&self) -> Option<Counted<'_>> {
        (**self).counted()
    }
}

/// Inserts `rows` of the tenant on `conn` (inside the caller's transaction), many per statement,
/// and adds counted rows to their counters ([`crate::counters`]) on the same transaction.
pub async fn insert<T: InsertRow>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[T],
) -> Result<()> {
    insert_rows(conn, tenant, T::INSERT, T::COLUMNS, rows, bind_row).await?;
    crate::counters::add(conn, tenant, rows.iter().filter_map(InsertRow::counted)).await
}

/// Binds all of a row's values ([`InsertRow::values`]).
pub fn bind_row<'q, T: InsertRow>(mut q: AnyQuery<'q>, row: &'q T) -> AnyQuery<'q> {
    let mut values = Vec::with_capacity(T::COLUMNS);
    row.values(&mut values);
    for v in values {
        q = bind_value(q, v);
    }
    q
}

/// True when placeholders must be numbered (`$n`, PostgreSQL); SQLite gets anonymous `?`: it
/// resolves `$n` and `?n` through a linear list per parameter, which makes a statement of
/// thousands of them quadratic (seconds per statement).
fn numbered(conn: &AnyConnection) -> bool {
    conn.backend_name() != "SQLite"
}

/// The `n`-th (1-based) placeholder for the backend.
fn placeholder(numbered: bool, n: usize) -> String {
    if numbered {
        format!("${n}")
    } else {
        "?".into()
    }
}

/// `INSERT … VALUES (…), (…)` for `rows` rows of `columns` parameters each.
fn values_sql(head: &str, columns: usize, rows: usize, numbered: bool) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 7);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            // Pushed in place rather than through `placeholder`: a statement has up to 32000.
            if numbered {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// Rows per statement for rows of `columns` parameters.
fn chunk_rows(columns: usize) -> usize {
    (MAX_PARAMS / columns).clamp(1, MAX_ROWS)
}

/// Writes `rows` with as few statements as the parameter limits allow. `head` is
/// `INSERT INTO <table> (<columns>)` naming `columns` columns starting with `owner_id, env`
/// (bound here from the tenant); `bind` binds the rest of one row, in order.
pub async fn insert_rows<'r, R>(
    conn: &mut AnyConnection,
    tenant: &'r Tenant,
    head: &str,
    columns: usize,
    rows: &'r [R],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q R) -> AnyQuery<'q>,
) -> Result<()> {
    upsert_rows(conn, tenant, head, columns, "", rows, bind).await
}

/// [`insert_rows`] with `tail` (an `ON CONFLICT …` clause) after each statement's `VALUES`.
pub async fn upsert_rows<'r, R>(
    conn: &mut AnyConnection,
    tenant: &'r Tenant,
    head: &str,
    columns: usize,
    tail: &str,
    rows: &'r [R],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q R) -> AnyQuery<'q>,
) -> Result<()> {
    let numbered = numbered(conn);
    let full = chunk_rows(columns);
    for chunk in rows.chunks(full) {
        let mut sql = values_sql(head, columns, chunk.len(), numbered);
        if !tail.is_empty() {
            sql.push(' ');
            sql.push_str(tail);
        }
        // Full chunks repeat the same text, so keep their prepared statement; a batch's tail has a
        // one-off size and would only churn the statement cache.
        // Single rows (the repositories' inserts) have one stable shape too.
        let mut q = sqlx::query(&sql).persistent(chunk.len() == full || chunk.len() == 1);
        for row in chunk {
            q = bind(
                q.bind(tenant.owner_id.as_str()).bind(tenant.env.as_str()),
                row,
            );
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which of `values` the tenant's rows of `table` hold in `column` (a blind-index column): one
/// query per few thousand values, on `conn` (the caller's transaction). `table` and `column` are
/// the calling table module's own constants, never input.
pub async fn existing_values(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    table: &str,
    column: &str,
    values: &[&str],
) -> Result<HashSet<String>> {
    let mut found = HashSet::new();
    let numbered = numbered(conn);
    for chunk in values.chunks(MAX_PARAMS - 2) {
        let list: Vec<String> = (0..chunk.len())
            .map(|i| placeholder(numbered, i + 3))
            .collect();
        let sql = format!(
            "SELECT {column} FROM {table} WHERE owner_id = {} AND env = {} AND {column} IN ({})",
            placeholder(numbered, 1),
            placeholder(numbered, 2),
            list.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .persistent(false)
            .bind(tenant.owner_id.as_str())
            .bind(tenant.env.as_str());
        for v in chunk {
            q = q.bind(*v);
        }
        for row in q.fetch_all(&mut *conn).await? {
            found.insert(row.try_get::<String, _>(0)?);
        }
    }
    Ok(found)
}

/// Prepares a connection for bulk writes; a no-op on PostgreSQL. On SQLite: a 128 MB page cache
/// (the default 2 MB spills index pages to the WAL in the middle of every batch), statement
/// journals in memory, and checkpoints every 64 MB of WAL rather than 4 MB (index pages that
/// every batch touches are then copied back once per checkpoint, not once per batch). The
/// settings stay on the pooled connection, which only makes it use more memory.
pub async fn tune_connection(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "SQLite" {
        sqlx::raw_sql(
            "PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16384;",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Asserts that each of `values` (one row after `owner_id` and `env`, as
/// [`InsertRow::values`] pushes them) has the PostgreSQL type of its column in `insert`, read from
/// the migrations' `CREATE TABLE` lines: `Int` a `BIGINT`, `Real` a `DOUBLE PRECISION`, `Text` a
/// `TEXT`, `Blob` a `BYTEA`. The bulk loader's binary COPY is not type-checked by PostgreSQL (any
/// 8 bytes are a `bigint`), so each table module runs this on a sample of its rows.
#[cfg(test)]
pub(crate) fn check_postgres_types(insert: &str, columns: usize, values: &[SqlValue<'_>]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut types = std::collections::HashMap::new();
    for file in files {
        let sql = std::fs::read_to_string(file).unwrap();
        let mut table: Option<String> = None;
        for line in sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or("").trim())
        {
            if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
                // `ALTER TABLE t ADD COLUMN c TYPE;`
                let words: Vec<&str> = rest.split_whitespace().collect();
                if let [t, "ADD", "COLUMN", column, ty, ..] = words[..] {
                    types.insert(
                        (t.to_string(), column.to_string()),
                        ty.trim_end_matches(';').to_string(),
                    );
                }
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                table = rest.split_whitespace().next().map(str::to_string);
            } else if line.starts_with(')') {
                table = None;
            } else if let Some(t) = &table {
                let mut words = line.split_whitespace();
                if let (Some(column), Some(ty)) = (words.next(), words.next()) {
                    if column.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        let ty = match ty.trim_end_matches(',') {
                            "DOUBLE" => "DOUBLE PRECISION".to_string(),
                            other => other.to_string(),
                        };
                        types.insert((t.clone(), column.to_string()), ty);
                    }
                }
            }
        }
    }
    let head = insert.strip_prefix("INSERT INTO ").unwrap();
    let (name, list) = head.split_once(" (").unwrap();
    let names: Vec<&str> = list.trim_end_matches(')').split(", ").collect();
    assert_eq!(names.len(), columns, "{head}");
    assert_eq!(&names[..2], ["owner_id", "env"], "{head}");
    assert_eq!(values.len(), columns - 2, "{head}");
    for (column, value) in names[2..].iter().zip(values) {
        let ty = types
            .get(&(name.to_string(), column.to_string()))
            .unwrap_or_else(|| panic!("no PostgreSQL type for {name}.{column}"));
        let want = match value {
            SqlValue::Int(_) => "BIGINT",
            SqlValue::Real(_) => "DOUBLE PRECISION",
            SqlValue::Text(_) => "TEXT",
            SqlValue::Blob(_) => "BYTEA",
        };
        assert_eq!(ty, want, "{name}.{column} gets {value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_the_wrong_type_is_caught() {
        let ok = [SqlValue::Text(Some("x")), SqlValue::Int(None)];
        check_postgres_types(
            "INSERT INTO balances (owner_id, env, id, ledger_minor)",
            4,
            &ok,
        );
        let wrong = [SqlValue::Text(Some("x")), SqlValue::Real(Some(1.0))];
        let caught = std::panic::catch_unwind(|| {
            check_postgres_types(
                "INSERT INTO balances (owner_id, env, id, ledger_minor)",
                4,
                &wrong,
            )
        });
        assert!(caught.is_err());
    }

    #[test]
    fn values_sql_numbers_for_postgres_and_not_for_sqlite() {
        let head = "INSERT INTO t (a, b)";
        assert_eq!(
            values_sql(head, 2, 2, true),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            values_sql(head, 2, 2, false),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        for columns in [5, 11, 12, 14, 15, 29] {
            let rows = chunk_rows(columns);
            assert!(rows * columns <= 32_766, "{columns}");
            assert!(rows >= 1);
        }
    }
}
