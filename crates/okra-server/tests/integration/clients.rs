//! Okra's own Node client, okra-node (from npm, pinned in tests/clients/package.json), runs its
//! identity calls against a running server: `identity.verify` by BVN and by customer,
//! `identity.get` by id and by customer (with its `nextPage()`), an unknown id and a wrong key; and
//! its balance calls: `balance.get` by customer (with `nextPage()`), by account, by id and by type,
//! `balance.refresh` and `balance.check`.
//!
//! The client is installed by `npm ci` into tests/clients/node_modules on first use. Without Node
//! and npm the test is skipped with a message, except under `CI=true`, where it fails. The Python
//! client okra_py (okra-py on PyPI) runs its balance calls the same way, from tests/clients/.venv.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::Backend;
use crate::linking::{connect, linking_server, person_with};

/// Serialises the one-time install between the tests of this binary.
static INSTALL: Mutex<()> = Mutex::new(());

/// The clients' folder with okra-node installed, or `None` (skip) when Node or npm is missing.
pub(crate) fn clients_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let have = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("node") || !have("npm") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: Node.js and npm are needed to run Okra's own clients"
        );
        eprintln!("skipping: Node.js and npm are needed to run okra-node");
        return None;
    }
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let installed = ["okra-node", "playwright-core", "axe-core"]
        .iter()
        .all(|p| dir.join(format!("node_modules/{p}/package.json")).exists());
    if !installed {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert!(
            out.status.success(),
            "npm ci: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(dir)
}

/// The clients' folder with okra_py installed in `.venv` (from requirements.txt), or `None` (skip)
/// when Python is missing; under `CI=true` a missing Python fails.
pub(crate) fn python_clients_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let python_ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: Python 3 is needed to run okra_py"
        );
        eprintln!("skipping: Python 3 is needed to run okra_py");
        return None;
    }
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv_python = dir.join(".venv/bin/python");
    let installed = Command::new(&venv_python)
        .args(["-c", "import okra_py.balance"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        for args in [
            vec!["python3", "-m", "venv", ".venv"],
            vec![".venv/bin/pip", "install", "-q", "-r", "requirements.txt"],
        ] {
            let out = Command::new(args[0])
                .args(&args[1..])
                .current_dir(&dir)
                .output()
                .expect("python runs");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Some(dir)
}

async fn okra_node_runs_its_identity_calls(b: Backend) {
    let Some(dir) = clients_dir() else { return };
    let s = linking_server(b, |_| {}).await;
    let key = s.sandbox_key();
    // Two connections of one person: two identity snapshots of one customer.
    let (creds, person, bank) = person_with(&s, 1);
    let bvn = person.bvn.clone().unwrap();
    let mut customer = String::new();
    for _ in 0..2 {
        let r = connect(
            &s,
            json!({"bank": bank, "username": creds.username, "password": creds.password,
                   "products": ["auth", "identity"]}),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        customer = r.json()["data"]["customer_id"]
            .as_str()
            .unwrap()
            .to_string();
    }
    let mut total = Value::Null;
    for _ in 0..100 {
        let r = s
            .post(
                "/v2/sandbox/identity/getByCustomer",
                Some(&key),
                json!({"customer": customer}),
            )
            .await;
        total = r.json()["data"]["pagination"]["totalDocs"].clone();
        if total == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(total, 2, "both identity jobs ran");

    let base = format!("{}/v2/sandbox/", s.base);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("okra_node_identity.mjs")
            .current_dir(&dir)
            .env("OKRA_BASE", base)
            .env("OKRA_KEY", key)
            .env("OKRA_CUSTOMER", &customer)
            .env("OKRA_BVN", &bvn)
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();

    // okra-node resolves to the envelope's `data`.
    let verified = &got["verifyByBvn"]["ok"];
    assert_eq!(
        verified["bvn"],
        person.bvn.clone().unwrap().as_str(),
        "{got:#}"
    );
    assert_eq!(verified["receipt"]["status"], true);
    let id = verified["id"].as_str().unwrap();
    let by_customer = &got["verifyByCustomer"]["ok"];
    assert_eq!(by_customer["id"], id, "{got:#}");
    assert!(
        by_customer.get("last_updated").is_some(),
        "refreshed: {got:#}"
    );
    let by_id = &got["getById"]["ok"];
    assert_eq!(by_id["identity"][0]["id"], id, "{got:#}");
    assert_eq!(by_id["pagination"]["totalDocs"], 1);
    // Page 1 of 2 (okra-node's default limit is 1), then nextPage().
    let page1 = &got["getByCustomer"]["ok"];
    assert_eq!(page1["pagination"]["totalDocs"], 2, "{got:#}");
    assert_eq!(page1["pagination"]["limit"], 1);
    let page2 = &got["getByCustomerNext"]["ok"];
    assert_eq!(page2["pagination"]["page"], 2, "{got:#}");
    assert_ne!(page1["identity"][0]["id"], page2["identity"][0]["id"]);
    assert_eq!(got["unknown"]["ok"]["identity"], json!([]), "{got:#}");
    assert_eq!(got["unauthorized"]["error"], 401, "{got:#}");
    s.stop().await;
}

/// okra-node's balance calls: `balance.get` by customer (with `nextPage()`), by account, by id and
/// by type (`{type, value}`), `balance.refresh({account_id})` and `balance.check({account_id,
/// record_id})`, whose callbacks then report their outcome.
async fn okra_node_runs_its_balance_reads(b: Backend) {
    let Some(dir) = clients_dir() else { return };
    let s = linking_server(b, |_| {}).await;
    let key = s.sandbox_key();
    let (customer, accounts) = crate::balance::connected_with_balances(&s, json!({})).await;
    let account = accounts[0].clone();
    let base = format!("{}/v2/sandbox/", s.base);
    let customer_for_node = customer.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("okra_node_balance.mjs")
            .current_dir(&dir)
            .env("OKRA_BASE", base)
            .env("OKRA_KEY", key)
            .env("OKRA_CUSTOMER", &customer_for_node)
            .env("OKRA_ACCOUNT", &account)
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let page1 = &got["byCustomer"]["ok"];
    assert!(
        page1["pagination"]["totalDocs"].as_u64() >= Some(2),
        "{got:#}"
    );
    assert_eq!(page1["pagination"]["limit"], 1);
    assert_eq!(page1["balance"][0]["customer"]["_id"], customer.as_str());
    let page2 = &got["byCustomerNext"]["ok"];
    assert_eq!(page2["pagination"]["page"], 2, "{got:#}");
    assert_ne!(page1["balance"][0]["_id"], page2["balance"][0]["_id"]);
    let by_account = &got["byAccount"]["ok"];
    assert_eq!(by_account["pagination"]["totalDocs"], 1, "{got:#}");
    assert_eq!(
        got["byId"]["ok"]["balance"][0]["_id"],
        by_account["balance"][0]["_id"]
    );
    assert!(
        got["byId"]["ok"]["balance"][0]["periodic"].is_object(),
        "{got:#}"
    );
    // getByType: every balance at or above 0, largest first.
    let by_type = &got["byType"]["ok"];
    assert_eq!(
        by_type["pagination"]["totalDocs"], page1["pagination"]["totalDocs"],
        "{got:#}"
    );
    // The runs answer `{callback_url, record, method}`; each callback reports its outcome.
    for (call, method) in [("refresh", "BALANCE"), ("check", "CHECK_BALANCE")] {
        let run = &got[call]["ok"];
        assert_eq!(run["method"], method, "{call}: {got:#}");
        let url = run["callback_url"].as_str().unwrap();
        let path = url.strip_prefix(&s.base).unwrap();
        let mut answer = Value::Null;
        for _ in 0..200 {
            answer = s.get(path, Some(&s.sandbox_key())).await.json();
            if answer["data"]["status"] != "processing" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        match method {
            "BALANCE" => assert_eq!(
                answer["data"]["balances"][0]["account"]["_id"],
                accounts[0].as_str(),
                "{answer}"
            ),
            _ => assert!(answer["data"]["balance_changed"].is_boolean(), "{answer}"),
        }
    }
    s.stop().await;
}

/// okra_py (okra-py 1.1 from PyPI): `getbyCustomer` (two pages), `getbyAccount`, `getbyID`,
/// `getbyOptions` (the v1 `byOptions` path, with the first and last name options it sends) and
/// `retrieve_balance` (`products/balances` without a body) and `getbyType` (`type`, `amount`).
async fn okra_py_runs_its_balance_calls(b: Backend) {
    let Some(dir) = python_clients_dir() else {
        return;
    };
    let s = linking_server(b, |_| {}).await;
    let key = s.sandbox_key();
    let (customer, accounts) = crate::balance::connected_with_balances(
        &s,
        json!({"first_name": "Ada", "last_name": "Obi"}),
    )
    .await;
    let account = accounts[0].clone();
    let base = format!("{}/v2/sandbox/", s.base);
    let customer_for_py = customer.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(dir.join(".venv/bin/python"))
            .arg("okra_py_balance.py")
            .current_dir(&dir)
            .env("OKRA_BASE", base)
            .env("OKRA_KEY", key)
            .env("OKRA_CUSTOMER", &customer_for_py)
            .env("OKRA_ACCOUNT", &account)
            .env("OKRA_FIRST", "Ada")
            .env("OKRA_LAST", "Obi")
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    for call in [
        "getbyCustomer",
        "getbyCustomerPage2",
        "getbyAccount",
        "getbyID",
        "getbyOptions",
        "retrieve_balance",
        "getbyType",
    ] {
        assert_eq!(got[call]["status"], 200, "{call}: {got:#}");
        assert_eq!(
            got[call]["body"]["message"], "Balance retrieved succesfully",
            "{call}"
        );
    }
    let page1 = &got["getbyCustomer"]["body"]["data"];
    let page2 = &got["getbyCustomerPage2"]["body"]["data"];
    assert!(page1["pagination"]["totalDocs"].as_u64() >= Some(2));
    assert_ne!(page1["balance"][0]["_id"], page2["balance"][0]["_id"]);
    assert_eq!(
        got["getbyAccount"]["body"]["data"]["pagination"]["totalDocs"],
        1
    );
    assert_eq!(
        got["getbyOptions"]["body"]["data"]["pagination"]["totalDocs"],
        page1["pagination"]["totalDocs"],
        "the connection's options find its balances"
    );
    assert_eq!(
        got["retrieve_balance"]["body"]["data"]["pagination"]["totalDocs"],
        page1["pagination"]["totalDocs"]
    );
    // getbyType with `amount` "0": every balance, a page of one, the largest ledger first.
    let by_type = &got["getbyType"]["body"]["data"];
    assert_eq!(
        by_type["pagination"]["totalDocs"],
        page1["pagination"]["totalDocs"]
    );
    let largest = (page1["balance"].as_array().unwrap().iter())
        .chain(page2["balance"].as_array().unwrap())
        .map(|b| b["ledger_balance"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(by_type["balance"][0]["ledger_balance"], largest);
    s.stop().await;
}

backend_tests!(
    okra_node_runs_its_identity_calls,
    okra_node_runs_its_balance_reads,
    okra_py_runs_its_balance_calls,
);
