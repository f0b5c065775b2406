//! The hosted widget: `widget.js` (okra-js' `Okra.buildWithOptions` / `buildWithShortUrl`), its
//! pages (`/link`, `/link/{token}`, the short `/l/{token}`), their script and styles, and the
//! three calls the page makes with the link's token (`x-okra-link` header): the link's state,
//! the bank login, and the connection. Everything is embedded in the binary and served from this
//! origin; the pages' Content-Security-Policy lets them load nothing from anywhere else (unless
//! the operator allows integrators' `https` logos).

use axum::extract::{Path, State};
use axum::http::header::{self, HeaderName};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};
use okra_core::body::{Body, Invalid};
use okra_core::schema;
use okra_core::validate::{Rejection, Validate};
use serde_json::Value;

use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::{JsonObject, SuccessBody};
use crate::http::error::ApiResult;
use crate::http::{success, ApiError};
use crate::services::linking::widget::{self, WidgetConnect, WidgetLogin};

static WIDGET: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/widget");

/// The header carrying a link's widget token on the page's calls.
pub const LINK_HEADER: &str = "x-okra-link";

/// The widget token of a page call (missing: no link is found). Tokens carry 192 random bits, so
/// guessing them is hopeless; the limits that matter (logins per link and per username) are the
/// service's. Per-address limits are the reverse proxy's: an address may be many users.
pub struct LinkToken {
    token: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LinkToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(LINK_HEADER).iter();
        let token = match (values.next().and_then(|v| v.to_str().ok()), values.next()) {
            (Some(token), None) => token.trim().to_string(),
            _ => String::new(),
        };
        Ok(LinkToken { token })
    }
}

fn file(name: &str) -> &'static [u8] {
    WIDGET
        .get_file(name)
        .map(|f| f.contents())
        .unwrap_or_default()
}

/// An embedded file with its type; never sniffed, cached briefly (a new release may change it).
fn asset(name: &str, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, file(name)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// okra-js' drop-in: defines `window.Okra`.
#[utoipa::path(get, path = "/widget.js", tag = "widget",
    responses((status = 200, description = "The script defining window.Okra", content_type = "text/javascript")))]
pub async fn script() -> Response {
    let mut res = asset("widget.js", "text/javascript; charset=utf-8");
    // Loaded by <script> from the integrator's pages: any origin may read it.
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// The page's script and styles.
#[utoipa::path(get, path = "/widget/{file}", tag = "widget",
    params(("file" = String, Path, description = "app.js or app.css")),
    responses((status = 200, description = "The widget page's script or styles"),
              (status = 404, description = "No such file")))]
pub async fn page_asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.js" => asset("app.js", "text/javascript; charset=utf-8"),
        "app.css" => asset("app.css", "text/css; charset=utf-8"),
        _ => ApiError::RouteNotFound.into_response(),
    }
}

/// The widget page's headers: no caching (its URL holds a token), no referrer (so the token
/// never leaves in a `Referer`), a policy that allows this origin only, and framing by the
/// origins of `cors_origins` (the integrators' front ends).
fn page(state: &AppState) -> Response {
    let ancestors = if state.config.cors_origins.iter().any(|o| o.trim() == "*") {
        "*".to_string()
    } else {
        (state.config.cors_origins.iter())
            .map(|o| o.trim().trim_end_matches('/'))
            .filter(|o| {
                !o.is_empty()
                    && o.bytes()
                        .all(|c| c.is_ascii_graphic() && c != b';' && c != b',')
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ancestors = if ancestors.is_empty() {
        "'none'".to_string()
    } else {
        ancestors
    };
    let images = if state.config.widget_remote_logos {
        "'self' data: https:"
    } else {
        "'self' data:"
    };
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    let mut res = (StatusCode::OK, file("index.html")).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    // Never without a policy: should the configured origins not make a header value, the page
    // keeps the strict policy and may be framed by no one.
    let strict = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                  connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    let value = HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static(strict));
    h.insert(header::CONTENT_SECURITY_POLICY, value);
    res
}

/// The widget page that `buildWithOptions` opens: it waits for the options from `widget.js`.
#[utoipa::path(get, path = "/link", tag = "widget",
    responses((status = 200, description = "The hosted widget page", content_type = "text/html")))]
pub async fn options_page(State(state): State<AppState>) -> Response {
    page(&state)
}

/// The widget page of one link (`links/new`'s `url`, `buildWithShortUrl`).
#[utoipa::path(get, path = "/link/{token}", tag = "widget",
    params(("token" = String, Path, description = "The link's widget token")),
    responses((status = 200, description = "The hosted widget page", content_type = "text/html")))]
pub async fn link_page(State(state): State<AppState>, Path(_token): Path<String>) -> Response {
    // The page reads the token from its own address; an unknown one is reported by its first
    // call, so that every page looks alike to whoever guesses addresses.
    page(&state)
}

/// `links/new`'s `short_url`: redirects to the link's page.
#[utoipa::path(get, path = "/l/{token}", tag = "widget",
    params(("token" = String, Path, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "The link's widget token")),
    responses((status = 303, description = "To /link/{token}"),
              (status = 404, description = "Not the shape of a token")))]
pub async fn short_link(Path(token): Path<String>) -> Response {
    let shaped = token.len() <= 64
        && (token.bytes()).all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !shaped {
        return ApiError::RouteNotFound.into_response();
    }
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("/link/{token}")) {
        h.insert(header::LOCATION, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The link as the widget page draws it: state, display options, consent text, banks.
#[utoipa::path(get, path = "/widget/api/link", tag = "widget",
    params(("x-okra-link" = String, Header, description = "The link's widget token")),
    responses((status = 200, description = "The link", body = SuccessBody<JsonObject>),
              (status = 400, description = "Link not found")))]
