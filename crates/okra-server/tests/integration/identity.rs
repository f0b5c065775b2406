//! The Identity API and the KYC verifies (issue 11): golden shapes against the reference's
//! examples, validation, the 15-minute negative cache, refresh, testing, billing and idempotency.

use std::path::Path;

use okra_core::source::SourceIdentity;
use okra_sandbox::PersonSummary;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{assert_error, Backend, Reply, TestServer};
use crate::linking::{linking_server, row_counts};

const BVN_VERIFY: &str = "/v2/sandbox/products/kyc/bvn-verify";
const NUBAN_VERIFY: &str = "/v2/sandbox/products/kyc/nuban-verify";
const NAME_VERIFY: &str = "/v2/sandbox/products/kyc/nuban-name-verify";
const CUSTOMER_VERIFY: &str = "/v2/sandbox/products/kyc/customer-verify";

/// An individual of the simulated network whose identity has every optional data point (so
/// every field the reference shows filled is filled), with an account.
pub(crate) fn full_people(s: &TestServer, n: usize) -> Vec<(PersonSummary, SourceIdentity)> {
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let mut out = Vec::new();
    for (_, summary) in network.sample_users(None, 5000) {
        let person = network.person(summary.index).unwrap();
        let id = person.identity();
        let full = !id.is_company
            && id.bvn.is_some()
            && id.nin.is_some()
            && id.middlename.is_some()
            && id.marital_status.is_some()
            && id.photo.is_some()
            && id.enrollment_branch.is_some()
            && id.registration_date.is_some()
            && !id.aliases.is_empty()
            && !id.emails.is_empty()
            && !id.phones.is_empty()
            && !id.addresses.is_empty()
            && !summary.accounts.is_empty()
            && !summary.watch_listed;
        if full
            && !out
                .iter()
                .any(|(p, _): &(PersonSummary, _)| p.bvn == summary.bvn)
        {
            out.push((summary, id));
            if out.len() == n {
                return out;
            }
        }
    }
    panic!("the network has fewer than {n} people with a full identity in its sample");
}

/// Individuals with a BVN (any completeness).
fn people_with_bvn(s: &TestServer, n: usize) -> Vec<String> {
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let mut out: Vec<String> = Vec::new();
    for (_, summary) in network.sample_users(None, 5000) {
        if let Some(bvn) = summary.bvn.filter(|_| !summary.is_company) {
            if !out.contains(&bvn) {
                out.push(bvn);
            }
        }
        if out.len() == n {
            return out;
        }
    }
    panic!("fewer than {n} people with a BVN");
}

fn golden(name: &str) -> Value {
    golden_in("identity", name)
}

/// The reference's example `name` (tests/golden/<dir>/<name>.json).
pub(crate) fn golden_in(dir: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir)
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Keys the reference's schemas declare nullable though its examples show a value.
const NULLABLE: &[&str] = &["prevPage", "nextPage"];

/// Every key of `reference` is in `ours` with the same JSON type, recursively; an array's items
/// are compared with the reference's first item (and must exist when the reference has one); a
/// `null` in the reference allows anything (the reference's "string or null").
pub(crate) fn same_shape(path: &str, reference: &Value, ours: &Value, problems: &mut Vec<String>) {
    match reference {
        Value::Null => {}
        Value::Object(r) => {
            let Some(o) = ours.as_object() else {
                problems.push(format!("{path}: an object expected, got {ours}"));
                return;
            };
            for (k, rv) in r {
                match o.get(k) {
                    None => problems.push(format!("{path}.{k}: missing")),
                    // The reference's schema: "string or null" (a page with no next page).
                    Some(Value::Null) if NULLABLE.contains(&k.as_str()) => {}
                    Some(ov) => same_shape(&format!("{path}.{k}"), rv, ov, problems),
                }
            }
        }
        Value::Array(r) => {
            let Some(o) = ours.as_array() else {
                problems.push(format!("{path}: an array expected, got {ours}"));
                return;
            };
            if let Some(first) = r.first() {
                if o.is_empty() {
                    problems.push(format!("{path}: empty, the reference shows items"));
                }
                for (i, ov) in o.iter().enumerate() {
                    same_shape(&format!("{path}[{i}]"), first, ov, problems);
                }
            }
        }
        Value::String(_) if !ours.is_string() => {
            problems.push(format!("{path}: a string expected, got {ours}"))
        }
        Value::Number(_) if !ours.is_number() => {
            problems.push(format!("{path}: a number expected, got {ours}"))
        }
        Value::Bool(_) if !ours.is_boolean() => {
            problems.push(format!("{path}: a boolean expected, got {ours}"))
        }
        _ => {}
    }
}

/// Our answer has the status, message and shape of the reference's example `name`.
fn assert_golden(name: &str, reply: &Reply) {
    assert_golden_in("identity", name, reply)
}

/// [`assert_golden`] for the example `name` of tests/golden/<dir>.
pub(crate) fn assert_golden_in(dir: &str, name: &str, reply: &Reply) {
    assert_eq!(reply.status.as_u16(), 200, "{name}: {}", reply.text);
    let reference = golden_in(dir, name);
    let ours = reply.json();
    assert_eq!(ours["status"], reference["status"], "{name}");
    assert_eq!(ours["message"], reference["message"], "{name}");
    let mut problems = Vec::new();
    same_shape("data", &reference["data"], &ours["data"], &mut problems);
    assert!(problems.is_empty(), "{name}: {problems:#?}\nours: {ours:#}");
}

/// Whether `text` occurs in `bytes` (the at-rest scans).
fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Creates a scripted fault in the sandbox of `key`.
async fn fault(s: &TestServer, key: &str, body: Value) {
    let r = s.post("/v2/sandbox/faults/create", Some(key), body).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}

