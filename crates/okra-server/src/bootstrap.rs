//! Start-up: data dir, keys, database, migrations, the bank list and the first owner.

mod files;

use std::fs;
use std::path::PathBuf;

use anyhow::Context;
use okra_store::crypto::Keyring;
use okra_store::key_fingerprints::{self, Mismatch};
use okra_store::{Db, DbOptions, StoreError};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::services::owners::{self, OwnerCredentials};

/// Name of the owner created on first start.
pub const DEFAULT_OWNER: &str = "default";
const KEY_FILE: &str = "keys.json";
/// The embedded database in the data dir.
pub const SQLITE_FILE: &str = "okra.db";
const CREDENTIALS_FILE: &str = "credentials.json";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    data_keys: String,
    index_key: String,
}

pub use files::{write_private, write_private_new};

/// The keyring from configuration, else from `<data-dir>/keys.json`; `None` when neither has keys.
pub fn local_keyring(config: &Config) -> anyhow::Result<Option<Keyring>> {
    match (&config.data_key, &config.index_key) {
        (Some(d), Some(i)) => {
            return Keyring::parse(d.expose(), i.expose())
                .map(Some)
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
    if !path.exists() {
        return Ok(None);
    }
    let file: KeyFile = serde_json::from_slice(&fs::read(&path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    Keyring::parse(&file.data_keys, &file.index_key)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The keyring from configuration, else from `<data-dir>/keys.json`, generating it on first use.
/// Start-up goes through [`open`], which also checks the keys against the database.
pub fn load_keyring(config: &Config) -> anyhow::Result<Keyring> {
    if let Some(keyring) = local_keyring(config)? {
        return Ok(keyring);
    }
    let keyring = Keyring::generate();
    save_keyring(config, &keyring)?;
    Ok(keyring)
}

/// Where this process's keys come from, for messages.
fn key_source(config: &Config) -> String {
    if config.data_key.is_some() {
        "data_key/index_key (OKRA_DATA_KEY, OKRA_INDEX_KEY)".into()
    } else {
        config.data_dir.join(KEY_FILE).display().to_string()
    }
}

/// The fix every key refusal names.
fn share_keys_hint(config: &Config) -> String {
    format!(
        "every process using one database must hold the same keys: copy keys.json from the data dir of \
         the server that first used this database into {}, or set OKRA_DATA_KEY and OKRA_INDEX_KEY \
         (data_key, index_key) to that server's keys",
        config.data_dir.display()
    )
}

/// The local keys, checked against the fingerprints the database recorded (and recorded when the
/// database has none yet). Keys are generated only for a database that has never had any, so a
/// process never starts sealing rows its peers cannot open.
pub async fn checked_keyring(db: &Db, config: &Config) -> anyhow::Result<Keyring> {
    let keyring = match local_keyring(config)? {
        Some(k) => k,
        None => {
            if !key_fingerprints::load(db).await?.is_empty() {
                anyhow::bail!(
                    "refusing to start: this database already holds data sealed under keys that {} \
                     does not have (and no data_key/index_key is configured); {}",
                    config.data_dir.display(),
                    share_keys_hint(config)
                );
            }
            let k = Keyring::generate();
            save_keyring(config, &k)?;
            k
        }
    };
    let problems = key_fingerprints::verify_and_record(db, &keyring.fingerprints()).await?;
    if !problems.is_empty() {
        let what: Vec<String> = problems
            .iter()
            .map(|p| match p {
                Mismatch::IndexKey => "the index key differs".to_string(),
                Mismatch::DataKey(id) => format!("data key {id} differs"),
                Mismatch::MissingDataKey(id) => format!("data key {id} is missing"),
            })
            .collect();
        anyhow::bail!(
            "refusing to start: the keys in {} do not match the keys this database was written with ({}); {}",
            key_source(config),
            what.join(", "),
            share_keys_hint(config)
        );
    }
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

/// Opens the database, applies migrations, checks the keys and loads the bank list.
pub async fn open(config: &Config) -> anyhow::Result<(Db, Keyring)> {
    files::prepare_data_dir(&config.data_dir)?;
    let sqlite_file = config.data_dir.join(SQLITE_FILE);
    if config.uses_embedded_sqlite() {
        files::prepare_sqlite_file(&sqlite_file)?;
    }
    let db = connect(config).await?;
    db.migrate().await.context("applying migrations")?;
    if config.uses_embedded_sqlite() {
        // Files an older version (or a wide umask) created stay private from now on.
        files::tighten_sqlite_files(&sqlite_file)?;
    }
    let keyring = checked_keyring(&db, config).await?;
    okra_store::banks::seed(&db)
        .await
        .context("loading the bank list")?;
    Ok((db, keyring))
}

/// Connects without migrating. A PostgreSQL database that does not exist is one plain message
/// naming the fix, or is created first when `create_database` is set (`--create-database`).
pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    let options = DbOptions {
        max_connections: config.db_max_connections,
        acquire_timeout: std::time::Duration::from_millis(config.db_acquire_timeout_ms),
        busy_timeout: std::time::Duration::from_millis(config.db_busy_timeout_ms),
        ..DbOptions::default()
    };
    let url = config.effective_database_url();
    let first = Db::connect(&url, &options).await;
    let result = match first {
        Err(e) if okra_store::admin::is_missing_database(&e) => {
            let name = okra_store::admin::database_name(&url).unwrap_or("?");
            if !config.create_database {
                anyhow::bail!(
                    "the PostgreSQL database `{name}` does not exist: create it (`createdb {name}`) \
                     or run again with --create-database"
                );
            }
            okra_store::admin::create_postgres_database(&url)
                .await
                .map_err(|e| anyhow::anyhow!("creating the database `{name}`: {e}"))?;
            eprintln!("created the PostgreSQL database `{name}`");
            Db::connect(&url, &options).await
        }
        other => other,
    };
    // The store error already carries the driver's message: one line, not the chain repeated.
    result.map_err(|e| anyhow::anyhow!("connecting to the database: {e}"))
}

/// The credentials file of the configured database: `credentials.json` for the SQLite file in the
/// data dir, `credentials-<host>-<port>-<database>.json` for a database elsewhere, so that pointing
/// one data dir at several databases keeps one file per database.
pub fn credentials_path(config: &Config) -> PathBuf {
    if config.uses_embedded_sqlite() {
        return config.data_dir.join(CREDENTIALS_FILE);
    }
    let url = config.effective_database_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    // Never the user name or password: only host, port and database name.
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let label: String = rest
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => c,
            _ => '-',
        })
        .collect();
    config
        .data_dir
        .join(format!("credentials-{}.json", label.trim_matches('-')))
}

/// On first start, creates owner `default` and writes its credentials to [`credentials_path`]
/// (0600), or to a new name beside it when that file exists: a credentials file is never overwritten.
/// Returns the credentials and the file they were written to when they were created now (so they
/// can be printed once).
pub async fn first_start(
    db: &Db,
    keyring: &Keyring,
    config: &Config,
) -> anyhow::Result<Option<(OwnerCredentials, PathBuf)>> {
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
    let json = serde_json::to_vec_pretty(&creds)?;
    let path = credentials_path(config);
    if let Err(e) = files::write_private_new(&path, &json) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        // That file holds another database's keys, which exist nowhere else: never overwrite it.
        let fallback = path.with_file_name(format!(
            "{}-{}.json",
            path.file_stem().unwrap_or_default().to_string_lossy(),
            creds.owner_id
        ));
        files::write_private_new(&fallback, &json)
            .with_context(|| format!("writing {}", fallback.display()))?;
        return Ok(Some((creds, fallback)));
    }
    Ok(Some((creds, path)))
}

/// The banner printed once on first start.
pub fn credentials_banner(creds: &OwnerCredentials, file: &std::path::Path) -> String {
    let mut out = format!(
        "\nFirst start: created owner `{}`. These credentials are shown once; they are also in {} (mode 0600).\n",
        creds.owner,
        file.display()
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
