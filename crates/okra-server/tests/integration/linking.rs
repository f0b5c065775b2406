//! Issue 10: linking. `link/connect` runs a whole connection against the simulated network; its
//! record, accounts and customer are read back through the API; webhooks reach an in-process
//! receiver signed, with every field of the contract, at least once and no more than needed; and
//! every refused connection leaves the database as it was.

use std::time::Duration;

use okra_core::source::Credentials;
use okra_core::Environment;
use okra_sandbox::PersonSummary;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::binary;
use crate::common::receiver::{Answer, Delivery, Receiver};
use crate::common::{
    assert_error, drop_database, fresh_database, Backend, Reply, TestServer, UNAUTHORIZED,
};

const CONNECT: &str = "/v2/sandbox/link/connect";

/// A server whose workers run the product and webhook jobs, with retries a second apart.
pub(crate) async fn linking_server(
    b: Backend,
    tweak: impl FnOnce(&mut okra_server::config::Config),
) -> TestServer {
    TestServer::start_with(
        b,
        |c| {
            c.webhook_retry_schedule = "1s, 1s".into();
            tweak(c);
        },
        okra_server::workers::registry(),
    )
    .await
}

/// A network person holding at least `accounts` accounts at one bank: login, summary, bank slug.
pub(crate) fn person_with(s: &TestServer, accounts: usize) -> (Credentials, PersonSummary, String) {
    person_of(&s.config, accounts)
}

/// [`person_with`] for the network a configuration describes.
pub(crate) fn person_of(
    config: &okra_server::config::Config,
    accounts: usize,
) -> (Credentials, PersonSummary, String) {
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    for (creds, person) in network.sample_users(None, 400) {
        if person.is_company || person.bvn.is_none() {
            continue;
        }
        for a in &person.accounts {
            let at_bank = person.accounts.iter().filter(|b| b.bank == a.bank).count();
            if at_bank >= accounts {
                let bank = a.bank.clone();
                return (creds, person, bank);
            }
        }
    }
    panic!("no person with {accounts} accounts at one bank");
}

fn nubans_at(person: &PersonSummary, bank: &str) -> Vec<String> {
    (person.accounts.iter())
        .filter(|a| a.bank == bank)
        .map(|a| a.nuban.clone())
        .collect()
}

pub(crate) async fn connect(s: &TestServer, body: Value) -> Reply {
    s.post(CONNECT, Some(&s.sandbox_key()), body).await
}

fn login(creds: &Credentials, bank: &str) -> serde_json::Map<String, Value> {
    json!({"bank": bank, "username": creds.username, "password": creds.password})
        .as_object()
        .unwrap()
        .clone()
}

fn with(mut base: serde_json::Map<String, Value>, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base.insert(k.clone(), v.clone());
    }
    Value::Object(base)
}

fn count_codes(got: &[Delivery], code: &str) -> usize {
    got.iter()
        .filter(|d| d.answered == 200 && d.code() == code)
        .count()
}

/// The envelope fields every webhook carries (CONTRACT, Webhooks).
const ENVELOPE: &[&str] = &[
    "method",
    "callback_type",
    "callback_code",
    "type",
    "code",
    "callbackURL",
    "env",
    "status",
    "started_at",
    "ended_at",
    "message",
    "options",
    "meta",
    "bankName",
    "bankType",
    "bankId",
    "bankSlug",
    "record",
    "recordId",
    "callback_url",
    "login_type",
    "customerId",
    "customerEmail",
    "country",
    "extras",
    "owner",
];

