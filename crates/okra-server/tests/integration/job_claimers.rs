//! The job queue across processes: claimers are child processes (this test binary re-executed
//! as [`job_claimer_child`]), each with its own pool, so nothing in-process (no mutex, no shared
//! pool) stands between them: only the claim SQL keeps them from taking the same job, and only
//! the database's clock decides when a lease ran out — even when a child's own clock is skewed.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use okra_store::jobs::{self, NewJob};
use okra_store::{Db, DbOptions};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::backend_tests;
use crate::common::{Backend, TestServer};

const CHILD: &str = "job_claimers::job_claimer_child";

/// Entry point of a claimer child process (it does nothing unless started by [`claimers`]):
/// connects, says `READY`, waits for one line on stdin, then claims up to `MAX` jobs, printing
/// `CLAIMED <id>` for each, and `DONE` at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the cross-process job tests, started by them"]
async fn job_claimer_child() {
    let Ok(url) = std::env::var("OKRA_TEST_CLAIMER_DB") else {
        return;
    };
    let var = |name: &str, default: i64| -> i64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    okra_core::time::skew_process_clock_for_tests(var("OKRA_TEST_CLAIMER_SKEW_MS", 0));
    let lease_ms = var("OKRA_TEST_CLAIMER_LEASE_MS", 60_000);
    let max = var("OKRA_TEST_CLAIMER_MAX", i64::MAX);
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    db.ping().await.unwrap();
    println!("READY");
    let mut go = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut go)
        .await
        .unwrap();
    let mut claimed = 0;
    while claimed < max {
        match jobs::claim(&db, lease_ms).await.unwrap() {
            Some(job) => {
                println!("CLAIMED {}", job.id);
                claimed += 1;
            }
            None => break,
        }
    }
    println!("DONE");
    db.close().await;
}

/// Options of one batch of claimer processes.
struct Claimers {
    count: usize,
    skew_ms: i64,
    lease_ms: i64,
    max: i64,
}

/// The database URL the test server uses (SQLite file or PostgreSQL database).
fn database_url(s: &TestServer) -> String {
    s.database_url
        .clone()
        .unwrap_or_else(|| okra_store::db::sqlite_url(&s.config.data_dir.join("okra.db")))
}

/// Starts `count` claimer processes, lets them all go at once (after every one has connected),
/// and returns the job ids each claimed.
async fn claimers(s: &TestServer, opts: Claimers) -> Vec<Vec<String>> {
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for _ in 0..opts.count {
        let mut child = tokio::process::Command::new(&exe)
            .args([
                CHILD,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("OKRA_TEST_CLAIMER_DB", database_url(s))
            .env("OKRA_TEST_CLAIMER_SKEW_MS", opts.skew_ms.to_string())
            .env("OKRA_TEST_CLAIMER_LEASE_MS", opts.lease_ms.to_string())
            .env("OKRA_TEST_CLAIMER_MAX", opts.max.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        // Wait for READY (bounded: a child that cannot connect fails the test, not hangs it).
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            let mut line = String::new();
            loop {
                line.clear();
                if out.read_line(&mut line).await.unwrap() == 0 {
                    return false;
                }
                // libtest prints `test <name> ... ` without a newline before the test's output.
                if line.trim_end().ends_with("READY") {
                    return true;
                }
            }
        })
        .await;
        assert_eq!(ready.ok(), Some(true), "claimer process did not start");
        children.push((child, out));
    }
    for (child, _) in &mut children {
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"go\n")
            .await
            .unwrap();
    }
    let mut claimed = Vec::new();
    for (mut child, mut out) in children {
        let mut text = String::new();
        tokio::time::timeout(Duration::from_secs(60), out.read_to_string(&mut text))
            .await
            .expect("claimer process finished")
            .unwrap();
        let status = child.wait().await.unwrap();
        assert!(status.success(), "claimer failed: {text}");
        assert!(text.contains("DONE"), "claimer output: {text}");
        claimed.push(
            text.lines()
                .filter_map(|l| l.split_once("CLAIMED "))
                .map(|(_, id)| id.trim().to_string())
                .collect(),
        );
    }
    claimed
}

async fn enqueue(s: &TestServer, i: usize) -> String {
    let mut tx = s.db.begin().await.unwrap();
    let id = jobs::enqueue(tx.conn(), &NewJob::new("test.noop", json!({"i": i})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn server(b: Backend) -> TestServer {
    TestServer::start_with(
        b,
        |c| c.role = okra_server::config::Role::Api,
        Default::default(),
    )
    .await
}

async fn claimer_processes_never_share_a_job(b: Backend) {
    let s = server(b).await;
    let mut all = HashSet::new();
    for i in 0..60 {
        all.insert(enqueue(&s, i).await);
    }
    let per_process = claimers(
        &s,
        Claimers {
            count: 4,
            skew_ms: 0,
            lease_ms: 60_000,
            max: i64::MAX,
        },
    )
    .await;
    let claimed: Vec<String> = per_process.iter().flatten().cloned().collect();
    let unique: HashSet<String> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), 60, "every job claimed exactly once");
    assert_eq!(unique, all);
    for id in &all {
        let st = jobs::state(&s.db, id).await.unwrap().unwrap();
        assert_eq!((st.status.as_str(), st.attempts), ("running", 1), "{id}");
    }
    s.stop().await;
}

async fn leases_and_due_times_follow_the_database_clock(b: Backend) {
    let s = server(b).await;
    // A job leased for a minute by a live worker (this process, correct clock).
    let leased = enqueue(&s, 0).await;
    let mine = jobs::claim(&s.db, 60_000).await.unwrap().unwrap();
    assert_eq!(mine.id, leased);
    // A worker on a host whose clock runs an hour fast must not take it over.
    let fast = claimers(
        &s,
        Claimers {
            count: 1,
            skew_ms: 3_600_000,
            lease_ms: 60_000,
            max: 1,
        },
    )
    .await;
    assert_eq!(
        fast,
        vec![Vec::<String>::new()],
        "a fast clock stole a live lease"
    );
    assert!(jobs::complete(&s.db, &mine).await.unwrap(), "still ours");
    // A job due now is due for a worker whose clock runs an hour slow too.
    let due = enqueue(&s, 1).await;
    let slow = claimers(
        &s,
        Claimers {
            count: 1,
            skew_ms: -3_600_000,
            lease_ms: 60_000,
            max: 1,
        },
    )
    .await;
    assert_eq!(slow, vec![vec![due]], "a slow clock left a due job waiting");
    s.stop().await;
}

backend_tests!(
    claimer_processes_never_share_a_job,
    leases_and_due_times_follow_the_database_clock,
);
