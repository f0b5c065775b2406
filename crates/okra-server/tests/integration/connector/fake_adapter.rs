//! The fake adapter of the connector tests: a small axum app on 127.0.0.1:0 speaking the protocol
//! of docs/connector-protocol.md, with two fixed people (Ada Obi, who has a BVN, and an account
//! with none) and failures scripted by the values the connector sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use okra_core::source::{
    AccountType, BankSession, Credentials, DailyBalance, SourceAccount, SourceBalance,
    SourceIdentity,
};
use serde::Deserialize;
use serde_json::{json, Value};

pub const TOKEN: &str = "adapter-secret";
pub const BANK: &str = "5d6fe57a4099cc4b210bbec0";
pub const ADA_BVN: &str = "22212345678";
pub const ADA_NUBAN: &str = "0123456789";
pub const NO_BVN_NUBAN: &str = "0234567891";

/// What the fake adapter saw: every `Authorization` header (or its absence), in order.
#[derive(Default)]
pub struct Seen {
    pub auth: Mutex<Vec<Option<String>>>,
    pub requests: AtomicUsize,
}

pub fn ada_session() -> BankSession {
    BankSession {
        bank_id: BANK.into(),
        customer_ref: "CIF-ADA".into(),
        token: "tok-ada".into(),
    }
}

pub fn identity(first: &str, last: &str, bvn: Option<&str>) -> SourceIdentity {
    SourceIdentity {
        firstname: first.into(),
        middlename: None,
        lastname: last.into(),
        fullname: format!("{first} {last}"),
        dob: "1990-04-01".into(),
        gender: "Female".into(),
        bvn: bvn.map(Into::into),
        nin: Some("12345678901".into()),
        phones: vec!["08031234567".into()],
        emails: vec![],
        addresses: vec!["12 Allen Avenue, Ikeja".into()],
        nationality: "Nigeria".into(),
        state_of_origin: "Oyo State".into(),
        lga_of_origin: "Ibadan North".into(),
        state_of_residence: "Lagos State".into(),
        lga_of_residence: "Ikeja".into(),
        marital_status: Some("Single".into()),
        mothers_maiden: None,
        aliases: vec![],
        next_of_kins: vec![],
        photo: None,
        enrollment_bank: Some("058".into()),
        enrollment_branch: None,
        registration_date: Some("2015-06-01".into()),
        watch_listed: false,
        rc_number: None,
        is_company: false,
    }
}

pub fn ada_accounts() -> Vec<SourceAccount> {
    let account = |r: &str, nuban: &str, t, c: &str| SourceAccount {
        account_ref: r.into(),
        bank_id: BANK.into(),
        nuban: nuban.into(),
        name: "ADA OBI".into(),
        account_type: t,
        currency: c.into(),
    };
    vec![
        account("ADA-SAV", ADA_NUBAN, AccountType::Savings, "NGN"),
        account("ADA-DOM", "0123456790", AccountType::Domiciliary, "USD"),
    ]
}

pub fn ada_balance() -> SourceBalance {
    SourceBalance {
        account_ref: "ADA-SAV".into(),
        available_minor: Some(1_250_050),
        ledger_minor: None,
        currency: "NGN".into(),
        history: vec![DailyBalance {
            date: "2024-05-01".into(),
            available_minor: 1_000_000,
            ledger_minor: 1_000_000,
        }],
    }
}