async fn connect_links_and_delivers_signed_webhooks(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let hook = Receiver::start(Answer::Ok).await;
    let (creds, person, bank) = person_with(&s, 2);
    let nubans = nubans_at(&person, &bank);
    let r = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"products": ["auth", "accounts", "identity", "balance"], "callback_url": hook.url,
                   "options": {"loan_id": "L-77"}, "meta": {"channel": "web"}, "multi_account": true,
                   "app_id": "app-1"}),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["status"], "success");
    let ok = &body["data"];
    // The onSuccess payload: every field of the contract.
    let bank_info = okra_core::banks::find(&bank).unwrap();
    let auth = &ok["auth"];
    for k in ["_id", "name", "slug", "type", "logo", "icon"] {
        assert!(
            auth["bank_details"].get(k).is_some(),
            "bank_details.{k}: {auth}"
        );
    }
    assert_eq!(auth["bank_details"]["_id"], bank_info.id);
    assert_eq!(auth["bank_id"], bank_info.id);
    assert_eq!(auth["clientId"], "app-1");
    assert_eq!(auth["login_type"], "web");
    assert_eq!(auth["status"], true);
    assert_eq!(auth["type"], "validate");
    assert_eq!(ok["callback_url"], hook.url.as_str());
    assert_eq!(ok["options"], json!({"loan_id": "L-77"}));
    assert_eq!(ok["meta"], json!({"channel": "web"}));
    assert_eq!(ok["done"], true);
    assert_eq!(ok["success"], true);
    let record_id = ok["record_id"].as_str().unwrap().to_string();
    assert_eq!(ok["record"], record_id.as_str());
    assert!(okra_core::ObjectId::is_valid(&record_id));
    let customer_id = ok["customer_id"].as_str().unwrap().to_string();
    assert_eq!(auth["customer_id"], customer_id.as_str());
    assert_eq!(ok["bank_id"], bank_info.id);
    let accounts = ok["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), nubans.len());
    for a in accounts {
        for k in [
            "id",
            "accountId",
            "name",
            "nuban",
            "type",
            "ref",
            "currency",
            "available_balance",
            "ledger_balance",
            "status",
            "env",
            "customer",
            "connected",
        ] {
            assert!(a.get(k).is_some(), "account.{k}: {a}");
        }
        assert_eq!(a["connected"], true);
        assert_eq!(a["status"], "active");
        assert_eq!(a["env"], "production-sandbox");
        assert_eq!(a["customer"], customer_id.as_str());
        assert!(nubans.contains(&a["nuban"].as_str().unwrap().to_string()));
    }
    assert_eq!(ok["identity"]["bvn"], person.bvn.clone().unwrap().as_str());

    // Webhooks: auth, one per account, identity, one balance per account.
    let n = nubans.len();
    let got = hook
        .wait_until(Duration::from_secs(20), |got| {
            count_codes(got, "AUTH_SUCCESS") == 1
                && count_codes(got, "ACCOUNTS_SUCCESS") == n
                && count_codes(got, "IDENTITY_IS_READY") == 1
                && count_codes(got, "BALANCE_SUCCESS") == n
        })
        .await;
    let key = okra_core::webhook_signature::decode_secret(&s.creds.webhook_secret).unwrap();
    let now = okra_core::time::now_ms() / 1000;
    let mut ids = std::collections::HashSet::new();
    for d in &got {
        okra_core::webhook_signature::verify(
            &key,
            d.header("webhook-id"),
            d.header("webhook-timestamp"),
            d.raw.as_bytes(),
            d.header("webhook-signature"),
            now,
        )
        .unwrap_or_else(|e| panic!("signature of {} does not verify: {e:?}", d.code()));
        assert!(
            ids.insert(d.header("webhook-id").to_string()),
            "one delivery per message"
        );
        assert_eq!(d.header("content-type"), "application/json");
        let w = d.json();
        for k in ENVELOPE.iter().copied() {
            assert!(w.get(k).is_some(), "{} lacks {k}: {w}", d.code());
        }
        assert_eq!(w["recordId"], record_id.as_str());
        assert_eq!(w["record"], record_id.as_str());
        assert_eq!(w["customerId"], customer_id.as_str());
        assert_eq!(w["options"], json!({"loan_id": "L-77"}));
        assert_eq!(w["meta"], json!({"channel": "web"}));
        assert_eq!(w["bankId"], bank_info.id);
        assert_eq!(w["bankSlug"], bank_info.slug);
        assert_eq!(w["env"], "production-sandbox");
        assert_eq!(w["status"], "is_success");
        assert_eq!(w["type"], "CALLBACK");
        assert_eq!(w["country"], "NG");
        assert_eq!(w["owner"], s.creds.owner_id.as_str());
        assert_eq!(w["callbackURL"], hook.url.as_str());
        match w["code"].as_str().unwrap() {
            "IDENTITY_IS_READY" => {
                assert_eq!(w["method"], "IDENTITY");
                // One score: the network's own completeness of this person.
                let network =
                    okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
                let expected =
                    okra_sandbox::identity_score(&network.person(person.index).unwrap().identity());
                assert_eq!(w["identity"]["score"], expected.to_string());
                assert_eq!(w["identity"]["bvn"], person.bvn.clone().unwrap().as_str());
                assert!(okra_core::ObjectId::is_valid(
                    w["identity"]["id"].as_str().unwrap()
                ));
                assert_eq!(w["identity"]["customer"]["_id"], customer_id.as_str());
            }
            "BALANCE_SUCCESS" => {
                assert_eq!(w["method"], "BALANCE");
                assert!(nubans.contains(&w["nuban"].as_str().unwrap().to_string()));
                assert!(
                    w["balance"]["available_balance"].is_number()
                        || w["balance"]["available_balance"].is_null()
                );
                // The one superset Balance object (the reads' shape), its account the NUBAN's.
                assert_eq!(w["balance"]["customer"]["_id"], customer_id.as_str());
                assert_eq!(w["balance"]["account"]["nuban"], w["nuban"]);
                assert_eq!(w["balance"]["record"][0]["_id"], w["record"]);
                assert!(w["balance"]["periodic"]["ledger_balance"].is_array());
            }
            "ACCOUNTS_SUCCESS" => {
                assert!(nubans.contains(&w["account"]["nuban"].as_str().unwrap().to_string()));
            }
            "AUTH_SUCCESS" => assert_eq!(w["method"], "AUTH"),
            other => panic!("unexpected webhook {other}"),
        }
    }

    // The record, completed once both background products are stored.
    let key = s.sandbox_key();
    let record = s
        .post(
            "/v2/sandbox/records/getById",
            Some(&key),
            json!({"id": record_id}),
        )
        .await;
    assert_eq!(record.status.as_u16(), 200, "{}", record.text);
    let rec = &record.json()["data"];
    assert_eq!(rec["id"], record_id.as_str());
    assert_eq!(rec["customer"], customer_id.as_str());
    assert_eq!(rec["bank"], bank_info.id);
    assert_eq!(
        rec["status"]["process"],
        json!({"running": false, "completed": true})
    );
    for p in ["auth", "accounts", "identity", "balance"] {
        assert_eq!(rec["status"][p]["status"], "success", "{rec}");
        assert!(rec["status"][p]["last_success_at"].is_string());
    }
    assert_eq!(rec["options"], json!({"loan_id": "L-77"}));
    assert_eq!(rec["accounts"].as_array().unwrap().len(), n);

    // Accounts by customer and by id; the customer lists its accounts and records.
    let list = s
        .post(
            "/v2/sandbox/accounts/getByCustomer",
            Some(&key),
            json!({"customer": customer_id}),
        )
        .await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.text);
    let list = list.json()["data"].clone();
    assert_eq!(list["pagination"]["totalDocs"], n);
    let account_id = list["accounts"][0]["id"].as_str().unwrap().to_string();
    let one = s
        .post(
            "/v2/sandbox/accounts/getById",
            Some(&key),
            json!({"id": account_id}),
        )
        .await;
    assert_eq!(one.status.as_u16(), 200, "{}", one.text);
    assert_eq!(one.json()["data"]["connected"], true);
    assert_eq!(one.json()["data"]["customer"], customer_id.as_str());
    let customer = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&key),
            json!({"id": customer_id}),
        )
        .await;
    let customer = customer.json()["data"].clone();
    assert_eq!(customer["records"], json!([record_id]));
    assert_eq!(customer["accounts"].as_array().unwrap().len(), n);

    // GET callback reports each product's data.
    let cb = |m: &str| format!("/v2/sandbox/callback?record={record_id}&method={m}");
    let balance = s.get(&cb("BALANCE"), Some(&key)).await;
    assert_eq!(balance.status.as_u16(), 200, "{}", balance.text);
    assert_eq!(
        balance.json()["data"]["balances"].as_array().unwrap().len(),
        n
    );
    let identity = s.get(&cb("IDENTITY"), Some(&key)).await;
    assert_eq!(
        identity.json()["data"]["identity"]["bvn"],
        person.bvn.clone().unwrap().as_str()
    );
    let accounts = s.get(&cb("accounts"), Some(&key)).await;
    assert_eq!(
        accounts.json()["data"]["accounts"]
            .as_array()
            .unwrap()
            .len(),
        n
    );

    // Every attempt is listed, delivered.
    let deliveries = s
        .post(
            "/v2/sandbox/webhooks/deliveries",
            Some(&key),
            json!({"limit": 100}),
        )
        .await;
    assert_eq!(deliveries.status.as_u16(), 200, "{}", deliveries.text);
    let deliveries = deliveries.json()["data"].clone();
    assert_eq!(deliveries["pagination"]["totalDocs"], 2 + 2 * n);
    for d in deliveries["deliveries"].as_array().unwrap() {
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["status_code"], 200);
        assert_eq!(d["record"], record_id.as_str());
    }
    s.stop().await;
}

