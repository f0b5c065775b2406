//! The identity reads (`identity/*`, `products/identities`): each one statement
//! (`okra_store::identities`), the Identity object built by [`super::identity_profile`].

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::identities::{self, IdentityFilter, IdentityView};
use okra_store::Tenant;
use serde_json::Value;

use super::error::{Error, Result};
use super::identity_profile::identity_object;
use crate::app::AppState;

/// One page of identities, as the API shows them.
pub struct IdentityPage {
    /// Page metadata.
    pub pagination: Pagination,
    /// Identity objects, newest first.
    pub identity: Vec<Value>,
}

fn object(tenant: &Tenant, v: &IdentityView) -> Value {
    identity_object(
        &v.identity,
        v.customer_name.as_deref().unwrap_or_default(),
        tenant.env,
    )
}

/// A page of the tenant's identities matching `filter`.
pub async fn page(
    state: &AppState,
    tenant: &Tenant,
    filter: &IdentityFilter,
    page: PageRequest,
) -> Result<IdentityPage> {
    let (views, total) =
        identities::page(&state.db, &state.keyring(), tenant, filter, page).await?;
    Ok(IdentityPage {
        pagination: page.paginate(total),
        identity: views.iter().map(|v| object(tenant, v)).collect(),
    })
}

/// `identity/getById`: the identity as a page of one (the reference's shape); an unknown id is
/// an empty page, as every list whose filter matches nothing.
pub async fn by_id(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    page: PageRequest,
) -> Result<IdentityPage> {
    let found = identities::get_view(&state.db, &state.keyring(), tenant, id).await?;
    let all: Vec<Value> = found.iter().map(|v| object(tenant, v)).collect();
    let total = all.len() as u64;
    let shown = all
        .into_iter()
        .skip(page.offset().max(0) as usize)
        .take(page.limit as usize)
        .collect();
    Ok(IdentityPage {
        pagination: page.paginate(total),
        identity: shown,
    })
}

/// `identity/getByBvn` (400 `There is no identity available for this bvn`).
pub async fn by_bvn(state: &AppState, tenant: &Tenant, bvn: &str) -> Result<Value> {
    identities::find_by_bvn(&state.db, &state.keyring(), tenant, bvn)
        .await?
        .map(|v| object(tenant, &v))
        .ok_or_else(|| Error::Refused("There is no identity available for this bvn".into()))
}

/// `identity/getByNuban` (400 when the NUBAN is unknown or has no identity).
pub async fn by_nuban(
    state: &AppState,
    tenant: &Tenant,
    bank_id: &str,
    nuban: &str,
) -> Result<Value> {
    identities::find_by_nuban(&state.db, &state.keyring(), tenant, bank_id, nuban)
        .await?
        .map(|v| object(tenant, &v))
        .ok_or_else(|| Error::Refused("There is no identity available for this nuban".into()))
}
