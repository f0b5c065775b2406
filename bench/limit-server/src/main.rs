//! The limit server of `bench/run`: what okra-server would cost with a free database.
//!
//! A bare axum program doing the per-request work okra-server does before and after its database:
//! the bearer token is parsed and checked the same way (`okra_core::apikey::parse` with its checksum,
//! SHA-256, constant-time comparison against the one known hash), the JSON body is read and parsed the
//! same way (`serde_json`, the depth and array limits, `okra_core::body::Body` and the operation's
//! field validation), and the answer is fixed bytes captured from a real okra-server response of the
//! same operation, with the same headers. No database, no cache, no logging.
//!
//! Usage: `okra-bench-limit --listen 127.0.0.1:PORT --key-hash HEX --responses DIR`
//!
//! `DIR` holds one file per answer, named after the operation (the path after `/v2/sandbox/` with
//! `/` replaced by `-`), plus `-page-N` for a body with `"page": N`:
//! `customers-getById.json`, `customers-list-page-1.json`, `customers-list-page-1000.json`,
//! `records-getById.json`, `identity-getById.json`, `products-identities-page-1.json`, …,
//! `banks-list.json`. A request for anything else is 404.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body as AxumBody, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use okra_core::apikey::{self, KeyKind};
use okra_core::body::{depth_exceeds, oversized_array, Body, MAX_ARRAY_ITEMS, MAX_JSON_DEPTH};
use subtle::ConstantTimeEq;

const BODY_LIMIT: usize = 1024 * 1024;
const PREFIX: &str = "/v2/sandbox/";

struct Limit {
    key_hash: String,
    responses: HashMap<String, Bytes>,
}

fn arg(args: &[String], name: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| {
            eprintln!("usage: okra-bench-limit --listen ADDR --key-hash HEX --responses DIR");
            std::process::exit(2)
        })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn authorized(limit: &Limit, headers: &HeaderMap) -> bool {
    let Some(key) = bearer(headers) else {
        return false;
    };
    match apikey::parse(key) {
        Some((KeyKind::Secret, okra_core::Environment::Sandbox)) => {}
        _ => return false,
    }
    let hash = apikey::hash(key);
    bool::from(hash.as_bytes().ct_eq(limit.key_hash.as_bytes()))
}

fn status(code: StatusCode) -> Response {
    code.into_response()
}

/// The body parsed and validated as okra-server's `JsonBody` and the operation would; the answer's
/// file suffix (`-page-N` for lists), or the status to answer.
fn parse_body(op: &str, bytes: &[u8]) -> Result<String, StatusCode> {
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes).map_err(|_| StatusCode::BAD_REQUEST)?
    };
    if depth_exceeds(&value, MAX_JSON_DEPTH) {
        return Err(StatusCode::BAD_REQUEST);
    }
    if oversized_array(&value, MAX_ARRAY_ITEMS).is_some() {
        return Err(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let body = Body::from_value(value).map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    match op {
        "customers-list" | "products-identities" | "products-balances" => {
            let page = body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(format!("-page-{}", page.page))
        }
        "customers-getById" | "customers-get" => {
            body.req_id(&["id", "customer"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "records-getById" | "accounts-getById" | "identity-getById" | "balance-getById" => {
            body.req_id(&["id"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "identity-getByBvn" => {
            body.req_bvn()
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "identity-getByNuban" => {
            body.req_nuban_and_bank()
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "identity-getByDate" | "balance-getByDate" => {
            body.date_range()
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "identity-getByCustomerDate" | "balance-getByCustomerDate" => {
            body.req_id(&["customer", "customer_id"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.date_range()
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "identity-getByOptions" | "balance-getByOptions" => {
            body.opt_object("options")
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?
                .ok_or(StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "balance-getByType" => {
            let kind = body
                .req_str(&["type"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            if kind != "available_balance" && kind != "ledger_balance" {
                return Err(StatusCode::UNPROCESSABLE_ENTITY);
            }
            body.req_amount_minor(&["value", "amount"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "balance-getByAccount" => {
            body.req_id(&["account", "account_id"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        "accounts-getByCustomer" | "identity-getByCustomer" | "balance-getByCustomer" => {
            body.req_id(&["customer", "customer_id"])
                .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            body.page().map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
            Ok(String::new())
        }
        _ => Ok(String::new()),
    }
}

async fn handle(State(limit): State<Arc<Limit>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(op) = parts.uri.path().strip_prefix(PREFIX) else {
        return status(StatusCode::NOT_FOUND);
    };
    let op = op.replace('/', "-");
    if !authorized(&limit, &parts.headers) {
        return status(StatusCode::UNAUTHORIZED);
    }
    let suffix = if parts.method == Method::POST {
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(okra_core::body::is_json_content_type);
        let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => return status(StatusCode::PAYLOAD_TOO_LARGE),
        };
        if !is_json && !bytes.iter().all(u8::is_ascii_whitespace) {
            return status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        match parse_body(&op, &bytes) {
            Ok(s) => s,
            Err(code) => return status(code),
        }
    } else {
        String::new()
    };
    let Some(bytes) = limit.responses.get(&format!("{op}{suffix}")) else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut res = Response::new(AxumBody::from(bytes.clone()));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn load_responses(dir: &str) -> std::io::Result<HashMap<String, Bytes>> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
            out.insert(stem.to_string(), Bytes::from(std::fs::read(&path)?));
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let listen = arg(&args, "--listen");
    let limit = Limit {
        key_hash: arg(&args, "--key-hash").to_ascii_lowercase(),
        responses: load_responses(&arg(&args, "--responses"))?,
    };
    eprintln!(
        "okra-bench-limit: {} answers, listening on {listen}",
        limit.responses.len()
    );
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::new(limit));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
