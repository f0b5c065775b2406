//! Start-up: data dir, keys, database, migrations, the bank list and the first owner.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use okra_store::crypto::Keyring;
use okra_store::{Db, DbOptions, StoreError};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::services::owners::{self, OwnerCredentials};

/// Name of the owner created on first start.
pub const DEFAULT_OWNER: &str = "default";
const KEY_FILE: &str = "keys.json";
const CREDENTIALS_FILE: &str = "credentials.json";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    data_keys: String,
    index_key: String,
}

/// Writes `contents` to `path` readable by the owner only (0600), replacing it atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The keyring from configuration, else from `<data-dir>/keys.json`, generating it on first use.
pub fn load_keyring(config: &Config) -> anyhow::Result<Keyring> {
    match (&config.data_key, &config.index_key) {
        (Some(d), Some(i)) => {
            return Keyring::parse(d.expose(), i.expose())
                .map_err(|e| anyhow::anyhow!("data_key/index_key: {e}"))
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!(
                "set both data_key and index_key (OKRA_DATA_KEY, OKRA_INDEX_KEY), or neither"
            )
        }
        (None, None) => {}
    }
    let path = config.data_dir.join(KEY_FILE);
    if path.exists() {
        let file: KeyFile = serde_json::from_slice(&fs::read(&path)?)
            .with_context(|| format!("reading {}", path.display()))?;
        return Keyring::parse(&file.data_keys, &file.index_key)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let keyring = Keyring::generate();
    save_keyring(config, &keyring)?;
    Ok(keyring)
}

/// Writes the keyring to `<data-dir>/keys.json` (0600).
pub fn save_keyring(config: &Config, keyring: &Keyring) -> anyhow::Result<()> {
    let (data_keys, index_key) = keyring.export();
    let json = serde_json::to_vec_pretty(&KeyFile {
        data_keys,
        index_key,
    })?;
    write_private(&config.data_dir.join(KEY_FILE), &json)
}

/// Opens the database, applies migrations and loads the bank list.
pub async fn open(config: &Config) -> anyhow::Result<(Db, Keyring)> {
    fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let keyring = load_keyring(config)?;
    let db = connect(config).await?;
    db.migrate().await.context("applying migrations")?;
    okra_store::banks::seed(&db)
        .await
        .context("loading the bank list")?;
    Ok((db, keyring))
}

/// Connects without migrating.
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    let options = DbOptions {
        max_connections: config.db_max_connections,
        acquire_timeout: std::time::Duration::from_millis(config.db_acquire_timeout_ms),
        busy_timeout: std::time::Duration::from_millis(config.db_busy_timeout_ms),
        ..DbOptions::default()
    };
    Db::connect(&config.effective_database_url(), &options)
        .await
        .context("connecting to the database")
}

/// On first start, creates owner `default` and writes `<data-dir>/credentials.json` (0600).
/// Returns the credentials when they were created now (so they can be printed once).
pub async fn first_start(
    db: &Db,
    keyring: &Keyring,
    config: &Config,
) -> anyhow::Result<Option<OwnerCredentials>> {
    if okra_store::owners::find_by_name(db, DEFAULT_OWNER)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let creds = match owners::create_owner(db, keyring, DEFAULT_OWNER).await {
        Ok(c) => c,
        // Another process created it between our check and insert.
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    write_private(
        &config.data_dir.join(CREDENTIALS_FILE),
        &serde_json::to_vec_pretty(&creds)?,
    )?;
    Ok(Some(creds))
}

/// The banner printed once on first start.
pub fn credentials_banner(creds: &OwnerCredentials, config: &Config) -> String {
    let mut out = format!(
        "\nFirst start: created owner `{}`. These credentials are shown once; they are also in {} (mode 0600).\n",
        creds.owner,
        config.data_dir.join(CREDENTIALS_FILE).display()
    );
    for k in &creds.keys {
        out.push_str(&format!(
            "  {:<11} {:<12} key: {}\n",
            k.env.as_str(),
            k.kind,
            k.key
        ));
    }
    out.push_str(&format!(
        "  webhook signing secret:       {}\n",
        creds.webhook_secret
    ));
    out
}