async fn a_returning_customer_gets_a_new_record_and_the_same_accounts(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, person, bank) = person_with(&s, 2);
    let nubans = nubans_at(&person, &bank);
    let first = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"accounts": [nubans[0]], "products": ["auth"]}),
        ),
    )
    .await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.text);
    let second = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"accounts": [nubans[1]], "products": ["auth"]}),
        ),
    )
    .await;
    assert_eq!(second.status.as_u16(), 200, "{}", second.text);
    let (a, b2) = (first.json()["data"].clone(), second.json()["data"].clone());
    assert_eq!(
        a["customer_id"], b2["customer_id"],
        "same person, same customer"
    );
    assert_ne!(a["record_id"], b2["record_id"], "a record per connection");
    let ids = |d: &Value| -> Vec<String> {
        d["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b2), "accounts found again by bank and NUBAN");
    // `connected` follows the latest choice.
    let key = s.sandbox_key();
    let connected = |nuban: &str| {
        let d = b2["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["nuban"] == nuban)
            .unwrap()
            .clone();
        d["id"].as_str().unwrap().to_string()
    };
    let first_account = s
        .post(
            "/v2/sandbox/accounts/getById",
            Some(&key),
            json!({"id": connected(&nubans[0])}),
        )
        .await;
    assert_eq!(first_account.json()["data"]["connected"], false);
    let second_account = s
        .post(
            "/v2/sandbox/accounts/getById",
            Some(&key),
            json!({"id": connected(&nubans[1])}),
        )
        .await;
    assert_eq!(second_account.json()["data"]["connected"], true);
    let customers = s
        .post("/v2/sandbox/customers/list", Some(&key), json!({}))
        .await;
    assert_eq!(customers.json()["data"]["pagination"]["totalDocs"], 1);
    let customer = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&key),
            json!({"id": a["customer_id"]}),
        )
        .await;
    assert_eq!(
        customer.json()["data"]["records"].as_array().unwrap().len(),
        2
    );
    let accounts = s
        .post(
            "/v2/sandbox/accounts/getByCustomer",
            Some(&key),
            json!({"customer": a["customer_id"]}),
        )
        .await;
    assert_eq!(
        accounts.json()["data"]["pagination"]["totalDocs"],
        nubans.len()
    );

    // A record from before records kept their accounts (migration 0013) shows the accounts it was
    // the latest connection of.
    sqlx::query("UPDATE records SET accounts = NULL WHERE id = $1")
        .bind(b2["record_id"].as_str().unwrap())
        .execute(s.db.pool())
        .await
        .unwrap();
    let old = s
        .post(
            "/v2/sandbox/records/getById",
            Some(&key),
            json!({"id": b2["record_id"]}),
        )
        .await;
    assert_eq!(
        old.json()["data"]["accounts"].as_array().unwrap().len(),
        nubans.len()
    );

    // A bearer token that cannot be a header value is refused when it is set.
    let tenant = s.tenant(Environment::Sandbox);
    let keyring = s.state().keyring();
    let set = okra_server::services::webhooks::admin::set_token;
    assert!(set(&s.db, &keyring, &tenant, Some("two words"))
        .await
        .is_err());
    assert!(set(&s.db, &keyring, &tenant, Some("line\nbreak"))
        .await
        .is_err());
    set(&s.db, &keyring, &tenant, Some("fine-token_1"))
        .await
        .unwrap();
    s.stop().await;
}

