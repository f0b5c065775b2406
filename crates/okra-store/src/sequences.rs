//! Named counters (`sequences` table): values handed out without a race on both backends.
//!
//! A value is taken with one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement on the
//! caller's transaction. On PostgreSQL the updated row stays locked until that transaction ends,
//! so concurrent takers queue on it and each sees the previous one's bump; on SQLite the
//! transaction already holds the write lock (`BEGIN IMMEDIATE`). A rolled-back transaction gives
//! its values back.

use sqlx::AnyConnection;

use crate::error::{Result, StoreError};

/// Takes `count` consecutive values of the counter `name` on `conn`, inside the caller's
/// transaction, and returns the first. A counter that does not exist yet starts at `start`.
pub async fn take(conn: &mut AnyConnection, name: &str, start: i64, count: i64) -> Result<i64> {
    if count < 1 {
        return Err(StoreError::Corrupt(format!(
            "sequence {name}: cannot take {count} values"
        )));
    }
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO sequences (name, next_value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET next_value = sequences.next_value + $3 \
         RETURNING next_value",
    )
    .bind(name)
    .bind(start + count)
    .bind(count)
    .fetch_one(&mut *conn)
    .await?;
    Ok(next - count)
}

/// Reserves `count` consecutive simulated-network person indexes for new sandbox customers, on
/// the caller's transaction, and returns the first (the network's custom people start at
/// `base`). Indexes are global, not per tenant: a custom person's BVN, phones and NUBANs are
/// derived from the index and must map back to one customer.
pub async fn reserve_sandbox_persons(
    conn: &mut AnyConnection,
    base: i64,
    count: i64,
) -> Result<i64> {
    let first = take(conn, "sandbox_person", base, count).await?;
    if first < base {
        return Err(crate::error::StoreError::Corrupt(format!(
            "sandbox_person sequence at {first}, below the custom range starting at {base}"
        )));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use crate::db::{sqlite_url, Db, DbOptions};

    #[tokio::test]
    async fn takes_consecutive_ranges_and_a_rollback_gives_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir.path().join("t.db"));
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        let take = |count| {
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                let first = super::take(tx.conn(), "s", 100, count).await.unwrap();
                (tx, first)
            }
        };
        let (tx, first) = take(3).await;
        tx.commit().await.unwrap();
        assert_eq!(first, 100, "a new sequence starts at `start`");
        let (tx, first) = take(2).await;
        tx.commit().await.unwrap();
        assert_eq!(first, 103);
        let (tx, first) = take(5).await;
        drop(tx);
        assert_eq!(first, 105);
        let (tx, first) = take(1).await;
        tx.commit().await.unwrap();
        assert_eq!(first, 105, "rolled-back values are handed out again");
    }
}
