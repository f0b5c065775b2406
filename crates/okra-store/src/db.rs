//! The database handle: one `Any` pool over SQLite or PostgreSQL, migrations, and write transactions.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Result, StoreError};

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
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// A cloneable handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time; write transactions of this process queue here instead
    /// of failing with SQLITE_BUSY when a read transaction would have to be upgraded.
    write_lock: Arc<Mutex<()>>,
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
        let connect_options: AnyConnectOptions = url.parse().map_err(StoreError::Other)?;
        let statement_timeout_ms = options.statement_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // Readers run concurrently under WAL; writers are serialised by `write_lock`.
                Backend::Sqlite => options.max_connections.clamp(2, 8),
                Backend::Postgres => options.max_connections,
            })
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
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
            .connect_with(connect_options)
            .await?;
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Applies the migrations of this backend (idempotent; safe while other processes run).
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => StoreError::from(inner),
            other => StoreError::Corrupt(other.to_string()),
        })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for single statements (reads, or atomic single-statement writes).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks the database answers (`GET /ready`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it first takes this process's writer lock so that
    /// concurrent writers queue instead of failing; across processes SQLite's `busy_timeout` applies.
    pub async fn begin(&self) -> Result<Tx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.lock_writer().await?),
            Backend::Postgres => None,
        };
        let tx = self.pool.begin().await?;
        Ok(Tx { tx, _guard: guard })
    }

    /// Runs a single write statement under the SQLite writer lock (no-op lock on PostgreSQL).
    pub async fn write_guard(&self) -> Result<Option<OwnedMutexGuard<()>>> {
        match self.backend {
            Backend::Sqlite => Ok(Some(self.lock_writer().await?)),
            Backend::Postgres => Ok(None),
        }
    }

    async fn lock_writer(&self) -> Result<OwnedMutexGuard<()>> {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.write_lock.clone().lock_owned(),
        )
        .await
        .map_err(|_| StoreError::Unavailable("timed out waiting for the SQLite writer".into()))
    }

    /// Closes the pool; later operations fail as unavailable (used at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction. Dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    tx: Transaction<'static, sqlx::Any>,
    _guard: Option<OwnedMutexGuard<()>>,
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
        sql.lines()
            .map(|l| l.split("--").next().unwrap_or("").trim().to_string())
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
        let pg = include_str!("../migrations/postgres/0001_schema.sql");
        let lite = include_str!("../migrations/sqlite/0001_schema.sql");
        assert_eq!(table_shape(pg), table_shape(lite));
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
}