pub async fn link_state(State(state): State<AppState>, link: LinkToken) -> ApiResult<Response> {
    let view = widget::view(&state, &link.token).await?;
    Ok(success("Link found", view).into_response())
}

/// Body of the widget's bank login.
pub struct LoginBody {
    /// Bank id or slug.
    pub bank: String,
    /// Online-banking username.
    pub username: String,
    /// Online-banking password.
    pub password: String,
    /// The one-time password the bank sent, when it asked for one.
    pub otp: Option<String>,
    login: WidgetLogin,
}

okra_core::request_schema!(
    LoginBody,
    "WidgetLogin",
    schema::object_with_aliases(
        "The bank login the widget sends",
        &[
            ("bank", schema::text("Bank id or slug (alias `bank_id`)")),
            ("username", schema::text("Online-banking username")),
            ("password", schema::text("Online-banking password")),
            (
                "otp",
                schema::opt_text("The one-time password the bank sent, when it asked for one")
            )
        ],
        &["bank", "username", "password"],
        &[("bank", "bank_id")]
    )
);

impl Validate for LoginBody {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let login = WidgetLogin {
            bank: body.req_str(&["bank", "bank_id"])?,
            username: body.req_str(&["username"])?,
            password: body.req_str(&["password"])?,
            otp: body.opt_str(&["otp"])?,
        };
        Ok(LoginBody {
            bank: login.bank.clone(),
            username: String::new(),
            password: String::new(),
            otp: None,
            login,
        })
    }
}

/// Logs in at the bank: `step` `otp` (the bank asks for a one-time password) or `accounts`.
#[utoipa::path(post, path = "/widget/api/login", tag = "widget",
    params(("x-okra-link" = String, Header, description = "The link's widget token")),
    request_body = LoginBody,
    responses((status = 200, description = "Next step: otp or accounts", body = SuccessBody<JsonObject>),
              (status = 400, description = "Wrong credentials or code, locked, link used, expired or over its attempts"),
              (status = 422, description = "Missing or malformed fields"),
              (status = 503, description = "The bank is down or timed out")))]
pub async fn login(
    State(state): State<AppState>,
    link: LinkToken,
    ValidJson(body): ValidJson<LoginBody>,
) -> ApiResult<Response> {
    let answer = widget::login(&state, &link.token, body.login).await?;
    Ok(success("Logged in", answer).into_response())
}

/// Body of the widget's connection.
pub struct ConnectBody {
    /// NUBANs of the accounts the user picked (at least one).
    pub accounts: Vec<String>,
    /// The user agreed to share the products' data.
    pub consent: bool,
    /// The `nonce` of the login's answer.
    pub nonce: String,
    /// The bank of the login (id or slug).
    pub bank: String,
}

okra_core::request_schema!(
    ConnectBody,
    "WidgetConnect",
    schema::object_with_aliases(
        "The accounts the user picked, with consent",
        &[
            (
                "accounts",
                serde_json::json!({"type": "array", "minItems": 1, "maxItems": 100,
                    "items": {"type": "string", "maxLength": okra_core::body::MAX_STRING_LEN},
                    "description": "NUBANs of the accounts the user picked"})
            ),
            (
                "consent",
                serde_json::json!({"enum": [true, "true"],
                    "description": "The user agreed to share the products' data: must be true"})
            ),
            ("nonce", schema::text("The `nonce` of the login's answer")),
            (
                "bank",
                schema::text("The bank of the login (id or slug; alias `bank_id`)")
            )
        ],
        &["accounts", "consent", "nonce", "bank"],
        &[("bank", "bank_id")]
    )
);

impl Validate for ConnectBody {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let accounts = body
            .opt_str_array("accounts", 100)?
            .ok_or_else(|| okra_core::body::required("accounts"))?;
        let consent = body
            .opt_bool("consent")?
            .ok_or_else(|| okra_core::body::required("consent"))?;
        let nonce = body.req_str(&["nonce"])?;
        let bank = body.req_str(&["bank", "bank_id"])?;
        // The service refuses these too; read here, the request is what its schema says.
        if !consent {
            return Err(Invalid(
                "`consent` must be true: the user agrees to share the data before connecting"
                    .into(),
            )
            .into());
        }
        if accounts.is_empty() {
            return Err(Invalid("`accounts` must contain at least 1 items".into()).into());
        }
        Ok(ConnectBody {
            accounts,
            consent,
            nonce,
            bank,
        })
    }
}

/// Connects the picked accounts through the link's login: the onSuccess payload.
#[utoipa::path(post, path = "/widget/api/connect", tag = "widget",
    params(("x-okra-link" = String, Header, description = "The link's widget token")),
    request_body = ConnectBody,
    responses((status = 200, description = "Connected: the onSuccess payload", body = SuccessBody<JsonObject>),
              (status = 400, description = "Not logged in, account not held, link used or expired"),
              (status = 422, description = "Missing fields, or no consent"),
              (status = 503, description = "The bank is down or timed out")))]
pub async fn connect(
    State(state): State<AppState>,
    link: LinkToken,
    ValidJson(body): ValidJson<ConnectBody>,
) -> ApiResult<Response> {
    let request = WidgetConnect {
        accounts: &body.accounts,
        consent: body.consent,
        nonce: &body.nonce,
        bank: &body.bank,
    };
    let payload = widget::connect(&state, &link.token, request).await?;
    Ok(success("Account connected successfully", payload).into_response())
}
