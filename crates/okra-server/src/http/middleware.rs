//! The outer middleware every request passes: request id, timeout, access log, and the guarantee
//! that every error response is a JSON envelope (5xx bodies also carry `request_id`).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::app::AppState;
use crate::http::ApiError;

/// The id of the current request (client's `X-Request-Id` when acceptable, else generated).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Header carrying the request id both ways.
pub const REQUEST_ID: &str = "x-request-id";

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(&c));
    ok.then(|| s.to_string())
}

/// Request id, timeout, access log and JSON error bodies.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(okra_core::id::new_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    // The route template, never the raw path or query string: clients can put anything there,
    // including personal data (`/v2/unknown/<phone>`), and logs must not hold it.
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".to_string());
    let span = tracing::info_span!("request", request_id = %request_id, %method, path = %path);
    let started = Instant::now();
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let response = match tokio::time::timeout(timeout, next.run(req).instrument(span.clone())).await
    {
        Ok(res) => res,
        Err(_) => ApiError::Timeout.into_response(),
    };
    let mut response = ensure_json_error(response, &request_id).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "request finished"
        )
    });
    response
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Turns framework-made error responses (405 from routing, 413 from the body limit, …) into the
/// contract's envelopes, and adds `request_id` to 5xx bodies.
async fn ensure_json_error(res: Response, request_id: &str) -> Response {
    let status = res.status();
    if !status.is_client_error() && !status.is_server_error() {
        return res;
    }
    if !is_json(&res) {
        let replacement = match status {
            StatusCode::NOT_FOUND => ApiError::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(0),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => ApiError::Timeout,
            s if s.is_server_error() => ApiError::Internal(format!("framework produced {s}")),
            s => ApiError::BadRequest(s.canonical_reason().unwrap_or("Bad request").to_string()),
        };
        let (mut parts, _) = res.into_parts();
        let mut fresh = replacement.into_response();
        // Keep headers such as `Allow` on 405; take status, type and length from the envelope.
        for (name, value) in fresh.headers().iter() {
            parts.headers.insert(name, value.clone());
        }
        parts.headers.remove(header::CONTENT_LENGTH);
        let body = std::mem::replace(fresh.body_mut(), Body::empty());
        let mut res = Response::from_parts(parts, body);
        *res.status_mut() = fresh.status();
        return add_request_id(res, request_id).await;
    }
    add_request_id(res, request_id).await
}

async fn add_request_id(res: Response, request_id: &str) -> Response {
    if !res.status().is_server_error() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return ApiError::Internal("unreadable error body".into()).into_response(),
    };
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(
        |_| serde_json::json!({"status": "error", "message": super::error::INTERNAL, "data": {}}),
    );
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "request_id".into(),
            serde_json::Value::String(request_id.to_string()),
        );
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(value.to_string()))
}

/// The response for a panic inside a handler: a 500 envelope (the request id is added on the way out).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal("handler panicked".into()).into_response()
}