async fn a_receiver_that_fails_once_gets_the_same_webhook_id_again_and_no_more(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let hook = Receiver::start(Answer::FailFirst).await;
    let (creds, _, bank) = person_with(&s, 1);
    let r = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"products": ["auth"], "callback_url": hook.url}),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let got = hook
        .wait_until(Duration::from_secs(15), |g| g.len() >= 2)
        .await;
    assert_eq!(got[0].answered, 500);
    assert_eq!(got[1].answered, 200);
    assert_eq!(
        got[0].header("webhook-id"),
        got[1].header("webhook-id"),
        "same message"
    );
    assert_eq!(got[0].raw, got[1].raw, "same body");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(hook.received().len(), 2, "delivered: no more attempts");
    let list = s
        .post(
            "/v2/sandbox/webhooks/deliveries",
            Some(&s.sandbox_key()),
            json!({}),
        )
        .await;
    let list = list.json()["data"]["deliveries"].clone();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["attempt"], 2, "newest first");
    assert_eq!(list[0]["status_code"], 200);
    assert_eq!(list[1]["status_code"], 500);
    assert_eq!(list[1]["error"], "the receiver answered 500");
    assert_eq!(list[0]["status"], "delivered");
    s.stop().await;
}

async fn failing_and_gone_receivers_stop_on_schedule(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let down = Receiver::start(Answer::Always(500)).await;
    let gone = Receiver::start(Answer::Always(410)).await;
    let (creds, _, bank) = person_with(&s, 1);
    // The gone URL is also the tenant's default: a 410 removes it.
    let tenant = s.tenant(Environment::Sandbox);
    let admin = okra_server::services::webhooks::admin::set_url;
    admin(&s.db, &s.config, &tenant, Some(&gone.url))
        .await
        .unwrap();
    for url in [&down.url, &gone.url] {
        let r = connect(
            &s,
            with(
                login(&creds, &bank),
                json!({"products": ["auth"], "callback_url": url}),
            ),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
    // "1s, 1s": three attempts, then failed for good; 410 disables at once.
    down.wait_until(Duration::from_secs(15), |g| g.len() >= 3)
        .await;
    gone.wait_until(Duration::from_secs(15), |g| !g.is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(down.received().len(), 3);
    assert_eq!(gone.received().len(), 1);
    let ids: std::collections::HashSet<String> = down
        .received()
        .iter()
        .map(|d| d.header("webhook-id").to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one message, retried");
    let list = s
        .post(
            "/v2/sandbox/webhooks/deliveries",
            Some(&s.sandbox_key()),
            json!({}),
        )
        .await;
    let list = list.json()["data"]["deliveries"]
        .as_array()
        .unwrap()
        .clone();
    let status_of = |url: &str| -> Vec<String> {
        list.iter()
            .filter(|d| d["url"] == url)
            .map(|d| d["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(status_of(&down.url), ["failed", "failed", "failed"]);
    assert_eq!(status_of(&gone.url), ["disabled"]);
    let settings =
        okra_server::services::webhooks::admin::settings(&s.db, &s.state().keyring(), &tenant)
            .await
            .unwrap();
    assert_eq!(settings.url, None, "410 disabled the default URL");

    // callback/trigger sends the record's webhooks again, same id, to the URL given.
    let fine = Receiver::start(Answer::Ok).await;
    let record = list.iter().find(|d| d["url"] == down.url.as_str()).unwrap()["record"].clone();
    // The record named twice in one call: its one message is sent once.
    let t = s
        .post(
            "/v2/sandbox/callback/trigger",
            Some(&s.sandbox_key()),
            json!({"recordIds": [record, record], "url": fine.url}),
        )
        .await;
    assert_eq!(t.status.as_u16(), 200, "{}", t.text);
    assert_eq!(t.json()["data"]["webhooks"], 1);
    assert_eq!(t.json()["data"]["recordIds"].as_array().unwrap().len(), 1);
    let again = fine
        .wait_until(Duration::from_secs(10), |g| !g.is_empty())
        .await;
    assert!(
        ids.contains(again[0].header("webhook-id")),
        "the same message"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fine.received().len(), 1, "sent once");
    s.stop().await;
}

/// Row counts of every table a connection writes.
pub(crate) async fn row_counts(s: &TestServer) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "customers",
        "records",
        "record_options",
        "accounts",
        "identities",
        "balances",
        "link_sessions",
        "webhook_messages",
        "webhook_attempts",
        "jobs",
        "row_counts",
        "receipts",
        "idempotency_keys",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(s.db.pool())
            .await
            .unwrap();
        out.push((table, n));
    }
    out
}

async fn refused_connections_change_nothing(b: Backend) {
    let s = linking_server(b, |c| c.link_ttl_secs = 1).await;
    let hook = Receiver::start(Answer::Ok).await;
    let key = s.sandbox_key();
    let (creds, _, bank) = person_with(&s, 1);
    let source_down = "Our data source has returned a timeout response. Please retry the request.";
    let cases: Vec<(Value, u16, String)> = vec![
        (
            with(login(&creds, &bank), json!({"password": "wrong-password"})),
            400,
            "Invalid login credentials, please check and try again".into(),
        ),
        (
            with(login(&creds, &bank), json!({"username": "locked"})),
            400,
            "This account is locked at the bank, please contact the bank".into(),
        ),
        (
            with(login(&creds, &bank), json!({"username": "otp"})),
            400,
            "The bank requires a one-time password for this login".into(),
        ),
        (
            with(login(&creds, &bank), json!({"username": "down"})),
            503,
            source_down.into(),
        ),
        (
            with(login(&creds, &bank), json!({"username": "timeout"})),
            503,
            source_down.into(),
        ),
        (
            with(login(&creds, &bank), json!({"bank": "not-a-bank"})),
            400,
            "Could not match bank identifier not-a-bank with a valid bank".into(),
        ),
        (
            with(
                login(&creds, &bank),
                json!({"filter": {"banks": ["zenith-bank", "kuda-bank"]}, "bank": "guaranty-trust-bank"}),
            ),
            400,
            "This bank is not available for this link".into(),
        ),
        (
            with(login(&creds, &bank), json!({"accounts": ["0000000000"]})),
            400,
            "An account to connect is not held at this login".into(),
        ),
        (
            with(
                login(&creds, &bank),
                json!({"callback_url": "ftp://example.com/x"}),
            ),
            422,
            "`callback_url` is not usable: webhook URL must use http or https".into(),
        ),
        (
            with(
                login(&creds, &bank),
                json!({"link_id": "5f0000000000000000000000"}),
            ),
            400,
            "Link not found".into(),
        ),
    ];
    let before = row_counts(&s).await;
    for (body, status, message) in &cases {
        let r = connect(&s, body.clone()).await;
        assert_eq!(r.status.as_u16(), *status, "{body}: {}", r.text);
        assert_eq!(r.json()["message"], message.as_str(), "{body}");
        assert_eq!(row_counts(&s).await, before, "{body} changed the database");
    }

    // A scripted outage (faults/create) and a scripted locked login.
    for fault in ["bank_down", "locked"] {
        let f = s
            .post(
                "/v2/sandbox/faults/create",
                Some(&key),
                json!({"type": fault}),
            )
            .await;
        assert_eq!(f.status.as_u16(), 200, "{}", f.text);
        let before = row_counts(&s).await;
        let r = connect(&s, Value::Object(login(&creds, &bank))).await;
        assert_eq!(
            r.status.as_u16(),
            if fault == "bank_down" { 503 } else { 400 },
            "{}",
            r.text
        );
        assert_eq!(row_counts(&s).await, before, "{fault} changed the database");
        s.post("/v2/sandbox/faults/clear", Some(&key), json!({}))
            .await;
    }

    // An expired link, and a link used twice.
    let link = s
        .post(
            "/v2/sandbox/links/new",
            Some(&key),
            json!({"products": ["auth"], "callback_url": hook.url}),
        )
        .await;
    assert_eq!(link.status.as_u16(), 200, "{}", link.text);
    let expired = link.json()["data"]["link_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = row_counts(&s).await;
    let r = connect(&s, with(login(&creds, &bank), json!({"link_id": expired}))).await;
    assert_error(&r, 400, "This link has expired");
    assert_eq!(row_counts(&s).await, before);

    let link = s
        .post(
            "/v2/sandbox/links/new",
            Some(&key),
            json!({"products": ["auth"], "meta": {"from": "link"}, "callback_url": hook.url}),
        )
        .await;
    let link_id = link.json()["data"]["link_id"].as_str().unwrap().to_string();
    let r = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"link_id": link_id, "meta": {"ignored": true}}),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(
        r.json()["data"]["meta"],
        json!({"from": "link"}),
        "the link's options apply"
    );
    let got = hook
        .wait_until(Duration::from_secs(10), |g| !g.is_empty())
        .await;
    assert_eq!(got[0].json()["meta"], json!({"from": "link"}));
    let before = row_counts(&s).await;
    let r = connect(&s, with(login(&creds, &bank), json!({"link_id": link_id}))).await;
    assert_error(&r, 400, "This link has already been used");
    assert_eq!(row_counts(&s).await, before);
    s.stop().await;
}

async fn a_slow_bank_past_the_request_timeout_is_a_503_and_writes_nothing(b: Backend) {
    let s = linking_server(b, |c| c.request_timeout_secs = 1).await;
    let key = s.sandbox_key();
    let (creds, _, bank) = person_with(&s, 1);
    let f = s
        .post(
            "/v2/sandbox/faults/create",
            Some(&key),
            json!({"type": "slow", "delay_ms": 2500}),
        )
        .await;
    assert_eq!(f.status.as_u16(), 200, "{}", f.text);
    let before = row_counts(&s).await;
    let r = connect(&s, Value::Object(login(&creds, &bank))).await;
    assert_eq!(r.status.as_u16(), 503, "{}", r.text);
    assert_eq!(
        r.json()["message"],
        "Service temporarily unavailable, please retry."
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        row_counts(&s).await,
        before,
        "the abandoned connection wrote nothing"
    );
    s.stop().await;
}

async fn linking_requests_are_validated_and_scoped(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let key = s.sandbox_key();
    let (creds, _, bank) = person_with(&s, 1);
    assert_error(
        &connect(&s, json!({})).await,
        422,
        "`bank` is a required input",
    );
    assert_error(
        &connect(&s, json!({"bank": bank})).await,
        422,
        "`username` is a required input",
    );
    assert_error(
        &connect(&s, json!({"bank": bank, "username": "u"})).await,
        422,
        "`password` is a required input",
    );
    assert_error(
        &connect(&s, with(login(&creds, &bank), json!({"link_id": "nope"}))).await,
        422,
        "`link_id` must be a valid id",
    );
    assert_error(
        &connect(&s, with(login(&creds, &bank), json!({"options": "x"}))).await,
        422,
        "`options` must be an object",
    );
    assert_error(
        &connect(&s, with(login(&creds, &bank), json!({"accounts": "x"}))).await,
        422,
        "`accounts` must be an array",
    );
    // Sandbox only.
    let prod = s
        .post(
            "/v2/link/connect",
            Some(&s.key("production", "secret")),
            Value::Object(login(&creds, &bank)),
        )
        .await;
    assert_error(&prod, 404, "Route not found");

    // The publishable key opens and completes links, and reads nothing.
    let pk = s.key("sandbox", "publishable");
    let link = s
        .post(
            "/v2/sandbox/links/new",
            Some(&pk),
            json!({"products": ["auth", "balance"]}),
        )
        .await;
    assert_eq!(link.status.as_u16(), 200, "{}", link.text);
    let data = link.json()["data"].clone();
    // The widget's address holds its own token, not the link id (tests/integration/widget.rs).
    let url = data["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/link/", s.base)), "{url}");
    assert!(!url.contains(data["link_id"].as_str().unwrap()));
    assert!(data["expires_at"].as_str().unwrap().ends_with('Z'));
    let ok = s
        .post(
            CONNECT,
            Some(&pk),
            with(login(&creds, &bank), json!({"link_id": data["link_id"]})),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    let record_id = ok.json()["data"]["record_id"].as_str().unwrap().to_string();
    let read = s
        .post(
            "/v2/sandbox/records/getById",
            Some(&pk),
            json!({"id": record_id}),
        )
        .await;
    assert_eq!(read.status.as_u16(), 401);
    assert_eq!(read.text, UNAUTHORIZED);

    // Another owner's or environment's ids behave as unknown ones.
    let other =
        okra_server::services::owners::create_owner(&s.db, &s.state().keyring(), "other-owner")
            .await
            .unwrap();
    let other_key = (other.keys.iter())
        .find(|k| k.env == Environment::Sandbox && k.kind == "secret")
        .unwrap()
        .key
        .clone();
    let account_id = ok.json()["data"]["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let customer_id = ok.json()["data"]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let prod_key = s.key("production", "secret");
    for (path, base_key) in [
        ("/v2/sandbox/", other_key.as_str()),
        ("/v2/", prod_key.as_str()),
    ] {
        let r = s
            .post(
                &format!("{path}records/getById"),
                Some(base_key),
                json!({"id": record_id}),
            )
            .await;
        assert_error(&r, 400, "Record not found");
        let r = s
            .post(
                &format!("{path}accounts/getById"),
                Some(base_key),
                json!({"id": account_id}),
            )
            .await;
        assert_error(&r, 400, "Account not found");
        let r = s
            .post(
                &format!("{path}accounts/getByCustomer"),
                Some(base_key),
                json!({"customer": customer_id}),
            )
            .await;
        assert_eq!(r.json()["data"]["accounts"], json!([]));
        let r = s
            .get(
                &format!("{path}callback?record={record_id}&method=AUTH"),
                Some(base_key),
            )
            .await;
        assert_error(&r, 400, "Record not found");
        let r = s
            .post(
                &format!("{path}callback/trigger"),
                Some(base_key),
                json!({"recordIds": [record_id]}),
            )
            .await;
        assert_error(&r, 400, "Record not found");
        let r = s
            .post(
                &format!("{path}webhooks/deliveries"),
                Some(base_key),
                json!({}),
            )
            .await;
        assert_eq!(r.json()["data"]["pagination"]["totalDocs"], 0);
    }
    // Validation of the reads.
    assert_error(
        &s.post(
            "/v2/sandbox/records/getById",
            Some(&key),
            json!({"id": "x"}),
        )
        .await,
        422,
        "`id` must be a valid id",
    );
    assert_error(
        &s.post("/v2/sandbox/accounts/getByCustomer", Some(&key), json!({}))
            .await,
        422,
        "`customer` is a required input",
    );
    assert_error(
        &s.get(
            &format!("/v2/sandbox/callback?record={record_id}&method=LOANS"),
            Some(&key),
        )
        .await,
        422,
        "`method` must be one of [AUTH, IDENTITY, BALANCE, ACCOUNTS, CHECK_BALANCE]",
    );
    assert_error(
        &s.get(
            &format!("/v2/sandbox/callback?record={record_id}&method=IDENTITY"),
            Some(&key),
        )
        .await,
        400,
        "The record did not request the identity product",
    );
    assert_error(
        &s.post("/v2/sandbox/callback/trigger", Some(&key), json!({}))
            .await,
        422,
        "`recordIds` is a required input",
    );
    assert_error(
        &s.post(
            "/v2/sandbox/callback/trigger",
            Some(&key),
            json!({"recordIds": ["x"]}),
        )
        .await,
        422,
        "`recordIds[0]` must be a valid id",
    );
    s.stop().await;
}

async fn callback_says_processing_until_the_product_is_stored(b: Backend) {
    // No workers: the balance job and the webhook wait in the queue.
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let (creds, _, bank) = person_with(&s, 1);
    let r = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"products": ["auth", "balance"], "callback_url": "http://127.0.0.1:9/hook"}),
        ),
    )
    .await;
    // Triggering a record whose webhook is still pending queues no second delivery job: one job
    // per message, so it is never sent twice at once.
    let record_id = r.json()["data"]["record_id"].clone();
    for _ in 0..2 {
        let t = s
            .post(
                "/v2/sandbox/callback/trigger",
                Some(&key),
                json!({"recordIds": [record_id]}),
            )
            .await;
        assert_eq!(t.status.as_u16(), 200, "{}", t.text);
    }
    let deliveries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(
        deliveries, 1,
        "the AUTH_SUCCESS message has one delivery job"
    );
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let record_id = r.json()["data"]["record_id"].as_str().unwrap().to_string();
    let cb = s
        .get(
            &format!("/v2/sandbox/callback?record={record_id}&method=BALANCE"),
            Some(&key),
        )
        .await;
    assert_eq!(cb.json()["data"], json!({"status": "processing"}));
    let auth = s
        .get(
            &format!("/v2/sandbox/callback?record={record_id}&method=AUTH"),
            Some(&key),
        )
        .await;
    assert_eq!(auth.json()["data"]["status"], true);
    let rec = s
        .post(
            "/v2/sandbox/records/getById",
            Some(&key),
            json!({"id": record_id}),
        )
        .await;
    let rec = rec.json()["data"].clone();
    assert_eq!(
        rec["status"]["process"],
        json!({"running": true, "completed": false})
    );
    assert_eq!(rec["status"]["balance"]["status"], "processing");
    assert_eq!(rec["status"]["auth"]["status"], "success");
    s.stop().await;
}