/// A protocol error answer with the status the protocol document recommends for `code`.
fn fail(code: &str) -> Response {
    let status = match code {
        "invalid_credentials" | "otp_required" | "invalid_identity" => 422,
        "locked" => 423,
        "not_found" => 404,
        "bank_unavailable" => 503,
        "timeout" => 504,
        _ => 400,
    };
    let body = json!({"error": {"code": code, "message": "scripted failure"}});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

fn ok<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

#[derive(Deserialize)]
struct AuthReq {
    bank_id: String,
    credentials: Credentials,
}

#[derive(Deserialize)]
struct SessionReq {
    session: BankSession,
}

#[derive(Deserialize)]
struct BalanceReq {
    bank_id: String,
    account_ref: String,
}

#[derive(Deserialize)]
struct NubanReq {
    bank_id: String,
    nuban: String,
}

async fn authenticate(Json(r): Json<AuthReq>) -> Response {
    if r.bank_id != BANK {
        return fail("not_found");
    }
    match (
        r.credentials.username.as_str(),
        r.credentials.password.as_str(),
    ) {
        ("ada", "pass-ada") => ok(ada_session()),
        ("locked", _) => fail("locked"),
        ("otp", _) => fail("otp_required"),
        ("down", _) => fail("bank_unavailable"),
        ("slowbank", _) => fail("timeout"),
        _ => fail("invalid_credentials"),
    }
}

async fn accounts(Json(r): Json<SessionReq>) -> Response {
    match r.session.token.as_str() {
        "tok-ada" => ok(json!({ "accounts": ada_accounts() })),
        "tok-garbage" => ok(json!({"accounts": [{"account_ref": 7}]})),
        _ => fail("invalid_credentials"),
    }
}

async fn session_identity(Json(r): Json<SessionReq>) -> Response {
    match r.session == ada_session() {
        true => ok(identity("Ada", "Obi", Some(ADA_BVN))),
        false => fail("invalid_credentials"),
    }
}

async fn balance(Json(r): Json<BalanceReq>) -> Response {
    match (r.bank_id.as_str(), r.account_ref.as_str()) {
        (BANK, "ADA-SAV") => ok(ada_balance()),
        _ => fail("not_found"),
    }
}

/// The BVN is also the script: `err:<code>` answers that error, the rest are named below.
async fn bvn(Json(r): Json<Value>) -> Response {
    let bvn = r["bvn"].as_str().unwrap_or_default().to_owned();
    if let Some(code) = bvn.strip_prefix("err:") {
        return fail(code);
    }
    let raw = |status: u16, body: &'static str| {
        (StatusCode::from_u16(status).unwrap(), body).into_response()
    };
    match bvn.as_str() {
        ADA_BVN => ok(identity("Ada", "Obi", Some(ADA_BVN))),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            ok(identity("Ada", "Obi", Some(ADA_BVN)))
        }
        "stall" => {
            // Headers at once, then a body that never finishes: the total timeout covers bodies.
            let stream = futures::stream::unfold(0, |n| async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Some((Ok::<_, std::io::Error>("{".to_string()), n + 1))
            });
            Response::new(Body::from_stream(stream))
        }
        "garbage" => raw(200, "Ada Obi 22212345678 <html>"),
        "wrongshape" => ok(json!({"firstname": 22212345678u64})),
        "huge" => ok(json!({ "firstname": "A".repeat(2 * 1024 * 1024) })),
        "redirect" => Response::builder()
            .status(302)
            .header(header::LOCATION, "/v1/elsewhere")
            .body(Body::empty())
            .unwrap(),
        "proxy502" => raw(502, "<html>Bad Gateway</html>"),
        "gateway504" => raw(504, ""),
        "maintenance" => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"code": "maintenance", "message": "later"}})),
        )
            .into_response(),
        "teapot" => (
            StatusCode::IM_A_TEAPOT,
            Json(json!({"error": {"code": "odd_22212345678", "message": "Ada Obi"}})),
        )
            .into_response(),
        _ => fail("not_found"),
    }
}

async fn nuban(Json(r): Json<NubanReq>) -> Response {
    match (r.bank_id.as_str(), r.nuban.as_str()) {
        (BANK, ADA_NUBAN) => ok(identity("Ada", "Obi", Some(ADA_BVN))),
        (BANK, NO_BVN_NUBAN) => fail("invalid_identity"),
        _ => fail("not_found"),
    }
}

async fn name_enquiry(Json(r): Json<NubanReq>) -> Response {
    match (r.bank_id.as_str(), r.nuban.as_str()) {
        (BANK, ADA_NUBAN) => ok(json!({"name": "ADA OBI", "bvn": ADA_BVN})),
        (BANK, NO_BVN_NUBAN) => ok(json!({"name": "KOLA ADEYEMI", "bvn": null})),
        _ => fail("not_found"),
    }
}

/// Records the `Authorization` header and refuses anyone without the adapter's token.
async fn bearer(State(seen): State<Arc<Seen>>, req: Request, next: Next) -> Response {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let authorized = auth.as_deref() == Some(&format!("Bearer {TOKEN}"));
    seen.auth.lock().unwrap().push(auth);
    match authorized {
        true => next.run(req).await,
        false => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "unauthorized", "message": "bad token"}})),
        )
            .into_response(),
    }
}

/// Starts the fake adapter; it serves the protocol at `/v1` and, to test base paths, `/okra/v1`.
pub async fn adapter() -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let v1 = Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/authenticate", post(authenticate))
        .route("/accounts", post(accounts))
        .route("/identity", post(session_identity))
        .route("/balance", post(balance))
        .route("/bvn", post(bvn))
        .route("/nuban", post(nuban))
        .route("/name-enquiry", post(name_enquiry));
    let app = Router::new()
        .nest("/v1", v1.clone())
        .nest("/okra/v1", v1)
        .layer(middleware::from_fn_with_state(seen.clone(), bearer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}
