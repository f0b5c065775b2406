//! Request extractors: [`ValidJson`] and [`ValidQuery`] give a handler its operation's typed
//! request. The one place that reads bodies ([`JsonPayload`]) answers 400/413/415 and enforces the
//! structural limits every body obeys (depth 32, arrays of at most 100 items); the request type's
//! [`Validate`] step then answers 422 with the reference's messages, strings over 1024 characters
//! included (`Body`'s string readers, which every request uses).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use okra_core::body::{depth_exceeds, oversized_array, MAX_ARRAY_ITEMS, MAX_JSON_DEPTH};
use okra_core::validate::Validate;
use serde_json::Value;

use crate::app::AppState;
use crate::http::ApiError;

/// Any JSON body (object or array), for operations whose body is a list (`customers/create`).
/// An empty body is `null`.
pub struct JsonPayload(pub serde_json::Value);

/// Whether a body-read error is the body limit (413) rather than a malformed body (400).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

impl FromRequest<AppState> for JsonPayload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.config.body_limit_bytes;
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("invalid").to_string());
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    ApiError::PayloadTooLarge(limit)
                } else {
                    // A broken chunked encoding, or a body shorter than its Content-Length.
                    ApiError::BadRequest("Bad request: the request body could not be read".into())
                }
            })?;
        if bytes.is_empty() {
            // No body at all: every field is missing, which validation reports. (Whitespace
            // alone is a body, and not JSON.)
            return Ok(JsonPayload(serde_json::Value::Null));
        }
        match content_type {
            Some(ct) if okra_core::body::is_json_content_type(&ct) => {}
            _ => return Err(ApiError::UnsupportedMediaType),
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                // serde_json stops at 128 levels, before our own (lower) limit can say so.
                ApiError::InvalidJson(format!("nesting is deeper than {MAX_JSON_DEPTH} levels"))
            } else {
                ApiError::InvalidJson(e.to_string())
            }
        })?;
        if depth_exceeds(&value, MAX_JSON_DEPTH) {
            return Err(ApiError::InvalidJson(format!(
                "nesting is deeper than {MAX_JSON_DEPTH} levels"
            )));
        }
        // One place bounds every array of every request body, whatever the operation reads.
        if let Some(invalid) = oversized_array(&value, MAX_ARRAY_ITEMS) {
            return Err(invalid.into());
        }
        Ok(JsonPayload(value))
    }
}

/// An operation's typed JSON body, validated; see the module documentation.
pub struct ValidJson<T>(pub T);

impl<T: Validate> FromRequest<AppState> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonPayload(value) = JsonPayload::from_request(req, state).await?;
        Ok(ValidJson(T::validate(value)?))
    }
}

/// An operation's typed query string (GET operations), validated like a body whose every value is
/// a string, so the same messages apply (`"3"` is the number 3). A repeated name keeps its last value.
pub struct ValidQuery<T>(pub T);

impl<T: Validate> FromRequestParts<AppState> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Form decoding of pairs cannot fail (invalid escapes decode lossily), so this maps an
        // error that does not happen; it must not answer in axum's plain-text form if it ever did.
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::Validation(e.body_text()))?;
        let fields = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Ok(ValidQuery(T::validate(Value::Object(fields))?))
    }
}