async fn webhook_bodies_and_identities_are_sealed_at_rest(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let hook = Receiver::start(Answer::Ok).await;
    let (creds, person, bank) = person_with(&s, 1);
    let r = connect(&s, with(login(&creds, &bank), json!({"products": ["auth", "accounts", "identity", "balance"], "callback_url": hook.url}))).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    hook.wait_until(Duration::from_secs(20), |g| {
        count_codes(g, "IDENTITY_IS_READY") == 1 && count_codes(g, "BALANCE_SUCCESS") >= 1
    })
    .await;
    // A link whose options name the customer's BVN and a token keeps them sealed too.
    let link = s
        .post(
            "/v2/sandbox/links/new",
            Some(&s.sandbox_key()),
            json!({"customer": {"bvn": person.bvn}, "token": "tok-secret-123"}),
        )
        .await;
    assert_eq!(link.status.as_u16(), 200, "{}", link.text);
    let bytes = crate::pii_at_rest::at_rest(&s).await;
    let text = String::from_utf8_lossy(&bytes);
    let mut secrets = vec![
        person.bvn.clone().unwrap(),
        person.phone.clone(),
        creds.password.clone(),
        "tok-secret-123".to_string(),
    ];
    secrets.extend(nubans_at(&person, &bank));
    for secret in secrets {
        assert!(!text.contains(&secret), "{secret} is stored in plaintext");
    }
    s.stop().await;
}

