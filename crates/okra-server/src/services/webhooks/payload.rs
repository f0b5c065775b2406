//! Okra's flat webhook body: one envelope for every event, with the product's data beside it
//! (`identity`, `balance` and `nuban`, or `account`).

use okra_core::banks::BankInfo;
use okra_core::Environment;
use serde_json::{json, Map, Value};

use crate::services::identity_profile::env_label;

/// What every webhook of one record says about its connection.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// The owner (`owner`).
    pub owner_id: &'a str,
    /// The environment (`env`).
    pub env: Environment,
    /// The record (`record`, `recordId`).
    pub record_id: &'a str,
    /// The connected bank.
    pub bank: &'static BankInfo,
    /// The customer (`customerId`).
    pub customer_id: &'a str,
    /// The customer's e-mail addresses (`customerEmail`).
    pub customer_emails: &'a [String],
    /// Custom ids given when linking.
    pub options: &'a Map<String, Value>,
    /// Metadata given when linking.
    pub meta: &'a Map<String, Value>,
    /// Where the webhook goes (`callbackURL`, `callback_url`).
    pub url: &'a str,
    /// When the product's processing started (ms).
    pub started_at: i64,
}

/// A product's method name in payloads and `GET callback` (`AUTH`, `IDENTITY`, …).
pub fn method_of(product: &str) -> &'static str {
    match product {
        "auth" => "AUTH",
        "identity" => "IDENTITY",
        "balance" => "BALANCE",
        "accounts" => "ACCOUNTS",
        _ => "UNKNOWN",
    }
}

/// The event code of a product's outcome: `AUTH_SUCCESS`, `IDENTITY_IS_READY`, `BALANCE_SUCCESS`,
/// `ACCOUNTS_SUCCESS`, or `<METHOD>_FAILED`.
pub fn code_of(product: &str, ok: bool) -> String {
    match (product, ok) {
        ("identity", true) => "IDENTITY_IS_READY".into(),
        (p, true) => format!("{}_SUCCESS", method_of(p)),
        (p, false) => format!("{}_FAILED", method_of(p)),
    }
}

/// The envelope of one event; the caller adds the product's fields.
pub fn envelope(
    ctx: &Context<'_>,
    product: &str,
    ok: bool,
    message: &str,
    ended_at: i64,
) -> Map<String, Value> {
    let method = method_of(product);
    let code = code_of(product, ok);
    let body = json!({
        "method": method,
        "callback_type": method,
        "callback_code": code,
        "type": "CALLBACK",
        "code": code,
        "callbackURL": ctx.url,
        "env": env_label(ctx.env),
        "status": if ok { "is_success" } else { "is_failed" },
        "started_at": okra_core::time::iso_ms(ctx.started_at),
        "ended_at": okra_core::time::iso_ms(ended_at),
        "message": message,
        "options": ctx.options,
        "meta": ctx.meta,
        "bankName": ctx.bank.name,
        "bankType": ctx.bank.bank_type.as_str(),
        "bankId": ctx.bank.id,
        "bankSlug": ctx.bank.slug,
        "record": ctx.record_id,
        "recordId": ctx.record_id,
        "callback_url": ctx.url,
        "login_type": "web",
        "customerId": ctx.customer_id,
        "customerEmail": ctx.customer_emails,
        "country": "NG",
        "extras": {},
        "owner": ctx.owner_id,
    });
    match body {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
