//! The bulk writer behind `sandbox load`: the rows of many tables in large transactions, with
//! their counters, on a native connection of each backend.
//!
//! Rows are the table modules' own row types, taken as values ([`crate::multirow::InsertRow::values`],
//! `records::push_rows`), so a loaded row is the row a single insert writes. This module names no
//! table: it writes a [`Batch`] of (INSERT head, values) and probes which blind indexes exist.
//!
//! - SQLite ([`SqliteLoader`]): a rusqlite connection (the same SQLite library as sqlx), used from a
//!   blocking thread: `BEGIN IMMEDIATE` polled for like [`crate::Db::begin`], one cached prepared
//!   single-row INSERT per table, no async hand-off per statement. The caller holds the process's
//!   write lock ([`crate::Db::write_guard`]) around each transaction.
//! - PostgreSQL ([`PgLoader`]): `COPY … FROM STDIN` (binary format) per table on a native
//!   `PgConnection` (sqlx's `Any` driver cannot COPY), counters bumped in the same transaction.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row};

use crate::error::{Result, StoreError};
use crate::multirow::{Counted, InsertRow, SqlValue};
use crate::Tenant;

/// One table's rows of a batch: its INSERT head and the values of every row, flattened.
struct Table<'a> {
    /// `INSERT INTO <table> (owner_id, env, …)`.
    insert: &'static str,
    /// Columns per row, `owner_id` and `env` included.
    columns: usize,
    /// `columns - 2` values per row.
    values: Vec<SqlValue<'a>>,
}

/// The rows of one transaction, in write order (parents before children: foreign keys are
/// checked per statement), and what they add to the counters.
#[derive(Default)]
pub struct Batch<'a> {
    tables: Vec<Table<'a>>,
    counted: Vec<Counted<'a>>,
}

impl<'a> Batch<'a> {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Adds rows of one table, and their counters.
    pub fn push<T: InsertRow + 'a>(&mut self, rows: impl IntoIterator<Item = &'a T>) {
        let mut values = Vec::new();
        let mut counted = Vec::new();
        for row in rows {
            row.values(&mut values);
            counted.extend(row.counted());
        }
        self.push_values(T::INSERT, T::COLUMNS, values, counted);
    }

    /// Adds rows given as values (for a table module whose rows come with others, `records`).
    pub(crate) fn push_values(
        &mut self,
        insert: &'static str,
        columns: usize,
        values: Vec<SqlValue<'a>>,
        counted: impl IntoIterator<Item = Counted<'a>>,
    ) {
        self.counted.extend(counted);
        if !values.is_empty() {
            self.tables.push(Table {
                insert,
                columns,
                values,
            });
        }
    }

    /// Rows in the batch.
    pub fn rows(&self) -> usize {
        (self.tables.iter())
            .map(|t| t.values.len() / (t.columns - 2))
            .sum()
    }
}

/// Which values of a blind-index column to look for ([`SqliteTx::existing`],
/// [`PgTx::existing`]); made by the table module that owns the column.
pub struct Probe<'a> {
    table: &'static str,
    column: &'static str,
    values: Vec<&'a str>,
}

impl<'a> Probe<'a> {
    /// `table` and `column` are the calling table module's own constants, never input.
    pub(crate) fn new(table: &'static str, column: &'static str, values: Vec<&'a str>) -> Self {
        Probe {
            table,
            column,
            values,
        }
    }
}

impl rusqlite::ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            SqlValue::Int(Some(v)) => ValueRef::Integer(v),
            SqlValue::Real(Some(v)) => ValueRef::Real(v),
            SqlValue::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            SqlValue::Blob(Some(v)) => ValueRef::Blob(v),
            _ => ValueRef::Null,
        }))
    }
}

/// How often [`SqliteLoader::begin`] retries SQLite's write lock (as `Db::begin` does).
const WRITE_LOCK_POLL: Duration = Duration::from_millis(2);

/// The SQLite bulk writer: one rusqlite connection, used from a blocking thread, and a thread
/// that checkpoints the WAL meanwhile.
pub struct SqliteLoader {
    conn: rusqlite::Connection,
    busy_timeout: Duration,
    checkpointer: Option<Checkpointer>,
}

/// A thread copying committed WAL frames into the database file (`wal_checkpoint(PASSIVE)`,
/// which never blocks the writer) every [`CHECKPOINT_EVERY`]: the copying and its fsync then
/// run beside the inserts instead of inside the writer's commits, which only find a few frames
/// left when their own automatic checkpoint comes due (and so the WAL still restarts from the
/// beginning and stays small).
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

