//! Issue 13: the hosted widget's server side, over HTTP. A link opens by its secret token only;
//! its page, script and styles are served with a policy that loads nothing from elsewhere; the
//! page's calls log in at the simulated bank (with its one-time-password step), count failed
//! logins atomically, and connect the chosen accounts once, after consent. The same flows in a
//! real browser are in `widget_browser.rs`.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::backend_tests;
use crate::common::receiver::{Answer, Receiver};
use crate::common::{assert_error, Backend, Reply, TestServer};
use crate::linking::{linking_server, person_with, row_counts};

const LINKS_NEW: &str = "/v2/sandbox/links/new";
const INVALID_LOGIN: &str = "Invalid login credentials, please check and try again";

/// A link made with the sandbox publishable key: (link id, widget token, `data`).
pub(crate) async fn new_link(s: &TestServer, options: Value) -> (String, String, Value) {
    let pk = s.key("sandbox", "publishable");
    let r = s.post(LINKS_NEW, Some(&pk), options).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.json()["data"].clone();
    let url = data["url"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap().to_string();
    (data["link_id"].as_str().unwrap().to_string(), token, data)
}

/// A call of the widget page with a link token.
pub(crate) async fn page_call(
    s: &TestServer,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let url = format!("{}{path}", s.base);
    let req = match &body {
        Some(b) => s.client.post(url).json(b),
        None => s.client.get(url),
    };
    let res = req.header("x-okra-link", token).send().await.unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        text: res.text().await.unwrap(),
    }
}

