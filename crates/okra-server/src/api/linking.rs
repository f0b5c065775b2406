//! `links/new` and the sandbox's headless `link/connect` (secret or publishable key; CORS for
//! browsers).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{Body, Invalid};
use okra_core::id::ObjectId;
use okra_core::schema;
use okra_core::validate::{Rejection, Validate};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::{JsonObject, SuccessBody};
use crate::http::error::ApiResult;
use crate::http::{success, LinkAuth};
use crate::services::linking::{self, ConnectRequest, LinkOptions};

/// Body of `links/new`: okra-js' buildWithOptions options (`products`, `callback_url` or
/// `webhook_url`, `redirect_url`, `options`, `meta`, `filter.banks`, `multi_account`, …).
/// Unknown options are stored and ignored.
pub struct NewLinkRequest {
    /// Products: `auth`, `accounts`, `identity`, `balance` (others Okra sold are ignored).
    pub products: Option<Vec<String>>,
    /// Webhook URL for this link's records (alias `webhook_url`).
    pub callback_url: Option<String>,
    /// Custom ids, carried into every webhook and searchable by `getByOptions`.
    pub options: Option<serde_json::Map<String, Value>>,
    /// Free metadata, carried into every webhook.
    pub meta: Option<serde_json::Map<String, Value>>,
    /// Let the user connect several accounts.
    pub multi_account: Option<bool>,
    #[allow(dead_code)]
    parsed: LinkOptions,
}

fn read_options(value: &Value) -> Result<(Body, LinkOptions), Invalid> {
    let raw = value.as_object().cloned().unwrap_or_default();
    let body = Body::from_value(value.clone())?;
    let options = LinkOptions::read(&body, &raw)?;
    Ok((body, options))
}

okra_core::request_schema!(
    NewLinkRequest,
    "LinkNew",
    schema::object_with_aliases(
        "okra-js' buildWithOptions options; unknown ones are stored and ignored",
        &schema::link_options(),
        &[],
        &[("callback_url", "webhook_url")]
    )
);

impl Validate for NewLinkRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let (_, parsed) = read_options(&value)?;
        Ok(NewLinkRequest {
            products: Some(parsed.products.clone()),
            callback_url: parsed.callback_url.clone(),
            options: Some(parsed.options.clone()),
            meta: Some(parsed.meta.clone()),
            multi_account: Some(parsed.multi_account),
            parsed,
        })
    }
}

/// `data` of `links/new`.
#[derive(Serialize, ToSchema)]
pub struct NewLink {
    /// The link session's id.
    pub link_id: String,
    /// The hosted widget's page for this link.
    pub url: String,
    /// A shorter address of the same page (Okra's short links), for e-mail and SMS.
    pub short_url: String,
    /// When the link stops working (ISO-8601).
    pub expires_at: String,
}

/// Creates a link session with buildWithOptions options.
#[utoipa::path(post, path = "/v2/links/new", tag = "linking",
    request_body = NewLinkRequest,
    responses((status = 200, description = "Link created", body = SuccessBody<NewLink>),
              (status = 400, description = "Unknown bank in filter.banks"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid options")),
    security(("bearer" = [])))]
pub async fn new_link(
    LinkAuth(tenant, kind): LinkAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<NewLinkRequest>,
) -> ApiResult<Response> {
    let by_publishable = kind == okra_core::apikey::KeyKind::Publishable;
    let link = linking::create_link(&state, &tenant, &request.parsed, by_publishable).await?;
    let data = NewLink {
        link_id: link.link_id,
        short_url: link.short_url,
        url: link.url,
        expires_at: okra_core::time::iso_ms(link.expires_at),
    };
    Ok(success("Link created successfully", data).into_response())
}

/// Body of `link/connect`: the login, the accounts to connect, and buildWithOptions options (or
/// a `link_id` whose options apply).
pub struct ConnectBody {
    /// Bank id or slug.
    pub bank: String,
    /// Online-banking username.
    pub username: String,
    /// Online-banking password.
    pub password: String,
    /// NUBANs to connect (default: all with `multi_account`, else the first).
    pub accounts: Option<Vec<String>>,
    /// A link session from `links/new`.
    pub link_id: Option<String>,
    request: ConnectRequest,
}

okra_core::request_schema!(ConnectBody, "LinkConnect", {
    let mut fields = vec![
        (
            "bank",
            schema::text("Bank id or slug (alias `bank_id`); an unknown one is answered 400"),
        ),
        ("username", schema::text("Online-banking username")),
        ("password", schema::text("Online-banking password")),
        (
            "accounts",
            schema::opt_str_array(
                "NUBANs to connect (default: all with `multi_account`, else the first)",
                100,
            ),
        ),
        (
            "link_id",
            schema::opt_id("A link session from `links/new` whose options apply (alias `link`)"),
        ),
    ];
    fields.extend(schema::link_options());
    schema::object_with_aliases(
        "A sandbox login, the accounts to connect, and buildWithOptions options",
        &fields,
        &["bank", "username", "password"],
        &[
            ("bank", "bank_id"),
            ("link_id", "link"),
            ("callback_url", "webhook_url"),
        ],
    )
});

impl Validate for ConnectBody {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let (body, options) = read_options(&value)?;
        let bank = body.req_str(&["bank", "bank_id"])?;
        let username = body.req_str(&["username"])?;
        let password = body.req_str(&["password"])?;
        let accounts = body.opt_str_array("accounts", 100)?;
        let link_id = match body.opt_str(&["link_id", "link"])? {
            Some(id) if ObjectId::is_valid(&id) => Some(id.to_ascii_lowercase()),
            Some(_) => return Err(Invalid("`link_id` must be a valid id".into()).into()),
            None => None,
        };
        let request = ConnectRequest {
            bank: bank.clone(),
            username: username.clone(),
            password: password.clone(),
            accounts: accounts.clone(),
            link_id: link_id.clone(),
            options,
        };
        Ok(ConnectBody {
            bank,
            username,
            password,
            accounts,
            link_id,
            request,
        })
    }
}

/// Connects a bank login headless (sandbox only) and returns the onSuccess payload.
#[utoipa::path(post, path = "/v2/sandbox/link/connect", tag = "linking",
    request_body = ConnectBody,
    responses((status = 200, description = "Connected: the onSuccess payload", body = SuccessBody<JsonObject>),
              (status = 400, description = "Wrong credentials, locked, OTP required, unknown or filtered bank, expired link"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed fields"),
              (status = 503, description = "The bank is down or timed out")),
    security(("bearer" = [])))]
pub async fn connect(
    LinkAuth(tenant, _): LinkAuth,
    State(state): State<AppState>,
    ValidJson(body): ValidJson<ConnectBody>,
) -> ApiResult<Response> {
    let payload = linking::connect(&state, &tenant, body.request).await?;
    Ok(success("Account connected successfully", payload).into_response())
}