impl Checkpointer {
    fn start(path: &str) -> Result<Self> {
        use std::sync::atomic::Ordering;
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch("PRAGMA busy_timeout = 1000;")?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("okra-checkpoint".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "background checkpoint");
                    }
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The file of an `sqlite://path?…` URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

impl SqliteLoader {
    /// Opens the file of `url` (an `sqlite://` URL of a migrated database) with the pool's
    /// settings (WAL, `synchronous = NORMAL`) but foreign keys unchecked (see below), no busy
    /// handler (the write lock is polled for, see [`SqliteLoader::begin`]), a 256 MB page cache
    /// (the random blind indexes' pages are read back less often; the load stays under 500 MB),
    /// and checkpoints in the background ([`Checkpointer`]) as well as every 128 MB of WAL.
    pub fn open(url: &str, busy_timeout: Duration) -> Result<Self> {
        let path = sqlite_path(url)
            .ok_or_else(|| StoreError::Unavailable(format!("not an SQLite file URL: {url}")))?;
        let conn = rusqlite::Connection::open(path)?;
        // Foreign keys are not checked on this connection: every row's parents are written by
        // the same load, earlier in the same transaction, or are the owner and the banks it
        // read first; checking costs ten parent lookups per person on the one writer thread
        // (the integration test checks the loaded rows with `PRAGMA foreign_key_check`).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0; \
             PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 32768;",
        )?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(SqliteLoader {
            conn,
            busy_timeout,
            checkpointer: Some(Checkpointer::start(path)?),
        })
    }

    /// Stops the background checkpoints (also on drop).
    pub fn finish(&mut self) {
        self.checkpointer.take();
    }

    /// Begins an `IMMEDIATE` transaction, polling for the write lock every 2 ms until the busy
    /// timeout has passed ([`StoreError::Busy`]).
    pub fn begin(&mut self) -> Result<SqliteTx<'_>> {
        let deadline = Instant::now() + self.busy_timeout;
        loop {
            match self.conn.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => break,
                Err(e) => match StoreError::from(e) {
                    StoreError::Busy(_) if Instant::now() < deadline => {
                        std::thread::sleep(WRITE_LOCK_POLL)
                    }
                    other => return Err(other),
                },
            }
        }
        Ok(SqliteTx {
            conn: &self.conn,
            done: false,
        })
    }
}

/// A write transaction of [`SqliteLoader`]; dropped without [`SqliteTx::commit`] it rolls back.
pub struct SqliteTx<'c> {
    conn: &'c rusqlite::Connection,
    done: bool,
}

impl SqliteTx<'_> {
    /// Which of the probe's values the tenant's rows hold.
    pub fn existing(&self, tenant: &Tenant, probe: &Probe<'_>) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        // Under SQLite's 32766 parameters.
        for chunk in probe.values.chunks(30_000) {
            let list = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {column} FROM {table} WHERE owner_id = ? AND env = ? AND {column} IN ({list})",
                column = probe.column,
                table = probe.table,
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let params = [tenant.owner_id.as_str(), tenant.env.as_str()]
                .into_iter()
                .chain(chunk.iter().copied());
            let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
            while let Some(row) = rows.next()? {
                found.insert(row.get::<_, String>(0)?);
            }
        }
        Ok(found)
    }

    /// Writes the batch and adds its rows to the counters.
    pub fn write(&self, tenant: &Tenant, batch: &Batch<'_>) -> Result<()> {
        let (owner, env) = (
            SqlValue::from(tenant.owner_id.as_str()),
            SqlValue::from(tenant.env.as_str()),
        );
        for table in &batch.tables {
            let mut sql = String::with_capacity(table.insert.len() + 4 * table.columns + 10);
            sql.push_str(table.insert);
            sql.push_str(" VALUES (");
            for c in 1..=table.columns {
                let _ = write!(sql, "{}?{c}", if c > 1 { ", " } else { "" });
            }
            sql.push(')');
            let mut stmt = self.conn.prepare_cached(&sql)?;
            for row in table.values.chunks(table.columns - 2) {
                let params = [owner, env].into_iter().chain(row.iter().copied());
                stmt.execute(rusqlite::params_from_iter(params))?;
            }
        }
        crate::counters::add_sqlite(self.conn, tenant, batch.counted.iter().copied())
    }

    /// Commits.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT").map_err(StoreError::from)
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// The PostgreSQL bulk writer: a small native pool (COPY needs a `PgConnection`).
#[derive(Clone)]
pub struct PgLoader {
    pool: PgPool,
}

/// A write transaction of [`PgLoader`]; dropped without [`PgTx::commit`] it rolls back.
pub struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
}

