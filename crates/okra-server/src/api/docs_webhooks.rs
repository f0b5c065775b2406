//! The webhooks this server sends, for `/openapi.json` (OpenAPI 3.1 `webhooks`): one entry per
//! event code, each a `POST` to the app's URL with the Standard Webhooks headers and Okra's flat
//! envelope (`services::webhooks::payload`) plus the product's data.

use serde_json::{json, Value};

/// The envelope every event carries (`services::webhooks::payload::envelope`).
fn envelope() -> Value {
    let string = json!({"type": "string"});
    let object = json!({"type": "object"});
    json!({
        "type": "object",
        "required": ["method", "callback_type", "callback_code", "type", "code", "callbackURL",
            "env", "status", "started_at", "ended_at", "message", "options", "meta", "bankName",
            "bankType", "bankId", "bankSlug", "record", "recordId", "callback_url", "login_type",
            "customerId", "customerEmail", "country", "extras", "owner"],
        "properties": {
            "method": {"type": "string", "enum": ["AUTH", "IDENTITY", "BALANCE", "ACCOUNTS"]},
            "callback_type": {"type": "string", "enum": ["AUTH", "IDENTITY", "BALANCE", "ACCOUNTS"]},
            "callback_code": string,
            "type": {"type": "string", "enum": ["CALLBACK"]},
            "code": string,
            "callbackURL": {"type": "string", "format": "uri"},
            "callback_url": {"type": "string", "format": "uri"},
            "env": {"type": "string", "enum": ["production", "production-sandbox"]},
            "status": {"type": "string", "enum": ["is_success", "is_failed"]},
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": "string", "format": "date-time"},
            "message": string,
            "options": {"type": "object", "description": "The custom ids given when linking"},
            "meta": {"type": "object", "description": "The metadata given when linking"},
            "bankName": string,
            "bankType": string,
            "bankId": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "bankSlug": string,
            "record": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "recordId": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "login_type": {"type": "string", "enum": ["web"]},
            "customerId": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "customerEmail": {"type": "array", "items": string},
            "country": {"type": "string", "enum": ["NG"]},
            "extras": object,
            "owner": {"type": "string", "pattern": "^[0-9a-f]{24}$"}
        }
    })
}

/// The headers of every delivery (Standard Webhooks).
fn headers() -> Value {
    json!([
        {"name": "webhook-id", "in": "header", "required": true,
         "description": "The message id, the same on every attempt of one message: deduplicate on it.",
         "schema": {"type": "string"}},
        {"name": "webhook-timestamp", "in": "header", "required": true,
         "description": "Seconds since the epoch of this attempt; reject values more than 5 minutes away.",
         "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        {"name": "webhook-signature", "in": "header", "required": true,
         "description": "`v1,<base64 HMAC-SHA256 of \"<webhook-id>.<webhook-timestamp>.<body>\">`, keyed \
             with the base64 part of the owner's `whsec_…` secret.",
         "schema": {"type": "string", "pattern": "^v1,"}},
        {"name": "Authorization", "in": "header", "required": false,
         "description": "`Bearer <token>` when the owner set a webhook token.",
         "schema": {"type": "string"}}
    ])
}

/// One event: `extra` lists the product's own fields beside the envelope.
fn event(code: &str, summary: &str, extra: Value, required: &[&str]) -> Value {
    let mut own = extra;
    own["code"] = json!({"type": "string", "enum": [code]});
    let body = json!({"allOf": [envelope(), {
        "type": "object",
        "required": required,
        "properties": own,
    }]});
    json!({"post": {
        "summary": summary,
        "description": format!("Sent as `{code}` to the connection's `callback_url` (or the owner's \
            default webhook URL). A 2xx answer within the webhook timeout is a delivery; anything \
            else is retried on the retry schedule (same `webhook-id`); 410 disables the URL."),
        "parameters": headers(),
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": {
            "2XX": {"description": "Delivered"},
            "410": {"description": "Gone: the URL is disabled and pending messages to it stop"},
            "default": {"description": "A failed attempt: retried after the next wait"}
        }
    }})
}

/// The `webhooks` object of the OpenAPI document.
pub fn webhooks() -> Value {
    let id = json!({"type": "string", "pattern": "^[0-9a-f]{24}$"});
    let nuban = json!({"type": "string", "pattern": "^[0-9]{10}$"});
    json!({
        "AUTH_SUCCESS": event("AUTH_SUCCESS", "A connection's login succeeded", json!({}), &[]),
        "ACCOUNTS_SUCCESS": event("ACCOUNTS_SUCCESS", "One connected account (one per account)",
            json!({"account": {"type": "object", "description": "The Account object",
                "properties": {"_id": id, "nuban": nuban}}}), &["account"]),
        "IDENTITY_IS_READY": event("IDENTITY_IS_READY", "The record's identity is ready",
            json!({"identity": {"type": "object", "description": "The Identity object"}}), &["identity"]),
        "IDENTITY_FAILED": event("IDENTITY_FAILED", "The identity could not be had, for good",
            json!({}), &[]),
        "BALANCE_SUCCESS": event("BALANCE_SUCCESS",
            "One account's balance is ready (one per account; also after balance/refresh)",
            json!({"nuban": nuban, "balance": {"type": "object", "description": "The Balance object",
                "properties": {"_id": id, "available_balance": {"type": ["number", "null"]},
                    "ledger_balance": {"type": ["number", "null"]}, "currency": {"type": "string"}}}}),
            &["nuban", "balance"]),
        "BALANCE_FAILED": event("BALANCE_FAILED", "A balance could not be had, for good",
            json!({"nuban": nuban}), &[]),
    })
}
