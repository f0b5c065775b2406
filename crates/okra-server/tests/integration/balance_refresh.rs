//! Issue 12, the balance operations beyond the reads: `balance/getByType`, and the runs
//! `balance/refresh` and `balance/check` with their `GET callback`, webhooks, the 60-second
//! debounce kept in the database, faults at the bank, and a server killed mid-run.

use std::time::Duration;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::balance::connected_with_balances;
use crate::common::receiver::{Answer, Receiver};
use crate::common::{assert_error, Backend, Reply, TestServer};
use crate::identity::{assert_golden_in, golden_in, same_shape};
use crate::linking::linking_server;

const BASE: &str = "/v2/sandbox";

async fn post(s: &TestServer, op: &str, body: Value) -> Reply {
    s.post(&format!("{BASE}/{op}"), Some(&s.sandbox_key()), body)
        .await
}

/// The stored Balance object of `account` (its latest), as `balance/getByAccount` shows it.
async fn stored(s: &TestServer, account: &str) -> Value {
    let r = post(s, "balance/getByAccount", json!({"account": account})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.json()["data"]["balance"][0].clone()
}

/// Starts a run (`balance/refresh` or `balance/check`) and checks the immediate answer.
async fn start(s: &TestServer, op: &str, body: Value) -> Value {
    let r = post(s, op, body).await;
    assert_eq!(r.status.as_u16(), 200, "{op}: {}", r.text);
    let v = r.json();
    assert_eq!(v["status"], "success");
    assert_eq!(v["message"], "Balance checking...");
    let data = v["data"].clone();
    let record = data["record"].as_str().unwrap();
    let method = data["method"].as_str().unwrap();
    assert_eq!(
        data["callback_url"],
        format!("{}{BASE}/callback?record={record}&method={method}", s.base)
    );
    data
}

/// `GET callback_url` until the run is no longer processing; the whole answer.
async fn settled(s: &TestServer, callback_url: &str) -> Value {
    let path = callback_url.strip_prefix(&s.base).unwrap();
    for _ in 0..300 {
        let r = s.get(path, Some(&s.sandbox_key())).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let v = r.json();
        if v["data"]["status"] != "processing" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run did not finish");
}

/// Moves the stored balance of `account` away from the bank's by `minor` (as if the account
/// moved since it was fetched).
async fn drift(s: &TestServer, account: &str, minor: i64) {
    sqlx::query(
        "UPDATE balances SET available_minor = available_minor - $1, ledger_minor = ledger_minor - $1 \
         WHERE account_id = $2",
    )
    .bind(minor)
    .bind(account)
    .execute(s.db.pool())
    .await
    .unwrap();
}

/// Applications left of the only scripted fault: how many bank calls it has not seen yet.
async fn fault_remaining(s: &TestServer) -> i64 {
    let r = post(s, "faults/list", json!({})).await;
    r.json()["data"]["faults"][0]["remaining"].as_i64().unwrap()
}

async fn slow_bank(s: &TestServer, bank: &str, delay_ms: u64) {
    let r = post(
        s,
        "faults/create",
        json!({"type": "slow", "bank": bank, "delay_ms": delay_ms, "count": 1000}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}

/// Sets the sandbox owner's default webhook URL (where runs of connections that named none go).
pub(crate) async fn default_webhook(s: &TestServer, url: &str) {
    let set = okra_server::services::webhooks::admin::set_url(
        &s.db,
        &s.config,
        &s.tenant(okra_core::Environment::Sandbox),
        Some(url),
    )
    .await;
    assert!(set.is_ok());
}

/// The body of the first webhook with `code` the receiver got (waiting for it).
async fn first_webhook(hook: &Receiver, code: &str) -> Value {
    let got = hook
        .wait_until(Duration::from_secs(20), |got| {
            got.iter().any(|d| d.code() == code)
        })
        .await;
    got.iter().find(|d| d.code() == code).unwrap().json()
}

fn bank_of(balance: &Value) -> String {
    balance["account"]["bank"]["slug"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn get_by_type_lists_balances_at_or_above_a_value(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (_, accounts) = connected_with_balances(&s, json!({})).await;
    let mut amounts = Vec::new();
    for a in &accounts {
        let v = stored(&s, a).await;
        amounts.push((
            v["available_balance"].as_f64().unwrap(),
            v["ledger_balance"].as_f64().unwrap(),
        ));
    }
    let low = amounts.iter().map(|a| a.0).fold(f64::MAX, f64::min);
    let high = amounts.iter().map(|a| a.0).fold(f64::MIN, f64::max);
    assert!(low < high, "two accounts with different balances");
    // At or above the lowest: all of them, largest first.
    let all = post(
        &s,
        "balance/getByType",
        json!({"type": "available_balance", "value": low}),
    )
    .await;
    assert_golden_in("balance", "balance_getByCustomer", &all);
    let data = all.json()["data"].clone();
    assert_eq!(data["pagination"]["totalDocs"], accounts.len());
    let listed: Vec<f64> = (data["balance"].as_array().unwrap().iter())
        .map(|b| b["available_balance"].as_f64().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(listed, sorted, "largest first");
    // okra_py's `amount` as a string, at the highest: only that one; a kobo above: none.
    let top = post(
        &s,
        "balance/getByType",
        json!({"type": "available_balance", "amount": format!("{high:.2}")}),
    )
    .await;
    assert_eq!(top.json()["data"]["pagination"]["totalDocs"], 1);
    assert_eq!(top.json()["data"]["balance"][0]["available_balance"], high);
    let none = post(
        &s,
        "balance/getByType",
        json!({"type": "available_balance", "value": high + 0.01}),
    )
    .await;
    assert_eq!(none.json()["data"]["pagination"]["totalDocs"], 0);
    assert_eq!(none.json()["data"]["balance"], json!([]));
    // The ledger amount is its own filter; pages of one follow each other, largest first.
    let ledger_low = amounts.iter().map(|a| a.1).fold(f64::MAX, f64::min);
    let mut paged = Vec::new();
    for page in 1..=accounts.len() {
        let r = post(
            &s,
            "balance/getByType",
            json!({"type": "ledger_balance", "value": ledger_low, "limit": 1, "page": page}),
        )
        .await;
        let p = r.json()["data"].clone();
        assert_eq!(p["pagination"]["totalDocs"], accounts.len());
        assert_eq!(p["balance"].as_array().unwrap().len(), 1);
        paged.push(p["balance"][0]["ledger_balance"].as_f64().unwrap());
    }
    let mut ledgers: Vec<f64> = amounts.iter().map(|a| a.1).collect();
    ledgers.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(paged, ledgers, "pages in order, each balance once");
    for (body, message) in [
        (json!({"value": 1}), "`type` is a required input"),
        (
            json!({"type": "overdraft", "value": 1}),
            "`type` must be one of [available_balance, ledger_balance]",
        ),
        (
            json!({"type": "ledger_balance"}),
            "`value` is a required input",
        ),
        (
            json!({"type": "ledger_balance", "value": "1.234"}),
            "`value` must be a number with at most 2 decimal places, between -1000000000000 and 1000000000000",
        ),
        (
            json!({"type": "ledger_balance", "amount": [1]}),
            "`value` must be a number with at most 2 decimal places, between -1000000000000 and 1000000000000",
        ),
    ] {
        let r = post(&s, "balance/getByType", body).await;
        assert_error(&r, 422, message);
    }
    s.stop().await;
}

async fn a_refresh_fetches_the_balance_and_reports_it(b: Backend) {
    let hook = Receiver::start(Answer::Ok).await;
    let s = linking_server(b, |_| {}).await;
    let url = hook.url.clone();
    let (_, accounts) = connected_with_balances(&s, json!({"loan": "L-7"})).await;
    let account = &accounts[0];
    let before = stored(&s, account).await;
    // The account moved since it was fetched.
    drift(&s, account, 12_345).await;
    let drifted = stored(&s, account).await;
    assert_ne!(drifted["available_balance"], before["available_balance"]);
    // The webhook of the refresh goes to the owner's default (the connection named none).
    default_webhook(&s, &url).await;
    // okra-node's body: `{account_id}`.
    let run = start(&s, "balance/refresh", json!({"account_id": account})).await;
    assert_eq!(run["method"], "BALANCE");
    let answer = settled(&s, run["callback_url"].as_str().unwrap()).await;
    assert_eq!(answer["message"], "Callback retrieved successfully");
    let refreshed = &answer["data"]["balances"][0];
    assert_eq!(refreshed["_id"], before["_id"], "updated in place");
    // The bank's amounts again, not the drifted ones (the same as at the connection, unless a
    // day began in between: the simulated bank moves once a day).
    assert_ne!(refreshed["available_balance"], drifted["available_balance"]);
    let same_day = refreshed["last_updated"].as_str().unwrap()[..10]
        == before["last_updated"].as_str().unwrap()[..10];
    if same_day {
        assert_eq!(refreshed["available_balance"], before["available_balance"]);
        assert_eq!(refreshed["ledger_balance"], before["ledger_balance"]);
    }
    // The superset Balance object, in the callback as in the reads.
    let mut problems = Vec::new();
    let reference = &golden_in("balance", "balance_getByAccount")["data"]["balance"][0];
    same_shape("balance", reference, refreshed, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let now = stored(&s, account).await;
    assert_eq!(now, *refreshed);
    assert_ne!(now["last_updated"], before["last_updated"]);
    // One point per day: the refresh's day holds the refreshed amounts (the latest of the day
    // wins); every other day is as it was, with the same ids.
    let today = now["last_updated"].as_str().unwrap()[..10].to_string();
    for series in ["available_balance", "ledger_balance"] {
        let after = now["periodic"][series].as_array().unwrap();
        let was = before["periodic"][series].as_array().unwrap();
        let todays: Vec<&Value> = after.iter().filter(|p| p["date"] == today).collect();
        assert_eq!(todays.len(), 1, "{after:?}");
        assert_eq!(todays[0]["amount"], now[series]);
        let others = |points: &[Value]| -> Vec<Value> {
            points
                .iter()
                .filter(|p| p["date"] != today)
                .cloned()
                .collect()
        };
        assert_eq!(others(after), others(was), "{series}");
        let dates: Vec<&str> = after.iter().map(|p| p["date"].as_str().unwrap()).collect();
        assert!(
            dates.windows(2).all(|w| w[0] < w[1]),
            "oldest first, one a day"
        );
    }
    // The run is a record of the account's customer, following the connection's options.
    let record = post(
        &s,
        "records/getById",
        json!({"id": run["record"].as_str().unwrap()}),
    )
    .await;
    let r = record.json()["data"].clone();
    assert_eq!(r["accounts"], json!([account]));
    assert_eq!(r["options"], json!({"loan": "L-7"}));
    assert_eq!(r["status"]["balance"]["status"], "success");
    let by_options = post(
        &s,
        "balance/getByOptions",
        json!({"options": {"loan": "L-7"}}),
    )
    .await;
    assert_eq!(
        by_options.json()["data"]["pagination"]["totalDocs"],
        accounts.len(),
        "a refresh adds no balance"
    );
    // BALANCE_SUCCESS, with the NUBAN and the same Balance object.
    let body = first_webhook(&hook, "BALANCE_SUCCESS").await;
    assert_eq!(body["record"], run["record"]);
    assert_eq!(body["method"], "BALANCE");
    assert_eq!(body["status"], "is_success");
    assert_eq!(body["options"], json!({"loan": "L-7"}));
    assert_eq!(body["nuban"], now["account"]["nuban"]);
    assert_eq!(body["balance"]["_id"], now["_id"]);
    assert_eq!(
        body["balance"]["available_balance"],
        now["available_balance"]
    );
    assert_eq!(body["balance"]["account"], now["account"]);
    s.stop().await;
}

async fn twenty_concurrent_refreshes_ask_the_bank_once(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let second = s.second_process().await;
    let (_, accounts) = connected_with_balances(&s, json!({})).await;
    let account = accounts[0].clone();
    let bank = bank_of(&stored(&s, &account).await);
    // A slow bank keeps the run going while the others arrive; its count tallies bank calls.
    slow_bank(&s, &bank, 700).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { &s.base } else { &second.base };
        let (url, client, key) = (
            format!("{base}{BASE}/balance/refresh"),
            s.client.clone(),
            s.sandbox_key(),
        );
        let account = account.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "account_id": account }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut records = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        records.insert(body["data"]["record"].as_str().unwrap().to_string());
    }
    assert_eq!(records.len(), 1, "one run for all twenty: {records:?}");
    let record = records.into_iter().next().unwrap();
    let url = format!("{}{BASE}/callback?record={record}&method=BALANCE", s.base);
    let answer = settled(&s, &url).await;
    assert_eq!(answer["data"]["record"], record.as_str(), "{answer}");
    assert_eq!(fault_remaining(&s).await, 999, "the bank was asked once");
    // Just after it finished: still the same run, no new call.
    let again = start(&s, "balance/refresh", json!({ "account_id": account })).await;
    assert_eq!(again["record"], record.as_str());
    // A check is a run of its own; another account too.
    let check = start(&s, "balance/check", json!({ "account_id": account })).await;
    assert_ne!(check["record"], record.as_str());
    let other = start(&s, "balance/refresh", json!({ "account_id": accounts[1] })).await;
    assert_ne!(other["record"], record.as_str());
    settled(&s, check["callback_url"].as_str().unwrap()).await;
    settled(&s, other["callback_url"].as_str().unwrap()).await;
    assert_eq!(fault_remaining(&s).await, 997);
    // Past the minute, the next refresh asks the bank again.
    sqlx::query("UPDATE balance_refreshes SET finished_at = finished_at - 61000")
        .execute(s.db.pool())
        .await
        .unwrap();
    let later = start(&s, "balance/refresh", json!({ "account_id": account })).await;
    assert_ne!(later["record"], record.as_str());
    settled(&s, later["callback_url"].as_str().unwrap()).await;
    assert_eq!(fault_remaining(&s).await, 996);
    second.stop().await;
    s.stop().await;
}

async fn a_bank_timeout_fails_the_refresh_and_keeps_the_balance(b: Backend) {
    let hook = Receiver::start(Answer::Ok).await;
    let s = linking_server(b, |_| {}).await;
    default_webhook(&s, &hook.url).await;
    let (_, accounts) = connected_with_balances(&s, json!({})).await;
    let account = &accounts[0];
    let before = stored(&s, account).await;
    let bank = bank_of(&before);
    let r = post(
        &s,
        "faults/create",
        json!({"type": "timeout", "bank": bank}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let run = start(&s, "balance/refresh", json!({"account_id": account})).await;
    let answer = settled(&s, run["callback_url"].as_str().unwrap()).await;
    assert_eq!(
        answer["data"],
        json!({"status": "failed", "record": run["record"], "method": "BALANCE",
               "message": "Balance could not be retrieved"})
    );
    assert_eq!(
        stored(&s, account).await,
        before,
        "the stored balance is untouched"
    );
    let record = post(&s, "records/getById", json!({"id": run["record"]})).await;
    assert_eq!(
        record.json()["data"]["status"]["balance"]["status"],
        "failed"
    );
    let failed = first_webhook(&hook, "BALANCE_FAILED").await;
    assert_eq!(failed["record"], run["record"]);
    assert_eq!(failed["status"], "is_failed");
    // A check fails the same way, and stores nothing.
    let check = start(&s, "balance/check", json!({"account_id": account})).await;
    let checked = settled(&s, check["callback_url"].as_str().unwrap()).await;
    assert_eq!(checked["data"]["status"], "failed");
    assert_eq!(checked["data"]["message"], "Balance could not be checked");
    // A failed run is not reused: once the bank answers, the next refresh is a new run.
    let cleared = post(&s, "faults/clear", json!({})).await;
    assert_eq!(cleared.status.as_u16(), 200, "{}", cleared.text);
    let retry = start(&s, "balance/refresh", json!({"account_id": account})).await;
    assert_ne!(retry["record"], run["record"]);
    let ok = settled(&s, retry["callback_url"].as_str().unwrap()).await;
    assert_eq!(ok["data"]["balances"][0]["_id"], before["_id"]);
    s.stop().await;
}

async fn a_check_says_whether_the_balance_changed(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (_, accounts) = connected_with_balances(&s, json!({})).await;
    let (moved, still) = (&accounts[0], &accounts[1]);
    drift(&s, moved, 100).await;
    let moved_before = stored(&s, moved).await;
    let still_before = stored(&s, still).await;
    let mut answers = Vec::new();
    for account in [moved, still] {
        // okra-node's body: `{account_id, record_id}`; `record_id` names the account's connection.
        let record = stored(&s, account).await["record"][0]["_id"].clone();
        let run = start(
            &s,
            "balance/check",
            json!({"account_id": account, "record_id": record}),
        )
        .await;
        assert_eq!(run["method"], "CHECK_BALANCE");
        let answer = settled(&s, run["callback_url"].as_str().unwrap()).await;
        assert_eq!(answer["message"], "Successfully checked balance");
        answers.push(answer["data"].clone());
    }
    assert_eq!(answers[0]["balance_changed"], true);
    // Unchanged, unless a day began since the connection (the simulated bank moves once a day).
    if answers[1]["last_checked"].as_str().unwrap()[..10]
        == still_before["last_updated"].as_str().unwrap()[..10]
    {
        assert_eq!(answers[1]["balance_changed"], false);
    }
    assert_eq!(answers[0]["last_fetched"], moved_before["last_updated"]);
    assert_eq!(answers[1]["last_fetched"], still_before["last_updated"]);
    for a in &answers {
        let checked = a["last_checked"].as_str().unwrap();
        assert!(checked > a["last_fetched"].as_str().unwrap(), "{a}");
    }
    // A check stores nothing.
    assert_eq!(stored(&s, moved).await, moved_before);
    s.stop().await;
}

async fn refresh_and_check_refuse_bad_input(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (_, accounts) = connected_with_balances(&s, json!({})).await;
    let unknown = "5f0000000000000000000000";
    for op in ["balance/refresh", "balance/check"] {
        for (body, status, message) in [
            (json!({}), 422, "`account_id` is a required input"),
            (
                json!({"account_id": 5}),
                422,
                "`account_id` must be a string",
            ),
            (
                json!({"account_id": "nope"}),
                422,
                "`account_id` must be a valid id",
            ),
            (json!({"account_id": unknown}), 400, "Account not found"),
        ] {
            let r = post(&s, op, body).await;
            assert_error(&r, status, message);
        }
    }
    let bad_record = post(
        &s,
        "balance/check",
        json!({"account_id": accounts[0], "record_id": unknown}),
    )
    .await;
    assert_error(&bad_record, 400, "Record not found");
    // The other environment knows no such account (another owner's: the isolation matrix).
    let live = s.key("production", "secret");
    let production = s
        .post(
            "/v2/balance/refresh",
            Some(&live),
            json!({"account_id": accounts[0]}),
        )
        .await;
    assert_error(&production, 400, "Account not found");
    // Nothing was started by any of them.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM balance_refreshes")
        .fetch_one(s.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let callback = s
        .get(
            &format!("{BASE}/callback?record={unknown}&method=CHECK_BALANCE"),
            Some(&s.sandbox_key()),
        )
        .await;
    assert_error(&callback, 400, "Record not found");
    s.stop().await;
}

/// A refresh whose server is SIGKILLed while the bank is answering: after a restart the run is
/// still the account's (a refresh joins it), its job is taken over once its lease ends, and it
/// completes once in effect (the balance updated in place, one point for the day).
async fn a_refresh_killed_mid_job_completes_after_restart(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::common::fresh_database(&b).await;
    let key = crate::binary::create_owner(dir.path(), &url, "killed-refresh").await;
    let serve = || {
        let mut c = crate::binary::command(dir.path(), &url);
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .env("OKRA_JOB_LEASE_SECS", "2")
            .env("OKRA_JOB_POLL_MS", "50")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c.spawn().unwrap()
    };
    let client = reqwest::Client::new();
    let call = |base: String, path: &'static str, body: Value| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let (status, text) = crate::binary::post(&client, &base, path, &key, &body)
                .await
                .expect("an answer");
            assert_eq!(status, 200, "{path}: {text}");
            serde_json::from_str::<Value>(&text).unwrap()["data"].clone()
        }
    };
    let mut child = serve();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;
    let (creds, _, bank) = crate::linking::person_of(&okra_server::config::Config::default(), 1);
    let linked = call(
        base.clone(),
        "/v2/sandbox/link/connect",
        json!({"bank": bank, "username": creds.username, "password": creds.password,
               "products": ["auth", "balance"]}),
    )
    .await;
    let customer = linked["customer_id"].clone();
    let mut first = Value::Null;
    for _ in 0..200 {
        let page = call(
            base.clone(),
            "/v2/sandbox/balance/getByCustomer",
            json!({ "customer": customer }),
        )
        .await;
        if let Some(b) = page["balance"].get(0) {
            first = b.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let account = first["account"]["_id"]
        .as_str()
        .expect("a balance")
        .to_string();
    call(
        base.clone(),
        "/v2/sandbox/faults/create",
        json!({"type": "slow", "bank": bank, "delay_ms": 2500, "count": 1000}),
    )
    .await;
    let run = call(
        base.clone(),
        "/v2/sandbox/balance/refresh",
        json!({ "account_id": account }),
    )
    .await;
    // Kill once the bank has been asked (the fault counted the call), before it answers.
    let remaining_at = |base: String| async move {
        call(base, "/v2/sandbox/faults/list", json!({})).await["faults"][0]["remaining"]
            .as_i64()
            .unwrap()
    };
    let mut asked = false;
    for _ in 0..100 {
        if remaining_at(base.clone()).await == 999 {
            asked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(asked, "the run's job asked the bank");
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let mut child = serve();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;
    let joined = call(
        base.clone(),
        "/v2/sandbox/balance/refresh",
        json!({ "account_id": account }),
    )
    .await;
    assert_eq!(
        joined["record"], run["record"],
        "the dead run is still the account's"
    );
    let path = format!(
        "/v2/sandbox/callback?record={}&method=BALANCE",
        run["record"].as_str().unwrap()
    );
    let mut done = Value::Null;
    for _ in 0..400 {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        if v["data"]["status"] != "processing" {
            done = v["data"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refreshed = &done["balances"][0];
    assert_eq!(refreshed["_id"], first["_id"], "completed: {done}");
    assert_ne!(refreshed["last_updated"], first["last_updated"]);
    // The bank was asked twice: by the killed run, then once by its job after the restart.
    assert_eq!(remaining_at(base.clone()).await, 998);
    let today = refreshed["last_updated"].as_str().unwrap()[..10].to_string();
    let series = refreshed["periodic"]["available_balance"]
        .as_array()
        .unwrap();
    assert_eq!(series.iter().filter(|p| p["date"] == today).count(), 1);
    let page = call(
        base.clone(),
        "/v2/sandbox/balance/getByCustomer",
        json!({ "customer": customer }),
    )
    .await;
    assert_eq!(page["pagination"]["totalDocs"], 1, "still one balance");
    assert_eq!(page["balance"][0], *refreshed);
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    if let Some(u) = &url {
        crate::common::drop_database(&b, u).await;
    }
}

/// The runs' records, webhooks (with the NUBAN and the Balance object) and callbacks keep no
/// account number or BVN in plaintext.
async fn refresh_and_check_keep_personal_data_sealed(b: Backend) {
    let hook = Receiver::start(Answer::Ok).await;
    let s = linking_server(b, |_| {}).await;
    default_webhook(&s, &hook.url).await;
    let (customer, accounts) = connected_with_balances(&s, json!({})).await;
    let mut secrets = Vec::new();
    for a in &accounts {
        let run = start(&s, "balance/refresh", json!({"account_id": a})).await;
        settled(&s, run["callback_url"].as_str().unwrap()).await;
        let check = start(&s, "balance/check", json!({"account_id": a})).await;
        settled(&s, check["callback_url"].as_str().unwrap()).await;
        let nuban = stored(&s, a).await["account"]["nuban"]
            .as_str()
            .unwrap()
            .to_string();
        secrets.push(nuban);
    }
    hook.wait_until(Duration::from_secs(20), |got| {
        got.iter().filter(|d| d.code() == "BALANCE_SUCCESS").count() >= 2 * accounts.len()
    })
    .await;
    let holder = post(&s, "customers/getById", json!({"id": customer})).await;
    if let Some(bvn) = holder.json()["data"]["bvn"].as_str() {
        secrets.push(bvn.to_string());
    }
    let bytes = crate::pii_at_rest::at_rest(&s).await;
    for secret in &secrets {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is stored in plaintext"
        );
    }
    s.stop().await;
}

backend_tests!(
    get_by_type_lists_balances_at_or_above_a_value,
    a_refresh_fetches_the_balance_and_reports_it,
    twenty_concurrent_refreshes_ask_the_bank_once,
    a_bank_timeout_fails_the_refresh_and_keeps_the_balance,
    a_check_says_whether_the_balance_changed,
    refresh_and_check_refuse_bad_input,
    a_refresh_killed_mid_job_completes_after_restart,
    refresh_and_check_keep_personal_data_sealed,
);
