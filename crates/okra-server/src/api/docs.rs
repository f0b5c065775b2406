//! `/openapi.json`, generated from the handlers' annotations.
//!
//! Handlers are annotated with their production path (`/v2/…`); the document then lists the same
//! operations under `/v2/sandbox/…` too, since both environments serve identical operations.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
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
        super::docs_page::redirect,
        super::docs_page::index,
        super::docs_page::file,
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

/// The OpenAPI document as JSON: the handlers' annotations, then what applies to many operations
/// at once (the error answers every operation can give, with their bodies), the sandbox copies of
/// every `/v2/` path, and the webhooks this server sends (OpenAPI 3.1 `webhooks`).
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    add_error_schemas(&mut doc);
    add_request_schemas(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                add_error_responses(path, op);
            }
        }
        let sandbox: Vec<(String, Value)> = paths
            .iter()
            .filter(|(p, _)| !p.starts_with("/v2/sandbox/"))
            .filter_map(|(p, item)| {
                p.strip_prefix("/v2/")
                    .map(|rest| (format!("/v2/sandbox/{rest}"), item.clone()))
            })
            .collect();
        for (path, item) in sandbox {
            paths.insert(path, item);
        }
    }
    doc["webhooks"] = super::docs_webhooks::webhooks();
    doc
}

/// The typed requests' schemas in `components.schemas`; a body whose schema allows `null` (it
/// requires nothing) may be left out, so its `requestBody` is not `required`.
fn add_request_schemas(doc: &mut Value) {
    let mut optional = Vec::new();
    for request in super::requests::typed_requests() {
        let (name, schema) = (request.name, (request.schema)());
        // A body that may be `null` may be left out: an empty body reads as `null`.
        if schema["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "null"))
        {
            optional.push(format!("#/components/schemas/{name}"));
        }
        doc["components"]["schemas"][name] = schema;
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for body in item.values_mut().filter_map(|op| op.get_mut("requestBody")) {
            let schema_ref = body["content"]["application/json"]["schema"]["$ref"].as_str();
            if schema_ref.is_some_and(|r| optional.iter().any(|o| o == r)) {
                body["required"] = Value::Bool(false);
            }
        }
    }
}

/// `Error` (the envelope of every error but 401) and `Unauthorized` (Okra's 401 body, byte for
/// byte), in `components.schemas`.
fn add_error_schemas(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    if !schemas.is_object() {
        *schemas = json!({});
    }
    schemas["Error"] = json!({
        "type": "object",
        "description": "The error envelope: `status` is `error`, `message` says what went wrong \
            (the validation messages follow Joi's phrasing). `data` is `{}` (or `null` for an unknown \
            bank on a KYC operation, which also carries `total: null`); a 500 carries the \
            `request_id` to quote to support.",
        "required": ["status", "message"],
        "properties": {
            "status": {"type": "string", "enum": ["error"]},
            "message": {"type": "string"},
            "data": {"type": ["object", "null"]},
            "total": {"type": "null"},
            "request_id": {"type": "string"}
        }
    });
    schemas["Unauthorized"] = json!({
        "type": "object",
        "description": "Okra's 401 body, unchanged.",
        "required": ["name", "status", "message", "extra"],
        "properties": {
            "name": {"type": "string", "enum": ["APIError"]},
            "status": {"type": "string", "enum": ["error"]},
            "message": {"type": "string"},
            "extra": {"type": "null"}
        }
    });
}

/// The error answers `op` can give besides its own: 401 when it takes a key; 400, 413, 415 and 422
/// when it takes a JSON body; 422 when it takes query parameters; 429, 500 and 503 on every API
/// operation (per-key limit, a bug, the database unreachable). Each error status gets its body schema.
fn add_error_responses(path: &str, op: &mut Value) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|req| req.as_object().is_some_and(|r| !r.is_empty()))
        });
    let has_body = op.contains_key("requestBody");
    let has_query = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let api = path.starts_with("/v2/") || path.starts_with("/widget/api/");
    let mut add: Vec<(&str, &str)> = Vec::new();
    if secured {
        add.push((
            "401",
            "Unauthorized: no key, an unknown or revoked key, or a key of the other environment",
        ));
    }
    if has_body {
        add.push((
            "400",
            "Malformed JSON, a lookup that found nothing, or a business rule refused",
        ));
        add.push(("413", "Request body too large"));
        add.push(("415", "The body is not sent as application/json"));
        add.push((
            "422",
            "Validation failed (the message names the field and the rule)",
        ));
    }
    if has_query {
        add.push(("422", "A query parameter failed validation"));
    }
    if api {
        add.push(("429", "Too many requests (per key); see Retry-After"));
        add.push(("500", "A bug: the body carries the request id"));
        add.push((
            "503",
            "The database or the data source is unavailable; retry",
        ));
    }
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for (status, description) in add {
        responses
            .entry(status)
            .or_insert_with(|| json!({"description": description}));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && response.get("content").is_none() {
            let schema = if status == "401" {
                "Unauthorized"
            } else {
                "Error"
            };
            response["content"] = json!({"application/json": {"schema": {
                "$ref": format!("#/components/schemas/{schema}")}}});
        }
    }
}

/// The OpenAPI 3 document of this server.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| document().to_string());
    let mut res = body.clone().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
