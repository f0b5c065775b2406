//! Re-encryption of every sealed column under the current data key (data-key rotation).
//!
//! Works in batches by id, one transaction per batch, so it can run while servers serve traffic and
//! can be interrupted and run again: rows already under the current key are skipped.

use sqlx::Row;

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;

/// Every sealed column: (table, column, associated-data context). The list lives at the crate
/// root, which names every table module, so that this module names none.
pub use crate::SEALED_COLUMNS;

/// Progress of a rotation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RekeyReport {
    /// Values examined.
    pub examined: u64,
    /// Values re-sealed under the current key.
    pub rewritten: u64,
}

/// Re-seals every value not sealed with the keyring's current key, `batch` rows per transaction.
pub async fn reencrypt(
    db: &Db,
    keyring: &Keyring,
    batch: usize,
    mut progress: impl FnMut(&str, &RekeyReport),
) -> Result<RekeyReport> {
    let current = keyring.current_key_id();
    let mut report = RekeyReport::default();
    for (table, column, context) in SEALED_COLUMNS {
        let mut after = String::new();
        loop {
            let rows = sqlx::query(&format!(
                "SELECT id, {column} AS sealed FROM {table} WHERE id > $1 AND {column} IS NOT NULL ORDER BY id LIMIT $2"
            ))
            .bind(&after)
            .bind(batch as i64)
            .fetch_all(db.pool())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            let mut tx = db.begin().await?;
            for row in &rows {
                report.examined += 1;
                let sealed: Vec<u8> = row.try_get("sealed")?;
                if Keyring::key_id_of(&sealed) == Some(current) {
                    continue;
                }
                let plain = keyring.open(context, &sealed)?;
                let id: String = row.try_get("id")?;
                // Only replace what we read: a concurrent writer's newer value wins.
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3"
                ))
                .bind(keyring.seal(context, &plain))
                .bind(&id)
                .bind(sealed)
                .execute(tx.conn())
                .await?;
                report.rewritten += 1;
            }
            tx.commit().await?;
            progress(table, &report);
        }
    }
    Ok(report)
}

/// Number of sealed values not under the current key, counted by the database: the key id sits in
/// bytes 2–5 of every sealed value (after the version byte), so a prefix comparison finds stale
/// values without sending any of them to this process.
pub async fn count_stale(db: &Db, keyring: &Keyring) -> Result<u64> {
    let prefix = crate::crypto::sealed_prefix(keyring.current_key_id());
    let mut stale = 0;
    for (table, column, _) in SEALED_COLUMNS {
        // `substr` takes bytes of a BLOB on SQLite and of a BYTEA on PostgreSQL.
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND substr({column}, 1, {len}) <> $1",
            len = prefix.len()
        ))
        .bind(prefix.to_vec())
        .fetch_one(db.pool())
        .await?;
        stale += n as u64;
    }
    Ok(stale)
}
