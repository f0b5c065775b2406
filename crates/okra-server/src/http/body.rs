//! `JsonBody`: reads a JSON request body with the contract's 400/413/415/422 answers, and the
//! structural limits every body obeys (depth 32, arrays of at most 100 items).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use okra_core::body::{depth_exceeds, oversized_array, Body, MAX_ARRAY_ITEMS, MAX_JSON_DEPTH};

use crate::app::AppState;
use crate::http::ApiError;

/// A parsed JSON object body, read field by field with Joi-style validation.
pub struct JsonBody(pub Body);

/// Any JSON body (object or array), for operations whose body is a list (`customers/create`).
/// An empty body is `null`.
pub struct JsonPayload(pub serde_json::Value);

fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
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
            .map_err(|_| ApiError::PayloadTooLarge(limit))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // No body at all: every field is missing, which validation reports.
            return Ok(JsonPayload(serde_json::Value::Null));
        }
        match content_type {
            Some(ct) if is_json(&ct) => {}
            _ => return Err(ApiError::UnsupportedMediaType),
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
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

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonPayload(value) = JsonPayload::from_request(req, state).await?;
        Ok(JsonBody(Body::from_value(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
