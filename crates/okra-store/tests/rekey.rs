//! Data-key rotation over a real database, through the public API (an integration test so that
//! `rekey` itself names no table module: it only needs rows to rotate).

use okra_store::crypto::Keyring;
use okra_store::db::{sqlite_url, DbOptions};
use okra_store::rekey::{count_stale, reencrypt};
use okra_store::Db;

#[tokio::test]
async fn stale_values_are_counted_by_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&sqlite_url(&dir.path().join("t.db")), &DbOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let old = Keyring::generate();
    for name in ["a", "b", "c"] {
        let mut tx = db.begin().await.unwrap();
        let sealed = old.seal_str(okra_store::owners::WEBHOOK_SECRET_CONTEXT, "whsec_x");
        okra_store::owners::create(tx.conn(), name, &sealed)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(count_stale(&db, &old).await.unwrap(), 0);
    let new = old.rotated();
    assert_eq!(count_stale(&db, &new).await.unwrap(), 3);
    reencrypt(&db, &new, 2, |_, _| {}).await.unwrap();
    assert_eq!(count_stale(&db, &new).await.unwrap(), 0);
    assert_eq!(count_stale(&db, &old).await.unwrap(), 3);
}