async fn a_server_killed_right_after_a_connection_still_delivers_every_webhook(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&b).await;
    let key = binary::create_owner(dir.path(), &url, "killed").await;
    // The receiver's port, reserved and closed: nothing can be delivered before the kill, so
    // every webhook must come out of the outbox after the restart.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let hook_url = format!("http://{addr}/hook");
    let serve = || {
        let mut c = binary::command(dir.path(), &url);
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .env("OKRA_JOB_LEASE_SECS", "2")
            .env("OKRA_JOB_POLL_MS", "50")
            .env("OKRA_WEBHOOK_RETRY_SCHEDULE", "1s, 1s, 1s")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        c.spawn().unwrap()
    };
    let mut child = serve();
    let (base, _) = crate::common::wait_until_listening(&mut child).await;
    let (creds, person, bank) = person_of(&okra_server::config::Config::default(), 2);
    let n = nubans_at(&person, &bank).len();
    let client = reqwest::Client::new();
    let body = json!({"bank": bank, "username": creds.username, "password": creds.password,
                      "products": ["auth", "accounts", "identity", "balance"], "multi_account": true,
                      "callback_url": hook_url});
    let (status, text) = binary::post(&client, &base, CONNECT, &key, &body)
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    // SIGKILL as soon as the connection is committed: no graceful shutdown, jobs mid-way.
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let hook = Receiver::start_on(&addr.to_string(), Answer::Ok).await;
    let mut child = serve();
    let _ = crate::common::wait_until_listening(&mut child).await;
    let got = hook
        .wait_until(Duration::from_secs(30), |got| {
            count_codes(got, "AUTH_SUCCESS") >= 1
                && count_codes(got, "ACCOUNTS_SUCCESS") >= n
                && count_codes(got, "IDENTITY_IS_READY") >= 1
                && count_codes(got, "BALANCE_SUCCESS") >= n
        })
        .await;
    let ids: std::collections::HashSet<&str> = got.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), 2 + 2 * n, "every message");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    if let Some(u) = &url {
        drop_database(&b, u).await;
    }
}

