//! Sandbox-only fault injection: `faults/create`, `faults/list`, `faults/delete`, `faults/clear`.
//! Mounted under the sandbox base paths only; the production paths do not exist.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::{success, JsonBody, SecretAuth};
use crate::services::faults::{self, Fault};

/// Scripts a fault: `{type, bank?, bvn?, nuban?, delay_ms?, count?, expires_in?}`.
#[utoipa::path(post, path = "/v2/sandbox/faults/create", tag = "sandbox",
    request_body(content = serde_json::Value, description = "`{type, bank?, bvn?, nuban?, delay_ms?, count?, expires_in?}`; type is one of bank_down, timeout, slow, otp_required, locked, invalid_credentials, invalid_identity, watch_listed, no_bvn"),
    responses((status = 200, description = "Fault scripted", body = Fault),
              (status = 400, description = "Unknown bank"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid fault")),
    security(("bearer" = [])))]
pub async fn create(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let fault = faults::create(&state, &tenant, &body).await?;
    Ok(success("Fault created successfully", fault).into_response())
}

/// The faults that still apply.
#[utoipa::path(post, path = "/v2/sandbox/faults/list", tag = "sandbox",
    responses((status = 200, description = "Faults", body = Vec<Fault>), (status = 401, description = "Unauthorized")),
    security(("bearer" = [])))]
pub async fn list(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
) -> ApiResult<Response> {
    let faults = faults::list(&state, &tenant).await?;
    Ok(success("Faults retrieved successfully", json!({ "faults": faults })).into_response())
}

/// Deletes one fault: `{id}`.
#[utoipa::path(post, path = "/v2/sandbox/faults/delete", tag = "sandbox",
    request_body(content = serde_json::Value, description = "`{id}`"),
    responses((status = 200, description = "Deleted"), (status = 400, description = "No such fault"),
              (status = 401, description = "Unauthorized"), (status = 422, description = "Missing id")),
    security(("bearer" = [])))]
pub async fn delete(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = body.req_id(&["id"])?;
    let deleted = faults::delete(&state, &tenant, Some(&id)).await?;
    Ok(success("Fault deleted successfully", json!({ "deleted": deleted })).into_response())
}

/// Deletes every fault of the owner's sandbox.
#[utoipa::path(post, path = "/v2/sandbox/faults/clear", tag = "sandbox",
    responses((status = 200, description = "Deleted"), (status = 401, description = "Unauthorized")),
    security(("bearer" = [])))]
pub async fn clear(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
) -> ApiResult<Response> {
    let deleted = faults::delete(&state, &tenant, None).await?;
    Ok(success("Faults cleared successfully", json!({ "deleted": deleted })).into_response())
}
