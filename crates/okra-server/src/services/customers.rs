//! Customers (`customers/list`, `customers/getById`): the stored customer with the ids of its
//! accounts and records, each operation one statement (`okra_store::customers`).

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::Tenant;

use super::error::{Error, Result};
use crate::app::AppState;

/// A customer with the ids of what is linked to it.
pub use okra_store::customers::LinkedCustomer as CustomerView;

/// One page of customers, newest first.
pub struct CustomerPage {
    /// Page metadata.
    pub pagination: Pagination,
    /// The customers.
    pub customers: Vec<CustomerView>,
}

/// One page of the tenant's customers.
pub async fn list(state: &AppState, tenant: &Tenant, page: PageRequest) -> Result<CustomerPage> {
    let (customers, total) =
        okra_store::customers::page(&state.db, &state.keyring(), tenant, page).await?;
    Ok(CustomerPage {
        pagination: page.paginate(total),
        customers,
    })
}

/// One customer ([`Error::NotFound`] when the tenant has no customer with this id).
pub async fn get(state: &AppState, tenant: &Tenant, id: &str) -> Result<CustomerView> {
    okra_store::customers::get_linked(&state.db, &state.keyring(), tenant, id)
        .await?
        .ok_or(Error::NotFound("Customer"))
}
