//! HTTP handlers, one module per product. Handlers are thin: they take the operation's typed
//! request (`ValidJson<T>`/`ValidQuery<T>`, validated with the reference's messages), call a
//! service, and turn its domain result into the wire type inside the envelope. Domain errors
//! become HTTP answers in [`errors`].
//!
//! [`versioned_routes`] is the single list of API operations (paths relative to a base path); the
//! OpenAPI test checks every entry is documented, so a route cannot be added without its docs.

pub mod assets;
pub mod balance;
pub mod banks;
pub mod customers;
pub mod docs;
pub mod docs_page;
mod docs_webhooks;
pub mod errors;
pub mod faults;
pub mod health;
pub mod identity;
pub mod kyc;
pub mod linking;
pub mod metrics;
pub mod photos;
pub mod records;
pub mod requests;
pub mod sandbox_customers;
pub mod webhooks;
pub mod widget;

use axum::routing::{get, post, MethodRouter};
use okra_core::body::{Body, Invalid};
use okra_core::schema;
use okra_core::validate::{Rejection, Validate};
use serde_json::Value;
use utoipa::IntoParams;

use crate::app::AppState;

/// The `options` of a `getByOptions` body as (key, value) pairs, sorted: an object of 1 to
/// [`MAX_OPTION_PAIRS`](okra_store::read::MAX_OPTION_PAIRS) keys, each value as its JSON text
/// (how `record_options` keeps them, so `2` and `"2"` differ).
pub(crate) fn option_pairs(body: &Body) -> Result<Vec<(String, String)>, Rejection> {
    let max = okra_store::read::MAX_OPTION_PAIRS;
    let options = body
        .opt_object("options")?
        .ok_or_else(|| okra_core::body::required("options"))?;
    if options.is_empty() {
        return Err(Invalid("`options` must have at least 1 key".into()).into());
    }
    if options.len() > max {
        return Err(Invalid(format!(
            "`options` must have less than or equal to {max} keys"
        ))
        .into());
    }
    let mut pairs: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    pairs.sort();
    Ok(pairs)
}

/// Body (or query) of operations that name one object by `id`: `faults/delete`, `banks/getById`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdRequest {
    /// The object's id (24 hex characters).
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub id: String,
}

okra_core::request_schema!(
    IdRequest,
    "IdRequest",
    schema::object(
        "The object's id",
        &[("id", schema::id("The object's id (24 hex characters)"))],
        &["id"]
    )
);

impl Validate for IdRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let id = Body::from_value(value)?.req_id(&["id"])?;
        Ok(IdRequest { id })
    }
}

/// API operations, mounted under each base path of [`crate::app::BASES`].
pub fn versioned_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("banks/list", get(banks::list)),
        ("banks/getById", get(banks::get_by_id)),
        ("customers/list", post(customers::list)),
        ("customers/getById", post(customers::get_by_id)),
        ("customers/get", post(customers::get)),
        ("records/getById", post(records::get_record)),
        ("accounts/getById", post(records::get_account)),
        ("accounts/getByCustomer", post(records::get_by_customer)),
        ("callback", get(records::callback)),
        ("webhooks/deliveries", post(webhooks::deliveries)),
        ("callback/trigger", post(webhooks::trigger)),
        ("identity/getById", post(identity::get_by_id)),
        ("identity/getByBvn", post(identity::get_by_bvn)),
        ("identity/getByNuban", post(identity::get_by_nuban)),
        ("identity/getByCustomer", post(identity::get_by_customer)),
        ("identity/getByDate", post(identity::get_by_date)),
        (
            "identity/getByCustomerDate",
            post(identity::get_by_customer_date),
        ),
        ("identity/getByOptions", post(identity::get_by_options)),
        ("identity/byOptions", post(identity::by_options)),
        ("products/identities", post(identity::all)),
        ("products/kyc/customer-verify", post(kyc::customer_verify)),
        ("products/kyc/bvn-verify", post(kyc::bvn_verify)),
        ("products/kyc/nuban-verify", post(kyc::nuban_verify)),
        (
            "products/kyc/nuban-name-verify",
            post(kyc::nuban_name_verify),
        ),
        ("wallet/get", post(kyc::wallet)),
        ("wallet/receipts", post(kyc::receipts)),
        ("balance/getById", post(balance::get_by_id)),
        ("balance/getByAccount", post(balance::get_by_account)),
        ("balance/getByCustomer", post(balance::get_by_customer)),
        ("balance/getByDate", post(balance::get_by_date)),
        (
            "balance/getByCustomerDate",
            post(balance::get_by_customer_date),
        ),
        ("balance/getByOptions", post(balance::get_by_options)),
        ("balance/byOptions", post(balance::by_options)),
        ("balance/getByType", post(balance::get_by_type)),
        ("balance/refresh", post(balance::refresh)),
        ("balance/check", post(balance::check)),
        ("products/balances", post(balance::all)),
    ]
}

/// Operations a browser may call with the publishable key (CORS), in both environments.
pub fn browser_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![("links/new", post(linking::new_link))]
}

/// Sandbox-only operations a browser may call with the publishable key (CORS).
pub fn sandbox_browser_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![("link/connect", post(linking::connect))]
}

/// Sandbox-only operations, mounted under the sandbox base paths only.
pub fn sandbox_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("faults/create", post(faults::create)),
        ("faults/list", post(faults::list)),
        ("faults/delete", post(faults::delete)),
        ("faults/clear", post(faults::clear)),
        ("customers/create", post(sandbox_customers::create)),
        ("customers/generate", post(sandbox_customers::generate)),
    ]
}

/// Routes outside the versioned API (health, documents, static assets).
pub fn unversioned_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/health", get(health::health)),
        ("/ready", get(health::ready)),
        ("/openapi.json", get(docs::openapi_json)),
        ("/docs", get(docs_page::redirect)),
        ("/docs/", get(docs_page::index)),
        ("/docs/{file}", get(docs_page::file)),
        ("/assets/banks/{slug}/{file}", get(assets::bank_asset)),
        ("/sandbox/photos/{token}", get(photos::photo)),
        ("/widget.js", get(widget::script)),
        ("/widget/{file}", get(widget::page_asset)),
        ("/link", get(widget::options_page)),
        ("/link/{token}", get(widget::link_page)),
        ("/l/{token}", get(widget::short_link)),
        ("/widget/api/link", get(widget::link_state)),
        ("/widget/api/login", post(widget::login)),
        ("/widget/api/connect", post(widget::connect)),
    ]
}
