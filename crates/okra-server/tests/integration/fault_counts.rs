//! Issue 7: a scripted fault limited by `count` applies exactly that many times — through one
//! data source called repeatedly, and across data sources (requests, processes) racing for it.

use okra_core::source::SourceError;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{Backend, TestServer};

const ZENITH: &str = "5d6fe57a4099cc4b210bbec2";

use crate::faults::{source, zenith_user};

async fn script(s: &TestServer, body: Value) {
    let r = s
        .post("/v2/sandbox/faults/create", Some(&s.sandbox_key()), body)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}

async fn listed(s: &TestServer) -> usize {
    s.post("/v2/sandbox/faults/list", Some(&s.sandbox_key()), json!({}))
        .await
        .json()["data"]["faults"]
        .as_array()
        .unwrap()
        .len()
}

async fn count_one_fires_once_through_one_source(b: Backend) {
    let s = TestServer::start(b).await;
    let user = zenith_user(&s);
    script(
        &s,
        json!({"type": "bank_down", "bank": "zenith-bank", "count": 1}),
    )
    .await;
    // One source (one request's view) making several calls: the first gets the fault.
    let src = source(&s).await;
    assert_eq!(
        src.authenticate(ZENITH, &user).await.unwrap_err(),
        SourceError::BankUnavailable
    );
    for _ in 0..3 {
        assert!(
            src.authenticate(ZENITH, &user).await.is_ok(),
            "count: 1 applies once"
        );
    }
    assert!(source(&s).await.authenticate(ZENITH, &user).await.is_ok());
    assert_eq!(listed(&s).await, 0, "a used-up fault is no longer listed");
    s.stop().await;
}

async fn concurrent_calls_never_exceed_the_count(b: Backend) {
    let s = TestServer::start(b).await;
    let user = zenith_user(&s);
    for (count, calls) in [(1usize, 8usize), (3, 8)] {
        script(
            &s,
            json!({"type": "locked", "bank": "zenith-bank", "count": count}),
        )
        .await;
        // Every source reads the fault (remaining = count) before any call consumes it, as
        // concurrent requests would; only the database's atomic count can keep them apart.
        let mut sources = Vec::new();
        for _ in 0..calls {
            sources.push(source(&s).await);
        }
        let tasks: Vec<_> = sources
            .into_iter()
            .map(|src| {
                let user = user.clone();
                tokio::spawn(async move { src.authenticate(ZENITH, &user).await })
            })
            .collect();
        let mut locked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Err(SourceError::Locked) => locked += 1,
                Ok(_) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(locked, count, "{calls} concurrent calls, count {count}");
        assert_eq!(listed(&s).await, 0);
    }
    s.stop().await;
}

backend_tests!(
    count_one_fires_once_through_one_source,
    concurrent_calls_never_exceed_the_count,
);
