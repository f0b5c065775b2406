//! Issue 13: the widget in a real browser. Headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) is driven by playwright-core from tests/clients/widget_browser.mjs: an integrator's
//! page on another origin loads `/widget.js` and calls `Okra.buildWithOptions`, and the script
//! clicks through every step; another run gives wrong credentials, closes the widget and passes a
//! secret key; a third opens a link made by `links/new` standalone and finishes it with the
//! keyboard alone. This file asserts what the page saw (callbacks, steps, requests, axe-core's
//! accessibility checks) and what the server stored.
//!
//! Screenshots of each step go to target/widget-screenshots/; with `OKRA_UPDATE_SCREENSHOTS=1`
//! the SQLite run writes them to docs/widget/ (the README shows those).
//! Without Chromium the tests are skipped with a message, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::clients::clients_dir;
use crate::common::{Backend, TestServer};
use crate::linking::{linking_server, person_with};
use crate::widget::record_by_id;

/// Browsers run one at a time: two Chromiums on two cores make every step's timing a gamble.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Debian's Chromium, or `None` (skip) when it is not installed; under `CI=true` a missing
/// browser fails.
pub(crate) fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: Chromium is needed for the widget's browser tests (.ci/run installs it: apt-get install chromium)"
    );
    eprintln!("skipping: Chromium is not installed (apt-get install chromium)");
    None
}

/// Runs one scenario of widget_browser.mjs against `s` and returns what it printed.
async fn run(
    s: &TestServer,
    scenario: &str,
    creds: &okra_core::source::Credentials,
    bank: &str,
) -> Option<Value> {
    let browser = chromium()?;
    let dir = clients_dir()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var("OKRA_UPDATE_SCREENSHOTS").as_deref() == Ok("1");
    let shots = if update && matches!(s.backend, Backend::Sqlite) {
        root.join("../../docs/widget")
    } else {
        let backend = if matches!(s.backend, Backend::Sqlite) {
            "sqlite"
        } else {
            "postgres"
        };
        root.join("../../target/widget-screenshots").join(backend)
    };
    let bank_name = okra_core::banks::find(bank).unwrap().name;
    let _one = BROWSER.lock().await;
    let mut cmd = Command::new("node");
    cmd.arg("widget_browser.mjs")
        .current_dir(&dir)
        .env("CHROMIUM", browser)
        .env("OKRA_BASE_URL", &s.base)
        .env("OKRA_PUBLISHABLE_KEY", s.key("sandbox", "publishable"))
        .env("OKRA_SECRET_KEY", s.sandbox_key())
        .env("OKRA_SCENARIO", scenario)
        .env("OKRA_USERNAME", &creds.username)
        .env("OKRA_PASSWORD", &creds.password)
        .env("OKRA_BANK", bank)
        .env("OKRA_BANK_NAME", bank_name)
        .env("OKRA_SCREENSHOTS", &shots);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("node runs"))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "widget_browser.mjs {scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert!(
        seen.get("failure").is_none(),
        "{scenario} failed in the browser: {}\nsteps: {}\nlog: {}",
        seen["failure"],
        seen["steps"],
        seen["log"]
    );
    assert_eq!(
        seen["consoleErrors"],
        json!([]),
        "no script error in the page"
    );
    Some(seen)
}

/// Names of the callbacks the integrator's page received, in order.
fn callbacks(seen: &Value) -> Vec<String> {
    (seen["log"].as_array().unwrap().iter())
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

/// Events (onEvent's `type`) in order.
fn events(seen: &Value) -> Vec<String> {
    (seen["log"].as_array().unwrap().iter())
        .filter(|e| e["name"] == "onEvent")
        .map(|e| e["data"]["type"].as_str().unwrap().to_string())
        .collect()
}

fn origin(url: &str) -> String {
    let u = reqwest::Url::parse(url).unwrap();
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap(),
        u.port_or_known_default().unwrap()
    )
}

