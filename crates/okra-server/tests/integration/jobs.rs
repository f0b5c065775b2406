//! The job queue: outbox enqueue, exclusive claims, leases, retries, timeouts, pruning and
//! graceful shutdown. Claims across processes and clock skew: `job_claimers.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okra_server::workers::{self, JobError, Registry};
use okra_store::jobs::{self, NewJob};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::backend_tests;
use crate::common::{Backend, TestServer};

async fn enqueue(s: &TestServer, kind: &str, payload: serde_json::Value) -> String {
    let mut tx = s.db.begin().await.unwrap();
    let id = jobs::enqueue(tx.conn(), &NewJob::new(kind, payload))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn wait_for_status(
    s: &TestServer,
    id: &str,
    status: &str,
    within: Duration,
) -> jobs::JobState {
    let start = Instant::now();
    loop {
        let st = jobs::state(&s.db, id).await.unwrap().unwrap();
        if st.status == status {
            return st;
        }
        assert!(
            start.elapsed() < within,
            "job {id} is {st:?}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Workers only (no HTTP), with a test registry, so the queue is exercised alone.
async fn server_without_workers(b: Backend) -> TestServer {
    TestServer::start_with(
        b,
        |c| c.role = okra_server::config::Role::Api,
        Registry::default(),
    )
    .await
}

async fn enqueue_is_part_of_the_callers_transaction(b: Backend) {
    let s = server_without_workers(b).await;
    let mut tx = s.db.begin().await.unwrap();
    let id = jobs::enqueue(tx.conn(), &NewJob::new("test.noop", json!({})))
        .await
        .unwrap();
    drop(tx);
    assert!(
        jobs::state(&s.db, &id).await.unwrap().is_none(),
        "rolled back with its transaction"
    );
    let id = enqueue(&s, "test.noop", json!({})).await;
    assert_eq!(
        jobs::state(&s.db, &id).await.unwrap().unwrap().status,
        "queued"
    );
    s.stop().await;
}

async fn two_workers_never_run_the_same_job_at_once(b: Backend) {
    let s = server_without_workers(b).await;
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let runs: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let overlaps: Arc<Mutex<usize>> = Arc::default();
    let mut registry = Registry::default();
    {
        let (running, runs, overlaps) = (running.clone(), runs.clone(), overlaps.clone());
        registry.register("test.exclusive", move |_state, job| {
            let (running, runs, overlaps) = (running.clone(), runs.clone(), overlaps.clone());
            async move {
                if !running.lock().unwrap().insert(job.id.clone()) {
                    *overlaps.lock().unwrap() += 1;
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
                *runs.lock().unwrap().entry(job.id.clone()).or_default() += 1;
                running.lock().unwrap().remove(&job.id);
                Ok(())
            }
        });
    }
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(enqueue(&s, "test.exclusive", json!({"i": i})).await);
    }
    let registry = Arc::new(registry);
    let stop = CancellationToken::new();
    // Two independent worker pools, as two processes would run them.
    let a = tokio::spawn(workers::run(
        s.state().clone(),
        registry.clone(),
        3,
        stop.clone(),
    ));
    let b2 = tokio::spawn(workers::run(
        s.state().clone(),
        registry.clone(),
        3,
        stop.clone(),
    ));
    for id in &ids {
        wait_for_status(&s, id, "done", Duration::from_secs(20)).await;
    }
    stop.cancel();
    a.await.unwrap();
    b2.await.unwrap();
    assert_eq!(*overlaps.lock().unwrap(), 0);
    let runs = runs.lock().unwrap().clone();
    for id in &ids {
        assert_eq!(runs.get(id), Some(&1), "job {id} ran once");
    }
    s.stop().await;
}

async fn a_job_whose_worker_died_is_taken_over_after_its_lease(b: Backend) {
    let s = server_without_workers(b).await;
    let id = enqueue(&s, "test.ok", json!({})).await;
    // A worker claims it with a short lease and dies (never completes).
    let dead = jobs::claim(&s.db, 300).await.unwrap().unwrap();
    assert_eq!(dead.id, id);
    assert!(
        jobs::claim(&s.db, 300).await.unwrap().is_none(),
        "leased jobs are not handed out"
    );
    let mut registry = Registry::default();
    registry.register("test.ok", |_s, _j| async { Ok(()) });
    let stop = CancellationToken::new();
    let pool = tokio::spawn(workers::run(
        s.state().clone(),
        Arc::new(registry),
        1,
        stop.clone(),
    ));
    let st = wait_for_status(&s, &id, "done", Duration::from_secs(10)).await;
    assert_eq!(st.attempts, 2);
    assert!(
        !jobs::complete(&s.db, &dead).await.unwrap(),
        "the dead worker's late outcome is ignored"
    );
    assert_eq!(
        jobs::state(&s.db, &id).await.unwrap().unwrap().status,
        "done"
    );
    stop.cancel();
    pool.await.unwrap();
    s.stop().await;
}

async fn a_job_whose_lease_ran_out_is_queued_again_behind_no_backlog(b: Backend) {
    let s = server_without_workers(b).await;
    let id = enqueue(&s, "test.ok", json!({})).await;
    let dead = jobs::claim(&s.db, 200).await.unwrap().unwrap();
    assert_eq!(dead.id, id);
    // A backlog of queued jobs: a claim prefers them, so the expired one is requeued instead.
    for _ in 0..3 {
        enqueue(&s, "test.ok", json!({})).await;
    }
    assert_eq!(
        jobs::requeue_expired(&s.db, 100).await.unwrap(),
        0,
        "lease still running"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(jobs::requeue_expired(&s.db, 100).await.unwrap(), 1);
    let st = jobs::state(&s.db, &id).await.unwrap().unwrap();
    assert_eq!((st.status.as_str(), st.attempts), ("queued", 1));
    assert!(
        !jobs::complete(&s.db, &dead).await.unwrap(),
        "the dead worker's lease is gone"
    );
    s.stop().await;
}

async fn failures_retry_with_backoff_then_give_up(b: Backend) {
    let s = TestServer::start_with(
        b,
        |c| {
            c.role = okra_server::config::Role::Api;
            c.job_backoff_base_ms = 20;
        },
        Registry::default(),
    )
    .await;
    let mut registry = Registry::default();
    registry.register("test.flaky", |_s, job| async move {
        if job.attempt < 3 {
            Err(JobError::retry("bank timed out"))
        } else {
            Ok(())
        }
    });
    registry.register("test.broken", |_s, _j| async {
        Err::<(), _>(JobError::permanent("bad input"))
    });
    let flaky = enqueue(&s, "test.flaky", json!({})).await;
    let broken = enqueue(&s, "test.broken", json!({})).await;
    let unknown = enqueue(&s, "test.unknown", json!({})).await;
    let mut limited = NewJob::new("test.flaky", json!({}));
    limited.max_attempts = 2;
    let mut tx = s.db.begin().await.unwrap();
    let exhausted = jobs::enqueue(tx.conn(), &limited).await.unwrap();
    tx.commit().await.unwrap();

    let stop = CancellationToken::new();
    let pool = tokio::spawn(workers::run(
        s.state().clone(),
        Arc::new(registry),
        2,
        stop.clone(),
    ));
    let st = wait_for_status(&s, &flaky, "done", Duration::from_secs(10)).await;
    assert_eq!(st.attempts, 3);
    let st = wait_for_status(&s, &broken, "failed", Duration::from_secs(10)).await;
    assert_eq!(
        (st.attempts, st.last_error.as_deref()),
        (1, Some("bad input"))
    );
    let st = wait_for_status(&s, &unknown, "failed", Duration::from_secs(10)).await;
    assert_eq!(st.attempts, 1);
    let st = wait_for_status(&s, &exhausted, "failed", Duration::from_secs(10)).await;
    assert_eq!(
        (st.attempts, st.last_error.as_deref()),
        (2, Some("bank timed out"))
    );
    stop.cancel();
    pool.await.unwrap();
    s.stop().await;
}

async fn shutdown_finishes_the_job_in_flight(b: Backend) {
    let started: Arc<tokio::sync::Notify> = Arc::default();
    let mut registry = Registry::default();
    {
        let started = started.clone();
        registry.register("test.slow", move |_s, _j| {
            let started = started.clone();
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(400)).await;
                Ok(())
            }
        });
    }
    let mut s = TestServer::start_with(b, |_| {}, registry).await;
    let id = enqueue(&s, "test.slow", json!({})).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("job started");
    let db = s.db.clone();
    // Stop the server (API and workers); the job must be finished, not abandoned.
    s.running_stop().await;
    assert_eq!(jobs::state(&db, &id).await.unwrap().unwrap().status, "done");
    s.stop().await;
}

/// Tells a test when the handler future holding it is dropped (cancelled).
struct DropSignal(Arc<tokio::sync::Notify>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

async fn a_hung_job_is_cancelled_at_its_timeout_and_taken_over(b: Backend) {
    let s = TestServer::start_with(
        b,
        |c| {
            c.role = okra_server::config::Role::Api;
            c.job_timeout_secs = 1;
            c.job_lease_secs = 1;
            c.job_backoff_base_ms = 20;
        },
        Registry::default(),
    )
    .await;
    let started: Arc<tokio::sync::Notify> = Arc::default();
    let dropped: Arc<tokio::sync::Notify> = Arc::default();
    let mut hangs = Registry::default();
    {
        let (started, dropped) = (started.clone(), dropped.clone());
        hangs.register("test.hangs", move |_s, _j| {
            let (started, dropped) = (started.clone(), dropped.clone());
            async move {
                let _signal = DropSignal(dropped);
                started.notify_one();
                std::future::pending::<()>().await;
                Ok(())
            }
        });
    }
    let id = enqueue(&s, "test.hangs", json!({})).await;
    let stop_a = CancellationToken::new();
    let a = tokio::spawn(workers::run(
        s.state().clone(),
        Arc::new(hangs),
        1,
        stop_a.clone(),
    ));
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the handler started");
    // Worker A may only finish its job in flight, which never ends by itself: the job timeout
    // must end it (and with it the heartbeat that kept its lease).
    stop_a.cancel();
    tokio::time::timeout(Duration::from_secs(10), a)
        .await
        .expect("a hung handler held its worker (and lease) past the job timeout")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), dropped.notified())
        .await
        .expect("the hung handler was cancelled");
    let st = jobs::state(&s.db, &id).await.unwrap().unwrap();
    assert_eq!(
        (st.status.as_str(), st.attempts, st.last_error.as_deref()),
        ("queued", 1, Some("timed out after 1 s")),
        "a timed-out attempt is a failed attempt, retried"
    );
    // Another worker takes the job over.
    let mut ok = Registry::default();
    ok.register("test.hangs", |_s, _j| async { Ok(()) });
    let stop_b = CancellationToken::new();
    let b2 = tokio::spawn(workers::run(
        s.state().clone(),
        Arc::new(ok),
        1,
        stop_b.clone(),
    ));
    let st = wait_for_status(&s, &id, "done", Duration::from_secs(10)).await;
    assert_eq!(st.attempts, 2);
    stop_b.cancel();
    b2.await.unwrap();
    s.stop().await;
}

/// Puts a job in `status`, last changed `hours_ago`, and not due again for a day.
async fn age(s: &TestServer, id: &str, status: &str, hours_ago: i64) {
    let now = okra_core::time::now_ms();
    sqlx::query("UPDATE jobs SET status = $1, updated_at = $2, run_at = $3 WHERE id = $4")
        .bind(status)
        .bind(now - hours_ago * 3_600_000)
        .bind(now + 86_400_000)
        .bind(id)
        .execute(s.db.pool())
        .await
        .unwrap();
}

async fn pruning_removes_only_old_finished_jobs(b: Backend) {
    let s = server_without_workers(b).await;
    let mut kept = Vec::new();
    let mut old_finished = Vec::new();
    for (status, hours_ago) in [
        ("done", 100),
        ("failed", 100),
        ("queued", 100),
        ("running", 100),
        ("done", 1),
        ("failed", 71),
    ] {
        let id = enqueue(&s, "test.noop", json!({})).await;
        age(&s, &id, status, hours_ago).await;
        if hours_ago > 72 && (status == "done" || status == "failed") {
            old_finished.push(id);
        } else {
            kept.push(id);
        }
    }
    // The store: only finished jobs past the retention, in batches.
    let retention = 72 * 3_600_000;
    assert_eq!(jobs::prune(&s.db, retention, 1).await.unwrap(), 1);
    assert_eq!(jobs::prune(&s.db, retention, 10).await.unwrap(), 1);
    assert_eq!(jobs::prune(&s.db, retention, 10).await.unwrap(), 0);
    for id in &old_finished {
        assert!(jobs::state(&s.db, id).await.unwrap().is_none(), "{id}");
    }
    for id in &kept {
        assert!(jobs::state(&s.db, id).await.unwrap().is_some(), "{id}");
    }
    // The workers prune on their own (at start, then periodically) with `job_retention_hours`.
    let stale = enqueue(&s, "test.noop", json!({})).await;
    age(&s, &stale, "done", 73).await;
    let stop = CancellationToken::new();
    let pool = tokio::spawn(workers::run(
        s.state().clone(),
        Arc::new(Registry::default()),
        1,
        stop.clone(),
    ));
    let start = Instant::now();
    while jobs::state(&s.db, &stale).await.unwrap().is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "workers did not prune"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    pool.await.unwrap();
    for id in &kept {
        assert!(jobs::state(&s.db, id).await.unwrap().is_some(), "{id}");
    }
    s.stop().await;
}

backend_tests!(
    enqueue_is_part_of_the_callers_transaction,
    a_hung_job_is_cancelled_at_its_timeout_and_taken_over,
    pruning_removes_only_old_finished_jobs,
    two_workers_never_run_the_same_job_at_once,
    a_job_whose_worker_died_is_taken_over_after_its_lease,
    a_job_whose_lease_ran_out_is_queued_again_behind_no_backlog,
    failures_retry_with_backoff_then_give_up,
    shutdown_finishes_the_job_in_flight,
);
