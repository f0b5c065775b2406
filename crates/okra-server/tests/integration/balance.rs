//! The balance reads (issue 12): golden shapes against the reference's examples, the one superset
//! Balance object, `includePeriodic`, pages and totals, validation.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{assert_error, Backend, TestServer};
use crate::identity::{assert_golden_in, golden_in, same_shape};
use crate::linking::{connect, linking_server, person_with};

const BASE: &str = "/v2/sandbox";

/// A person connected (with `options`) with the balance product, once its job stored the
/// balances: the customer and the connected accounts' ids.
pub(crate) async fn connected_with_balances(
    s: &TestServer,
    options: Value,
) -> (String, Vec<String>) {
    let (creds, _, bank) = person_with(s, 2);
    let r = connect(
        s,
        json!({"bank": bank, "username": creds.username, "password": creds.password,
               "products": ["auth", "balance"], "multi_account": true,
               "options": options}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let customer = r.json()["data"]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let k = s.sandbox_key();
    let accounts: Vec<String> = s
        .post(
            &format!("{BASE}/accounts/getByCustomer"),
            Some(&k),
            json!({"customer": customer}),
        )
        .await
        .json()["data"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["_id"].as_str().unwrap().to_string())
        .collect();
    assert!(accounts.len() >= 2, "two connected accounts");
    for _ in 0..200 {
        let r = s
            .post(
                &format!("{BASE}/balance/getByCustomer"),
                Some(&k),
                json!({"customer": customer}),
            )
            .await;
        if r.json()["data"]["pagination"]["totalDocs"].as_u64() >= Some(accounts.len() as u64) {
            return (customer, accounts);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the balance job did not store the balances");
}

async fn balance_reads_have_the_reference_shapes(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = s.sandbox_key();
    let (customer, accounts) = connected_with_balances(&s, json!({"loan_id": "B-1"})).await;
    let post = |op: &str, body: Value| {
        let s = &s;
        let k = k.clone();
        let op = op.to_string();
        async move { s.post(&format!("{BASE}/{op}"), Some(&k), body).await }
    };
    let by_customer = post("balance/getByCustomer", json!({"customer": customer})).await;
    assert_golden_in("balance", "balance_getByCustomer", &by_customer);
    // The one superset shape answers both examples.
    assert_golden_in("balance", "balance_getByAccount", &by_customer);
    let data = by_customer.json()["data"].clone();
    assert_eq!(data["pagination"]["totalDocs"], accounts.len());
    let first = &data["balance"][0];
    assert_eq!(first["customer"]["_id"], customer.as_str());
    assert_eq!(first["owner"][0], s.creds.owner_id.as_str());
    assert_eq!(first["record"][0]["status"]["process"]["completed"], true);
    assert_eq!(first["env"], "production-sandbox");
    assert!(
        first["account"]["nuban"].as_str().unwrap().len() == 10,
        "{first}"
    );
    assert!(
        first["periodic"]["available_balance"]
            .as_array()
            .unwrap()
            .len()
            >= 28
    );
    let balance_id = first["_id"].as_str().unwrap().to_string();
    let account_id = first["account"]["_id"].as_str().unwrap().to_string();

    let by_account = post("balance/getByAccount", json!({"account": account_id})).await;
    assert_golden_in("balance", "balance_getByAccount", &by_account);
    assert_eq!(
        by_account.json()["data"]["balance"][0]["_id"],
        balance_id.as_str()
    );
    // okra-node's name for the field, and includePeriodic:false.
    let lean = post(
        "balance/getByAccount",
        json!({"account_id": account_id, "includePeriodic": false}),
    )
    .await;
    assert_eq!(lean.status.as_u16(), 200, "{}", lean.text);
    assert!(lean.json()["data"]["balance"][0].get("periodic").is_none());
    let by_id = post("balance/getById", json!({"id": balance_id})).await;
    assert_golden_in("balance", "balance_getByAccount", &by_id);
    let today = okra_core::time::iso_ms(okra_core::time::now_ms())[..10].to_string();
    for (op, body) in [
        ("balance/getByDate", json!({"from": today, "to": today})),
        (
            "balance/getByCustomerDate",
            json!({"customer": customer, "from": today, "to": today}),
        ),
        (
            "balance/getByOptions",
            json!({"options": {"loan_id": "B-1"}}),
        ),
        ("balance/byOptions", json!({"options": {"loan_id": "B-1"}})),
        ("products/balances", json!({})),
    ] {
        let r = post(op, body).await;
        assert_golden_in("balance", "balance_getByCustomer", &r);
        assert_eq!(
            r.json()["data"]["pagination"]["totalDocs"],
            accounts.len(),
            "{op}"
        );
    }
    // Pages: one a page, newest first, past the end empty with its total.
    let page2 = post("products/balances", json!({"limit": 1, "page": 2})).await;
    assert_eq!(page2.json()["data"]["pagination"]["prevPage"], 1);
    assert_eq!(page2.json()["data"]["balance"].as_array().unwrap().len(), 1);
    let past = post("products/balances", json!({"limit": 1, "page": 99})).await;
    assert_eq!(past.json()["data"]["balance"], json!([]));
    assert_eq!(
        past.json()["data"]["pagination"]["totalDocs"],
        accounts.len()
    );
    // Unknown ids: empty lists.
    let unknown = "5f0000000000000000000000";
    for (op, body) in [
        ("balance/getById", json!({"id": unknown})),
        ("balance/getByAccount", json!({"account": unknown})),
        ("balance/getByCustomer", json!({"customer": unknown})),
    ] {
        let r = post(op, body).await;
        assert_eq!(r.status.as_u16(), 200, "{op}: {}", r.text);
        assert_eq!(r.json()["data"]["balance"], json!([]), "{op}");
        assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 0, "{op}");
    }
    // The example's Balance object, key by key, against ours (for the record in the failure).
    let mut problems = Vec::new();
    same_shape(
        "balance",
        &golden_in("balance", "balance_getByAccount")["data"]["balance"][0],
        first,
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    s.stop().await;
}

async fn balance_reads_refuse_bad_input(b: Backend) {
    let s = TestServer::start(b).await;
    let k = s.sandbox_key();
    let id = "5f0000000000000000000000";
    for (op, body, message) in [
        ("balance/getById", json!({}), "`id` is a required input"),
        (
            "balance/getById",
            json!({"id": "x"}),
            "`id` must be a valid id",
        ),
        (
            "balance/getByAccount",
            json!({}),
            "`account` is a required input",
        ),
        (
            "balance/getByAccount",
            json!({"account": 7}),
            "`account` must be a string",
        ),
        (
            "balance/getByCustomer",
            json!({"customer": id, "limit": 101}),
            "`limit` must be an integer between 1 and 100",
        ),
        (
            "balance/getByCustomer",
            json!({"customer": id, "includePeriodic": "no"}),
            "`includePeriodic` must be a boolean",
        ),
        (
            "balance/getByDate",
            json!({"from": "2024-01-32", "to": "2024-02-01"}),
            "`from` must be a date in YYYY-MM-DD format",
        ),
        (
            "balance/getByDate",
            json!({"from": "2024-02-02", "to": "2024-02-01"}),
            "`to` must be a date on or after `from`",
        ),
        (
            "balance/getByCustomerDate",
            json!({"customer": id, "from": "2024-01-01"}),
            "`to` is a required input",
        ),
        (
            "balance/getByOptions",
            json!({"options": []}),
            "`options` must be an object",
        ),
        (
            "products/balances",
            json!({"page": "x"}),
            "`page` must be an integer greater than or equal to 1",
        ),
    ] {
        let r = s
            .post(&format!("{BASE}/{op}"), Some(&k), body.clone())
            .await;
        assert_error(&r, 422, message);
    }
    s.stop().await;
}

backend_tests!(
    balance_reads_have_the_reference_shapes,
    balance_reads_refuse_bad_input,
);
