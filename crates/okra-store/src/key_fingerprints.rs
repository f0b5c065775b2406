//! Fingerprints of the data keys and the index key, stored in the database so that every process
//! using it can prove it holds the same keys (see [`crate::crypto::Keyring::fingerprints`]).
//!
//! Two processes sharing a database but not their keys would otherwise each seal rows the other
//! cannot open, and one such row makes whole listings fail.

use okra_core::time::now_ms;
use sqlx::Row;

use crate::crypto::KeyFingerprints;
use crate::db::Db;
use crate::error::Result;

const DATA: &str = "data";
const INDEX: &str = "index";

/// What the database has recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Fingerprint of the index key, once recorded.
    pub index: Option<String>,
    /// `(key id, fingerprint)` of each recorded data key, oldest record first.
    pub data: Vec<(u32, String)>,
}

impl Recorded {
    /// True when no key has been recorded yet (a new database).
    pub fn is_empty(&self) -> bool {
        self.index.is_none() && self.data.is_empty()
    }
}

/// Why local keys do not fit the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The local index key is not the database's.
    IndexKey,
    /// The local data key with this id is not the database's key of that id.
    DataKey(u32),
    /// The database's newest data key (values may be sealed under it) is missing locally.
    MissingDataKey(u32),
}

/// The recorded fingerprints.
pub async fn load(db: &Db) -> Result<Recorded> {
    let rows = sqlx::query(
        "SELECT kind, key_id, fingerprint FROM key_fingerprints ORDER BY created_at, key_id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut recorded = Recorded::default();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let fingerprint: String = row.try_get("fingerprint")?;
        if kind == INDEX {
            recorded.index = Some(fingerprint);
        } else if kind == DATA {
            let id: i64 = row.try_get("key_id")?;
            recorded.data.push((id as u32, fingerprint));
        }
    }
    Ok(recorded)
}

/// Compares local keys with what the database recorded (pure; see [`verify_and_record`]).
pub fn compare(recorded: &Recorded, local: &KeyFingerprints) -> Vec<Mismatch> {
    let mut problems = Vec::new();
    if recorded.index.as_ref().is_some_and(|f| *f != local.index) {
        problems.push(Mismatch::IndexKey);
    }
    for (id, fingerprint) in &local.data {
        if recorded
            .data
            .iter()
            .any(|(rid, rf)| rid == id && rf != fingerprint)
        {
            problems.push(Mismatch::DataKey(*id));
        }
    }
    // Older keys may have been dropped after a completed rotation; the newest one may seal values.
    if let Some((newest, _)) = recorded.data.last() {
        if !local.data.iter().any(|(id, _)| id == newest) {
            problems.push(Mismatch::MissingDataKey(*newest));
        }
    }
    problems
}

/// Checks local keys against the database and records the ones it does not know yet (the first
/// process on a new database records its keys; `keys rotate-data-key` records the new key).
/// Returns the mismatches; nothing is recorded when there are any. Concurrent first starts with
/// different keys are settled by the primary key: one records, the other then sees a mismatch.
pub async fn verify_and_record(db: &Db, local: &KeyFingerprints) -> Result<Vec<Mismatch>> {
    let problems = compare(&load(db).await?, local);
    if !problems.is_empty() {
        return Ok(problems);
    }
    let now = now_ms();
    {
        let mut tx = db.begin().await?;
        let rows = std::iter::once((INDEX, 0i64, &local.index)).chain(
            // Oldest first, so that the current key is the newest record.
            local
                .data
                .iter()
                .rev()
                .map(|(id, f)| (DATA, i64::from(*id), f)),
        );
        for (offset, (kind, id, fingerprint)) in rows.enumerate() {
            sqlx::query(
                "INSERT INTO key_fingerprints (kind, key_id, fingerprint, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (kind, key_id) DO NOTHING",
            )
            .bind(kind)
            .bind(id)
            .bind(fingerprint)
            .bind(now + offset as i64)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
    }
    Ok(compare(&load(db).await?, local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keyring;
    use crate::db::{sqlite_url, DbOptions};

    async fn db(dir: &tempfile::TempDir) -> Db {
        let db = Db::connect(&sqlite_url(&dir.path().join("t.db")), &DbOptions::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    }

    #[test]
    fn both_flavours_define_the_same_table() {
        let pg = include_str!("../migrations/postgres/0007_key_fingerprints.sql");
        let lite = include_str!("../migrations/sqlite/0007_key_fingerprints.sql");
        assert_eq!(pg.replace("BIGINT", "INTEGER"), lite);
    }

    #[tokio::test]
    async fn first_keys_are_recorded_and_other_keys_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let mine = Keyring::generate();
        assert!(load(&db).await.unwrap().is_empty());
        assert!(verify_and_record(&db, &mine.fingerprints())
            .await
            .unwrap()
            .is_empty());
        assert!(verify_and_record(&db, &mine.fingerprints())
            .await
            .unwrap()
            .is_empty());
        let theirs = Keyring::generate();
        assert_eq!(
            verify_and_record(&db, &theirs.fingerprints())
                .await
                .unwrap(),
            vec![Mismatch::IndexKey, Mismatch::DataKey(1)]
        );
        let recorded = load(&db).await.unwrap();
        assert!(!format!("{recorded:?}").contains(&mine.export().1));
    }

    #[tokio::test]
    async fn rotation_is_recorded_and_a_process_without_the_new_key_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let old = Keyring::generate();
        assert!(verify_and_record(&db, &old.fingerprints())
            .await
            .unwrap()
            .is_empty());
        let rotated = old.rotated();
        assert!(verify_and_record(&db, &rotated.fingerprints())
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            verify_and_record(&db, &old.fingerprints()).await.unwrap(),
            vec![Mismatch::MissingDataKey(2)]
        );
        // After a rotation the old key may be dropped from configuration.
        let (data, index) = rotated.export();
        let newest_only = Keyring::parse(data.split(',').next().unwrap(), &index).unwrap();
        assert!(verify_and_record(&db, &newest_only.fingerprints())
            .await
            .unwrap()
            .is_empty());
    }
}
