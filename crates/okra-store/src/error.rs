//! The store's error type: callers only need to know whether the database was unreachable or too
//! busy to take a write in time, a uniqueness rule was broken, or something else went wrong.

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached in time (pool timeout, refused or broken connection).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The PostgreSQL database named by the URL does not exist (never created, or dropped under a
    /// running server): unavailable to requests, and something `--create-database` can fix.
    #[error("database unavailable: {0}")]
    DatabaseMissing(String),
    /// The database is reachable but another writer held it for longer than the configured busy
    /// wait (SQLite's write lock), or a concurrent transaction won a lock or serialisation race
    /// (PostgreSQL). Retrying the whole operation later is the right reaction.
    #[error("database busy: {0}")]
    Busy(String),
    /// The database cannot store anything now: its disk is full or it is read-only (SQLite's
    /// SQLITE_FULL, SQLITE_READONLY or a disk I/O error; PostgreSQL's disk_full, I/O error or a
    /// read-only transaction). Reads may still work; writes fail whole (their transaction rolls
    /// back) until an operator frees space or makes the storage writable.
    #[error("database cannot be written: {0}")]
    CannotWrite(String),
    /// A unique constraint was violated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be decrypted or decoded.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_busy_code(&c)) => {
                StoreError::Busy(db.message().to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_cannot_write_code(&c)) => {
                StoreError::CannotWrite(db.message().to_string())
            }
            // SQLSTATE invalid_catalog_name: the database named in the URL does not exist.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
                StoreError::DatabaseMissing(db.message().to_string())
            }
            // The database is going away or cannot be had, not the query is wrong.
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_unavailable_code(&c)) => {
                StoreError::Unavailable(db.message().to_string())
            }
            _ => StoreError::Other(Box::new(e)),
        }
    }
}

/// Whether a database error code means "busy, retry": SQLite's primary codes SQLITE_BUSY (5) and
/// SQLITE_LOCKED (6) with every extended code (517 BUSY_SNAPSHOT, 261 BUSY_RECOVERY, 773
/// BUSY_TIMEOUT, 262 LOCKED_SHAREDCACHE, …: the low byte is the primary code), and PostgreSQL's
/// serialization failure, deadlock and lock-not-available SQLSTATEs. SQLSTATEs are always five
/// characters; SQLite's extended codes have at most four digits, so the two cannot be confused.
fn is_busy_code(code: &str) -> bool {
    if code.len() == 5 {
        return matches!(code, "40001" | "40P01" | "55P03");
    }
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Whether a database error code means "nothing can be written now": SQLite's primary codes
/// SQLITE_READONLY (8) and SQLITE_FULL (13) with every extended code, SQLITE_IOERR (10) with
/// every extended code but the read errors (SQLITE_IOERR_READ 266, SQLITE_IOERR_SHORT_READ 522,
/// SQLITE_IOERR_DATA 8202, SQLITE_IOERR_CORRUPTFS 8458: a disk that cannot give back what it
/// holds is a server error, not a full one), and
/// PostgreSQL's disk_full (53100), io_error (58030) and read_only_sql_transaction (25006).
fn is_cannot_write_code(code: &str) -> bool {
    if code.len() == 5 {
        return matches!(code, "53100" | "58030" | "25006");
    }
    code.parse::<i32>().is_ok_and(|c| {
        matches!(c & 0xff, 8 | 13) || (c & 0xff == 10 && !matches!(c, 266 | 522 | 8202 | 8458))
    })
}

/// PostgreSQL SQLSTATEs that mean the database cannot be had right now: admin shutdown / cannot
/// connect now (57P), connection exceptions (08), too many connections (53300), rejected
/// credentials (28), and a statement cancelled at its `statement_timeout` (57014: as SQLite's
/// interrupted statement, the database did not answer in time). A missing database (3D000) is
/// its own variant.
fn is_unavailable_code(code: &str) -> bool {
    code.len() == 5
        && (code.starts_with("57P")
            || code.starts_with("08")
            || code.starts_with("28")
            || code == "53300"
            || code == "57014")
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::Busy(e.to_string())
                }
                ErrorCode::ConstraintViolation => StoreError::Conflict(e.to_string()),
                // The deadline of `read::SqliteReaders::run` interrupted the statement.
                ErrorCode::OperationInterrupted => {
                    StoreError::Unavailable("statement timed out".into())
                }
                ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly => StoreError::Unavailable(e.to_string()),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt(e.to_string())
                }
                _ => StoreError::Other(Box::new(e)),
            },
            _ => StoreError::Other(Box::new(e)),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::{is_busy_code, is_cannot_write_code, is_unavailable_code};

    #[test]
    fn unavailable_codes_are_connection_troubles_only() {
        for gone in [
            "57P01", "57P03", "08006", "08001", "53300", "28P01", "28000", "57014",
        ] {
            assert!(is_unavailable_code(gone), "{gone}");
        }
        for other in ["23505", "42601", "40001", "3F000", "5", "2067"] {
            assert!(!is_unavailable_code(other), "{other}");
        }
    }

    #[test]
    fn busy_codes_of_both_engines_and_nothing_else() {
        for busy in [
            "5", "517", "261", "773", "6", "262", "40001", "40P01", "55P03",
        ] {
            assert!(is_busy_code(busy), "{busy}");
        }
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_ERROR, PostgreSQL unique violation and syntax error.
        for other in ["2067", "1", "23505", "42601", "19"] {
            assert!(!is_busy_code(other), "{other}");
        }
    }

    #[test]
    fn cannot_write_codes_are_full_read_only_and_write_errors() {
        // SQLITE_FULL, SQLITE_READONLY(_DBMOVED), SQLITE_IOERR(_WRITE, _FSYNC, _SHMSIZE),
        // PostgreSQL's disk_full, io_error and read_only_sql_transaction.
        for full in [
            "13", "8", "1032", "10", "778", "1034", "4874", "53100", "58030", "25006",
        ] {
            assert!(is_cannot_write_code(full), "{full}");
        }
        // SQLITE_IOERR_READ and _SHORT_READ, busy, a unique violation, SQLITE_CORRUPT.
        for other in [
            "266", "522", "8202", "8458", "5", "2067", "11", "23505", "57P01", "x",
        ] {
            assert!(!is_cannot_write_code(other), "{other}");
        }
    }
}