/// `records/getById` with the sandbox secret key, which must answer 200.
pub(crate) async fn record_by_id(s: &TestServer, record: &str) -> Reply {
    let body = json!({"id": record});
    let r = s
        .post("/v2/sandbox/records/getById", Some(&s.sandbox_key()), body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

async fn login(s: &TestServer, token: &str, body: Value) -> Reply {
    page_call(s, token, "/widget/api/login", Some(body)).await
}

async fn connect(s: &TestServer, token: &str, body: Value) -> Reply {
    page_call(s, token, "/widget/api/connect", Some(body)).await
}

async fn link_row(s: &TestServer, id: &str) -> (String, Option<Vec<u8>>, i64, Option<String>) {
    let row: (String, Option<Vec<u8>>, i64, Option<String>) = sqlx::query_as(
        "SELECT status, login_enc, CAST(login_attempts AS BIGINT), token_hash FROM link_sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    row
}

async fn links_open_the_widget_by_a_secret_token(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let bvn = "22212345678";
    let (id, token, data) = new_link(
        &s,
        json!({"name": "Acme Loans", "color": "#0A7D4F", "logo": "javascript:alert(1)",
               "filter": {"banks": ["zenith-bank", "access-bank"]}, "meta": {"secret_meta": "m-1"},
               "options": {"user_ref": "u-9"}, "customer": {"bvn": bvn}, "showBalance": true,
               "redirect_url": "https://app.example/done"}),
    )
    .await;
    // The address holds a 32-character token, never the (guessable) link id.
    assert_eq!(data["url"], json!(format!("{}/link/{token}", s.base)));
    assert_eq!(data["short_url"], json!(format!("{}/l/{token}", s.base)));
    assert_eq!(token.len(), 32);
    assert!(!token.contains(&id));
    // Only the token's SHA-256 is stored.
    let (status, login_enc, attempts, hash) = link_row(&s, &id).await;
    assert_eq!((status.as_str(), login_enc, attempts), ("open", None, 0));
    assert_eq!(hash.unwrap(), hex::encode(Sha256::digest(token.as_bytes())));

    let short = s
        .client
        .get(format!("{}/l/{token}", s.base))
        .send()
        .await
        .unwrap();
    // reqwest follows the redirect: the page answers at /link/<token>.
    assert_eq!(short.status(), 200);
    assert_eq!(short.url().path(), format!("/link/{token}"));

    let page = s.get(&format!("/link/{token}"), None).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("content-security-policy").unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:;",
        "connect-src 'self'",
        "frame-ancestors *",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.text.contains("/widget/app.js") && !page.text.contains("http"),
        "page loads only local files"
    );
    let script = s.get("/widget.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    for needle in [
        "window.Okra",
        "buildWithOptions",
        "buildWithShortUrl",
        "ifameLoaded",
        "onSuccess",
        "beforeClose",
    ] {
        assert!(script.text.contains(needle), "{needle}");
    }
    assert_eq!(s.get_status("/widget/app.js", None).await, 200);
    assert_eq!(s.get_status("/widget/app.css", None).await, 200);
    assert_eq!(s.get_status("/widget/secrets.txt", None).await, 404);
    assert_eq!(s.get_status("/l/..%2F..%2Fetc", None).await, 404);

    // The page's first call: the link as it draws it.
    let r = page_call(&s, &token, "/widget/api/link", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let view = r.json()["data"].clone();
    assert_eq!(view["link_id"], json!(id));
    assert_eq!(view["status"], "open");
    assert_eq!(view["env"], "production-sandbox");
    assert_eq!(view["options"]["name"], "Acme Loans");
    assert_eq!(view["options"]["color"], "#0a7d4f");
    assert_eq!(
        view["options"]["logo"],
        Value::Null,
        "a javascript: logo is dropped"
    );
    assert_eq!(view["options"]["showBalance"], true);
    // Made with the publishable key while cors_origins is "*": kept, but not followed.
    assert_eq!(view["options"]["redirect_url"], Value::Null);
    let banks: Vec<&str> = (view["banks"].as_array().unwrap().iter())
        .map(|b| b["slug"].as_str().unwrap())
        .collect();
    assert_eq!(banks, ["access-bank", "zenith-bank"]);
    assert!(view["banks"][0]["icon"]
        .as_str()
        .unwrap()
        .starts_with("/assets/banks/"));
    let products: Vec<&str> = (view["consent"].as_array().unwrap().iter())
        .map(|c| c["product"].as_str().unwrap())
        .collect();
    assert_eq!(products, ["auth", "identity", "balance"]);
    // Nothing the integrator keeps to itself reaches the browser.
    for private in [bvn, "secret_meta", "u-9", "user_ref"] {
        assert!(
            !r.text.contains(private),
            "{private} must not reach the page"
        );
    }

    // Anything but the token opens nothing, with one answer for all.
    for wrong in [
        id.as_str(),
        "",
        "x",
        &token[..31],
        &format!("{}A", &token[..31]),
        &"A".repeat(32),
    ] {
        let r = page_call(&s, wrong, "/widget/api/link", None).await;
        assert_error(&r, 400, "Link not found");
    }
    let r = s.get("/widget/api/link", None).await;
    assert_error(&r, 400, "Link not found");

    // Logos: data: URLs pass; https ones only when the operator allows remote logos.
    let logo = "https://cdn.app.example/logo.png";
    let (_, t, _) = new_link(&s, json!({"logo": logo})).await;
    let view = page_call(&s, &t, "/widget/api/link", None).await.json();
    assert_eq!(view["data"]["options"]["logo"], Value::Null);
    let data_logo = "data:image/png;base64,iVBORw0KGgo=";
    let (_, t, _) = new_link(&s, json!({"logo": data_logo})).await;
    let view = page_call(&s, &t, "/widget/api/link", None).await.json();
    assert_eq!(view["data"]["options"]["logo"], data_logo);
    s.stop().await;

    // Framing and publishable-key redirects follow cors_origins when it names the integrators'
    // front ends; remote logos show when allowed.
    let s = linking_server(Backend::Sqlite, |c| {
        c.cors_origins = vec![
            "https://app.example".into(),
            "https://www.app.example/".into(),
        ];
        c.widget_remote_logos = true;
    })
    .await;
    let page = s.get("/link", None).await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.ends_with("frame-ancestors https://app.example https://www.app.example"),
        "{csp}"
    );
    assert!(csp.contains("img-src 'self' data: https:;"), "{csp}");
    let (_, t, _) = new_link(
        &s,
        json!({"logo": logo, "redirect_url": "https://www.app.example/done"}),
    )
    .await;
    let view = page_call(&s, &t, "/widget/api/link", None).await.json();
    assert_eq!(view["data"]["options"]["logo"], logo);
    assert_eq!(
        view["data"]["options"]["redirect_url"],
        "https://www.app.example/done"
    );
    let pk = s.key("sandbox", "publishable");
    let r = s
        .post(
            LINKS_NEW,
            Some(&pk),
            json!({"redirect_url": "https://evil.example/x"}),
        )
        .await;
    assert_error(
        &r,
        422,
        "`redirect_url` must be on one of the allowed origins (cors_origins)",
    );
    // The secret key (the integrator's back end) decides where its own links lead.
    let sk = s.sandbox_key();
    let r = s
        .post(
            LINKS_NEW,
            Some(&sk),
            json!({"redirect_url": "https://elsewhere.example/x"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json()["data"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let view = page_call(&s, &t, "/widget/api/link", None).await.json();
    assert_eq!(
        view["data"]["options"]["redirect_url"],
        "https://elsewhere.example/x"
    );
    // Production links made with the publishable key redirect over https only.
    let live = s.key("production", "publishable");
    let r = s
        .post(
            "/v2/links/new",
            Some(&live),
            json!({"redirect_url": "http://app.example/done"}),
        )
        .await;
    assert_error(&r, 422, "`redirect_url` must be an https URL in production");
    s.stop().await;
}

async fn the_widget_logs_in_with_an_otp_and_connects_the_chosen_accounts(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let hook = Receiver::start(Answer::Ok).await;
    let (creds, person, bank) = person_with(&s, 2);
    let nubans: Vec<String> = (person.accounts.iter())
        .filter(|a| a.bank == bank)
        .map(|a| a.nuban.clone())
        .collect();
    let (id, token, _) = new_link(
        &s,
        json!({"products": ["auth", "accounts", "identity", "balance"], "multi_account": true,
               "showBalance": true, "callback_url": hook.url, "options": {"user_ref": "u-1"},
               "meta": {"plan": "gold"}}),
    )
    .await;
    let user = |name: &str| json!({"bank": bank, "username": name, "password": creds.password});

    let r = login(
        &s,
        &token,
        json!({"bank": bank, "username": creds.username, "password": "nope"}),
    )
    .await;
    assert_error(&r, 400, INVALID_LOGIN);
    assert_eq!(link_row(&s, &id).await.2, 1, "a wrong password counts");

    // The bank asks for a one-time password (which counts for the link: it may cost an SMS).
    let otp_user = format!("otp.{}", creds.username);
    let r = login(&s, &token, user(&otp_user)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"]["step"], "otp");
    assert_eq!(link_row(&s, &id).await.2, 2);
    let mut with_otp = user(&otp_user);
    with_otp["otp"] = json!("000000");
    let r = login(&s, &token, with_otp.clone()).await;
    assert_error(
        &r,
        400,
        "The one-time password is wrong or has expired, please try again",
    );
    assert_eq!(link_row(&s, &id).await.2, 3);
    with_otp["otp"] = json!("123456");
    let r = login(&s, &token, with_otp).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shown = r.json()["data"].clone();
    assert_eq!(shown["step"], "accounts");
    assert_eq!(shown["bank"]["slug"], json!(bank));
    let listed: Vec<&str> = (shown["accounts"].as_array().unwrap().iter())
        .map(|a| a["nuban"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        nubans.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for a in shown["accounts"].as_array().unwrap() {
        assert!(a["available_balance"].is_number(), "showBalance: {a}");
        assert!(a["ledger_balance"].is_number());
    }
    let nonce = shown["nonce"].as_str().unwrap().to_string();
    let (_, kept, attempts, _) = link_row(&s, &id).await;
    assert_eq!(
        attempts, 3,
        "what did not succeed stays counted; the login that worked does not count"
    );
    let kept = kept.expect("the bank's session is kept, sealed");
    assert!(
        !String::from_utf8_lossy(&kept).contains("sbx1."),
        "sealed, not plain"
    );

    let before = row_counts(&s).await;
    let pick = |accounts: Value, consent: bool, nonce: &str, bank: &str| json!({"accounts": accounts, "consent": consent, "nonce": nonce, "bank": bank});
    let r = connect(&s, &token, pick(json!([nubans[1]]), false, &nonce, &bank)).await;
    assert_error(
        &r,
        422,
        "`consent` must be true: the user agrees to share the data before connecting",
    );
    let r = connect(&s, &token, pick(json!(["0000000000"]), true, &nonce, &bank)).await;
    assert_error(&r, 400, "An account to connect is not held at this login");
    // Only the page that logged in (it alone holds the nonce) connects, and only at its bank.
    let other_bank = if bank == "zenith-bank" {
        "access-bank"
    } else {
        "zenith-bank"
    };
    for (n, b) in [
        ("not-the-nonce", bank.as_str()),
        (nonce.as_str(), other_bank),
    ] {
        let r = connect(&s, &token, pick(json!([nubans[1]]), true, n, b)).await;
        assert_error(&r, 400, "Log in at your bank first");
    }
    assert_eq!(
        row_counts(&s).await,
        before,
        "refused connections write nothing"
    );

    let r = connect(&s, &token, pick(json!([nubans[1]]), true, &nonce, &bank)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let payload = r.json()["data"].clone();
    let record = payload["record_id"].as_str().unwrap().to_string();
    // Made by the integrator's page (publishable key): the whole onSuccess payload.
    assert_eq!(payload["options"], json!({"user_ref": "u-1"}));
    assert_eq!(payload["meta"], json!({"plan": "gold"}));
    assert_eq!(payload["callback_url"], json!(hook.url));
    assert_eq!(payload["identity"]["bvn"], json!(person.bvn));
    let connected: Vec<(&str, bool)> = (payload["accounts"].as_array().unwrap().iter())
        .map(|a| {
            (
                a["nuban"].as_str().unwrap(),
                a["connected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        connected,
        [(nubans[0].as_str(), false), (nubans[1].as_str(), true)]
    );

    // The record, read back with the secret key, and the link used up.
    let sk = s.sandbox_key();
    let r = record_by_id(&s, &record).await;
    assert!(r.text.contains(payload["customer_id"].as_str().unwrap()));
    let (status, kept, _, _) = link_row(&s, &id).await;
    assert_eq!(
        (status.as_str(), kept),
        ("completed", None),
        "the bank's session is dropped"
    );
    let view = page_call(&s, &token, "/widget/api/link", None).await.json()["data"].clone();
    assert_eq!(
        (view["status"].clone(), view["record_id"].clone()),
        (json!("completed"), json!(record))
    );
    let r = connect(&s, &token, pick(json!([nubans[1]]), true, &nonce, &bank)).await;
    assert_error(&r, 400, "This link has already been used");
    let r = login(&s, &token, user(&creds.username)).await;
    assert_error(&r, 400, "This link has already been used");

    // The link's webhook URL gets the connection's webhooks.
    let got = hook
        .wait_until(std::time::Duration::from_secs(10), |got| {
            got.iter().any(|d| d.raw.contains("AUTH_SUCCESS"))
        })
        .await;
    assert!(
        got.iter().any(|d| d.raw.contains(&record)),
        "the record's webhooks"
    );

    // Without showBalance no amount is shown.
    let (_, token, _) = new_link(&s, json!({"products": ["auth"]})).await;
    let r = login(&s, &token, user(&creds.username)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["data"]["accounts"][0]
        .get("available_balance")
        .is_none());

    // The owner's default webhook URL is not shown to a page whose link named none.
    crate::balance_refresh::default_webhook(&s, &hook.url).await;
    let (_, token, _) = new_link(&s, json!({"products": ["auth"]})).await;
    let r = login(&s, &token, user(&creds.username)).await;
    let nonce = r.json()["data"]["nonce"].as_str().unwrap().to_string();
    let r = connect(&s, &token, pick(json!([nubans[0]]), true, &nonce, &bank)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"]["callback_url"], Value::Null);
    assert!(!r.text.contains(&hook.url));

    // A link the back end made with the secret key (and sent to the user): the page gets ids and
    // accounts only — no identity, options, meta or webhook URL.
    let made = s
        .post(
            LINKS_NEW,
            Some(&sk),
            json!({"products": ["auth", "identity"], "meta": {"m": 1}, "options": {"o": 2}}),
        )
        .await;
    let url = made.json()["data"]["url"].as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap();
    let r = login(&s, token, user(&creds.username)).await;
    let nonce = r.json()["data"]["nonce"].as_str().unwrap().to_string();
    let r = connect(&s, token, pick(json!([nubans[0]]), true, &nonce, &bank)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let safe = r.json()["data"].clone();
    let mut keys: Vec<&str> = safe
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "accounts",
            "bank_id",
            "customer_id",
            "done",
            "record",
            "record_id",
            "success"
        ]
    );
    assert!(
        !r.text.contains(person.bvn.as_deref().unwrap()),
        "no identity"
    );
    s.stop().await;
}

/// A network person other than `not` with an account at some bank: login and bank.
fn another_person(s: &TestServer, not: &[&str]) -> (okra_core::source::Credentials, String) {
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    (network.sample_users(None, 100).into_iter())
        .find(|(c, p)| {
            !p.is_company && !p.accounts.is_empty() && !not.contains(&c.username.as_str())
        })
        .map(|(c, p)| (c, p.accounts[0].bank.clone()))
        .unwrap()
}

async fn failed_logins_are_limited_per_link_and_per_username(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, _, bank) = person_with(&s, 1);
    let right = json!({"bank": bank, "username": creds.username, "password": creds.password});
    let wrong = json!({"bank": bank, "username": creds.username, "password": "guess"});
    let link_locked = "Too many failed attempts: start again with a new link";
    let name_locked = "Too many failed logins for this username: try again later";

    // Five on one link.
    let (id, token, _) = new_link(&s, json!({})).await;
    for _ in 0..5 {
        assert_error(&login(&s, &token, wrong.clone()).await, 400, INVALID_LOGIN);
    }
    assert_error(&login(&s, &token, right.clone()).await, 400, link_locked);
    assert_eq!(link_row(&s, &id).await.2, 5);

    // A new link gives no new guesses at that username (fifteen minutes), but the link still
    // works for someone else.
    let (id, token, _) = new_link(&s, json!({})).await;
    assert_error(&login(&s, &token, right.clone()).await, 400, name_locked);
    assert_eq!(
        link_row(&s, &id).await.2,
        0,
        "refused before the bank: not the link's failure"
    );
    let (other, other_bank) = another_person(&s, &[&creds.username]);
    let r = login(
        &s,
        &token,
        json!({"bank": other_bank, "username": other.username, "password": other.password}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Twenty guesses at once on a new link (different usernames): five reach the bank.
    let (id, token, _) = new_link(&s, json!({})).await;
    let guesses = (0..20).map(|i| {
        login(
            &s,
            &token,
            json!({"bank": bank, "username": format!("guess.{i}"), "password": "x"}),
        )
    });
    let replies = futures::future::join_all(guesses).await;
    let messages: Vec<String> = (replies.iter())
        .map(|r| r.json()["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        messages.iter().filter(|m| *m == INVALID_LOGIN).count(),
        5,
        "{messages:?}"
    );
    assert_eq!(messages.iter().filter(|m| *m == link_locked).count(), 15);
    assert!(replies.iter().all(|r| r.status == 400));
    assert_eq!(link_row(&s, &id).await.2, 5);

    // Outages are nobody's failure; requests for a one-time password count for the link.
    let (id, token, _) = new_link(&s, json!({})).await;
    for _ in 0..6 {
        let r = login(
            &s,
            &token,
            json!({"bank": bank, "username": "down", "password": "x"}),
        )
        .await;
        assert_eq!(r.status, 503, "{}", r.text);
    }
    assert_eq!(link_row(&s, &id).await.2, 0);
    for _ in 0..5 {
        let r = login(
            &s,
            &token,
            json!({"bank": bank, "username": "otp.someone", "password": "x"}),
        )
        .await;
        assert_eq!(r.json()["data"]["step"], "otp", "{}", r.text);
    }
    let r = login(
        &s,
        &token,
        json!({"bank": bank, "username": "otp.someone", "password": "x"}),
    )
    .await;
    assert_error(&r, 400, link_locked);
    s.stop().await;
}

async fn a_scripted_otp_fault_asks_for_the_code_and_refuses_a_wrong_one(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let (creds, _, bank) = person_with(&s, 1);
    let r = s
        .post(
            "/v2/sandbox/faults/create",
            Some(&s.sandbox_key()),
            json!({"type": "otp_required", "bank": bank, "count": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (_, token, _) = new_link(&s, json!({})).await;
    let mut body = json!({"bank": bank, "username": creds.username, "password": creds.password});
    let r = login(&s, &token, body.clone()).await;
    assert_eq!(r.json()["data"]["step"], "otp", "{}", r.text);
    // The fault was used up by asking; a wrong code is still wrong.
    body["otp"] = json!("999999");
    let r = login(&s, &token, body.clone()).await;
    assert_error(
        &r,
        400,
        "The one-time password is wrong or has expired, please try again",
    );
    body["otp"] = json!("123456");
    let r = login(&s, &token, body).await;
    assert_eq!(r.json()["data"]["step"], "accounts", "{}", r.text);
    s.stop().await;
}

async fn one_link_connects_once_across_processes(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let other = s.second_process().await;
    let (creds, _, bank) = person_with(&s, 1);
    let (_, token, _) = new_link(&s, json!({"products": ["auth", "balance"]})).await;
    let r = login(
        &s,
        &token,
        json!({"bank": bank, "username": creds.username, "password": creds.password}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let data = r.json()["data"].clone();
    let records_before = count(&s, "records").await;
    let body = json!({"accounts": [data["accounts"][0]["nuban"]], "consent": true, "nonce": data["nonce"], "bank": bank});
    let replies = futures::future::join_all((0..8).map(|i| {
        let server = if i % 2 == 0 { &s } else { &other };
        connect(server, &token, body.clone())
    }))
    .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        // Refused before or inside the transaction; never a 500.
        assert!(
            r.status == 400 || r.status == 503,
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(count(&s, "records").await, records_before + 1);
    other.stop().await;
    s.stop().await;
}

async fn count(s: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(s.db.pool())
        .await
        .unwrap()
}

async fn widget_calls_refuse_bad_input_and_write_nothing(b: Backend) {
    let s = linking_server(b, |c| c.link_ttl_secs = 3).await;
    let (creds, _, bank) = person_with(&s, 1);
    let (_, token, _) = new_link(&s, json!({"filter": {"banks": ["zenith-bank"]}})).await;
    let before = row_counts(&s).await;
    let login_path = "/widget/api/login";
    let connect_path = "/widget/api/connect";
    let z = "zenith-bank";
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (login_path, json!({}), 422, "`bank` is a required input"),
        (
            login_path,
            json!({"bank": z, "username": 7, "password": "x"}),
            422,
            "`username` must be a string",
        ),
        (
            login_path,
            json!({"bank": z, "username": "a"}),
            422,
            "`password` is a required input",
        ),
        (
            login_path,
            json!({"bank": z, "username": "a", "password": "b", "otp": 123456}),
            422,
            "`otp` must be a string",
        ),
        (login_path, json!([1, 2]), 422, ""),
        (
            login_path,
            json!({"bank": "no-such-bank", "username": "a", "password": "b"}),
            400,
            "",
        ),
        (
            connect_path,
            json!({"consent": true}),
            422,
            "`accounts` is a required input",
        ),
        (
            connect_path,
            json!({"accounts": "0123456789", "consent": true}),
            422,
            "`accounts` must be an array",
        ),
        (
            connect_path,
            json!({"accounts": []}),
            422,
            "`consent` is a required input",
        ),
        (
            connect_path,
            json!({"accounts": [], "consent": "yes"}),
            422,
            "`consent` must be a boolean",
        ),
        (
            connect_path,
            json!({"accounts": [], "consent": true}),
            422,
            "`nonce` is a required input",
        ),
        (
            connect_path,
            json!({"accounts": [], "consent": true, "nonce": "n", "bank": z}),
            422,
            "`accounts` must contain at least 1 items",
        ),
        (
            connect_path,
            json!({"accounts": ["1"], "consent": true, "nonce": "n", "bank": z}),
            400,
            "Log in at your bank first",
        ),
    ];
    for (path, body, status, message) in cases {
        let r = page_call(&s, &token, path, Some(body.clone())).await;
        assert_eq!(r.status, status, "{path} {body}: {}", r.text);
        if !message.is_empty() {
            assert_eq!(r.json()["message"], message, "{path} {body}");
        }
    }
    if bank != z {
        let r = login(
            &s,
            &token,
            json!({"bank": bank, "username": creds.username, "password": creds.password}),
        )
        .await;
        assert_error(&r, 400, "This bank is not available for this link");
    }
    // Malformed and oversized bodies.
    for body in ["{\"bank\":", "not json"] {
        let res = s
            .client
            .post(format!("{}{login_path}", s.base))
            .header("x-okra-link", &token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{body}");
    }
    let huge = json!({"bank": z, "username": "a".repeat((1 << 20) + 100), "password": "b"});
    assert_eq!(login(&s, &token, huge).await.status, 413);
    // Two link headers are ambiguous: refused.
    let res = s
        .client
        .get(format!("{}/widget/api/link", s.base))
        .header("x-okra-link", &token)
        .header("x-okra-link", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(row_counts(&s).await, before, "nothing written");

    // A kept login that cannot be opened any more is no login; the link still reads.
    let (id, token2, _) = new_link(&s, json!({})).await;
    let r = login(
        &s,
        &token2,
        json!({"bank": bank, "username": creds.username, "password": creds.password}),
    )
    .await;
    let data = r.json()["data"].clone();
    sqlx::query("UPDATE link_sessions SET login_enc = $1 WHERE id = $2")
        .bind(vec![0u8; 40])
        .bind(&id)
        .execute(s.db.pool())
        .await
        .unwrap();
    assert_eq!(
        page_call(&s, &token2, "/widget/api/link", None)
            .await
            .status,
        200
    );
    let r = connect(&s, &token2, json!({"accounts": [data["accounts"][0]["nuban"]], "consent": true, "nonce": data["nonce"], "bank": bank})).await;
    assert_error(&r, 400, "Log in at your bank first");

    // An expired link says so, and takes no login.
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    let view = page_call(&s, &token, "/widget/api/link", None).await.json()["data"].clone();
    assert_eq!(view["status"], "expired");
    let r = login(
        &s,
        &token,
        json!({"bank": z, "username": "a", "password": "b"}),
    )
    .await;
    assert_error(&r, 400, "This link has expired");
    // links/new refuses redirect URLs the page must not follow.
    let pk = s.key("sandbox", "publishable");
    let r = s
        .post(
            LINKS_NEW,
            Some(&pk),
            json!({"redirect_url": "javascript:alert(1)"}),
        )
        .await;
    assert_error(
        &r,
        422,
        "`redirect_url` must be an absolute http or https URL",
    );
    s.stop().await;
}

/// The per-username counter counts in fixed windows: attempts inside a window never extend it,
/// an expired counter starts again, and it never goes below zero.
async fn username_failures_count_in_fixed_windows(b: Backend) {
    let s = linking_server(b, |_| {}).await;
    let add = |delta: i64, now: i64| {
        let db = s.db.clone();
        async move {
            okra_store::ephemeral::add_in_window(&db, "o", "sandbox", "k", delta, now, 1000)
                .await
                .unwrap()
        }
    };
    assert_eq!(add(1, 10_000).await, 1);
    assert_eq!(add(1, 10_500).await, 2);
    assert_eq!(add(-1, 10_900).await, 1);
    // The window opened at 10 000 ends at 11 000, whatever happened inside it.
    assert_eq!(add(1, 10_999).await, 2);
    assert_eq!(
        add(1, 11_000).await,
        1,
        "a new window starts from this attempt"
    );
    assert_eq!(add(-1, 11_100).await, 0);
    assert_eq!(add(-1, 11_200).await, 0, "never below zero");
    assert_eq!(
        add(-5, 20_000).await,
        0,
        "an expired counter given back stays at zero"
    );
    s.stop().await;
}

/// A login cancelled by the request timeout (or a client going away) is nobody's failure: the
/// link's and the username's attempts come back.
async fn a_cancelled_login_gives_its_attempts_back(b: Backend) {
    let s = linking_server(b, |c| c.request_timeout_secs = 1).await;
    let (creds, _, bank) = person_with(&s, 1);
    let (id, token, _) = new_link(&s, json!({})).await;
    let slow = json!({"bank": bank, "username": format!("slow3.{}", creds.username), "password": creds.password});
    let r = login(&s, &token, slow).await;
    assert_eq!(r.status, 503, "{}", r.text);
    let mut released = false;
    for _ in 0..50 {
        if link_row(&s, &id).await.2 == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(released, "the link's attempt came back");
    let counters: Vec<i64> =
        sqlx::query_scalar("SELECT counter FROM ephemeral WHERE key LIKE 'widget-login:%'")
            .fetch_all(s.db.pool())
            .await
            .unwrap();
    assert!(counters.iter().all(|c| *c == 0), "{counters:?}");
    s.stop().await;
}

backend_tests!(
    links_open_the_widget_by_a_secret_token,
    the_widget_logs_in_with_an_otp_and_connects_the_chosen_accounts,
    failed_logins_are_limited_per_link_and_per_username,
    a_scripted_otp_fault_asks_for_the_code_and_refuses_a_wrong_one,
    one_link_connects_once_across_processes,
    widget_calls_refuse_bad_input_and_write_nothing,
    username_failures_count_in_fixed_windows,
    a_cancelled_login_gives_its_attempts_back,
);
