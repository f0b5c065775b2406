//! `customers/list` and `customers/getById` (alias `customers/get`, okra-node's sandbox name), and
//! the Customer object.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use okra_core::body::Body;
use okra_core::mask::mask_bvn;
use okra_core::pagination::Pagination;
use okra_core::schema;
use okra_core::validate::{Paging, Rejection, Validate};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::body::ValidJson;
use crate::http::envelope::SuccessBody;
use crate::http::error::ApiResult;
use crate::http::{success, SecretAuth};
use crate::services::customers::{self, CustomerPage, CustomerView};

/// Body of `customers/getById` and `customers/get`.
#[derive(Debug)]
pub struct CustomerIdRequest {
    /// Customer id (24 hex characters). okra-node's `customers/get` sends it as `customer`, which
    /// is accepted as an alias.
    pub id: String,
}

okra_core::request_schema!(
    CustomerIdRequest,
    "CustomerById",
    schema::object_with_aliases(
        "One customer",
        &[(
            "id",
            schema::id("Customer id (alias `customer`, okra-node's name)")
        )],
        &["id"],
        &[("id", "customer")]
    )
);

impl Validate for CustomerIdRequest {
    fn validate(value: Value) -> Result<Self, Rejection> {
        let id = Body::from_value(value)?.req_id(&["id", "customer"])?;
        Ok(CustomerIdRequest { id })
    }
}

/// The simulated-bank login of a sandbox customer.
#[derive(Serialize, ToSchema)]
pub struct SandboxLogin {
    /// Bank id.
    pub bank: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A customer as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Customer {
    /// Customer id.
    pub _id: String,
    /// Same as `_id`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// BVN with all but the first 3 and last digit masked, or null.
    pub bvn_masked: Option<String>,
    /// Ids of the customer's accounts.
    pub accounts: Vec<String>,
    /// Ids of the customer's records (connections).
    pub records: Vec<String>,
    /// ISO-8601 creation time.
    pub created_at: String,
    /// Present for sandbox customers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxLogin>,
}

impl From<CustomerView> for Customer {
    fn from(v: CustomerView) -> Self {
        let c = v.customer;
        Customer {
            _id: c.id.clone(),
            id: c.id,
            name: c.name,
            bvn_masked: c.bvn.as_deref().map(mask_bvn),
            accounts: v.accounts,
            records: v.records,
            created_at: okra_core::time::iso_ms(c.created_at),
            sandbox: c.sandbox.map(|s| SandboxLogin {
                bank: s.bank,
                username: s.username,
                password: s.password,
            }),
        }
    }
}

/// `data` of `customers/list`.
#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    /// Page metadata.
    pub pagination: Pagination,
    /// The customers, newest first.
    pub customers: Vec<Customer>,
}

impl From<CustomerPage> for CustomerList {
    fn from(page: CustomerPage) -> Self {
        CustomerList {
            pagination: page.pagination,
            customers: page.customers.into_iter().map(Customer::from).collect(),
        }
    }
}

/// Lists the owner's customers in this environment, newest first.
#[utoipa::path(post, path = "/v2/customers/list", tag = "customers",
    request_body = Paging,
    responses((status = 200, description = "Customers retrieved", body = SuccessBody<CustomerList>),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Invalid page or limit")),
    security(("bearer" = [])))]
pub async fn list(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(paging): ValidJson<Paging>,
) -> ApiResult<Response> {
    let page = customers::list(&state, &tenant, paging.or_default()).await?;
    Ok(success("Customers retrieved successfully", CustomerList::from(page)).into_response())
}

/// One customer by id (`id`, or `customer` as okra-node's `customers/get` sends it).
#[utoipa::path(post, path = "/v2/customers/getById", tag = "customers",
    request_body = CustomerIdRequest,
    responses((status = 200, description = "Customer retrieved", body = SuccessBody<Customer>),
              (status = 400, description = "No such customer"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get_by_id(
    SecretAuth(tenant): SecretAuth,
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CustomerIdRequest>,
) -> ApiResult<Response> {
    let customer = customers::get(&state, &tenant, &request.id).await?;
    Ok(success("Customer retrieved successfully", Customer::from(customer)).into_response())
}

/// okra-node's name for `customers/getById` (sandbox customers): `{customer}`.
#[utoipa::path(post, path = "/v2/customers/get", tag = "customers",
    request_body = CustomerIdRequest,
    responses((status = 200, description = "Customer retrieved", body = SuccessBody<Customer>),
              (status = 400, description = "No such customer"),
              (status = 401, description = "Unauthorized"),
              (status = 422, description = "Missing or malformed id")),
    security(("bearer" = [])))]
pub async fn get(
    auth: SecretAuth,
    state: State<AppState>,
    request: ValidJson<CustomerIdRequest>,
) -> ApiResult<Response> {
    get_by_id(auth, state, request).await
}
