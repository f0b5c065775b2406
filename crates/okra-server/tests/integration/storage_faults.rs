//! Issue 14: the SQLite database on a disk that fills up under a running server: writes answer
//! 503 with a message that says why and change nothing, reads keep working, and once there is
//! room again writes work without a restart. Then the disk is made read-only (a mounted
//! filesystem cannot turn read-only under files open for writing, so between two runs): the
//! binary refuses to start with a message naming the cause, and starts again once the disk is
//! writable. The file passes `PRAGMA integrity_check` at the end.
//!
//! The disk is a real filesystem of its own: a 4 MB tmpfs mounted for the test (root is needed
//! to mount; without it the test is skipped with a message, except under `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::common::{assert_error, Backend, TestServer};

const STORAGE: &str = "The database cannot store data right now (its disk is full or read-only). Nothing was changed; please retry later.";

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                "size=4m",
                "okra-test",
                dir.path().to_str().unwrap(),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: the storage fault tests need to mount a tmpfs (run as root)"
            );
            eprintln!("skipping: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args([
                "-o",
                &format!("remount,{mode}"),
                self.path().to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success(), "remount {mode}");
    }

    /// Fills the disk with a file of zeros until the filesystem says no more.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .args(["-l", self.dir.path().to_str().unwrap()])
            .status();
    }
}

/// Link sessions stored: a read through the API answers, and the table says how many.
async fn links(s: &TestServer, key: &str) -> i64 {
    let r = s
        .post("/v2/sandbox/customers/list", Some(key), json!({}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "reads go on: {}", r.text);
    sqlx::query_scalar("SELECT COUNT(*) FROM link_sessions")
        .fetch_one(s.db.pool())
        .await
        .unwrap()
}

/// `PRAGMA integrity_check` of the file, read-only, through the same SQLite the server links.
async fn integrity_ok(file: &Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(report, ["ok"], "integrity_check of {}", file.display());
    conn.close().await.unwrap();
}

/// The child's output once it exits; a child still running after `limit` is killed and the test
/// fails (a server that should have refused to start must not hang the suite).
fn output_within(child: std::process::Child, limit: std::time::Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the server neither served nor exited within {limit:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_then_read_only_disk_refuses_writes_clearly_and_recovers() {
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    let data = disk.path().to_path_buf();
    let s = TestServer::start_with(
        Backend::Sqlite,
        |c| c.data_dir = data.clone(),
        Default::default(),
    )
    .await;
    let key = s.sandbox_key();
    let new_link = || {
        s.post(
            "/v2/sandbox/links/new",
            Some(&key),
            json!({"products": ["identity"]}),
        )
    };
    assert_eq!(new_link().await.status.as_u16(), 200);
    let before = links(&s, &key).await;

    // The disk fills up: writes are refused whole and say why; reads go on.
    let filler = disk.fill();
    for _ in 0..5 {
        let r = new_link().await;
        assert_error(&r, 503, STORAGE);
    }
    assert_eq!(links(&s, &key).await, before, "nothing was written");
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&key)).await,
        200
    );

    // Room again: writes work, no restart.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(new_link().await.status.as_u16(), 200);
    assert_eq!(links(&s, &key).await, before + 1);

    s.stop().await;

    // Read-only: the binary says why it cannot start (no panic, no hang), and starts once the
    // disk is writable again.
    disk.remount("ro");
    let serve = |listen: &str| {
        Command::new(env!("CARGO_BIN_EXE_okra-server"))
            .args(["--data-dir", disk.path().to_str().unwrap()])
            .args(["serve", "--listen", listen])
            .env("OKRA_LOG_LEVEL", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let refused = output_within(serve("127.0.0.1:0"), std::time::Duration::from_secs(30));
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("Read-only file system") && said.contains("okra.db"),
        "{said}"
    );
    assert!(!said.contains("panicked"), "{said}");
    disk.remount("rw");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve(&format!("127.0.0.1:{port}"));
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        let url = format!("http://127.0.0.1:{port}/ready");
        if client
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the server starts once the disk is writable");
    integrity_ok(&disk.path().join("okra.db")).await;
}
