//! The database handle: one `Any` pool over SQLite or PostgreSQL, migrations, and write transactions.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use crate::error::{Result, StoreError};
use crate::read::{Columns, Param, SqliteReaders};

/// Which database engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (WAL mode).
    Sqlite,
    /// PostgreSQL (or a wire-compatible engine).
    Postgres,
}

/// Pool settings.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long a request may wait for a connection before the database counts as unreachable.
    pub acquire_timeout: Duration,
    /// How long one statement may run (PostgreSQL `statement_timeout`).
    pub statement_timeout: Duration,
    /// How long an SQLite writer waits for the write lock (held by this or another process)
    /// before giving up with [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_millis(1500),
            statement_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A cloneable handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// SQLite only: the one connection write transactions run on. Its SQLite busy handler is off
    /// (`busy_timeout = 0`) so that [`Db::begin`] polls for the write lock itself, often enough
    /// to get through the short gaps other processes' writers leave (SQLite's own handler sleeps
    /// up to 100 ms between attempts and so loses the race to a busy process for seconds).
    writer: Option<AnyPool>,
    backend: Backend,
    /// SQLite allows one writer at a time; writers of this process queue here in order, so only
    /// one of them at a time competes with other processes for SQLite's write lock.
    write_lock: Arc<Mutex<()>>,
    busy_timeout: Duration,
    /// SQLite on a file: the connections hot reads run on ([`Db::query`]), off the sqlx pool.
    readers: Option<Arc<SqliteReaders>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The URL of an SQLite file (created if missing).
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Unavailable(
                "unsupported database URL (expected sqlite:// or postgres://)".into(),
            ));
        };
        let connect_options: AnyConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Other(Box::new(e)))?;
        // Readers run concurrently under WAL; writers are serialised by `write_lock`.
        let max = match backend {
            Backend::Sqlite => options.max_connections.clamp(2, 8),
            Backend::Postgres => options.max_connections,
        };
        let busy_ms = options.busy_timeout.as_millis() as u64;
        let pool = open_pool(backend, options, &connect_options, max, busy_ms).await?;
        let writer = match backend {
            Backend::Sqlite => Some(open_pool(backend, options, &connect_options, 1, 0).await?),
            Backend::Postgres => None,
        };
        // An in-memory SQLite database exists only on sqlx's connections: reads stay there.
        let readers = match backend {
            Backend::Sqlite => crate::read::sqlite_file(url).map(|path| {
                Arc::new(SqliteReaders::new(
                    &path,
                    max as usize,
                    options.acquire_timeout,
                    options.busy_timeout,
                    options.statement_timeout,
                ))
            }),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            writer,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            busy_timeout: options.busy_timeout,
            readers,
        })
    }

    /// Applies the migrations of this backend (idempotent; safe while other processes run).
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            // A migration may rebuild an index or backfill counters over a whole table, which
            // takes longer than the pool's statement timeout on a large database: none here. The
            // connection is closed afterwards rather than returned to the pool without its
            // timeout.
            conn.execute("SET statement_timeout = 0").await?;
        }
        let out = migrator.run(&mut *conn).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Corrupt(other.to_string()),
        });
        if self.backend == Backend::Postgres {
            let _ = conn.close().await;
        }
        out
    }

    /// Brings the planner's statistics up to date after a bulk change (`okra-server migrate`, the
    /// end of `sandbox load`). PostgreSQL: `ANALYZE` (a sample of every table; a server without
    /// autovacuum would otherwise plan from none), then `VACUUM customers`. SQLite: `ANALYZE` limited to a sample of each
    /// index (`analysis_limit`), so it stays well under a second at a million rows; connections
    /// opened later read the new `sqlite_stat1`. The hot queries are shaped so their plans do not
    /// depend on statistics (docs/decisions.md); estimates of the rest do.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let _queued = self.write_guard().await?;
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            conn.execute("PRAGMA analysis_limit = 1000").await?;
        }
        conn.execute("ANALYZE").await?;
        if self.backend == Backend::Postgres {
            // Sets the visibility map of the customers' pages, so that the page of ids behind
            // `customers/list` is an index-only scan (a deep OFFSET then steps over index entries
            // without visiting the table); autovacuum would do it some time later, or never.
            conn.execute("VACUUM customers").await?;
        }
        Ok(())
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for single statements (reads, or atomic single-statement writes).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs one read statement and maps its rows with `map`, in one trip to the database: on
    /// SQLite a pooled connection on a blocking thread runs it from its statement cache; on
    /// PostgreSQL it is one round trip on the pool, as a named prepared statement the connection
    /// keeps (see [`crate::read`]). `sql` uses `$1`, `$2`, ….
    pub async fn query<T, F>(&self, sql: &'static str, params: Vec<Param>, map: F) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T> + Send + 'static,
    {
        self.run_query(sql, params, true, map).await
    }

    /// [`Db::query`] for a statement whose best plan depends on its parameters' values (a page's
    /// LIMIT and OFFSET): PostgreSQL plans it for the values of each call (sent through the simple
    /// query protocol with the values as literals, [`crate::read::with_literals`]),
    /// never with the generic plan a kept prepared statement switches to after five runs, which
    /// cannot know the values and may then sort a whole table. SQLite plans alike either way.
    pub async fn query_replanned<T, F>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        map: F,
    ) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T> + Send + 'static,
    {
        self.run_query(sql, params, false, map).await
    }

    async fn run_query<T, F>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        keep_prepared: bool,
        map: F,
    ) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T> + Send + 'static,
    {
        if let Some(readers) = &self.readers {
            return readers
                .run(move |conn| crate::read::sqlite_rows(conn, sql, &params, map))
                .await;
        }
        if !keep_prepared {
            // One round trip through the simple query protocol, values written as literals:
            // PostgreSQL plans it for those values (an unnamed extended-protocol statement would
            // take a Parse/Describe round trip before the Bind/Execute one).
            let text = crate::read::with_literals(sql, &params)?;
            let rows = sqlx::raw_sql(&text).fetch_all(&self.pool).await?;
            return rows.iter().map(|r| map(r)).collect();
        }
        let mut q = sqlx::query(sql);
        for p in &params {
            q = match p {
                Param::Text(s) => q.bind(s.as_str()),
                Param::Int(i) => q.bind(*i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| map(r)).collect()
    }

    /// [`Db::query`] for a statement that returns at most one row.
    pub async fn query_one<T, F>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
        map: F,
    ) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T> + Send + 'static,
    {
        Ok(self.query(sql, params, map).await?.into_iter().next())
    }

    /// Checks the database answers (`GET /ready`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction.
    ///
    /// On SQLite it begins `IMMEDIATE`, taking the write lock at once: a deferred transaction
    /// that reads first and writes later cannot upgrade once another process has committed
    /// (SQLITE_BUSY_SNAPSHOT, which no busy handler waits out). Writers of this process queue on
    /// `write_lock`; the lock is then polled for until `busy_timeout` has passed in all, and
    /// [`StoreError::Busy`] says the wait ran out.
    pub async fn begin(&self) -> Result<Tx> {
        let Some(writer) = &self.writer else {
            return Ok(Tx {
                tx: self.pool.begin().await?,
                _guard: None,
            });
        };
        let deadline = Instant::now() + self.busy_timeout;
        let guard = self.lock_writer(deadline).await?;
        loop {
            match writer.begin_with("BEGIN IMMEDIATE").await {
                Ok(tx) => {
                    return Ok(Tx {
                        tx,
                        _guard: Some(guard),
                    })
                }
                Err(e) => match StoreError::from(e) {
                    StoreError::Busy(_) if Instant::now() < deadline => {
                        tokio::time::sleep(WRITE_LOCK_POLL).await
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// Runs a single write statement under the SQLite writer lock (no-op lock on PostgreSQL).
    /// Such statements wait for other processes' writers in SQLite's own busy handler, for the
    /// configured busy timeout.
    pub async fn write_guard(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        match self.backend {
            Backend::Sqlite => Ok(Some(
                self.lock_writer(Instant::now() + self.busy_timeout).await?,
            )),
            Backend::Postgres => Ok(None),
        }
    }

    async fn lock_writer(&self, deadline: Instant) -> Result<OwnedMutexGuard<()>> {
        tokio::time::timeout_at(deadline, self.write_lock.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Busy("timed out waiting for this process's writers".into()))
    }

    /// Closes the pool; later operations fail as unavailable (used at shutdown).
    pub async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers.close();
        }
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// How often [`Db::begin`] retries SQLite's write lock. Another process's writer leaves gaps of
/// well under a millisecond between transactions; polling this often finds one within seconds
/// even against a process that writes all the time (and `sandbox load` pauses between batches).
const WRITE_LOCK_POLL: Duration = Duration::from_millis(2);

/// A pool of at most `max` connections; on SQLite with WAL, `synchronous = NORMAL`, foreign
/// keys and SQLite's busy handler waiting `busy_ms`.
async fn open_pool(
    backend: Backend,
    options: &DbOptions,
    connect_options: &AnyConnectOptions,
    max: u32,
    busy_ms: u64,
) -> Result<AnyPool> {
    let statement_timeout_ms = options.statement_timeout.as_millis();
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(options.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match backend {
                    Backend::Sqlite => {
                        conn.execute(
                            format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = ON;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Backend::Postgres => {
                        conn.execute(
                            format!("SET statement_timeout = {statement_timeout_ms}").as_str(),
                        )
                        .await?;
                    }
                }
                Ok(())
            })
        })
        // A connection goes back to the pool only outside any transaction. A transaction whose
        // COMMIT failed (SQLITE_FULL, a disk I/O error) may have been rolled back by SQLite
        // already; sqlx's rollback-on-drop then fails, its transaction count stays up, and every
        // later `BEGIN` on that connection would fail for good. The ping waits for the queued
        // rollback to run; a connection still in a transaction after it is closed, not reused.
        .after_release(|conn, _meta| {
            Box::pin(async move {
                if conn.is_in_transaction() {
                    conn.ping().await?;
                }
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(connect_options.clone())
        .await?;
    Ok(pool)
}

/// A write transaction. Dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    tx: Transaction<'static, sqlx::Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

/// Which backend `conn` speaks (a transaction's connection does not carry the [`Db`]).
pub fn backend_of(conn: &AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// Serialises transactions that name the same `key` until the caller's transaction ends: a
/// transaction-scoped advisory lock on PostgreSQL (read-then-insert of a key no unique index can
/// wait on, such as one person's connections). SQLite needs none: its write transactions begin
/// `IMMEDIATE` and exclude each other already.
pub async fn lock_key(conn: &mut AnyConnection, key: &str) -> Result<()> {
    if backend_of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(conn)
            .await?;
    }
    Ok(())
}

impl Tx {
    /// The connection to run statements on inside the transaction.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_shape(sql: &str) -> Vec<String> {
        // Normalise type names so the two flavours compare equal.
        // A line marked `-- postgres only` or `-- sqlite only` (a storage setting, a table's
        // physical layout) has no counterpart in the other flavour, whose file holds `SELECT 1;`
        // in its place.
        sql.lines()
            .filter(|l| !l.contains("-- postgres only") && !l.contains("-- sqlite only"))
            .map(|l| l.split("--").next().unwrap_or("").trim().to_string())
            .filter(|l| l != "SELECT 1;")
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.replace("BYTEA", "BLOB")
                    .replace("DOUBLE PRECISION", "REAL")
                    .replace("BIGINT", "INTEGER")
            })
            .collect()
    }

    #[test]
    fn both_flavours_define_the_same_schema() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names = |flavour: &str| {
            let mut names: Vec<String> = std::fs::read_dir(dir.join(flavour))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let files = names("sqlite");
        assert_eq!(
            files,
            names("postgres"),
            "the same migrations in both flavours"
        );
        assert!(files.len() >= 2, "{files:?}");
        for file in files {
            let read =
                |flavour: &str| std::fs::read_to_string(dir.join(flavour).join(&file)).unwrap();
            assert_eq!(
                table_shape(&read("postgres")),
                table_shape(&read("sqlite")),
                "{file}"
            );
        }
    }

    #[tokio::test]
    async fn sqlite_connects_migrates_twice_and_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&sqlite_url(&dir.path().join("t.db")), &DbOptions::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let mut tx = db.begin().await.unwrap();
        sqlx::query("INSERT INTO ephemeral (owner_id, env, key, value, counter, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind("o").bind("sandbox").bind("k").bind("v").bind(1i64).bind(2i64)
            .execute(tx.conn()).await.unwrap();
        drop(tx); // rolled back
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ephemeral")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn a_writer_of_another_process_makes_begin_wait_then_busy() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir.path().join("t.db"));
        let options = DbOptions {
            busy_timeout: Duration::from_millis(300),
            ..DbOptions::default()
        };
        // Two handles are two processes as far as SQLite's locks are concerned.
        let (one, other) = (
            Db::connect(&url, &options).await.unwrap(),
            Db::connect(&url, &options).await.unwrap(),
        );
        one.migrate().await.unwrap();
        let held = other.begin().await.unwrap();
        match one.begin().await {
            Err(StoreError::Busy(_)) => {}
            Err(e) => panic!("expected Busy, got {e}"),
            Ok(_) => panic!("two writers at once"),
        }
        drop(held);
        one.begin()
            .await
            .expect("free again")
            .commit()
            .await
            .unwrap();
    }
}
