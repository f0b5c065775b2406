//! `records/getById`, `accounts/getById`, `accounts/getByCustomer` and `GET callback`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::{Body, Invalid};
use okra_core::pagination::PageRequest;
use okra_core::schema;
use okra_core::validate::{Rejection, Validate};
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::IdRequest;
use crate::app::AppState;
use crate::http::body::{ValidJson, ValidQuery};
use crate::http::envelope::{JsonObject, SuccessBody};
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::records::{self, Method};

/// One record: `{_id, id, customer, bank, accounts[], products[], options, meta, env,
/// status:{process:{running, completed}, <product>:{status, last_success_at, last_fail_at}},
/// created_at, last_updated}`.
#[utoipa::path(post, path = "/v2/records/getById", tag = "linking",
    request_body = IdRequest,
    responses((status = 200, description = "Record retrieved", body = SuccessBody<JsonObject>),
              (status = 400, description = "No such record"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_record(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<IdRequest>,
) -> ApiResult<Response> {
    let record = records::get(&state, &tenant, &request.id).await?;
    Ok(success("Record retrieved successfully", record).into_response())
}

/// One account: `{_id, id, name, nuban, type, currency, bank, customer, record, connected,
/// balance, created_at, last_updated}`.
#[utoipa::path(post, path = "/v2/accounts/getById", tag = "linking",
    request_body = IdRequest,
    responses((status = 200, description = "Account retrieved", body = SuccessBody<JsonObject>),
              (status = 400, description = "No such account"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_account(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<IdRequest>,
) -> ApiResult<Response> {
    let account = records::account(&state, &tenant, &request.id).await?;
    Ok(success("Account retrieved successfully", account).into_response())
}

/// Body of `accounts/getByCustomer`.
#[derive(Debug)]
pub struct CustomerAccountsRequest {
    /// Customer id (alias `customer_id`).
    pub customer: String,
    /// Page (default 1).
    pub page: Option<u32>,
    /// Page size (default 20, at most 100).
    pub limit: Option<u32>,
    paging: PageRequest,
}

okra_core::request_schema!(
    CustomerAccountsRequest,
    "AccountsByCustomer",
    schema::object_with_aliases(
        "A customer's accounts",
        &[
            ("customer", schema::id("Customer id (alias `customer_id`)")),
            ("page", schema::page()),
            ("limit", schema::limit())
        ],
        &["customer"],
        &[("customer", "customer_id")]
    )
);

impl Validate for CustomerAccountsRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let customer = body.req_id(&["customer", "customer_id"])?;
        let paging = body.page()?;
        Ok(CustomerAccountsRequest {
            customer,
            page: Some(paging.page),
            limit: Some(paging.limit),
            paging,
        })
    }
}

/// A customer's accounts, newest first: `{pagination, accounts:[Account]}`.
#[utoipa::path(post, path = "/v2/accounts/getByCustomer", tag = "linking",
    request_body = CustomerAccountsRequest,
    responses((status = 200, description = "Accounts retrieved", body = SuccessBody<JsonObject>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed customer, page or limit")),
    security(("bearer" = [])))]
pub async fn get_by_customer(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CustomerAccountsRequest>,
) -> ApiResult<Response> {
    let (pagination, accounts) =
        records::accounts_of_customer(&state, &tenant, &request.customer, request.paging).await?;
    let data = json!({"pagination": pagination, "accounts": accounts});
    Ok(success("Accounts retrieved successfully", data).into_response())
}

/// Query of `GET callback`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// Record id (alias `record_id`).
    #[param(pattern = "^[0-9a-fA-F]{24}$")]
    pub record: String,
    /// `AUTH`, `IDENTITY`, `BALANCE`, `ACCOUNTS` or `CHECK_BALANCE` (any case).
    #[param(
        pattern = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*([aA][uU][tT][hH]|[iI][dD][eE][nN][tT][iI][tT][yY]|[bB][aA][lL][aA][nN][cC][eE]|[aA][cC][cC][oO][uU][nN][tT][sS]|[cC][hH][eE][cC][kK]_[bB][aA][lL][aA][nN][cC][eE])[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub method: String,
    #[param(ignore)]
    parsed: Option<Method>,
}

impl Validate for CallbackQuery {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let body = Body::from_value(value)?;
        let record = body.req_id(&["record", "record_id"])?;
        let method = body.req_str(&["method"])?;
        let parsed = Method::parse(&method).ok_or_else(|| {
            Invalid(
                "`method` must be one of [AUTH, IDENTITY, BALANCE, ACCOUNTS, CHECK_BALANCE]".into(),
            )
        })?;
        Ok(CallbackQuery {
            record,
            method,
            parsed: Some(parsed),
        })
    }
}

/// A record's product as it stands: `{"status":"processing"}` while its job runs, then its data
/// (or `{"status":"failed"}`).
#[utoipa::path(get, path = "/v2/callback", tag = "linking",
    params(CallbackQuery),
    responses((status = 200, description = "The product's data, or processing", body = SuccessBody<JsonObject>),
              (status = 400, description = "No such record, or the product was not requested"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed record or method")),
    security(("bearer" = [])))]
pub async fn callback(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidQuery(query): ValidQuery<CallbackQuery>,
) -> ApiResult<Response> {
    let method = query.parsed.unwrap_or(Method::Auth);
    let data = records::callback(&state, &tenant, &query.record, method).await?;
    Ok(success(method.message(), data).into_response())
}
