//! `/openapi.json`, generated from the handlers' annotations.
//!
//! Handlers are annotated with their production path (`/v2/…`); the document then lists the same
//! operations under `/v2/sandbox/…` too, since both environments serve identical operations.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "okra-server", description = "Self-hostable, Okra v2-compatible open-banking API. \
        Every `/v2/…` operation is also served under `/v2/sandbox/…` (and its alias `/sandbox/v2/…`) \
        for the sandbox environment; the key's environment must match the path's."),
    paths(
        super::banks::list,
        super::banks::get_by_id,
        super::customers::list,
        super::customers::get_by_id,
        super::customers::get,
        super::health::health,
        super::health::ready,
        super::assets::bank_asset,
        super::metrics::metrics,
        super::widget::script,
        super::widget::page_asset,
        super::widget::options_page,
        super::widget::link_page,
        super::widget::short_link,
        super::widget::link_state,
        super::widget::login,
        super::widget::connect,
        openapi_json,
        super::faults::create,
        super::faults::list,
        super::faults::delete,
        super::faults::clear,
        super::sandbox_customers::create,
        super::sandbox_customers::generate,
        super::photos::photo,
        super::linking::new_link,
        super::linking::connect,
        super::records::get_record,
        super::records::get_account,
        super::records::get_by_customer,
        super::records::callback,
        super::webhooks::deliveries,
        super::webhooks::trigger,
        super::identity::get_by_id,
        super::identity::get_by_bvn,
        super::identity::get_by_nuban,
        super::identity::get_by_customer,
        super::identity::get_by_date,
        super::identity::get_by_customer_date,
        super::identity::get_by_options,
        super::identity::by_options,
        super::identity::all,
        super::kyc::customer_verify,
        super::kyc::bvn_verify,
        super::kyc::nuban_verify,
        super::kyc::nuban_name_verify,
        super::kyc::wallet,
        super::kyc::receipts,
        super::balance::get_by_id,
        super::balance::get_by_account,
        super::balance::get_by_customer,
        super::balance::get_by_date,
        super::balance::get_by_customer_date,
        super::balance::get_by_options,
        super::balance::by_options,
        super::balance::get_by_type,
        super::balance::refresh,
        super::balance::check,
        super::balance::all,
    ),
    modifiers(&BearerAuth),
    tags((name = "banks", description = "The bank list"),
         (name = "customers", description = "Customers"),
         (name = "linking", description = "Link sessions, connections, records and accounts"),
         (name = "webhooks", description = "Webhook deliveries and re-sending"),
         (name = "identity", description = "Identity profiles"),
         (name = "kyc", description = "Paid KYC verifies, the wallet and its receipts"),
         (name = "balance", description = "Account balances"),
         (name = "widget", description = "The hosted link widget: widget.js, its pages and the calls they make with a link's token"),
         (name = "sandbox", description = "Sandbox-only operations (fault injection, sandbox customers)"),
         (name = "operations", description = "Health, readiness and documents"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, with sandbox copies of every `/v2/` path.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let sandbox: Vec<(String, utoipa::openapi::PathItem)> = doc
        .paths
        .paths
        .iter()
        .filter(|(p, _)| !p.starts_with("/v2/sandbox/"))
        .filter_map(|(p, item)| {
            p.strip_prefix("/v2/")
                .map(|rest| (format!("/v2/sandbox/{rest}"), item.clone()))
        })
        .collect();
    for (path, item) in sandbox {
        doc.paths.paths.insert(path, item);
    }
    doc
}

/// The OpenAPI 3 document of this server.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".into()));
    let mut res = body.clone().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
