//! The job queue: outbox enqueue, exclusive claims, leases, retries and graceful shutdown.

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

async fn concurrent_claims_never_share_a_job(b: Backend) {
    let s = server_without_workers(b).await;
    let mut all = HashSet::new();
    for i in 0..40 {
        all.insert(enqueue(&s, "test.noop", json!({"i": i})).await);
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = s.db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = jobs::claim(&db, 60_000).await.unwrap() {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), 40, "every job claimed once");
    assert_eq!(unique, all);
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
        Err(JobError::permanent("bad input"))
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

backend_tests!(
    enqueue_is_part_of_the_callers_transaction,
    concurrent_claims_never_share_a_job,
    two_workers_never_run_the_same_job_at_once,
    a_job_whose_worker_died_is_taken_over_after_its_lease,
    failures_retry_with_backoff_then_give_up,
    shutdown_finishes_the_job_in_flight,
);
