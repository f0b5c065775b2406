//! `customers/list` and `customers/getById` (alias `customers/get`, okra-node's sandbox name).

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::{success, JsonBody, SecretAuth};
use crate::services::customers::{self, Customer, CustomerList};

/// Lists the owner's customers in this environment, newest first.
#[utoipa::path(post, path = "/v2/customers/list", tag = "customers",
    request_body(content = serde_json::Value, description = "`{page?, limit?}`"),
    responses((status = 200, description = "Customers retrieved", body = CustomerList),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn list(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let page = body.page()?;
    let data = customers::list(&state, &tenant, page).await?;
    Ok(success("Customers retrieved successfully", data).into_response())
}

/// One customer by id (`id`, or `customer` as okra-node's `customers/get` sends it).
#[utoipa::path(post, path = "/v2/customers/getById", tag = "customers",
    request_body(content = serde_json::Value, description = "`{id}` (or `{customer}`)"),
    responses((status = 200, description = "Customer retrieved", body = Customer),
              (status = 400, description = "No such customer"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = body.req_id(&["id", "customer"])?;
    let data = customers::get(&state, &tenant, &id).await?;
    Ok(success("Customer retrieved successfully", data).into_response())
}

/// okra-node's name for `customers/getById` (sandbox customers): `{customer}`.
#[utoipa::path(post, path = "/v2/customers/get", tag = "customers",
    request_body(content = serde_json::Value, description = "`{customer}` (or `{id}`)"),
    responses((status = 200, description = "Customer retrieved", body = Customer),
              (status = 400, description = "No such customer"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get(auth: SecretAuth, state: State<AppState>, body: JsonBody) -> ApiResult<Response> {
    get_by_id(auth, state, body).await
}