/// How many rows `table` gained between two [`row_counts`].
fn rows_added(before: &[(&str, i64)], after: &[(&str, i64)], table: &str) -> i64 {
    let n = |counts: &[(&str, i64)]| counts.iter().find(|(t, _)| *t == table).unwrap().1;
    n(after) - n(before)
}

fn key(s: &TestServer) -> String {
    s.sandbox_key()
}

async fn wallet(s: &TestServer, env: &str, key: &str) -> f64 {
    let base = if env == "sandbox" {
        "/v2/sandbox"
    } else {
        "/v2"
    };
    let r = s
        .post(&format!("{base}/wallet/get"), Some(key), json!({}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.json()["data"]["balance"].as_f64().unwrap()
}

async fn golden_shapes_match_the_reference(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let (person, id) = full_people(&s, 1).remove(0);
    let account = &person.accounts[0];
    let bvn = id.bvn.clone().unwrap();

    let nuban = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": account.nuban, "bank": account.bank}),
        )
        .await;
    assert_golden("products_kyc_nuban-verify", &nuban);
    let data = nuban.json()["data"].clone();
    let customer = data["customer"].as_str().unwrap().to_string();
    let identity_id = data["identity"]["id"].as_str().unwrap().to_string();
    assert_eq!(data["identity"]["bvn"], bvn.as_str());
    assert_eq!(data["identity"]["customer"], customer.as_str());
    assert!(
        data["identity"].get("last_updated").is_none(),
        "new profile: {data}"
    );
    let score: u8 = data["identity"]["score"].as_str().unwrap().parse().unwrap();
    assert_eq!(score, id.completeness(), "the one score of the identity");
    assert_eq!(
        data["receipt"]["data"]["receipt"]["billable_service"],
        "nuban-verify"
    );

    let by_customer = s
        .post(CUSTOMER_VERIFY, Some(&k), json!({"customer": customer}))
        .await;
    assert_golden("products_kyc_customer-verify", &by_customer);
    let d = by_customer.json()["data"].clone();
    assert_eq!(d["customer"], customer.as_str());
    assert_eq!(
        d["id"],
        identity_id.as_str(),
        "the same identity, refreshed"
    );
    assert!(
        d.get("last_updated").is_some(),
        "a refreshed profile says when: {d}"
    );
    assert_eq!(d["record"], d["receipt"]["data"]["receipt"]["record"]);

    // bvn-verify answers like customer-verify (the reference has no example of its own).
    let by_bvn = s.post(BVN_VERIFY, Some(&k), json!({"bvn": bvn})).await;
    assert_golden("products_kyc_customer-verify", &by_bvn);

    let name = s
        .post(
            NAME_VERIFY,
            Some(&k),
            json!({"nuban": account.nuban, "bank": account.bank}),
        )
        .await;
    assert_golden("products_kyc_nuban-name-verify", &name);
    let n = name.json()["data"]["identity"].clone();
    assert_eq!(n["bvn"], okra_core::mask::mask_bvn(&bvn));
    assert_eq!(n["nuban"], okra_core::mask::mask_nuban(&account.nuban));
    assert_eq!(
        n["name"],
        okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population)
            .account_by_nuban(&account.bank, &account.nuban)
            .unwrap()
            .0
            .account_name()
    );
    assert_eq!(n["isBvnVerified"], true);

    let base = "/v2/sandbox/identity";
    let r = s
        .post(
            &format!("{base}/getById"),
            Some(&k),
            json!({"id": identity_id}),
        )
        .await;
    assert_golden("identity_getById", &r);
    assert_eq!(
        r.json()["data"]["identity"][0]["customer"]["_id"],
        customer.as_str()
    );
    let r = s
        .post(&format!("{base}/getByBvn"), Some(&k), json!({"bvn": bvn}))
        .await;
    assert_golden("identity_getByBvn", &r);
    assert_eq!(r.json()["data"]["id"], identity_id.as_str());
    let r = s
        .post(
            &format!("{base}/getByNuban"),
            Some(&k),
            json!({"bank": account.bank, "nuban": account.nuban}),
        )
        .await;
    assert_golden("identity_getByNuban", &r);
    assert_eq!(r.json()["data"]["id"], identity_id.as_str());
    let r = s
        .post(
            &format!("{base}/getByCustomer"),
            Some(&k),
            json!({"customer": customer}),
        )
        .await;
    assert_golden("identity_getByCustomer", &r);
    assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 1);
    let today = okra_core::time::iso_ms(okra_core::time::now_ms())[..10].to_string();
    let r = s
        .post(
            &format!("{base}/getByDate"),
            Some(&k),
            json!({"from": today, "to": today}),
        )
        .await;
    assert_golden("identity_getByDate", &r);
    assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 1);
    let r = s
        .post(
            &format!("{base}/getByCustomerDate"),
            Some(&k),
            json!({"customer": customer, "from": today, "to": today}),
        )
        .await;
    assert_golden("identity_getByCustomerDate", &r);
    // products/identities has no example of its own: its items are the identity/* form.
    let r = s
        .post("/v2/sandbox/products/identities", Some(&k), json!({}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let mut problems = Vec::new();
    same_shape(
        "data",
        &golden("identity_getById")["data"],
        &r.json()["data"],
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    s.stop().await;
}

async fn identity_lists_page_filter_and_count(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let bvns = people_with_bvn(&s, 5);
    for bvn in &bvns {
        let r = s.post(BVN_VERIFY, Some(&k), json!({"bvn": bvn})).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
    let all = s
        .post(
            "/v2/sandbox/products/identities",
            Some(&k),
            json!({"limit": 2, "page": 2}),
        )
        .await;
    let p = &all.json()["data"]["pagination"];
    assert_eq!(p["totalDocs"], 5);
    assert_eq!(p["totalPages"], 3);
    assert_eq!(p["prevPage"], 1);
    assert_eq!(p["nextPage"], 3);
    let listed = all.json()["data"]["identity"].as_array().unwrap().len();
    assert_eq!(listed, 2);
    // Past the end: empty, with the total.
    let past = s
        .post(
            "/v2/sandbox/products/identities",
            Some(&k),
            json!({"limit": 2, "page": 9}),
        )
        .await;
    assert_eq!(past.json()["data"]["identity"], json!([]));
    assert_eq!(past.json()["data"]["pagination"]["totalDocs"], 5);
    // Newest first across pages, no duplicates.
    let mut seen: Vec<(String, String)> = Vec::new();
    for page in 1..=3 {
        let r = s
            .post(
                "/v2/sandbox/products/identities",
                Some(&k),
                json!({"limit": 2, "page": page}),
            )
            .await;
        for i in r.json()["data"]["identity"].as_array().unwrap() {
            seen.push((
                i["created_at"].as_str().unwrap().to_string(),
                i["id"].as_str().unwrap().to_string(),
            ));
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted);
    // Dates: a range without identities is an empty page.
    let r = s
        .post(
            "/v2/sandbox/identity/getByDate",
            Some(&k),
            json!({"from": "2001-01-01", "to": "2001-12-31"}),
        )
        .await;
    assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 0);
    assert_eq!(r.json()["data"]["identity"], json!([]));
    // Unknown ids are empty lists / the contract's 400.
    let unknown = "5f0000000000000000000000";
    let r = s
        .post(
            "/v2/sandbox/identity/getById",
            Some(&k),
            json!({"id": unknown}),
        )
        .await;
    assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 0);
    let r = s
        .post(
            "/v2/sandbox/identity/getByBvn",
            Some(&k),
            json!({"bvn": "22200000000"}),
        )
        .await;
    assert_error(&r, 400, "There is no identity available for this bvn");
    s.stop().await;
}

async fn options_given_when_linking_find_the_identity(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, _, bank) = crate::linking::person_with(&s, 1);
    let r = crate::linking::connect(
        &s,
        json!({"bank": bank, "username": creds.username, "password": creds.password,
               "products": ["auth", "identity"], "options": {"loan_id": "L-9", "tier": 2}}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let k = key(&s);
    let mut found = Value::Null;
    for _ in 0..100 {
        let r = s
            .post(
                "/v2/sandbox/identity/getByOptions",
                Some(&k),
                json!({"options": {"loan_id": "L-9", "tier": 2}}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        if r.json()["data"]["pagination"]["totalDocs"] == 1 {
            found = r.json();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        found["data"]["identity"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    // The v1 alias, a partial match and a mismatch.
    let alias = s
        .post(
            "/v2/sandbox/identity/byOptions",
            Some(&k),
            json!({"options": {"loan_id": "L-9"}}),
        )
        .await;
    assert_eq!(alias.json()["data"]["pagination"]["totalDocs"], 1);
    let wrong_type = s
        .post(
            "/v2/sandbox/identity/getByOptions",
            Some(&k),
            json!({"options": {"loan_id": "L-9", "tier": "2"}}),
        )
        .await;
    assert_eq!(wrong_type.json()["data"]["pagination"]["totalDocs"], 0);
    s.stop().await;
}

async fn bad_input_gets_the_reference_messages(b: Backend) {
    let s = TestServer::start(b).await;
    let k = key(&s);
    let valid_nuban = okra_core::nuban::make_nuban("044", "000000001").unwrap();
    let bad_check = format!(
        "{}{}",
        &valid_nuban[..9],
        (valid_nuban.as_bytes()[9] - b'0' + 1) % 10
    );
    let id = "5f0000000000000000000000";
    let cases: Vec<(&str, Value, u16, String)> = vec![
        (
            "identity/getById",
            json!({}),
            422,
            "`id` is a required input".into(),
        ),
        (
            "identity/getById",
            json!({"id": 5}),
            422,
            "`id` must be a string".into(),
        ),
        (
            "identity/getById",
            json!({"id": "abc"}),
            422,
            "`id` must be a valid id".into(),
        ),
        (
            "identity/getByBvn",
            json!({}),
            422,
            "`bvn` is a required input".into(),
        ),
        (
            "identity/getByBvn",
            json!({"bvn": "1234"}),
            422,
            "`bvn` must be 11 digits".into(),
        ),
        (
            "identity/getByBvn",
            json!({"bvn": 22212345678u64}),
            422,
            "`bvn` must be a string".into(),
        ),
        (
            "identity/getByNuban",
            json!({}),
            422,
            "`nuban` is a required input and bank is required".into(),
        ),
        (
            "identity/getByNuban",
            json!({"bank": "access-bank"}),
            422,
            "`nuban` is a required input".into(),
        ),
        (
            "identity/getByNuban",
            json!({"nuban": "123", "bank": "access-bank"}),
            422,
            "`nuban` must be a valid 10-digit NUBAN".into(),
        ),
        (
            "identity/getByNuban",
            json!({"nuban": bad_check, "bank": "access-bank"}),
            422,
            "`nuban` must be a valid 10-digit NUBAN".into(),
        ),
        (
            "identity/getByNuban",
            json!({"nuban": valid_nuban, "bank": "no-such-bank"}),
            400,
            "Could not match bank identifier no-such-bank with a valid bank".into(),
        ),
        (
            "identity/getByCustomer",
            json!({"customer": 12}),
            422,
            "`customer` must be a string".into(),
        ),
        (
            "identity/getByCustomer",
            json!({"customer": "x"}),
            422,
            "`customer` must be a valid id".into(),
        ),
        (
            "identity/getByCustomer",
            json!({"customer": id, "limit": 0}),
            422,
            "`limit` must be an integer between 1 and 100".into(),
        ),
        (
            "identity/getByDate",
            json!({"from": "2024-13-01", "to": "2024-12-01"}),
            422,
            "`from` must be a date in YYYY-MM-DD format".into(),
        ),
        (
            "identity/getByDate",
            json!({"from": "2024-01-01"}),
            422,
            "`to` is a required input".into(),
        ),
        (
            "identity/getByDate",
            json!({"from": "2024-02-01", "to": "2024-01-01"}),
            422,
            "`to` must be a date on or after `from`".into(),
        ),
        (
            "identity/getByCustomerDate",
            json!({"customer": id, "from": "01-01-2024", "to": "2024-01-02"}),
            422,
            "`from` must be a date in YYYY-MM-DD format".into(),
        ),
        (
            "identity/getByOptions",
            json!({}),
            422,
            "`options` is a required input".into(),
        ),
        (
            "identity/getByOptions",
            json!({"options": "x"}),
            422,
            "`options` must be an object".into(),
        ),
        (
            "identity/getByOptions",
            json!({"options": {}}),
            422,
            "`options` must have at least 1 key".into(),
        ),
        (
            "products/identities",
            json!({"page": 0}),
            422,
            "`page` must be an integer greater than or equal to 1".into(),
        ),
        (
            "products/kyc/customer-verify",
            json!({}),
            422,
            "`customer` is a required input".into(),
        ),
        (
            "products/kyc/customer-verify",
            json!({"customer": id}),
            400,
            "Customer not found".into(),
        ),
        (
            "products/kyc/bvn-verify",
            json!({"bvn": "2221234567"}),
            422,
            "`bvn` must be 11 digits".into(),
        ),
        (
            "products/kyc/bvn-verify",
            json!({"bvn": "22212345678", "testing": "yes"}),
            422,
            "`testing` must be a boolean".into(),
        ),
        (
            "products/kyc/nuban-verify",
            json!({"bank": "access-bank"}),
            422,
            "`nuban` is a required input".into(),
        ),
        (
            "products/kyc/nuban-verify",
            json!({"nuban": valid_nuban}),
            422,
            "`bank` is a required input".into(),
        ),
        (
            "products/kyc/nuban-verify",
            json!({"nuban": bad_check, "bank": "access-bank"}),
            422,
            "`nuban` must be a valid 10-digit NUBAN".into(),
        ),
        (
            "products/kyc/nuban-verify",
            json!({"nuban": valid_nuban, "bank": "access-bank", "refresh": 3}),
            422,
            "`refresh` must be a boolean".into(),
        ),
        (
            "products/kyc/nuban-name-verify",
            json!({"nuban": "12345678901", "bank": "access-bank"}),
            422,
            "`nuban` must be a valid 10-digit NUBAN".into(),
        ),
    ];
    let before = row_counts(&s).await;
    let balance = wallet(&s, "sandbox", &k).await;
    for (path, body, status, message) in cases {
        let r = s
            .post(&format!("/v2/sandbox/{path}"), Some(&k), body.clone())
            .await;
        assert_error(&r, status, &message);
        if status == 400 && message.starts_with("Could not match") {
            assert_eq!(r.json()["data"], Value::Null, "{path} {body}");
        }
    }
    // The unknown bank on a KYC operation, twice: the second within 15 minutes is refused
    // without asking again.
    let body = json!({"nuban": valid_nuban, "bank": "no-such-bank"});
    let r = s.post(NUBAN_VERIFY, Some(&k), body.clone()).await;
    assert_error(
        &r,
        400,
        "Could not match bank identifier no-such-bank with a valid bank",
    );
    let r = s.post(NUBAN_VERIFY, Some(&k), body).await;
    assert_error(&r, 400, "Invalid identity, please try again in 15 minutes.");
    assert_eq!(
        row_counts(&s).await,
        before,
        "refused requests wrote nothing"
    );
    assert_eq!(
        wallet(&s, "sandbox", &k).await,
        balance,
        "and charged nothing"
    );
    s.stop().await;
}

/// A valid NUBAN of `bank` that the network gives no holder.
fn unheld_nuban(s: &TestServer, bank: &str) -> String {
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let code = okra_core::banks::find(bank).unwrap().cbn_code;
    for serial in 900_000_000u64.. {
        let nuban = okra_core::nuban::make_nuban(code, &serial.to_string()).unwrap();
        if network.account_by_nuban(bank, &nuban).is_none() {
            return nuban;
        }
    }
    unreachable!()
}

async fn an_invalid_nuban_is_remembered_for_15_minutes_by_every_process(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let nuban = unheld_nuban(&s, "access-bank");
    let body = json!({"nuban": nuban, "bank": "access-bank"});
    let r = s.post(NUBAN_VERIFY, Some(&k), body.clone()).await;
    assert_error(&r, 400, kyc_messages::NUBAN_NO_IDENTITY);
    // The source would now time out: an answer without asking it proves the cache.
    fault(&s, &k, json!({"type": "timeout"})).await;
    let second = s.second_process().await;
    for server in [&s, &second] {
        let r = server.post(NUBAN_VERIFY, Some(&k), body.clone()).await;
        assert_error(&r, 400, "Invalid identity, please try again in 15 minutes.");
        let r = server.post(NAME_VERIFY, Some(&k), body.clone()).await;
        assert_error(&r, 400, "Invalid identity, please try again in 15 minutes.");
    }
    // Another NUBAN does ask the source (and meets the timeout: 503, nothing charged).
    let balance = wallet(&s, "sandbox", &k).await;
    let before = row_counts(&s).await;
    let (person, _) = full_people(&s, 1).remove(0);
    let a = &person.accounts[0];
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank}),
        )
        .await;
    assert_error(
        &r,
        503,
        "Our data source has returned a timeout response. Please retry the request.",
    );
    assert_eq!(wallet(&s, "sandbox", &k).await, balance);
    assert_eq!(row_counts(&s).await, before);
    second.stop().await;
    s.stop().await;
}

/// The reference's wording, as the tests expect it.
mod kyc_messages {
    pub const NUBAN_NO_IDENTITY: &str = "Could not match the nuban account to a valid identity. Please try to use BVN in order to find the identity.";
}

async fn refresh_testing_success_and_no_bvn_behave_as_the_reference_says(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let (person, _) = full_people(&s, 1).remove(0);
    let a = &person.accounts[0];
    let first = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank}),
        )
        .await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.text);
    // With the source down, refresh:false still answers from the stored profile; a refresh
    // needs the source.
    fault(&s, &k, json!({"type": "timeout"})).await;
    let stored = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank, "refresh": false}),
        )
        .await;
    assert_eq!(stored.status.as_u16(), 200, "{}", stored.text);
    assert_eq!(
        stored.json()["data"]["identity"]["id"],
        first.json()["data"]["identity"]["id"]
    );
    let refreshed = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank, "refresh": true}),
        )
        .await;
    assert_eq!(refreshed.status.as_u16(), 503, "{}", refreshed.text);
    s.post("/v2/sandbox/faults/clear", Some(&k), json!({}))
        .await;

    // success:false forces the failure answer without a charge.
    let balance = wallet(&s, "sandbox", &k).await;
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank, "testing": true, "success": false}),
        )
        .await;
    assert_error(&r, 400, kyc_messages::NUBAN_NO_IDENTITY);
    // testing:true is free, with a receipt all the same.
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank, "testing": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(
        r.json()["data"]["receipt"]["data"]["receipt"]["charge"],
        0.0
    );
    assert_eq!(wallet(&s, "sandbox", &k).await, balance);
    // no_bvn: the name without a BVN.
    let r = s
        .post(
            NAME_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank, "no_bvn": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["data"]["identity"]["bvn"], Value::Null);
    assert_eq!(r.json()["data"]["identity"]["isBvnVerified"], false);
    // A paid call's charge is the configured price.
    let before = wallet(&s, "sandbox", &k).await;
    let r = s
        .post(
            NAME_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank}),
        )
        .await;
    let charge = r.json()["data"]["receipt"]["data"]["receipt"]["charge"]
        .as_f64()
        .unwrap();
    assert_eq!(charge, s.config.price_nuban_name_verify);
    let after = wallet(&s, "sandbox", &k).await;
    assert!(
        (before - after - charge).abs() < 1e-9,
        "{before} - {after} != {charge}"
    );
    // Production with testing:true asks the sandbox's network, free.
    let live = s.key("production", "secret");
    let live_balance = wallet(&s, "production", &live).await;
    let r = s
        .post(
            "/v2/products/kyc/nuban-verify",
            Some(&live),
            json!({"nuban": a.nuban, "bank": a.bank, "testing": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["data"]["identity"]["env"], "production-sandbox");
    assert_eq!(wallet(&s, "production", &live).await, live_balance);
    for path in ["/v2/products/identities", "/v2/wallet/receipts"] {
        let r = s.post(path, Some(&live), json!({})).await;
        assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 0, "{path}");
    }
    // ... and the sandbox holds what it answered: the receipt and the identity.
    let receipt_id = r.json()["data"]["receipt"]["data"]["receipt"]["_id"].clone();
    let receipts = s
        .post(
            "/v2/sandbox/wallet/receipts",
            Some(&k),
            json!({"limit": 100}),
        )
        .await;
    assert!(
        receipts.json()["data"]["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["_id"] == receipt_id),
        "the testing call's receipt is the sandbox's"
    );
    // A name enquiry of an account without a BVN that nobody linked makes no customer, however
    // often it is asked.
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let lone = network
        .sample_users(None, 5000)
        .into_iter()
        .find(|(_, p)| p.bvn.is_none() && !p.is_company && !p.accounts.is_empty())
        .map(|(_, p)| p.accounts[0].clone())
        .expect("a person without a BVN");
    let customers_before = customers_count(&s).await;
    for _ in 0..2 {
        let r = s
            .post(
                NAME_VERIFY,
                Some(&k),
                json!({"nuban": lone.nuban, "bank": lone.bank}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let d = r.json()["data"].clone();
        assert_eq!(d["identity"]["isBvnVerified"], false, "{d}");
        assert_eq!(d["customer"], Value::Null);
        assert_eq!(d["record"], json!([]));
        assert_eq!(
            d["receipt"]["data"]["receipt"]["billable_service"],
            "nuban-name-verify"
        );
    }
    assert_eq!(customers_count(&s).await, customers_before);
    // nuban-verify of that account refuses without remembering it: the name can still be asked.
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": lone.nuban, "bank": lone.bank}),
        )
        .await;
    assert_error(&r, 400, kyc_messages::NUBAN_NO_IDENTITY);
    let r = s
        .post(
            NAME_VERIFY,
            Some(&k),
            json!({"nuban": lone.nuban, "bank": lone.bank}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    s.stop().await;
}

async fn customers_count(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(s.db.pool())
        .await
        .unwrap()
}

/// Sets the production wallet of the test owner to `credits`.
async fn set_production_wallet(s: &TestServer, credits: f64) {
    let minor = (credits * 100.0).round() as i64;
    sqlx::query("UPDATE wallets SET balance_minor = $1 WHERE env = 'production'")
        .bind(minor)
        .execute(s.db.pool())
        .await
        .unwrap();
}

async fn concurrent_verifies_charge_exactly_what_the_wallet_affords(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let live = s.key("production", "secret");
    let price = s.config.price_bvn_verify;
    set_production_wallet(&s, price * 10.0).await;
    let bvns = people_with_bvn(&s, 50);
    let before = row_counts(&s).await;
    let second = s.second_process().await;
    let mut tasks = Vec::new();
    for (i, bvn) in bvns.iter().enumerate() {
        let url = if i % 2 == 0 {
            s.base.clone()
        } else {
            second.base.clone()
        };
        let live = live.clone();
        let bvn = bvn.clone();
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{url}/v2/products/kyc/bvn-verify"))
                .bearer_auth(&live)
                .json(&json!({"bvn": bvn}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            200 => ok += 1,
            400 => assert!(text.contains("Insufficient wallet balance"), "{text}"),
            other => panic!("{other}: {text}"),
        }
    }
    assert_eq!(ok, 10, "exactly what the wallet affords");
    assert_eq!(wallet(&s, "production", &live).await, 0.0);
    let receipts = s
        .post("/v2/wallet/receipts", Some(&live), json!({"limit": 100}))
        .await;
    assert_eq!(receipts.json()["data"]["pagination"]["totalDocs"], 10);
    assert_eq!(
        receipts.json()["data"]["receipts"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    let after = row_counts(&s).await;
    let grew = |t: &str| rows_added(&before, &after, t);
    assert_eq!(grew("identities"), 10);
    assert_eq!(grew("customers"), 10);
    // Insufficient balance: nothing created.
    let r = s
        .post(
            "/v2/products/kyc/bvn-verify",
            Some(&live),
            json!({"bvn": bvns[0]}),
        )
        .await;
    assert_error(&r, 400, "Insufficient wallet balance");
    assert_eq!(row_counts(&s).await, after);
    // One person verified 8 times at once over two processes: one customer, one identity,
    // eight charges.
    set_production_wallet(&s, price * 8.0).await;
    let before = row_counts(&s).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let url = if i % 2 == 0 {
            s.base.clone()
        } else {
            second.base.clone()
        };
        let live = live.clone();
        let bvn = bvns[49].clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v2/products/kyc/bvn-verify"))
                .bearer_auth(&live)
                .json(&json!({"bvn": bvn}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let after = row_counts(&s).await;
    let grew = |t: &str| rows_added(&before, &after, t);
    // Whether the 50 earlier calls happened to verify this person is up to the race.
    let had: i64 = grew("identities");
    assert!(had <= 1, "one identity at most: {had}");
    assert_eq!(grew("customers"), had);
    assert_eq!(grew("receipts"), 8);
    assert_eq!(wallet(&s, "production", &live).await, 0.0);
    second.stop().await;
    s.stop().await;
}

async fn an_idempotency_key_charges_once(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let bvns = people_with_bvn(&s, 2);
    let post = |body: Value, idem: &'static str| {
        let url = format!("{}{BVN_VERIFY}", s.base);
        let k = k.clone();
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(&k)
                .header("Idempotency-Key", idem)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let balance = wallet(&s, "sandbox", &k).await;
    let (status, first) = post(json!({"bvn": bvns[0]}), "order-1").await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post(json!({"bvn": bvns[0]}), "order-1").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        serde_json::from_str::<Value>(&first).unwrap(),
        serde_json::from_str::<Value>(&again).unwrap(),
        "the replay is the first answer"
    );
    let charged = balance - wallet(&s, "sandbox", &k).await;
    assert!(
        (charged - s.config.price_bvn_verify).abs() < 1e-9,
        "charged once: {charged}"
    );
    let balance = wallet(&s, "sandbox", &k).await;
    // The same body with its keys in another order is the same request.
    let (status, reordered) = post(json!({"testing": false, "bvn": bvns[0]}), "order-1b").await;
    assert_eq!(status, 200, "{reordered}");
    let (status, again) = post(json!({"bvn": bvns[0], "testing": false}), "order-1b").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        serde_json::from_str::<Value>(&reordered).unwrap(),
        serde_json::from_str::<Value>(&again).unwrap()
    );
    let (status, other) = post(json!({"bvn": bvns[1]}), "order-1").await;
    assert_eq!(status, 422, "{other}");
    assert!(other.contains("Idempotency-Key"), "{other}");
    // Two keys on one request are refused (charging nothing), not one of them picked.
    let two = reqwest::Client::new()
        .post(format!("{}{BVN_VERIFY}", s.base))
        .bearer_auth(&k)
        .header("Idempotency-Key", "order-9a")
        .header("Idempotency-Key", "order-9b")
        .json(&json!({"bvn": bvns[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(two.status().as_u16(), 422);
    assert!(two
        .text()
        .await
        .unwrap()
        .contains("`Idempotency-Key` must be sent once"));
    // While the first call runs (a slow source), the same key is refused with 409.
    fault(
        &s,
        &k,
        json!({"type": "slow", "delay_ms": 1500, "count": 1}),
    )
    .await;
    let slow = tokio::spawn(post(json!({"bvn": bvns[1]}), "order-2"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, busy) = post(json!({"bvn": bvns[1]}), "order-2").await;
    assert_eq!(status, 409, "{busy}");
    let (status, done) = slow.await.unwrap();
    assert_eq!(status, 200, "{done}");
    let (status, replayed) = post(json!({"bvn": bvns[1]}), "order-2").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&done).unwrap(),
        serde_json::from_str::<Value>(&replayed).unwrap()
    );
    let receipts = s
        .post("/v2/sandbox/wallet/receipts", Some(&k), json!({}))
        .await;
    assert_eq!(receipts.json()["data"]["pagination"]["totalDocs"], 3);
    let charged = balance - wallet(&s, "sandbox", &k).await;
    assert!(
        (charged - 2.0 * s.config.price_bvn_verify).abs() < 1e-9,
        "{charged}"
    );
    // A failed call releases its key: the same key works once the source answers.
    fault(&s, &k, json!({"type": "timeout", "count": 1})).await;
    let (status, _) = post(json!({"bvn": bvns[0]}), "order-3").await;
    assert_eq!(status, 503);
    let (status, text) = post(json!({"bvn": bvns[0]}), "order-3").await;
    assert_eq!(status, 200, "{text}");
    // The stored answers are sealed and the request hashes keyed: no BVN in any column.
    let rows: Vec<(String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT request_hash, response_enc FROM idempotency_keys")
            .fetch_all(s.db.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 4);
    for (hash, answer) in rows {
        let answer = answer.expect("every completed key has its answer");
        for bvn in &bvns {
            assert!(!hash.contains(bvn.as_str()));
            assert!(!holds(&answer, bvn), "sealed");
        }
    }
    s.stop().await;
}

/// What the verifies store: identities, customers, the idempotency answers, the negative cache.
async fn verifies_leave_no_personal_data_in_clear(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let (person, id) = full_people(&s, 1).remove(0);
    let a = &person.accounts[0];
    let r = reqwest::Client::new()
        .post(format!("{}{NUBAN_VERIFY}", s.base))
        .bearer_auth(&k)
        .header("Idempotency-Key", "pii-1")
        .json(&json!({"nuban": a.nuban, "bank": a.bank}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let bvn = id.bvn.clone().unwrap();
    for (path, body) in [
        (BVN_VERIFY, json!({"bvn": bvn})),
        (NAME_VERIFY, json!({"nuban": a.nuban, "bank": a.bank})),
    ] {
        let r = s.post(path, Some(&k), body).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
    let unheld = unheld_nuban(&s, "access-bank");
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": unheld, "bank": "access-bank"}),
        )
        .await;
    assert_error(&r, 400, kyc_messages::NUBAN_NO_IDENTITY);
    let bytes = crate::pii_at_rest::at_rest(&s).await;
    // The scan sees what is kept in clear by design (names are plain columns).
    assert!(
        holds(&bytes, &id.fullname),
        "the scan reads the stored rows"
    );
    let mut secrets = vec![bvn, a.nuban.clone(), unheld];
    secrets.extend(id.nin.clone());
    secrets.extend(id.phones.clone());
    secrets.extend(id.emails.clone());
    secrets.extend(id.addresses.clone());
    secrets.extend(id.aliases.clone());
    secrets.extend(id.mothers_maiden.clone());
    for secret in secrets {
        assert!(!holds(&bytes, &secret), "`{secret}` is stored in plaintext");
    }
    s.stop().await;
}

/// The built-in fault triggers and scripted faults, through the verifies: a 503 charges nothing
/// and writes nothing; a watch-listed BVN says so.
async fn fault_triggers_reach_the_verifies(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let timeout = "Our data source has returned a timeout response. Please retry the request.";
    let gtb = |serial: &str| okra_core::nuban::make_nuban("058", serial).unwrap();
    let before = row_counts(&s).await;
    let balance = wallet(&s, "sandbox", &k).await;
    for (path, body, status, message) in [
        (BVN_VERIFY, json!({"bvn": "22000000408"}), 503, timeout),
        (BVN_VERIFY, json!({"bvn": "22000000503"}), 503, timeout),
        (
            BVN_VERIFY,
            json!({"bvn": "22000000404"}),
            400,
            "There is no identity available for this bvn",
        ),
        (
            NUBAN_VERIFY,
            json!({"nuban": gtb("000000408"), "bank": "guaranty-trust-bank"}),
            503,
            timeout,
        ),
        (
            NAME_VERIFY,
            json!({"nuban": gtb("000000503"), "bank": "guaranty-trust-bank"}),
            503,
            timeout,
        ),
        (
            NUBAN_VERIFY,
            json!({"nuban": gtb("000000422"), "bank": "guaranty-trust-bank"}),
            400,
            kyc_messages::NUBAN_NO_IDENTITY,
        ),
    ] {
        let r = s.post(path, Some(&k), body.clone()).await;
        assert_error(&r, status, message);
    }
    assert_eq!(
        row_counts(&s).await,
        before,
        "failed verifies write nothing"
    );
    assert_eq!(
        wallet(&s, "sandbox", &k).await,
        balance,
        "and charge nothing"
    );
    // The no-BVN account: its name, without a BVN.
    let r = s
        .post(
            NAME_VERIFY,
            Some(&k),
            json!({"nuban": gtb("000000422"), "bank": "guaranty-trust-bank"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["data"]["identity"]["bvn"], Value::Null);
    // A watch-listed person (assigned BVNs ending in 00).
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let listed = network
        .sample_users(None, 5000)
        .into_iter()
        .find(|(_, p)| p.watch_listed)
        .map(|(_, p)| p.bvn.unwrap())
        .expect("a watch-listed person");
    let r = s.post(BVN_VERIFY, Some(&k), json!({"bvn": listed})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["data"]["watch_listed"], true);
    // Scripted faults: an invalid identity for one BVN, a bank down for one account.
    let bvn = people_with_bvn(&s, 1).remove(0);
    fault(&s, &k, json!({"type": "invalid_identity", "bvn": bvn})).await;
    let r = s.post(BVN_VERIFY, Some(&k), json!({"bvn": bvn})).await;
    assert_error(&r, 400, "There is no identity available for this bvn");
    let (person, _) = full_people(&s, 1).remove(0);
    let a = &person.accounts[0];
    fault(
        &s,
        &k,
        json!({"type": "bank_down", "bank": a.bank, "count": 1}),
    )
    .await;
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank}),
        )
        .await;
    assert_error(&r, 503, timeout);
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a.nuban, "bank": a.bank}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "the fault applied once: {}", r.text);
    s.stop().await;
}

/// A server SIGKILLed in the middle of a paid call with an `Idempotency-Key`: nothing was charged;
/// after a restart the key answers 409 until the dead call's lease (twice the request timeout)
/// has passed, then runs once and is charged once.
async fn a_verify_killed_mid_call_is_charged_once_after_its_lease(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::common::fresh_database(&b).await;
    let key = crate::binary::create_owner(dir.path(), &url, "killed-verify").await;
    let serve = || {
        let mut c = crate::binary::command(dir.path(), &url);
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .env("OKRA_REQUEST_TIMEOUT_SECS", "3")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c.spawn().unwrap()
    };
    let mut child = serve();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;
    let client = reqwest::Client::new();
    let config = okra_server::config::Config::default();
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    let bvn = network
        .sample_users(None, 500)
        .into_iter()
        .find_map(|(_, p)| p.bvn.filter(|_| !p.is_company))
        .unwrap();
    let wallet_of = |base: String| {
        let client = client.clone();
        let key = key.clone();
        async move {
            let (status, text) =
                crate::binary::post(&client, &base, "/v2/sandbox/wallet/get", &key, &json!({}))
                    .await
                    .unwrap();
            assert_eq!(status, 200, "{text}");
            serde_json::from_str::<Value>(&text).unwrap()["data"]["balance"]
                .as_f64()
                .unwrap()
        }
    };
    let before = wallet_of(base.clone()).await;
    let (status, text) = crate::binary::post(
        &client,
        &base,
        "/v2/sandbox/faults/create",
        &key,
        &json!({"type": "slow", "delay_ms": 1500}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{text}");
    let send = |base: String| {
        let client = client.clone();
        let key = key.clone();
        let bvn = bvn.clone();
        async move {
            let r = client
                .post(format!("{base}{BVN_VERIFY}"))
                .bearer_auth(&key)
                .header("Idempotency-Key", "killed-1")
                .json(&json!({"bvn": bvn}))
                .send()
                .await
                .ok()?;
            let status = r.status().as_u16();
            Some((status, r.text().await.ok()?))
        }
    };
    let in_flight = tokio::spawn(send(base.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let claimed_at = std::time::Instant::now();
    assert_eq!(
        in_flight.await.unwrap(),
        None,
        "the call died with its server"
    );

    let mut child = serve();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;
    let (status, _) =
        crate::binary::post(&client, &base, "/v2/sandbox/faults/clear", &key, &json!({}))
            .await
            .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        wallet_of(base.clone()).await,
        before,
        "nothing charged by the dead call"
    );
    let (status, text) = send(base.clone()).await.unwrap();
    assert_eq!(
        status, 409,
        "the dead call's claim holds until its lease: {text}"
    );
    let lease = std::time::Duration::from_secs(6);
    tokio::time::sleep(
        lease.saturating_sub(claimed_at.elapsed()) + std::time::Duration::from_millis(300),
    )
    .await;
    let (status, first) = send(base.clone()).await.unwrap();
    assert_eq!(status, 200, "{first}");
    let (status, again) = send(base.clone()).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&first).unwrap(),
        serde_json::from_str::<Value>(&again).unwrap()
    );
    let charged = before - wallet_of(base.clone()).await;
    assert!(
        (charged - config.price_bvn_verify).abs() < 1e-9,
        "charged once: {charged}"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    if let Some(u) = &url {
        crate::common::drop_database(&b, u).await;
    }
}

/// One person verified by two accounts: each account finds the identity again; and another owner
/// verifying the same account finds its own identity, never this owner's.
async fn every_account_a_person_was_verified_by_finds_the_identity(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let k = key(&s);
    let (person, _) = full_people(&s, 40)
        .into_iter()
        .find(|(p, _)| p.accounts.len() >= 2)
        .expect("a person with two accounts");
    let (a1, a2) = (&person.accounts[0], &person.accounts[1]);
    let mut ids = Vec::new();
    for a in [a1, a2] {
        let r = s
            .post(
                NUBAN_VERIFY,
                Some(&k),
                json!({"nuban": a.nuban, "bank": a.bank}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        ids.push(r.json()["data"]["identity"]["id"].clone());
    }
    assert_eq!(ids[0], ids[1], "one person, one identity");
    for a in [a1, a2] {
        let r = s
            .post(
                "/v2/sandbox/identity/getByNuban",
                Some(&k),
                json!({"nuban": a.nuban, "bank": a.bank}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_eq!(r.json()["data"]["id"], ids[0]);
    }
    // refresh:false by the first account answers without the source (which is down).
    fault(&s, &k, json!({"type": "timeout"})).await;
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&k),
            json!({"nuban": a1.nuban, "bank": a1.bank, "refresh": false}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let d = r.json()["data"].clone();
    assert_eq!(d["identity"]["id"], ids[0]);
    assert_eq!(
        d["identity"]["record"], d["receipt"]["data"]["receipt"]["record"],
        "the answer names this verify's record"
    );
    s.post("/v2/sandbox/faults/clear", Some(&k), json!({}))
        .await;
    // Another owner verifies the same account: its own identity, and each owner reads its own.
    let other = okra_server::services::owners::create_owner(&s.db, &s.state().keyring(), "owner-b")
        .await
        .unwrap();
    let kb = other
        .keys
        .iter()
        .find(|k| k.env == okra_core::Environment::Sandbox && k.kind == "secret")
        .unwrap()
        .key
        .clone();
    let r = s
        .post(
            NUBAN_VERIFY,
            Some(&kb),
            json!({"nuban": a1.nuban, "bank": a1.bank}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let theirs = r.json()["data"]["identity"]["id"].clone();
    assert_ne!(theirs, ids[0]);
    for (key, expected) in [(&k, &ids[0]), (&kb, &theirs)] {
        let r = s
            .post(
                "/v2/sandbox/identity/getByNuban",
                Some(key),
                json!({"nuban": a1.nuban, "bank": a1.bank}),
            )
            .await;
        assert_eq!(&r.json()["data"]["id"], expected);
    }
    s.stop().await;
}

backend_tests!(
    every_account_a_person_was_verified_by_finds_the_identity,
    a_verify_killed_mid_call_is_charged_once_after_its_lease,
    fault_triggers_reach_the_verifies,
    verifies_leave_no_personal_data_in_clear,
    golden_shapes_match_the_reference,
    identity_lists_page_filter_and_count,
    options_given_when_linking_find_the_identity,
    bad_input_gets_the_reference_messages,
    an_invalid_nuban_is_remembered_for_15_minutes_by_every_process,
    refresh_testing_success_and_no_bvn_behave_as_the_reference_says,
    concurrent_verifies_charge_exactly_what_the_wallet_affords,
    an_idempotency_key_charges_once,
);
