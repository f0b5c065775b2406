//! Issue 4: sandbox customers (`customers/create`, `customers/generate`, `customers/list`,
//! `customers/get`), logging in with their own credentials at the simulated banks.

use okra_core::source::Credentials;
use okra_core::Environment;
use okra_server::services::sources::TenantSource;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{assert_error, Backend, TestServer};

async fn create(s: &TestServer, body: Value) -> Vec<Value> {
    let r = s
        .post("/v2/sandbox/customers/create", Some(&s.sandbox_key()), body)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.json()["data"].as_array().unwrap().clone()
}

async fn created_customers_honour_their_spec_and_can_log_in(b: Backend) {
    let s = TestServer::start(b).await;
    let made = create(
        &s,
        json!([
            {"noOfAccount": 3, "name": "Chiamaka Eze", "bank": "guaranty-trust-bank", "username": "chiamaka", "password": "pa55word!", "type": "ind", "volume": "high", "identity": 40, "internetSpeed": 4},
            {"noOfAccount": 1, "name": "Lagos Foods Ltd", "bank": "zenith-bank", "username": "lagosfoods", "password": "secret-1", "type": "corp", "volume": "low"}
        ]),
    )
    .await;
    assert_eq!(made.len(), 2);
    let ada = &made[0];
    assert_eq!(ada["name"], "Chiamaka Eze");
    assert_eq!(
        ada["sandbox"],
        json!({"bank": "5d6fe57a4099cc4b210bbeb3", "username": "chiamaka", "password": "pa55word!"})
    );
    assert!(ada["bvn_masked"].as_str().unwrap().contains('*'));
    assert_eq!(made[1]["name"], "Lagos Foods Ltd");

    // customers/list and customers/get show them with their login.
    let list = s.sandbox_customers_page().await;
    assert_eq!(list["data"]["pagination"]["totalDocs"], 2);
    let got = s
        .post(
            "/v2/sandbox/customers/get",
            Some(&s.sandbox_key()),
            json!({"customer": ada["id"]}),
        )
        .await
        .json();
    assert_eq!(got["data"]["sandbox"]["username"], "chiamaka");

    // Logging in with those credentials connects the same person: same BVN as the customer.
    let src = TenantSource::new(s.state(), &s.tenant(Environment::Sandbox))
        .await
        .unwrap();
    let gtb = "5d6fe57a4099cc4b210bbeb3";
    let login = Credentials {
        username: "Chiamaka".into(),
        password: "pa55word!".into(),
        otp: None,
    };
    let session = src
        .authenticate(gtb, &login)
        .await
        .expect("sandbox customer logs in");
    let accounts = src.list_accounts(&session).await.unwrap();
    let identity = src.identity(&session).await.unwrap();
    assert_eq!(identity.fullname, "Chiamaka Eze");
    let stored = okra_store::customers::get(
        &s.db,
        &s.state().keyring(),
        &s.tenant(Environment::Sandbox),
        ada["id"].as_str().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        identity.bvn, stored.bvn,
        "the same person from the bank and from the customer"
    );
    assert_eq!(
        src.lookup_bvn(identity.bvn.as_deref().unwrap())
            .await
            .unwrap()
            .fullname,
        "Chiamaka Eze"
    );
    let gtb_accounts: Vec<_> = accounts.iter().filter(|a| a.bank_id == gtb).collect();
    assert!(!gtb_accounts.is_empty());
    let first = gtb_accounts[0];
    assert!(okra_core::nuban::is_valid_nuban("058", &first.nuban));
    assert_eq!(
        src.resolve_nuban(gtb, &first.nuban).await.unwrap().bvn,
        identity.bvn
    );
    let balance = src.balance(gtb, &first.account_ref).await.unwrap();
    assert!(balance.available_minor.unwrap() <= balance.ledger_minor.unwrap());
    assert_eq!(balance.history.len(), 30);
    // Wrong password, another owner: refused.
    let wrong = Credentials {
        username: "chiamaka".into(),
        password: "nope".into(),
        otp: None,
    };
    assert_eq!(
        src.authenticate(gtb, &wrong).await.unwrap_err(),
        okra_core::source::SourceError::InvalidCredentials
    );
    let other = okra_server::services::owners::create_owner(&s.db, &s.state().keyring(), "other")
        .await
        .unwrap();
    let theirs = TenantSource::new(
        s.state(),
        &okra_store::Tenant {
            owner_id: other.owner_id,
            env: Environment::Sandbox,
        },
    )
    .await
    .unwrap();
    assert!(
        theirs.authenticate(gtb, &login).await.is_err(),
        "logins belong to their owner"
    );
    assert!(
        theirs.list_accounts(&session).await.is_err(),
        "another owner cannot use the session"
    );
    s.stop().await;
}

