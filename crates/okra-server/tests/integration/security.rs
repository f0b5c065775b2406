//! Issue 3: rate limits, tenant isolation over every route, and no personal data in logs.

use okra_core::Environment;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{Backend, Reply, TestServer, UNAUTHORIZED};

/// Puts the test servers' clock 1 s into a one-minute rate-limit window.
fn start_of_window(s: &TestServer) {
    let now = okra_core::time::now_ms();
    s.clock.set(now - now.rem_euclid(60_000) + 1_000);
}

async fn rate_limit_answers_429_with_retry_after(b: Backend) {
    let s = TestServer::start_with(b, |c| c.rate_limit_per_minute = 5, Default::default()).await;
    start_of_window(&s);
    let key = s.sandbox_key();
    for i in 0..5 {
        assert_eq!(
            s.get_status("/v2/sandbox/banks/list", Some(&key)).await,
            200,
            "request {i}"
        );
    }
    let r = s.get("/v2/sandbox/banks/list", Some(&key)).await;
    assert_eq!(r.status.as_u16(), 429, "{}", r.text);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert_eq!(retry, 59, "the window has 59 s left");
    assert_eq!(
        r.json(),
        json!({"status": "error", "message": format!("Too many requests, please try again in {retry} seconds."), "data": {}})
    );
    // Per key: the production key of the same owner is not limited by the sandbox key's use.
    assert_eq!(
        s.get_status("/v2/banks/list", Some(&s.key("production", "secret")))
            .await,
        200
    );
    // Bad keys are refused before counting.
    assert_eq!(
        s.get("/v2/sandbox/banks/list", Some("sk_sandbox_nope"))
            .await
            .text,
        UNAUTHORIZED
    );
    // The next window starts afresh.
    s.clock.advance(59_000);
    assert_eq!(
        s.get_status("/v2/sandbox/banks/list", Some(&key)).await,
        200
    );
    s.stop().await;
}

async fn rate_limit_is_shared_between_processes(b: Backend) {
    let a = TestServer::start_with(b, |c| c.rate_limit_per_minute = 10, Default::default()).await;
    start_of_window(&a);
    let second = a.second_process().await;
    let key = a.sandbox_key();
    for _ in 0..6 {
        assert_eq!(
            a.get_status("/v2/sandbox/banks/list", Some(&key)).await,
            200
        );
    }
    // The first process shares its count (as its once-a-second sync does).
    a.state().rate_limiter.sync(&a.db).await;
    let mut accepted = 0;
    for _ in 0..10 {
        if second
            .get("/v2/sandbox/banks/list", Some(&key))
            .await
            .status
            .as_u16()
            == 200
        {
            accepted += 1;
        }
    }
    assert_eq!(
        accepted, 4,
        "the second process saw the first one's requests"
    );
    second.stop().await;
    a.stop().await;
}

/// How each API route is called in the isolation matrix, given owner A's ids.
struct Ids {
    customer: String,
    fault: String,
    record: String,
    account: String,
    /// A balance of owner A (of `account`).
    balance: String,
    /// An identity of owner A, verified by `bvn` and by `bank`/`nuban`.
    identity: String,
    bvn: String,
    bank: String,
    nuban: String,
    /// A network login owner B may connect with (link/connect writes B's own data).
    login: Value,
}

/// What a route does with tenant data.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// The same for every owner (the bank list).
    Shared,
    /// Reads data named by the ids in the request.
    Read,
    /// Writes the caller's own data; must leave owner A's untouched.
    Write,
}

