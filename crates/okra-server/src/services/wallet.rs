//! The wallet of an owner in one environment and the receipts of what it paid
//! (`wallet/get`, `wallet/receipts`); debits happen inside the paid calls ([`super::kyc`]).

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::owners::Wallet;
use okra_store::Tenant;
use serde_json::Value;

use super::error::{Error, Result};
use crate::app::AppState;

/// The tenant's wallet.
pub async fn get(state: &AppState, tenant: &Tenant) -> Result<Wallet> {
    okra_store::owners::wallet(&state.db, &tenant.owner_id, tenant.env)
        .await?
        .ok_or(Error::NotFound("Wallet"))
}

/// A page of the tenant's receipts, newest first.
pub async fn receipts(
    state: &AppState,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<(Pagination, Vec<Value>)> {
    let (receipts, total) = okra_store::receipts::page(&state.db, tenant, page).await?;
    Ok((page.paginate(total), receipts))
}
