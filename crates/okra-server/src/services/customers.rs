//! Customers (`customers/list`, `customers/getById`; the sandbox paths show the sandbox login too).

use okra_core::mask::mask_bvn;
use okra_core::pagination::{PageRequest, Pagination};
use okra_store::customers::Customer as StoredCustomer;
use okra_store::Tenant;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::ApiError;

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

/// `data` of `customers/list`.
#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    /// Page metadata.
    pub pagination: Pagination,
    /// The customers, newest first.
    pub customers: Vec<Customer>,
}

fn to_api(c: StoredCustomer, accounts: Vec<String>, records: Vec<String>) -> Customer {
    Customer {
        _id: c.id.clone(),
        id: c.id,
        name: c.name,
        bvn_masked: c.bvn.as_deref().map(mask_bvn),
        accounts,
        records,
        created_at: okra_core::time::iso_ms(c.created_at),
        sandbox: c.sandbox.map(|s| SandboxLogin {
            bank: s.bank,
            username: s.username,
            password: s.password,
        }),
    }
}

async fn with_links(
    state: &AppState,
    tenant: &Tenant,
    customers: Vec<StoredCustomer>,
) -> ApiResult<Vec<Customer>> {
    let ids: Vec<String> = customers.iter().map(|c| c.id.clone()).collect();
    let mut links = okra_store::customers::links(&state.db, tenant, &ids)
        .await?
        .into_iter();
    Ok(customers
        .into_iter()
        .map(|c| {
            let (_, accounts, records) = links.next().unwrap_or_default();
            to_api(c, accounts, records)
        })
        .collect())
}

/// One page of the tenant's customers.
pub async fn list(state: &AppState, tenant: &Tenant, page: PageRequest) -> ApiResult<CustomerList> {
    let (customers, total) =
        okra_store::customers::page(&state.db, &state.keyring(), tenant, page).await?;
    Ok(CustomerList {
        pagination: page.paginate(total),
        customers: with_links(state, tenant, customers).await?,
    })
}

/// One customer (400 when the tenant has no customer with this id).
pub async fn get(state: &AppState, tenant: &Tenant, id: &str) -> ApiResult<Customer> {
    let customer = okra_store::customers::get(&state.db, &state.keyring(), tenant, id)
        .await?
        .ok_or_else(|| ApiError::BadRequest("Customer not found".into()))?;
    let mut all = with_links(state, tenant, vec![customer]).await?;
    all.pop()
        .ok_or_else(|| ApiError::Internal("customer vanished".into()))
}
