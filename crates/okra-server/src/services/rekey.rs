//! `okra-server keys rotate-data-key`: a new current data key, then every sealed value re-sealed.
//!
//! With the embedded key file (`<data-dir>/keys.json`) the command generates the new key and writes
//! the file (old keys stay for decryption); running servers reload the file within a second
//! ([`watch_key_file`]), and the command waits for that before re-encrypting. With keys from
//! configuration (`OKRA_DATA_KEY`) the operator puts a new key first, restarts the servers, then
//! runs the command to re-encrypt under it.

use std::time::{Duration, SystemTime};

use okra_store::Db;

use crate::app::AppState;
use crate::bootstrap;
use crate::config::Config;

/// How often servers look at the key file.
pub const KEY_FILE_POLL: Duration = Duration::from_millis(500);

/// Rotates (file-based keys) and re-encrypts every sealed value under the current key.
pub async fn rotate(db: &Db, config: &Config, batch: usize) -> anyhow::Result<()> {
    let current = bootstrap::checked_keyring(db, config).await?;
    let keyring = if config.data_key.is_some() {
        eprintln!(
            "data keys come from configuration: re-encrypting under the first configured key (id {})",
            current.current_key_id()
        );
        current
    } else {
        let rotated = current.rotated();
        bootstrap::save_keyring(config, &rotated)?;
        // The file first, then the database: a crash in between leaves a new key nobody has
        // recorded (the next start records it), never a recorded key nobody has.
        let problems =
            okra_store::key_fingerprints::verify_and_record(db, &rotated.fingerprints()).await?;
        anyhow::ensure!(
            problems.is_empty(),
            "the rotated keys do not match this database's key fingerprints: {problems:?}"
        );
        eprintln!(
            "new data key {} written to {}",
            rotated.current_key_id(),
            config.data_dir.join("keys.json").display()
        );
        // Running servers reload the key file; wait until they can read values sealed with the new key.
        tokio::time::sleep(KEY_FILE_POLL * 4).await;
        rotated
    };
    let report = okra_store::rekey::reencrypt(db, &keyring, batch, |table, r| {
        eprintln!(
            "{table}: {} examined, {} re-encrypted",
            r.examined, r.rewritten
        );
    })
    .await?;
    let stale = okra_store::rekey::count_stale(db, &keyring).await?;
    println!(
        "re-encrypted {} of {} values under data key {}; {} values left under older keys",
        report.rewritten,
        report.examined,
        keyring.current_key_id(),
        stale
    );
    Ok(())
}

/// Reloads the keyring into `state` whenever `<data-dir>/keys.json` changes (file-based keys only).
pub async fn watch_key_file(state: AppState, shutdown: tokio_util::sync::CancellationToken) {
    if state.config.data_key.is_some() {
        return;
    }
    let path = state.config.data_dir.join("keys.json");
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen: Option<SystemTime> = modified(&path);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(KEY_FILE_POLL) => {}
            _ = shutdown.cancelled() => return,
        }
        let now = modified(&path);
        if now != seen {
            match reloadable(&state).await {
                Ok(Ok(k)) => {
                    tracing::info!(current_key_id = k.current_key_id(), "reloaded data keys");
                    state.set_keyring(k);
                    seen = now;
                }
                Ok(Err(refused)) => {
                    // Said once per change of the file, not every poll.
                    tracing::error!(error = %refused, "refusing the new key file; keeping the old keys");
                    seen = now;
                }
                Err(e) => {
                    // Possibly transient (a file mid-copy, the database): tried again next poll.
                    tracing::error!(error = %e, "reloading data keys failed; keeping the old ones")
                }
            }
        }
    }
}

/// The key file's keys, if they may replace the running ones: present (a deleted file never makes
/// a server generate keys) and matching the fingerprints the database recorded. The inner error is
/// a refusal; the outer one a failure to read the file or the database.
async fn reloadable(
    state: &AppState,
) -> anyhow::Result<Result<okra_store::crypto::Keyring, String>> {
    let Some(keyring) = bootstrap::local_keyring(&state.config)? else {
        return Ok(Err("the key file is gone".into()));
    };
    let recorded = okra_store::key_fingerprints::load(&state.db).await?;
    let problems = okra_store::key_fingerprints::compare(&recorded, &keyring.fingerprints());
    if !problems.is_empty() {
        return Ok(Err(format!(
            "the key file does not match this database's keys: {problems:?}"
        )));
    }
    Ok(Ok(keyring))
}
