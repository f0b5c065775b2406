//! The data directory and its files: private to the user running the server whatever the umask
//! (the directory 0700, every file 0600), never loosened, and credentials never overwritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Mode of the data directory: names and balances in the SQLite file are nobody else's business.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Whether `name` is a file okra-server keeps in its data directory.
fn is_ours(name: &str) -> bool {
    name == "keys.json"
        || (name.starts_with("credentials") && name.ends_with(".json"))
        || matches!(
            name,
            "okra.db" | "okra.db-wal" | "okra.db-shm" | "okra.db-journal"
        )
}

/// Creates the data directory 0700 (with missing parents). An existing directory that holds
/// only okra-server's files has group and other access taken away; one that holds anything else
/// (`--data-dir /tmp`, `.`) is someone else's too and is left as it is, with a warning — our own
/// files in it are 0600 either way.
pub fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    let existed = dir.is_dir();
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating data dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        let mut shared = false;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_ours(&name) {
                shared = true;
            } else if name.ends_with(".json") && entry.file_type()?.is_file() {
                tighten(&entry.path(), FILE_MODE)?;
            }
        }
        if existed && shared {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir)?.permissions().mode() & 0o7777;
            if mode & !DIR_MODE != 0 {
                tracing::warn!(path = %dir.display(), mode = format!("{mode:o}"),
                    "the data dir holds other files too, so its mode is left alone; okra-server's \
                     own files in it are 0600, but a dedicated directory is safer");
            }
        } else {
            tighten(dir, DIR_MODE)?;
        }
    }
    Ok(())
}

/// Makes sure the SQLite file exists 0600 before SQLite opens it: SQLite gives its `-wal` and
/// `-shm` files the database file's mode, so they are private too. Existing files are tightened.
pub fn prepare_sqlite_file(db_file: &Path) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    let verb = if db_file.exists() {
        "opening the database file for writing"
    } else {
        "creating the database file"
    };
    opts.open(db_file)
        .with_context(|| format!("{verb} {}", db_file.display()))?;
    tighten_sqlite_files(db_file)
}

/// Takes group and other access away from the SQLite file and its `-wal` / `-shm` companions.
pub fn tighten_sqlite_files(db_file: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db_file.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            tighten(&path, FILE_MODE)?;
        }
    }
    #[cfg(not(unix))]
    let _ = db_file;
    Ok(())
}

/// Removes permission bits outside `allowed`; never adds any. A failure to change them is a
/// warning, not an error.
#[cfg(unix)]
fn tighten(path: &Path, allowed: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & !allowed != 0 {
        let tightened = mode & allowed;
        tracing::warn!(path = %path.display(), from = format!("{mode:o}"), to = format!("{tightened:o}"),
            "restricting access to the data directory");
        // Not ours to change (another user's directory): say so, but do not refuse to start.
        if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(tightened)) {
            tracing::warn!(path = %path.display(), error = %e,
                "could not restrict access: other local users may read it");
        }
    }
    Ok(())
}

fn write_temp(path: &Path, contents: &[u8]) -> anyhow::Result<PathBuf> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    // A stale temporary file keeps its old mode through `open`: set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(tmp)
}

/// Writes `contents` to `path` readable by the owner only (0600), replacing it atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = write_temp(path, contents)?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Writes `contents` to a new file `path` (0600), atomically, failing when `path` exists: the
/// link either creates the complete file or fails, so nothing is ever overwritten.
pub fn write_private_new(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, contents).map_err(std::io::Error::other)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked
}
