//! The one error type of the API and the only place that knows the error envelopes (docs/api.md §3–4).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use okra_store::StoreError;

/// The exact 401 body Okra sent, byte for byte.
pub const UNAUTHORIZED_BODY: &str = r#"{"name":"APIError","status":"error","message":"Unauthorized - You don't have access to this route.","extra":null}"#;

/// Message of the 503 a timed-out or failing data source produces.
pub const SOURCE_TIMEOUT: &str =
    "Our data source has returned a timeout response. Please retry the request.";
/// Message of the 503 an unreachable database produces.
pub const DB_UNAVAILABLE: &str = "Service temporarily unavailable, please retry.";
/// The message of a write refused because the database's storage is full or read-only.
pub const STORAGE_UNAVAILABLE: &str =
    "The database cannot store data right now (its disk is full or read-only). Nothing was changed; please retry later.";
/// Message of every 500.
pub const INTERNAL: &str =
    "Something went wrong. Please retry or contact support with the request id.";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown or revoked key, or wrong environment.
    #[error("unauthorized")]
    Unauthorized,
    /// A lookup that names one object found nothing, or a business rule refused.
    #[error("{0}")]
    BadRequest(String),
    /// Unknown bank id or slug on a KYC operation.
    #[error("unknown bank {0}")]
    UnknownBank(String),
    /// Body is not valid JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// No route at this path.
    #[error("route not found")]
    RouteNotFound,
    /// The path exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Body larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// A body that is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Validation failed (Joi-style message).
    #[error("{0}")]
    Validation(String),
    /// A concurrent request wrote a row with the same unique key first.
    #[error("conflict")]
    Conflict,
    /// The first call with this `Idempotency-Key` is still running.
    #[error("idempotency key in flight")]
    InFlight,
    /// Too many requests; retry after this many seconds.
    #[error("rate limited")]
    RateLimited(u64),
    /// The bank or identity source timed out or is down.
    #[error("data source timeout")]
    SourceTimeout,
    /// Our database is unreachable.
    #[error("database unavailable")]
    DbUnavailable,
    #[error("database cannot be written")]
    StorageUnavailable,
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// A bug; details are logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // A busy database (the write-lock wait ran out) is, for the client, one that is
            // briefly unavailable: the same 503, and retrying is right.
            StoreError::Unavailable(_) | StoreError::DatabaseMissing(_) | StoreError::Busy(_) => {
                ApiError::DbUnavailable
            }
            StoreError::CannotWrite(detail) => {
                // The operator must act (free space, make the storage writable): say so loudly.
                tracing::error!(error = %detail, "the database cannot be written");
                ApiError::StorageUnavailable
            }
            // A unique key taken by a concurrent request that a service did not turn into its
            // own message: the client's retry sees the winner's row.
            StoreError::Conflict(_) => ApiError::Conflict,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The answer to a data-source failure that is not specific to an operation (docs/api.md §4).
impl From<okra_core::source::SourceError> for ApiError {
    fn from(e: okra_core::source::SourceError) -> Self {
        use okra_core::source::SourceError;
        match e {
            SourceError::Timeout | SourceError::BankUnavailable | SourceError::Other(_) => {
                ApiError::SourceTimeout
            }
            SourceError::InvalidCredentials => {
                ApiError::BadRequest("Invalid login credentials, please check and try again".into())
            }
            SourceError::Locked => ApiError::BadRequest(
                "This account is locked at the bank, please contact the bank".into(),
            ),
            SourceError::OtpRequired => {
                ApiError::BadRequest("The bank requires a one-time password for this login".into())
            }
            SourceError::InvalidOtp => ApiError::BadRequest(
                "The one-time password is wrong or has expired, please try again".into(),
            ),
            SourceError::NotFound => {
                ApiError::BadRequest("No matching record was found at the data source".into())
            }
            SourceError::InvalidIdentity => {
                ApiError::BadRequest("Invalid identity, please try again in 15 minutes.".into())
            }
        }
    }
}

impl From<okra_core::body::Invalid> for ApiError {
    fn from(e: okra_core::body::Invalid) -> Self {
        ApiError::Validation(e.0)
    }
}

impl From<okra_core::validate::Rejection> for ApiError {
    fn from(e: okra_core::validate::Rejection) -> Self {
        match e {
            okra_core::validate::Rejection::Invalid(invalid) => invalid.into(),
            okra_core::validate::Rejection::UnknownBank(name) => ApiError::UnknownBank(name),
        }
    }
}

fn envelope(message: &str) -> Value {
    json!({"status": "error", "message": message, "data": {}})
}

impl ApiError {
    /// Status and JSON body of this error.
    pub fn parts(&self) -> (StatusCode, Value) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                serde_json::from_str(UNAUTHORIZED_BODY).expect("constant JSON"),
            ),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, envelope(m)),
            ApiError::UnknownBank(v) => (
                StatusCode::BAD_REQUEST,
                json!({"status": "error", "message": format!("Could not match bank identifier {v} with a valid bank"), "data": null, "total": null}),
            ),
            ApiError::InvalidJson(reason) => (
                StatusCode::BAD_REQUEST,
                envelope(&format!("Invalid JSON body: {reason}")),
            ),
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, envelope("Route not found")),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                envelope("Method not allowed"),
            ),
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                envelope(&format!(
                    "Request body is too large: the limit is {limit} bytes"
                )),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                envelope("Unsupported content type: send the body as application/json"),
            ),
            ApiError::Validation(m) => (StatusCode::UNPROCESSABLE_ENTITY, envelope(m)),
            ApiError::Conflict => (
                StatusCode::CONFLICT,
                envelope("The request conflicts with a concurrent change, please retry."),
            ),
            ApiError::InFlight => (
                StatusCode::CONFLICT,
                envelope(
                    "A request with this Idempotency-Key is still being processed, please retry later.",
                ),
            ),
            ApiError::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                envelope(&format!(
                    "Too many requests, please try again in {secs} seconds."
                )),
            ),
            ApiError::SourceTimeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "error", "message": SOURCE_TIMEOUT}),
            ),
            ApiError::DbUnavailable | ApiError::Timeout => {
                (StatusCode::SERVICE_UNAVAILABLE, envelope(DB_UNAVAILABLE))
            }
            ApiError::StorageUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, envelope(STORAGE_UNAVAILABLE))
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, envelope(INTERNAL)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ApiError::DbUnavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
        let (status, body) = self.parts();
        let mut res = if matches!(self, ApiError::Unauthorized) {
            // Byte for byte as Okra sent it.
            (status, UNAUTHORIZED_BODY).into_response()
        } else {
            (status, body.to_string()).into_response()
        };
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let ApiError::RateLimited(secs) = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Result alias for handlers and extractors (services return `services::Result`).
pub type ApiResult<T> = Result<T, ApiError>;
