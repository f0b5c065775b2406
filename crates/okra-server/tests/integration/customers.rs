//! Pagination (docs/api.md §6) over customers, and customer lookups scoped to owner and environment.

use okra_core::Environment;
use okra_store::customers::{CustomerPii, NewCustomer};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{assert_error, Backend, TestServer};

async fn add_customers(
    s: &TestServer,
    env: Environment,
    n: usize,
    created_at: impl Fn(usize) -> i64,
) -> Vec<String> {
    let tenant = s.tenant(env);
    let mut tx = s.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let c = NewCustomer {
            name: format!("Customer {i}"),
            bvn: Some(format!("222{:08}", i)),
            pii: CustomerPii {
                nin: None,
                phones: vec![format!("0803{:07}", i)],
                emails: vec![],
            },
            sandbox: None,
            sandbox_person: None,
            created_at: Some(created_at(i)),
        };
        ids.push(
            okra_store::customers::insert(tx.conn(), &s.state().keyring(), &tenant, &c)
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    ids
}

fn names(v: &Value) -> Vec<String> {
    v["data"]["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

async fn pagination_follows_mongoose_paginate(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let base = 1_700_000_000_000i64;
    add_customers(&s, Environment::Sandbox, 25, |i| base + i as i64 * 1000).await;
    let path = "/v2/sandbox/customers/list";

    let v = s.post(path, Some(&key), json!({})).await.json();
    assert_eq!(v["message"], "Customers retrieved successfully");
    assert_eq!(
        v["data"]["pagination"],
        json!({"totalDocs": 25, "limit": 20, "hasPrevPage": false, "hasNextPage": true, "page": 1, "totalPages": 2, "pagingCounter": 1, "prevPage": null, "nextPage": 2})
    );
    let first = names(&v);
    assert_eq!(first.len(), 20);
    assert_eq!(first[0], "Customer 24", "newest first");

    let v = s.post(path, Some(&key), json!({"page": 2})).await.json();
    assert_eq!(
        names(&v),
        (0..5)
            .rev()
            .map(|i| format!("Customer {i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(v["data"]["pagination"]["prevPage"], 1);
    assert_eq!(v["data"]["pagination"]["nextPage"], Value::Null);
    assert_eq!(v["data"]["pagination"]["pagingCounter"], 21);

    let v = s
        .post(path, Some(&key), json!({"page": 9, "limit": 5}))
        .await
        .json();
    assert!(names(&v).is_empty(), "past the end is empty");
    assert_eq!(v["data"]["pagination"]["totalPages"], 5);
    assert_eq!(v["data"]["pagination"]["hasNextPage"], false);
    assert_eq!(v["data"]["pagination"]["prevPage"], 8);

    let v = s
        .post(path, Some(&key), json!({"limit": "100"}))
        .await
        .json();
    assert_eq!(names(&v).len(), 25);
    assert_eq!(v["data"]["pagination"]["totalPages"], 1);

    for (body, msg) in [
        (
            json!({"limit": 101}),
            "`limit` must be an integer between 1 and 100",
        ),
        (
            json!({"limit": 0}),
            "`limit` must be an integer between 1 and 100",
        ),
        (
            json!({"limit": "ten"}),
            "`limit` must be an integer between 1 and 100",
        ),
        (
            json!({"limit": 2.5}),
            "`limit` must be an integer between 1 and 100",
        ),
        (
            json!({"page": 0}),
            "`page` must be an integer greater than or equal to 1",
        ),
        (
            json!({"page": -1}),
            "`page` must be an integer greater than or equal to 1",
        ),
        (
            json!({"page": {"x": 1}}),
            "`page` must be an integer greater than or equal to 1",
        ),
    ] {
        assert_error(&s.post(path, Some(&key), body).await, 422, msg);
    }
    // Nothing in production, and an empty list is 200 with one page.
    let v = s
        .post(
            "/v2/customers/list",
            Some(&s.key("production", "secret")),
            json!({}),
        )
        .await
        .json();
    assert!(names(&v).is_empty());
    assert_eq!(v["data"]["pagination"]["totalPages"], 1);
    s.stop().await;
}

async fn order_is_stable_when_timestamps_tie(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let ids = add_customers(&s, Environment::Sandbox, 7, |_| 1_700_000_000_000).await;
    let mut expected = ids.clone();
    expected.sort();
    expected.reverse();
    let mut seen = Vec::new();
    for page in 1..=4 {
        let v = s
            .post(
                "/v2/sandbox/customers/list",
                Some(&key),
                json!({"page": page, "limit": 2}),
            )
            .await
            .json();
        for c in v["data"]["customers"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        seen, expected,
        "ties are broken by id, newest id first, with no repeats across pages"
    );
    s.stop().await;
}

async fn customers_are_scoped_to_owner_and_environment(b: Backend) {
    let s = TestServer::start(b).await;
    let ids = add_customers(&s, Environment::Sandbox, 2, |i| {
        1_700_000_000_000 + i as i64
    })
    .await;
    let other = okra_server::services::owners::create_owner(&s.db, &s.state().keyring(), "acme")
        .await
        .unwrap();
    let other_key = other
        .keys
        .iter()
        .find(|k| k.env == Environment::Sandbox && k.kind == "secret")
        .unwrap()
        .key
        .clone();

    let r = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&s.sandbox_key()),
            json!({"id": ids[0]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let c = &r.json()["data"];
    assert_eq!(c["_id"], ids[0]);
    assert_eq!(c["bvn_masked"], "222*******0");
    assert_eq!(c["accounts"], json!([]));
    assert!(c.get("sandbox").is_none());

    let unknown = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&s.sandbox_key()),
            json!({"id": okra_core::id::new_id()}),
        )
        .await;
    assert_error(&unknown, 400, "Customer not found");
    let foreign = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&other_key),
            json!({"id": ids[0]}),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.json()),
        (unknown.status, unknown.json()),
        "another owner's id behaves as unknown"
    );
    let live = s
        .post(
            "/v2/customers/getById",
            Some(&s.key("production", "secret")),
            json!({"id": ids[0]}),
        )
        .await;
    assert_eq!(
        (live.status, live.json()),
        (unknown.status, unknown.json()),
        "another environment's id behaves as unknown"
    );
    let v = s
        .post("/v2/sandbox/customers/list", Some(&other_key), json!({}))
        .await
        .json();
    assert_eq!(v["data"]["pagination"]["totalDocs"], 0);
    // okra-node's sandbox name and field.
    let r = s
        .post(
            "/v2/sandbox/customers/get",
            Some(&s.sandbox_key()),
            json!({"customer": ids[1]}),
        )
        .await;
    assert_eq!(r.json()["data"]["id"], ids[1]);
    assert_error(
        &s.post(
            "/v2/sandbox/customers/getById",
            Some(&s.sandbox_key()),
            json!({}),
        )
        .await,
        422,
        "`id` is a required input",
    );
    assert_error(
        &s.post(
            "/v2/sandbox/customers/getById",
            Some(&s.sandbox_key()),
            json!({"id": 5}),
        )
        .await,
        422,
        "`id` must be a string",
    );
    assert_error(
        &s.post(
            "/v2/sandbox/customers/getById",
            Some(&s.sandbox_key()),
            json!({"id": "abc"}),
        )
        .await,
        422,
        "`id` must be a valid id",
    );
    s.stop().await;
}

backend_tests!(
    pagination_follows_mongoose_paginate,
    order_is_stable_when_timestamps_tie,
    customers_are_scoped_to_owner_and_environment,
);