async fn concurrent_connections_of_one_person_from_two_processes_make_one_customer(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let second = s.second_process().await;
    let (creds, person, bank) = person_with(&s, 1);
    let n = nubans_at(&person, &bank).len();
    let body = with(
        login(&creds, &bank),
        json!({"products": ["auth"], "multi_account": true}),
    );
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (base, client, key, body) = (
            if i % 2 == 0 {
                s.base.clone()
            } else {
                second.base.clone()
            },
            s.client.clone(),
            s.sandbox_key(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}{CONNECT}"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut customers = std::collections::HashSet::new();
    let mut records = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        // Contention may answer 503 (SQLite's busy timeout), never 500.
        assert!(status == 200 || status == 503, "{status} {body}");
        if status == 200 {
            customers.insert(body["data"]["customer_id"].as_str().unwrap().to_string());
            records.insert(body["data"]["record_id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(customers.len(), 1, "one person, one customer");
    assert!(!records.is_empty());
    let key = s.sandbox_key();
    let list = s
        .post("/v2/sandbox/customers/list", Some(&key), json!({}))
        .await;
    assert_eq!(list.json()["data"]["pagination"]["totalDocs"], 1);
    let customer = customers.into_iter().next().unwrap();
    let one = s
        .post(
            "/v2/sandbox/customers/getById",
            Some(&key),
            json!({"id": customer}),
        )
        .await;
    assert_eq!(
        one.json()["data"]["records"].as_array().unwrap().len(),
        records.len()
    );
    assert_eq!(one.json()["data"]["accounts"].as_array().unwrap().len(), n);
    let accounts = s
        .post(
            "/v2/sandbox/accounts/getByCustomer",
            Some(&key),
            json!({"customer": customer}),
        )
        .await;
    assert_eq!(
        accounts.json()["data"]["pagination"]["totalDocs"],
        n,
        "counted once"
    );
    second.stop().await;
    s.stop().await;
}

async fn jobs_abandoned_on_their_last_attempt_fail_what_they_stood_for(b: Backend) {
    // No workers at first (the API role): the webhook and the balance job wait in the queue.
    let s = TestServer::start_with(
        b,
        |c| c.role = okra_server::config::Role::Api,
        okra_server::workers::Registry::default(),
    )
    .await;
    let key = s.sandbox_key();
    let (creds, _, bank) = person_with(&s, 1);
    let r = connect(
        &s,
        with(
            login(&creds, &bank),
            json!({"products": ["auth", "balance"], "callback_url": "http://127.0.0.1:9/hook"}),
        ),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let record_id = r.json()["data"]["record_id"].as_str().unwrap().to_string();
    // As if each job's lease had run out on every attempt (its workers kept dying): the next
    // claim is past its last attempt, so the handler never runs again.
    sqlx::query("UPDATE jobs SET attempts = max_attempts")
        .execute(s.db.pool())
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let pool = tokio::spawn(okra_server::workers::run(
        s.state().clone(),
        std::sync::Arc::new(okra_server::workers::registry()),
        2,
        stop.clone(),
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM webhook_messages")
            .fetch_all(s.db.pool())
            .await
            .unwrap();
        let cb = s
            .get(
                &format!("/v2/sandbox/callback?record={record_id}&method=BALANCE"),
                Some(&key),
            )
            .await;
        let balance_failed = cb.json()["data"]["status"] == "failed";
        // AUTH_SUCCESS abandoned → failed; BALANCE_FAILED queued by the abandoned product
        // (its own job is new, so it is tried normally and fails to connect to port 9).
        if balance_failed && statuses.iter().any(|st| st == "failed") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "abandoned jobs left {statuses:?}, balance callback {}",
            cb.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let record = s
        .post(
            "/v2/sandbox/records/getById",
            Some(&key),
            json!({"id": record_id}),
        )
        .await;
    assert_eq!(
        record.json()["data"]["status"]["balance"]["status"],
        "failed"
    );
    assert_eq!(
        record.json()["data"]["status"]["process"]["completed"],
        true
    );
    stop.cancel();
    pool.await.unwrap();
    s.stop().await;
}

backend_tests!(
    jobs_abandoned_on_their_last_attempt_fail_what_they_stood_for,
    a_server_killed_right_after_a_connection_still_delivers_every_webhook,
    concurrent_connections_of_one_person_from_two_processes_make_one_customer,
    connect_links_and_delivers_signed_webhooks,
    a_returning_customer_gets_a_new_record_and_the_same_accounts,
    a_receiver_that_fails_once_gets_the_same_webhook_id_again_and_no_more,
    failing_and_gone_receivers_stop_on_schedule,
    refused_connections_change_nothing,
    a_slow_bank_past_the_request_timeout_is_a_503_and_writes_nothing,
    linking_requests_are_validated_and_scoped,
    callback_says_processing_until_the_product_is_stored,
    webhook_bodies_and_identities_are_sealed_at_rest,
);
