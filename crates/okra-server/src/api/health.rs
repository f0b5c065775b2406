//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;
use crate::http::ApiError;

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process is alive")))]
pub async fn health() -> Response {
    (
        StatusCode::OK,
        Json(json!({"status": "success", "message": "ok", "data": {"status": "ok"}})),
    )
        .into_response()
}

/// Readiness: the database answers (503 within the acquire timeout when it does not).
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "The database is reachable"),
              (status = 503, description = "The database is unreachable")))]
pub async fn ready(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.db.ping().await?;
    Ok((
        StatusCode::OK,
        Json(json!({"status": "success", "message": "ready", "data": {"database": "ok"}})),
    )
        .into_response())
}
