//! Customers (`customers/list`, `customers/getById`): the stored customer with the ids of its
//! accounts and records.

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::customers::Customer as StoredCustomer;
use okra_store::Tenant;

use super::error::{Error, Result};
use crate::app::AppState;

/// A customer with the ids of what is linked to it.
pub struct CustomerView {
    /// The stored customer (PII opened).
    pub customer: StoredCustomer,
    /// Ids of the customer's accounts.
    pub accounts: Vec<String>,
    /// Ids of the customer's records (connections).
    pub records: Vec<String>,
}

/// One page of customers, newest first.
pub struct CustomerPage {
    /// Page metadata.
    pub pagination: Pagination,
    /// The customers.
    pub customers: Vec<CustomerView>,
}

async fn with_links(
    state: &AppState,
    tenant: &Tenant,
    customers: Vec<StoredCustomer>,
) -> Result<Vec<CustomerView>> {
    let ids: Vec<String> = customers.iter().map(|c| c.id.clone()).collect();
    let mut links = okra_store::customers::links(&state.db, tenant, &ids)
        .await?
        .into_iter();
    Ok(customers
        .into_iter()
        .map(|customer| {
            let (_, accounts, records) = links.next().unwrap_or_default();
            CustomerView {
                customer,
                accounts,
                records,
            }
        })
        .collect())
}

/// One page of the tenant's customers.
pub async fn list(state: &AppState, tenant: &Tenant, page: PageRequest) -> Result<CustomerPage> {
    let (customers, total) =
        okra_store::customers::page(&state.db, &state.keyring(), tenant, page).await?;
    Ok(CustomerPage {
        pagination: page.paginate(total),
        customers: with_links(state, tenant, customers).await?,
    })
}

/// One customer ([`Error::NotFound`] when the tenant has no customer with this id).
pub async fn get(state: &AppState, tenant: &Tenant, id: &str) -> Result<CustomerView> {
    let customer = okra_store::customers::get(&state.db, &state.keyring(), tenant, id)
        .await?
        .ok_or(Error::NotFound("Customer"))?;
    with_links(state, tenant, vec![customer])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("customer vanished".into()))
}