async fn create_validates_everything_before_creating_anything(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let path = "/v2/sandbox/customers/create";
    assert_error(
        &s.post(path, Some(&key), json!([{"name": "A"}, {"noOfAccount": 6}]))
            .await,
        422,
        "`noOfAccount` must be an integer between 1 and 5",
    );
    assert_error(
        &s.post(path, Some(&key), json!([{"identity": 0}])).await,
        422,
        "`identity` must be an integer between 1 and 100",
    );
    assert_error(
        &s.post(path, Some(&key), json!([{"internetSpeed": 5}]))
            .await,
        422,
        "`internetSpeed` must be an integer between 2 and 4",
    );
    assert_error(
        &s.post(path, Some(&key), json!([{"volume": "huge"}])).await,
        422,
        "`volume` must be one of low, medium, high",
    );
    let r = s
        .post(path, Some(&key), json!([{"bank": "no-such-bank"}]))
        .await;
    assert_eq!(
        r.json(),
        json!({"status": "error", "message": "Could not match bank identifier no-such-bank with a valid bank", "data": null, "total": null})
    );
    // Names and logins a person would read differently from what is stored.
    assert_error(
        &s.post(path, Some(&key), json!([{"name": "\u{0}\u{1b}[31mEvil"}]))
            .await,
        422,
        "`name` must not contain control or invisible characters",
    );
    assert_error(
        &s.post(path, Some(&key), json!([{"username": "solo1\u{200b}"}]))
            .await,
        422,
        "`username` must not contain control or invisible characters",
    );
    let many: Vec<Value> = (0..11).map(|_| json!({})).collect();
    assert_error(
        &s.post(path, Some(&key), Value::Array(many)).await,
        422,
        "`body` must contain less than or equal to 10 items",
    );
    assert_error(
        &s.post(path, Some(&key), json!([])).await,
        422,
        "`body` must contain at least 1 items",
    );
    assert_eq!(
        s.post("/v2/sandbox/customers/list", Some(&key), json!({}))
            .await
            .json()["data"]["pagination"]["totalDocs"],
        0,
        "nothing was created"
    );
    create(&s, json!([{"username": "taken", "password": "x"}])).await;
    assert_error(
        &s.post(path, Some(&key), json!([{"username": "TAKEN"}]))
            .await,
        400,
        "A sandbox customer with the username TAKEN already exists",
    );
    // Production has no sandbox customers.
    assert_error(
        &s.post(
            "/v2/customers/create",
            Some(&s.key("production", "secret")),
            json!([{}]),
        )
        .await,
        404,
        "Route not found",
    );
    s.stop().await;
}

async fn generate_makes_people_who_can_log_in(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .post(
            "/v2/sandbox/customers/generate",
            Some(&s.sandbox_key()),
            json!({"number": 3}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let made = r.json()["data"].as_array().unwrap().clone();
    assert_eq!(made.len(), 3);
    let src = TenantSource::new(s.state(), &s.tenant(Environment::Sandbox))
        .await
        .unwrap();
    for c in &made {
        let login = Credentials {
            username: c["sandbox"]["username"].as_str().unwrap().into(),
            password: c["sandbox"]["password"].as_str().unwrap().into(),
            otp: None,
        };
        let bank = c["sandbox"]["bank"].as_str().unwrap();
        assert!(src.authenticate(bank, &login).await.is_ok(), "{c}");
    }
    let preview = s
        .post(
            "/v2/sandbox/customers/generate",
            Some(&s.sandbox_key()),
            json!({"number": 2, "create": false}),
        )
        .await
        .json();
    assert_eq!(preview["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.post(
            "/v2/sandbox/customers/list",
            Some(&s.sandbox_key()),
            json!({})
        )
        .await
        .json()["data"]["pagination"]["totalDocs"],
        3
    );
    // The preview is exactly what customers/create accepts: posting it back creates those people.
    let specs = preview["data"].clone();
    let again = create(&s, specs.clone()).await;
    assert_eq!(again.len(), 2);
    for (made, spec) in again.iter().zip(specs.as_array().unwrap()) {
        assert_eq!(made["name"], spec["name"], "{spec}");
        assert_eq!(made["sandbox"]["username"], spec["username"], "{spec}");
        assert_eq!(made["sandbox"]["password"], spec["password"], "{spec}");
    }
    assert_error(
        &s.post(
            "/v2/sandbox/customers/generate",
            Some(&s.sandbox_key()),
            json!({"number": 11}),
        )
        .await,
        422,
        "`number` must be an integer between 1 and 10",
    );
    s.stop().await;
}

backend_tests!(
    created_customers_honour_their_spec_and_can_log_in,
    create_validates_everything_before_creating_anything,
    generate_makes_people_who_can_log_in,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_photos_are_served_here() {
    let s = TestServer::start(Backend::Sqlite).await;
    let network = okra_sandbox::Network::new(s.config.sandbox_seed, s.config.sandbox_population);
    let person = (0..50)
        .filter_map(|i| network.person(i))
        .find(|p| p.identity().photo.is_some())
        .expect("someone has a photo");
    let path = person.identity().photo.unwrap().url_path;
    assert!(path.starts_with("/sandbox/photos/"));
    assert!(
        !path.contains(person.bvn.as_deref().unwrap_or("none")),
        "photo URLs do not carry the BVN"
    );
    let r = s.get(&path, None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    assert!(r.text.starts_with("<svg") && !r.text.contains("href="));
    assert_error(
        &s.get("/sandbox/photos/000000000000.svg", None).await,
        404,
        "Route not found",
    );
    assert_error(
        &s.get("/sandbox/photos/not-a-token", None).await,
        404,
        "Route not found",
    );
    s.stop().await;
}