/// Every request went to the server or the integrator's page; the widget's frame asked nothing
/// but the server (a data: logo is no request; following `redirect_url` is a navigation).
fn assert_requests_stay_home(s: &TestServer, seen: &Value) {
    let server = origin(&s.base);
    let app = seen["appOrigin"].as_str().unwrap().to_string();
    for r in seen["requests"].as_array().unwrap() {
        let url = r["url"].as_str().unwrap();
        if url.starts_with("data:") {
            continue;
        }
        let to = origin(url);
        assert!(to == server || to == app, "request to another host: {url}");
        let from_widget = r["frame"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/link", s.base));
        if from_widget && r["nav"] != true {
            assert_eq!(to, server, "the widget asked another host: {url}");
        }
    }
}

fn assert_accessible(seen: &Value) {
    let axe = seen["axe"].as_object().unwrap();
    assert!(!axe.is_empty());
    for (step, violations) in axe {
        assert_eq!(violations, &json!([]), "axe-core at step {step}");
    }
}

async fn a_user_connects_through_build_with_options(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, person, bank) = person_with(&s, 2);
    let Some(seen) = run(&s, "connect", &creds, &bank).await else {
        return s.stop().await;
    };
    let nubans: Vec<&str> = (person.accounts.iter())
        .filter(|a| a.bank == bank)
        .map(|a| a.nuban.as_str())
        .collect();
    assert_eq!(
        seen["steps"],
        json!([
            "1-choose-bank",
            "2-log-in",
            "3-one-time-password",
            "4-choose-accounts",
            "5-consent",
            "6-success"
        ])
    );
    assert_eq!(seen["bankCount"], json!(okra_core::banks::BANKS.len()));
    let bank_name = okra_core::banks::find(&bank).unwrap().name;
    assert!(
        seen["searched"]
            .as_array()
            .unwrap()
            .contains(&json!(bank_name)),
        "{}",
        seen["searched"]
    );
    assert_eq!(seen["brand"], "Test App");
    assert!(seen["logoSrc"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml;base64,"));
    assert_eq!(
        seen["buttonColor"], "rgb(10, 125, 79)",
        "the `color` option"
    );
    assert_eq!(
        seen["wrongOtp"],
        "The one-time password is wrong or has expired, please try again"
    );
    let details: Vec<String> = (seen["accounts"].as_array().unwrap().iter())
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(details.len(), nubans.len());
    for (detail, nuban) in details.iter().zip(&nubans) {
        assert!(detail.contains(nuban), "{detail}");
    }
    assert_eq!(
        seen["checked"],
        json!(nubans.len()),
        "multi_account: every account offered"
    );
    let amounts = seen["amounts"].as_array().unwrap();
    assert_eq!(amounts.len(), nubans.len(), "showBalance");
    assert!(
        amounts.iter().all(|a| a.as_str().unwrap().starts_with('₦')),
        "{amounts:?}"
    );
    assert_eq!(
        seen["consent"],
        json!([
            "Confirm your bank login",
            "Your accounts",
            "Your identity",
            "Your balances"
        ])
    );
    assert_eq!(seen["successTitle"], "All set!");
    assert_eq!(seen["successMessage"], "Test App can now see your balance.");
    assert_accessible(&seen);
    assert_requests_stay_home(&s, &seen);

    // The callbacks, in okra-js' order: events, one onSuccess, then beforeClose and onClose.
    let names = callbacks(&seen);
    assert_eq!(
        names.iter().filter(|n| *n == "onSuccess").count(),
        1,
        "{names:?}"
    );
    let at = |n: &str| names.iter().position(|x| x == n).unwrap_or(usize::MAX);
    assert!(
        at("onSuccess") < at("beforeClose") && at("beforeClose") < at("onClose"),
        "{names:?}"
    );
    assert_eq!(names.last().unwrap(), "onClose");
    let ev = events(&seen);
    for e in [
        "WIDGET_OPENED",
        "BANK_SELECTED",
        "LOGIN_SUBMITTED",
        "OTP_REQUESTED",
        "OTP_SUBMITTED",
        "LOGIN_SUCCESS",
        "ACCOUNTS_SELECTED",
        "CONSENT_GIVEN",
        "WIDGET_CLOSED",
    ] {
        assert!(ev.contains(&e.to_string()), "{e} in {ev:?}");
    }
    let payload = &seen["log"][at("onSuccess")]["data"];
    assert_eq!(payload["success"], true);
    assert_eq!(payload["options"], json!({"user_ref": "u-42"}));
    assert_eq!(payload["meta"], json!({"plan": "gold"}));
    assert_eq!(payload["identity"]["bvn"], json!(person.bvn));
    assert_eq!(payload["auth"]["bank_details"]["slug"], json!(bank));
    let connected: Vec<&str> = (payload["accounts"].as_array().unwrap().iter())
        .filter(|a| a["connected"] == true)
        .map(|a| a["nuban"].as_str().unwrap())
        .collect();
    assert_eq!(connected, nubans);

    // The record the widget made, read with the secret key.
    let record = payload["record_id"].as_str().unwrap();
    let sk = s.sandbox_key();
    let r = record_by_id(&s, record).await;
    assert!(r.text.contains(payload["customer_id"].as_str().unwrap()));
    assert!(r.text.contains("u-42"), "the options follow the record");
    let r = s
        .post(
            "/v2/sandbox/accounts/getByCustomer",
            Some(&sk),
            json!({"customer": payload["customer_id"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for nuban in &nubans {
        assert!(r.text.contains(nuban), "{nuban} stored");
    }
    s.stop().await;
}

async fn wrong_credentials_closing_and_a_secret_key_in_the_browser(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, _, bank) = person_with(&s, 1);
    let Some(seen) = run(&s, "errors", &creds, "zenith-bank").await else {
        return s.stop().await;
    };
    let _ = bank;
    assert_eq!(
        seen["banks"],
        json!(["Access Bank", "Zenith Bank"]),
        "filter.banks"
    );
    assert_eq!(
        seen["loginError"],
        "Invalid login credentials, please check and try again"
    );
    assert_eq!(seen["focused"], "username", "focus returns to the form");
    assert_accessible(&seen);
    // Forged messages from the integrator's own window changed nothing.
    let forged = seen["afterForged"].as_array().unwrap();
    assert!(
        !forged.contains(&json!("onSuccess")) && !forged.contains(&json!("onClose")),
        "{forged:?}"
    );
    assert_eq!(seen["frameAfterForged"], 1, "the widget stayed open");
    let after = seen["afterClose"].as_array().unwrap();
    let names: Vec<&str> = after.iter().map(|n| n.as_str().unwrap()).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap_or(usize::MAX);
    assert!(
        at("onError") < at("beforeClose") && at("beforeClose") < at("onClose"),
        "{names:?}"
    );
    assert!(!names.contains(&"onSuccess"));
    let errors: Vec<&Value> = (seen["log"].as_array().unwrap().iter())
        .filter(|e| e["name"] == "onError")
        .map(|e| &e["data"])
        .collect();
    assert_eq!(errors[0]["type"], "LOGIN_FAILED");
    assert_eq!(errors.last().unwrap()["type"], "SECRET_KEY");
    assert!(seen["secretKeyError"]
        .as_str()
        .unwrap()
        .contains("secret key"));
    // The secret key never left the page.
    let sk = s.sandbox_key();
    for r in seen["requests"].as_array().unwrap() {
        assert!(!r.to_string().contains(&sk), "secret key sent: {r}");
    }
    assert_requests_stay_home(&s, &seen);
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records")
        .fetch_one(s.db.pool())
        .await
        .unwrap();
    assert_eq!(records, 0, "nothing connected");
    let attempts: Vec<i64> =
        sqlx::query_scalar("SELECT CAST(login_attempts AS BIGINT) FROM link_sessions")
            .fetch_all(s.db.pool())
            .await
            .unwrap();
    assert_eq!(attempts, [1], "one link, one failed login");
    s.stop().await;
}

async fn a_link_sent_by_email_finishes_with_the_keyboard_and_redirects(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, person, bank) = person_with(&s, 1);
    let Some(seen) = run(&s, "standalone", &creds, &bank).await else {
        return s.stop().await;
    };
    assert_eq!(seen["landedOn"], "link", "the short URL leads to the page");
    let at_bank = person.accounts.iter().filter(|a| a.bank == bank).count();
    assert_eq!(
        seen["radios"],
        json!(at_bank),
        "multi_account off: one radio button per account"
    );
    let done = reqwest::Url::parse(seen["finalUrl"].as_str().unwrap()).unwrap();
    assert_eq!(done.path(), "/done");
    let query: std::collections::HashMap<_, _> = done.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("from").map(String::as_str),
        Some("email"),
        "the redirect URL's own query is kept"
    );
    let record = query
        .get("record_id")
        .expect("redirect_url gets the record id");
    record_by_id(&s, record).await;
    let link_id = seen["link"]["link_id"].as_str().unwrap();
    let (status, rec): (String, Option<String>) =
        sqlx::query_as("SELECT status, record_id FROM link_sessions WHERE id = $1")
            .bind(link_id)
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), rec.as_deref()),
        ("completed", Some(record.as_str()))
    );
    assert_requests_stay_home(&s, &seen);
    s.stop().await;
}

