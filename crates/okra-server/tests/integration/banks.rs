//! docs/api.md §8: every bank of docs/banks.md with Okra's ids, slugs and codes; assets served here.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{assert_error, Backend, TestServer};

/// The bank object of the balance reference's example (`account.bank`): our Bank must carry every
/// one of its keys with the same JSON type.
const REFERENCE_BANK: &str = r#"{"_id":"","colors":{"accent":"","primary":"","button":"","icon":""},"icon":"","logo":"","name":"","v2_icon":"","v2_logo":""}"#;

fn assert_same_shape(reference: &Value, ours: &Value, path: &str) {
    match (reference, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                let ov = o.get(k).unwrap_or_else(|| panic!("missing {path}.{k}"));
                assert_same_shape(rv, ov, &format!("{path}.{k}"));
            }
        }
        (r, o) => assert_eq!(
            std::mem::discriminant(r),
            std::mem::discriminant(o),
            "type of {path}"
        ),
    }
}

async fn bank_list_has_every_bank_with_served_assets(b: Backend) {
    let s = TestServer::start(b).await;
    let r = s
        .get("/v2/sandbox/banks/list", Some(&s.sandbox_key()))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["credentials"], Value::Null);
    let banks = v["data"]["banks"].as_array().unwrap();
    assert_eq!(banks.len(), okra_core::banks::BANKS.len());
    let reference: Value = serde_json::from_str(REFERENCE_BANK).unwrap();
    for (bank, info) in banks.iter().zip(okra_core::banks::BANKS) {
        assert_same_shape(&reference, bank, "bank");
        assert_eq!(bank["_id"], info.id);
        assert_eq!(bank["id"], info.id);
        assert_eq!(bank["slug"], info.slug);
        assert_eq!(bank["sortcode"], info.cbn_code);
        assert_eq!(bank["countries"], json!(["NG"]));
        assert_eq!(bank["status"], "healthy");
        for k in [
            "_id",
            "id",
            "name",
            "slug",
            "sortcode",
            "nip_code",
            "type",
            "colors",
            "icon",
            "logo",
            "v2_icon",
            "v2_logo",
            "products",
            "countries",
            "individual",
            "corporate",
            "status",
        ] {
            assert!(bank.get(k).is_some(), "{} lacks {k}", info.slug);
        }
        for k in ["icon", "logo", "v2_icon", "v2_logo"] {
            let url = bank[k].as_str().unwrap();
            assert!(
                url.starts_with(&s.base),
                "{url} is not served by this server"
            );
            assert!(!url.contains("<svg"));
        }
    }
    let access = banks.iter().find(|b| b["slug"] == "access-bank").unwrap();
    assert_eq!(access["_id"], "5d6fe57a4099cc4b210bbec0");
    assert_eq!(access["colors"]["primary"], "#114185");
    assert_eq!(access["colors"]["button"], "#F0632B");
    // The assets themselves.
    let url = access["logo"].as_str().unwrap();
    let res = s.client.get(url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && !svg.contains("http://")
            || svg.contains("http://www.w3.org/2000/svg")
    );
    assert!(!svg.contains("href"), "assets load nothing from elsewhere");
    for bank in banks {
        for k in ["icon", "v2_logo"] {
            let res = s
                .client
                .get(bank[k].as_str().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "{}", bank[k]);
        }
    }
    assert_error(
        &s.get("/assets/banks/access-bank/secret.txt", None).await,
        404,
        "Route not found",
    );
    assert_error(
        &s.get("/assets/banks/nope/icon.svg", None).await,
        404,
        "Route not found",
    );
    s.stop().await;
}

async fn bank_list_pages_on_request(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.sandbox_key();
    let v = s
        .get("/v2/sandbox/banks/list?page=2&limit=10", Some(&key))
        .await
        .json();
    assert_eq!(v["data"]["banks"].as_array().unwrap().len(), 10);
    assert_eq!(v["data"]["banks"][0]["_id"], okra_core::banks::BANKS[10].id);
    let p = &v["data"]["pagination"];
    assert_eq!(p["totalDocs"], 28);
    assert_eq!(p["totalPages"], 3);
    assert_eq!(p["pagingCounter"], 11);
    assert_eq!(
        (p["prevPage"].clone(), p["nextPage"].clone()),
        (json!(1), json!(3))
    );
    assert!(
        s.get("/v2/sandbox/banks/list", Some(&key)).await.json()["data"]
            .get("pagination")
            .is_none()
    );
    for q in ["limit=0", "limit=101", "limit=abc"] {
        assert_error(
            &s.get(&format!("/v2/sandbox/banks/list?{q}"), Some(&key))
                .await,
            422,
            "`limit` must be an integer between 1 and 100",
        );
    }
    assert_error(
        &s.get("/v2/sandbox/banks/list?page=0", Some(&key)).await,
        422,
        "`page` must be an integer greater than or equal to 1",
    );
    s.stop().await;
}

async fn bank_by_id(b: Backend) {
    let s = TestServer::start(b).await;
    let key = s.key("production", "secret");
    let r = s
        .get("/v2/banks/getById?id=5d6fe57a4099cc4b210bbeb3", Some(&key))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["data"]["slug"], "guaranty-trust-bank");
    assert_eq!(r.json()["data"]["sortcode"], "058");
    assert_error(
        &s.get("/v2/banks/getById?id=5d6fe57a4099cc4b210bbeff", Some(&key))
            .await,
        400,
        "Bank not found",
    );
    assert_error(
        &s.get("/v2/banks/getById", Some(&key)).await,
        422,
        "`id` is a required input",
    );
    assert_error(
        &s.get("/v2/banks/getById?id=zzz", Some(&key)).await,
        422,
        "`id` must be a valid id",
    );
    s.stop().await;
}

backend_tests!(
    bank_list_has_every_bank_with_served_assets,
    bank_list_pages_on_request,
    bank_by_id
);
