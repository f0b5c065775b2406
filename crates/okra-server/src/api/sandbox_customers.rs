//! Sandbox-only `customers/create` and `customers/generate` (okra-node's paths).

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::{success, JsonBody, JsonPayload, SecretAuth};
use crate::services::customers::Customer;
use crate::services::sandbox_customers;

/// Creates people who can log in at a simulated bank: `[{noOfAccount 1-5, name, bank, username,
/// password, type: "ind"|"corp", volume: "low"|"medium"|"high", identity 1-100, internetSpeed 2-4}]`
/// (at most 10). Each is a customer of the owner at once.
#[utoipa::path(post, path = "/v2/sandbox/customers/create", tag = "sandbox",
    request_body(content = serde_json::Value, description = "an array of customer specifications (or one object)"),
    responses((status = 200, description = "Customers created, with their sandbox logins", body = Vec<Customer>),
              (status = 400, description = "Unknown bank or username taken"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid specification")),
    security(("bearer" = [])))]
pub async fn create(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonPayload(payload): JsonPayload,
) -> ApiResult<Response> {
    let created = sandbox_customers::create(&state, &tenant, payload).await?;
    Ok(success("Customers created successfully", created).into_response())
}

/// Creates `number` (1-10) random sandbox customers; with `create: false` only shows the specs.
#[utoipa::path(post, path = "/v2/sandbox/customers/generate", tag = "sandbox",
    request_body(content = serde_json::Value, description = "`{number?, create?}`"),
    responses((status = 200, description = "Customers generated"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid number")),
    security(("bearer" = [])))]
pub async fn generate(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let data = sandbox_customers::generate(&state, &tenant, &body).await?;
    Ok(success("Customers generated successfully", data).into_response())
}