impl PgLoader {
    /// Connects to `url` with `connections` connections (one per concurrent transaction).
    pub async fn connect(url: &str, connections: u32) -> Result<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Other(Box::new(e)))?;
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(1))
            .connect_with(options)
            .await?;
        Ok(PgLoader { pool })
    }

    /// Begins a transaction whose commit does not wait for its WAL flush
    /// (`synchronous_commit = off`, for this transaction only): a crash may lose the last
    /// batches' commits but never half a batch, and re-running the load links the people it lost
    /// (it skips the ones present). The load's thousands of commits no longer each wait for an
    /// fsync.
    pub async fn begin(&self) -> Result<PgTx> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await?;
        Ok(PgTx { tx })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl PgTx {
    /// Which of the probe's values the tenant's rows hold. The probe must find the unique index
    /// of its column, and with no statistics the planner cannot tell it from the other indexes
    /// that start with `(owner_id, env)` (it took `accounts_record` and filtered the tenant's
    /// whole index, for every batch). A fresh database has none (no autovacuum on some servers,
    /// and the load analyses at its end), so a probed table without statistics is analysed first,
    /// once it has rows: a few milliseconds, after which the column is known to be unique.
    pub async fn existing(
        &mut self,
        tenant: &Tenant,
        probe: &Probe<'_>,
    ) -> Result<HashSet<String>> {
        let tuples: Option<f32> =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)")
                .bind(probe.table)
                .fetch_optional(&mut *self.tx)
                .await?;
        if tuples.unwrap_or(0.0) <= 0.0 {
            sqlx::query(&format!("ANALYZE {}", probe.table))
                .execute(&mut *self.tx)
                .await?;
        }
        let sql = format!(
            "SELECT {column} FROM {table} WHERE owner_id = $1 AND env = $2 AND {column} = ANY($3)",
            column = probe.column,
            table = probe.table,
        );
        let rows = sqlx::query(&sql)
            .bind(tenant.owner_id.as_str())
            .bind(tenant.env.as_str())
            .bind(&probe.values)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Writes the batch with one binary `COPY` per table and adds its rows to the counters.
    pub async fn write(&mut self, tenant: &Tenant, batch: &Batch<'_>) -> Result<()> {
        for table in &batch.tables {
            let columns = table
                .insert
                .strip_prefix("INSERT INTO ")
                .ok_or_else(|| StoreError::Corrupt(format!("not an INSERT: {}", table.insert)))?;
            let data = copy_binary(tenant, table)?;
            let mut copy = self
                .tx
                .copy_in_raw(&format!("COPY {columns} FROM STDIN (FORMAT binary)"))
                .await?;
            // In pieces of a few megabytes, so the server starts on the rows while we send.
            for piece in data.chunks(4 << 20) {
                copy.send(piece).await?;
            }
            copy.finish().await?;
        }
        crate::counters::add_postgres(&mut self.tx, tenant, batch.counted.iter().copied()).await
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// The rows of `table` in COPY's binary format: the signature, then per row the field count and
/// each field as a length (-1 for NULL) and its bytes in the column type's binary form. The
/// schema's column types are `text`, `bytea`, `bigint` and `double precision`, which
/// [`SqlValue`]'s variants map to one for one. Unlike text input, binary input is not checked
/// against the column's type (any 8 bytes are a `bigint` or a `double precision`), so each row
/// type's values must follow its columns' types, which each table module's tests check against
/// the PostgreSQL migrations (`multirow::check_postgres_types`). Binary input spares the server
/// parsing numbers and decoding hex `bytea`.
fn copy_binary(tenant: &Tenant, table: &Table<'_>) -> Result<Vec<u8>> {
    let per_row = table.columns - 2;
    let fields = i16::try_from(table.columns)
        .map_err(|_| StoreError::Corrupt(format!("{} columns", table.columns)))?;
    let mut out = Vec::with_capacity(19 + table.values.len() * 32);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
    out.extend_from_slice(&0i32.to_be_bytes()); // no header extension
    let field = |out: &mut Vec<u8>, bytes: Option<&[u8]>| -> Result<()> {
        match bytes {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                let len = i32::try_from(b.len())
                    .map_err(|_| StoreError::Corrupt("a value over 2 GB".into()))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b);
            }
        }
        Ok(())
    };
    for row in table.values.chunks(per_row) {
        out.extend_from_slice(&fields.to_be_bytes());
        field(&mut out, Some(tenant.owner_id.as_bytes()))?;
        field(&mut out, Some(tenant.env.as_str().as_bytes()))?;
        for v in row {
            match *v {
                SqlValue::Int(n) => {
                    field(&mut out, n.map(i64::to_be_bytes).as_ref().map(|b| &b[..]))?
                }
                SqlValue::Real(x) => {
                    field(&mut out, x.map(f64::to_be_bytes).as_ref().map(|b| &b[..]))?
                }
                SqlValue::Text(t) => field(&mut out, t.map(str::as_bytes))?,
                SqlValue::Blob(b) => field(&mut out, b)?,
            }
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_copy_frames_rows_fields_and_nulls() {
        let tenant = Tenant {
            owner_id: "o".into(),
            env: okra_core::Environment::Sandbox,
        };
        let table = Table {
            insert: "INSERT INTO t (owner_id, env, a, b, c, d)",
            columns: 6,
            values: vec![
                SqlValue::Int(Some(1)),
                SqlValue::Text(None),
                SqlValue::Blob(Some(&[0xab])),
                SqlValue::Real(Some(1.5)),
            ],
        };
        let data = copy_binary(&tenant, &table).unwrap();
        let mut want = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        want.extend_from_slice(&[0, 6]);
        want.extend_from_slice(&[0, 0, 0, 1, b'o']);
        want.extend_from_slice(&[0, 0, 0, 7]);
        want.extend_from_slice(b"sandbox");
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        want.extend_from_slice(&[0, 0, 0, 1, 0xab]);
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(&1.5f64.to_be_bytes());
        want.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(data, want);
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/a.db?mode=rwc"),
            Some("/tmp/a.db")
        );
        assert_eq!(sqlite_path("sqlite://rel.db"), Some("rel.db"));
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