async fn a_link_from_the_back_end_opens_with_build_with_short_url(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, person, bank) = person_with(&s, 1);
    let Some(seen) = run(&s, "shorturl", &creds, &bank).await else {
        return s.stop().await;
    };
    // A short URL of another host is refused at once.
    let refused = &seen["refusedShortUrl"];
    assert_eq!(refused[0]["name"], "onError", "{refused}");
    assert_eq!(refused[0]["data"]["type"], "INVALID_SHORT_URL");
    let names = callbacks(&seen);
    let at = |n: &str| names.iter().position(|x| x == n).unwrap_or(usize::MAX);
    assert!(
        at("onSuccess") < at("beforeClose") && at("beforeClose") < at("onClose"),
        "{names:?}"
    );
    // The link was made with the secret key: the page gets ids and accounts, not the link's
    // meta or the identity.
    let payload = &seen["log"][at("onSuccess")]["data"];
    let record = payload["record_id"].as_str().unwrap();
    assert!(
        payload.get("identity").is_none() && payload.get("meta").is_none(),
        "{payload}"
    );
    let text = seen["log"].to_string();
    assert!(!text.contains("secret_meta") && !text.contains(person.bvn.as_deref().unwrap()));
    let r = record_by_id(&s, record).await;
    assert!(
        r.text.contains("secret_meta"),
        "the record keeps the link's meta"
    );
    assert_requests_stay_home(&s, &seen);
    s.stop().await;
}

backend_tests!(
    a_user_connects_through_build_with_options,
    a_link_from_the_back_end_opens_with_build_with_short_url,
    wrong_credentials_closing_and_a_secret_key_in_the_browser,
    a_link_sent_by_email_finishes_with_the_keyboard_and_redirects,
);
