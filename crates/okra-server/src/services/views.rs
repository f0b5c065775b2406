//! The JSON objects a connection's data is shown as, shared by the API, `onSuccess`, webhooks and
//! `GET callback` so each object has one shape wherever it appears.

use okra_core::Environment;
use okra_store::accounts::Account;
use okra_store::records::Record;
use serde_json::{json, Value};

use super::identity_profile::env_label;

/// Minor units (kobo, cents) as the major-unit number Okra showed (`1250.5`).
pub fn major(minor: Option<i64>) -> Value {
    match minor {
        Some(m) => json!(m as f64 / 100.0),
        None => Value::Null,
    }
}

/// The Account object: `{_id, id, name, nuban, type, currency, bank, customer, connected,
/// balance, created_at, last_updated}` (`balance`: the id of its latest balance, or null).
pub fn account_object(a: &Account, balance_id: Option<&str>) -> Value {
    json!({
        "_id": a.id,
        "id": a.id,
        "name": a.name,
        "nuban": a.nuban,
        "type": a.account_type,
        "currency": a.currency,
        "bank": a.bank_id,
        "customer": a.customer_id,
        "record": a.record_id,
        "connected": a.connected,
        "balance": balance_id,
        "created_at": okra_core::time::iso_ms(a.created_at),
        "last_updated": okra_core::time::iso_ms(a.last_updated),
    })
}

/// The Record object of `records/getById`.
pub fn record_object(r: &Record, accounts: &[String], env: Environment) -> Value {
    let mut status = serde_json::Map::new();
    status.insert(
        "process".into(),
        json!({"running": r.running, "completed": r.completed}),
    );
    for product in &r.products {
        let s = r.product_status.get(product).cloned().unwrap_or_else(
            || json!({"status": "processing", "last_success_at": null, "last_fail_at": null}),
        );
        let at = |k: &str| match s.get(k).and_then(Value::as_i64) {
            Some(ms) => json!(okra_core::time::iso_ms(ms)),
            None => Value::Null,
        };
        status.insert(
            product.clone(),
            json!({"status": s.get("status").cloned().unwrap_or(Value::Null),
                   "last_success_at": at("last_success_at"), "last_fail_at": at("last_fail_at")}),
        );
    }
    json!({
        "_id": r.id,
        "id": r.id,
        "customer": r.customer_id,
        "bank": r.bank_id,
        "accounts": accounts,
        "products": r.products,
        "options": r.options,
        "meta": r.meta,
        "env": env_label(env),
        "status": status,
        "created_at": okra_core::time::iso_ms(r.created_at),
        "last_updated": okra_core::time::iso_ms(r.last_updated),
    })
}
