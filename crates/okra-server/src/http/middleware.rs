//! The outer middleware every request passes: request id, timeout, access log, the guarantee
//! that every error response is a JSON envelope (5xx bodies also carry `request_id`), headers that
//! keep customer data out of caches and sniffers, and `Connection: close` when a request's body
//! was left unread (the connection cannot be reused, and pooling clients must be told so rather
//! than find a broken pipe on their next request).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Frame;
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

/// A request body that records whether it was read to its end.
struct TrackedBody {
    inner: Body,
    done: Arc<AtomicBool>,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.done.store(true, Ordering::Relaxed);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether the request announces a body (a non-zero `Content-Length`, or chunked).
fn announces_body(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// A body announced at most this much over the limit is read and discarded before the 413
/// ([`drainable_oversize`]); a larger one gets the 413 at once and the connection is closed.
const DRAIN_OVERSIZE_BYTES: u64 = 1024 * 1024;
/// Longest time spent discarding an oversized body; then the connection is closed as usual.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the request declares a `Content-Length` over `limit` by at most
/// [`DRAIN_OVERSIZE_BYTES`].
fn drainable_oversize(req: &Request, limit: usize) -> bool {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64 && n - limit as u64 <= DRAIN_OVERSIZE_BYTES)
}

/// Reads a body to its end, keeping nothing.
async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
}

/// Request id, timeout, access log, JSON error bodies and response hygiene headers.
pub async fn request_context(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let has_body = announces_body(&req);
    let body_read = Arc::new(AtomicBool::new(false));
    let mut req = req.map(|inner| {
        Body::new(TrackedBody {
            inner,
            done: body_read.clone(),
        })
    });
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(okra_core::id::new_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = crate::metrics::method_label(req.method());
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
    let limit = state.config.body_limit_bytes;
    let response = if drainable_oversize(&req, limit) {
        // Over the limit by a little: read and discard the body, then answer 413 on a connection
        // that stays usable. Answering at once and closing while the client is still sending makes
        // the kernel reset the connection, and many clients then report a broken pipe instead of
        // the 413 (seen with reqwest under load).
        let body = req.into_body();
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain(body)).await;
        ApiError::PayloadTooLarge(limit).into_response()
    } else {
        match tokio::time::timeout(timeout, next.run(req).instrument(span.clone())).await {
            Ok(res) => res,
            Err(_) => ApiError::Timeout.into_response(),
        }
    };
    let mut response = ensure_json_error(response, &request_id, limit).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if is_json(&response) {
        // Bodies carry customer data: no shared or private cache may keep them.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if has_body && !body_read.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let elapsed = started.elapsed();
    state.metrics.request(
        &path,
        method,
        response.status().as_u16(),
        elapsed.as_secs_f64(),
    );
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            duration_ms = elapsed.as_millis() as u64,
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
async fn ensure_json_error(res: Response, request_id: &str, body_limit: usize) -> Response {
    let status = res.status();
    if !status.is_client_error() && !status.is_server_error() {
        return res;
    }
    if !is_json(&res) {
        let replacement = match status {
            StatusCode::NOT_FOUND => ApiError::RouteNotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(body_limit),
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