type Case = (Kind, Option<(&'static str, Value)>);

fn matrix_request(path: &str, ids: &Ids) -> Option<Case> {
    Some(match path {
        "banks/list" | "banks/getById" => (Kind::Shared, None),
        "customers/list" => (Kind::Read, Some(("POST", json!({})))),
        "customers/getById" => (Kind::Read, Some(("POST", json!({"id": ids.customer})))),
        "customers/get" => (
            Kind::Read,
            Some(("POST", json!({"customer": ids.customer}))),
        ),
        "faults/list" => (Kind::Read, Some(("POST", json!({})))),
        "faults/delete" => (Kind::Read, Some(("POST", json!({"id": ids.fault})))),
        "faults/create" => (Kind::Write, Some(("POST", json!({"type": "timeout"})))),
        "faults/clear" => (Kind::Write, Some(("POST", json!({})))),
        "customers/create" => (
            Kind::Write,
            Some(("POST", json!([{"name": "Owner B Person"}]))),
        ),
        "customers/generate" => (Kind::Write, Some(("POST", json!({"number": 1})))),
        "records/getById" => (Kind::Read, Some(("POST", json!({"id": ids.record})))),
        "accounts/getById" => (Kind::Read, Some(("POST", json!({"id": ids.account})))),
        "accounts/getByCustomer" => (
            Kind::Read,
            Some(("POST", json!({"customer": ids.customer}))),
        ),
        "callback" => (
            Kind::Read,
            Some((
                "GET",
                json!({"query": format!("record={}&method=AUTH", ids.record)}),
            )),
        ),
        "webhooks/deliveries" => (Kind::Read, Some(("POST", json!({})))),
        "callback/trigger" => (
            Kind::Read,
            Some(("POST", json!({"recordIds": [ids.record]}))),
        ),
        "identity/getById" => (Kind::Read, Some(("POST", json!({"id": ids.identity})))),
        "identity/getByBvn" => (Kind::Read, Some(("POST", json!({"bvn": ids.bvn})))),
        "identity/getByNuban" => (
            Kind::Read,
            Some(("POST", json!({"bank": ids.bank, "nuban": ids.nuban}))),
        ),
        "identity/getByCustomer" => (
            Kind::Read,
            Some(("POST", json!({"customer": ids.customer}))),
        ),
        "identity/getByDate" => (
            Kind::Read,
            Some(("POST", json!({"from": "2000-01-01", "to": "2100-01-01"}))),
        ),
        "identity/getByCustomerDate" => (
            Kind::Read,
            Some((
                "POST",
                json!({"customer": ids.customer, "from": "2000-01-01", "to": "2100-01-01"}),
            )),
        ),
        "identity/getByOptions" | "identity/byOptions" => (
            Kind::Read,
            Some(("POST", json!({"options": {"loan_id": "L-1"}}))),
        ),
        "products/identities" | "wallet/get" | "wallet/receipts" | "products/balances" => {
            (Kind::Read, Some(("POST", json!({}))))
        }
        "balance/getById" => (Kind::Read, Some(("POST", json!({"id": ids.balance})))),
        "balance/getByAccount" => (Kind::Read, Some(("POST", json!({"account": ids.account})))),
        "balance/getByCustomer" => (
            Kind::Read,
            Some(("POST", json!({"customer": ids.customer}))),
        ),
        "balance/getByDate" => (
            Kind::Read,
            Some(("POST", json!({"from": "2000-01-01", "to": "2100-01-01"}))),
        ),
        "balance/getByCustomerDate" => (
            Kind::Read,
            Some((
                "POST",
                json!({"customer": ids.customer, "from": "2000-01-01", "to": "2100-01-01"}),
            )),
        ),
        "balance/getByOptions" | "balance/byOptions" => (
            Kind::Read,
            Some(("POST", json!({"options": {"loan_id": "L-1"}}))),
        ),
        "balance/getByType" => (
            Kind::Read,
            Some((
                "POST",
                json!({"type": "available_balance", "value": -1_000_000}),
            )),
        ),
        // Owner B naming owner A's account starts nothing: as for an account nobody has.
        "balance/refresh" | "balance/check" => (
            Kind::Read,
            Some(("POST", json!({"account_id": ids.account}))),
        ),
        "products/kyc/customer-verify" => (
            Kind::Read,
            Some(("POST", json!({"customer": ids.customer}))),
        ),
        // Owner B verifying the same person writes B's own data, paid from B's wallet.
        "products/kyc/bvn-verify" => (Kind::Write, Some(("POST", json!({"bvn": ids.bvn})))),
        "products/kyc/nuban-verify" | "products/kyc/nuban-name-verify" => (
            Kind::Write,
            Some(("POST", json!({"bank": ids.bank, "nuban": ids.nuban}))),
        ),
        "links/new" => (Kind::Write, Some(("POST", json!({"products": ["auth"]})))),
        "link/connect" => (Kind::Write, Some(("POST", ids.login.clone()))),
        _ => return None,
    })
}

async fn call(
    s: &TestServer,
    env_base: &str,
    path: &str,
    key: &str,
    req: &Option<(&'static str, Value)>,
) -> Reply {
    match req {
        Some(("POST", body)) => {
            s.post(&format!("{env_base}/{path}"), Some(key), body.clone())
                .await
        }
        Some(("GET", q)) => {
            let query = q["query"].as_str().unwrap_or("");
            s.get(&format!("{env_base}/{path}?{query}"), Some(key))
                .await
        }
        _ => {
            s.get(
                &format!(
                    "{env_base}/{path}{}",
                    if path == "banks/getById" {
                        "?id=5d6fe57a4099cc4b210bbec0"
                    } else {
                        ""
                    }
                ),
                Some(key),
            )
            .await
        }
    }
}

fn without_request_id(r: &Reply) -> (u16, Value) {
    let mut v = r.json();
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    (r.status.as_u16(), v)
}

/// Replaces owner A's ids in a request with ids nobody has.
fn with_unknown_ids(
    req: &Option<(&'static str, Value)>,
    ids: &Ids,
) -> Option<(&'static str, Value)> {
    req.as_ref().map(|(m, body)| {
        let text = body
            .to_string()
            .replace(&ids.customer, &okra_core::id::new_id())
            .replace(&ids.fault, &okra_core::id::new_id())
            .replace(&ids.record, &okra_core::id::new_id())
            .replace(&ids.account, &okra_core::id::new_id())
            .replace(&ids.identity, &okra_core::id::new_id())
            .replace(&ids.balance, &okra_core::id::new_id())
            .replace(&ids.bvn, "22299999999")
            .replace(&ids.nuban, &unknown_nuban(&ids.bank));
        (*m, serde_json::from_str(&text).unwrap())
    })
}

/// A valid NUBAN of `bank` nobody was verified by.
fn unknown_nuban(bank: &str) -> String {
    let code = okra_core::banks::find(bank).unwrap().cbn_code;
    okra_core::nuban::make_nuban(code, "999999998").unwrap()
}

/// What owner A can see of its own data, to prove owner B's writes did not touch it.
async fn a_view(s: &TestServer) -> (Value, Value, Value) {
    let key = s.sandbox_key();
    let customers = s
        .post("/v2/sandbox/customers/list", Some(&key), json!({}))
        .await
        .json()["data"]
        .clone();
    let faults = s
        .post("/v2/sandbox/faults/list", Some(&key), json!({}))
        .await
        .json()["data"]
        .clone();
    let identities = s
        .post("/v2/sandbox/products/identities", Some(&key), json!({}))
        .await
        .json()["data"]
        .clone();
    (customers, faults, identities)
}

async fn tenant_isolation_over_every_route(b: Backend) {
    let s = TestServer::start(b).await;
    let customer = crate::pii_at_rest::write_people(&s).await.remove(0);
    let (record, account): (String, String) = {
        let row: (String, String) =
            sqlx::query_as("SELECT record_id, id FROM accounts WHERE customer_id = $1")
                .bind(&customer)
                .fetch_one(s.db.pool())
                .await
                .unwrap();
        row
    };
    let (creds, person, bank) = crate::linking::person_with(&s, 1);
    let login = json!({"bank": bank, "username": creds.username, "password": creds.password});
    // Owner A verifies a person of the network: an identity found by BVN and by account.
    let held = person.accounts.iter().find(|a| a.bank == bank).unwrap();
    let verified = s
        .post(
            "/v2/sandbox/products/kyc/nuban-verify",
            Some(&s.sandbox_key()),
            json!({"bank": bank, "nuban": held.nuban}),
        )
        .await;
    assert_eq!(verified.status.as_u16(), 200, "{}", verified.text);
    let fault = s
        .post(
            "/v2/sandbox/faults/create",
            Some(&s.sandbox_key()),
            json!({"type": "bank_down", "bank": "zenith-bank"}),
        )
        .await
        .json()["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A balance of owner A's account.
    let balance = {
        let mut tx = s.db.begin().await.unwrap();
        let id = okra_store::balances::insert(
            tx.conn(),
            &s.tenant(Environment::Sandbox),
            &okra_store::balances::NewBalance {
                account_id: account.clone(),
                customer_id: customer.clone(),
                record_id: record.clone(),
                available_minor: Some(12_345),
                ledger_minor: Some(12_345),
                currency: "NGN".into(),
                history: Vec::new(),
                created_at: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let ids = Ids {
        balance,
        customer,
        fault,
        record,
        account,
        identity: verified.json()["data"]["identity"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        bvn: person.bvn.clone().unwrap(),
        bank: bank.clone(),
        nuban: held.nuban.clone(),
        login,
    };
    let other = okra_server::services::owners::create_owner(&s.db, &s.state().keyring(), "owner-b")
        .await
        .unwrap();
    let b_sandbox = other
        .keys
        .iter()
        .find(|k| k.env == Environment::Sandbox && k.kind == "secret")
        .unwrap()
        .key
        .clone();
    let a_sandbox = s.sandbox_key();
    let a_live = s.key("production", "secret");
    let before = a_view(&s).await;
    let sandbox_only: Vec<&str> = okra_server::api::sandbox_routes()
        .into_iter()
        .chain(okra_server::api::sandbox_browser_routes())
        .map(|(p, _)| p)
        .collect();
    let all = okra_server::api::versioned_routes()
        .into_iter()
        .chain(okra_server::api::browser_routes())
        .chain(okra_server::api::sandbox_routes())
        .chain(okra_server::api::sandbox_browser_routes());
    for (path, _) in all {
        let (kind, req) = matrix_request(path, &ids).unwrap_or_else(|| {
            panic!("add `{path}` to the isolation matrix in tests/integration/security.rs")
        });
        // A key of the other environment is refused; sandbox-only routes do not exist in production.
        let on_production = call(&s, "/v2", path, &a_sandbox, &req).await;
        if sandbox_only.contains(&path) {
            assert_eq!(
                on_production.status.as_u16(),
                404,
                "{path} must not exist in production"
            );
        } else {
            assert_eq!(
                on_production.text, UNAUTHORIZED,
                "{path}: sandbox key on production path"
            );
        }
        assert_eq!(
            call(&s, "/v2/sandbox", path, &a_live, &req).await.text,
            UNAUTHORIZED,
            "{path}: production key on sandbox path"
        );
        // Owner B first, so owner A's data is still there to be reached if isolation failed.
        let theirs = call(&s, "/v2/sandbox", path, &b_sandbox, &req).await;
        match kind {
            Kind::Shared => {
                let mine = call(&s, "/v2/sandbox", path, &a_sandbox, &req).await;
                assert_eq!(
                    without_request_id(&theirs),
                    without_request_id(&mine),
                    "{path}: shared data"
                );
            }
            Kind::Read => {
                let unknown = call(
                    &s,
                    "/v2/sandbox",
                    path,
                    &b_sandbox,
                    &with_unknown_ids(&req, &ids),
                )
                .await;
                assert_eq!(
                    without_request_id(&theirs),
                    without_request_id(&unknown),
                    "{path}: B with A's ids must look like unknown ids"
                );
                assert!(
                    !theirs.text.contains(&ids.customer) || path.starts_with("customers/get"),
                    "{path}: leaked A's id"
                );
            }
            Kind::Write => assert_eq!(theirs.status.as_u16(), 200, "{path}: {}", theirs.text),
        }
        assert_eq!(
            a_view(&s).await,
            before,
            "{path}: owner B changed owner A's data"
        );
    }
    // Owner A still reaches its own data through every read route.
    assert_eq!(
        s.post(
            "/v2/sandbox/customers/getById",
            Some(&a_sandbox),
            json!({"id": ids.customer})
        )
        .await
        .status
        .as_u16(),
        200
    );
    assert_eq!(
        s.post(
            "/v2/sandbox/faults/delete",
            Some(&a_sandbox),
            json!({"id": ids.fault})
        )
        .await
        .status
        .as_u16(),
        200
    );
    s.stop().await;
}

backend_tests!(
    rate_limit_answers_429_with_retry_after,
    rate_limit_is_shared_between_processes,
    tenant_isolation_over_every_route
);

/// Issue 7: the data dir is 0700 and every file in it 0600 under a umask of 022, and a server
/// restarted on files an older version left readable makes them private.
#[cfg(unix)]
#[tokio::test]
async fn data_dir_and_its_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("okra-data");
    let serve_in = |dir: &std::path::Path| {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(r#"umask 022 && exec "$0" "$@""#)
            .arg(crate::cli::BIN)
            .args(["--data-dir"])
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("OKRA_DATABASE_URL")
            .env("OKRA_LOG_LEVEL", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c
    };
    let files = [
        "okra.db",
        "okra.db-wal",
        "okra.db-shm",
        "keys.json",
        "credentials.json",
    ];
    let check = |when: &str| {
        assert_eq!(mode(&dir), 0o700, "{when}: data dir");
        for f in files {
            assert_eq!(mode(&dir.join(f)), 0o600, "{when}: {f}");
        }
    };
    let mut child = serve_in(&dir).spawn().unwrap();
    crate::common::wait_until_listening(&mut child).await;
    check("first start");
    child.kill().await.unwrap();

    // Loosen everything as an older version did; a new start takes the extra access away.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in files {
        let path = dir.join(f);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let mut child = serve_in(&dir).spawn().unwrap();
    crate::common::wait_until_listening(&mut child).await;
    check("restart");
    child.kill().await.unwrap();

    // A directory shared with other files (`--data-dir .`, `/tmp`) is not ours to lock: its mode is
    // left alone, while our files in it are still private.
    let shared = parent.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("someone-elses.txt"), "x").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = serve_in(&shared).spawn().unwrap();
    crate::common::wait_until_listening(&mut child).await;
    assert_eq!(mode(&shared), 0o755, "a shared directory keeps its mode");
    for f in files {
        assert_eq!(mode(&shared.join(f)), 0o600, "shared dir: {f}");
    }
    child.kill().await.unwrap();
}
