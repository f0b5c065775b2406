//! The balance reads (`balance/*`, `products/balances`): each one statement
//! (`okra_store::balances`), shown as the one superset Balance object of the contract.

use okra_core::pagination::{PageRequest, Pagination};
use okra_core::Environment;
use okra_store::balances::{self, BalanceFilter, BalanceView};
use okra_store::Tenant;
use serde_json::{json, Value};

use super::error::Result;
use super::identity_profile::env_label;
use super::views::major;
use crate::app::AppState;

/// One page of balances, as the API shows them.
pub struct BalancePage {
    /// Page metadata.
    pub pagination: Pagination,
    /// Balance objects, newest first.
    pub balance: Vec<Value>,
}

/// The Balance object (one superset shape, CONTRACT §6): `_id, id, account:{_id, name, nuban,
/// bank:{_id, name, slug, colors{primary, accent, button, icon}, icon, logo, v2_icon, v2_logo}},
/// env, __v, available_balance, ledger_balance, currency, created_at, last_updated,
/// customer:{_id, name}, owner:[id], record:[{_id, status:{process:{running, completed}}}],
/// connected:[account id], periodic` (`periodic` unless `include_periodic` is false).
pub fn balance_object(
    state: &AppState,
    v: &BalanceView,
    env: Environment,
    include_periodic: bool,
) -> Result<Value> {
    let b = &v.balance;
    let nuban = match &v.nuban_enc {
        Some(sealed) => Some(
            state
                .keyring()
                .open_str(okra_store::accounts::NUBAN_CONTEXT, sealed)?,
        ),
        None => None,
    };
    let bank = v
        .bank_id
        .as_deref()
        .and_then(okra_core::banks::find)
        .map(|bank| {
            let asset =
                |file: &str| format!("{}/assets/banks/{}/{file}", state.public_url, bank.slug);
            json!({
                "_id": bank.id,
                "name": bank.name,
                "slug": bank.slug,
                "colors": {
                    "primary": bank.colors.primary,
                    "accent": bank.colors.accent,
                    "button": bank.colors.button,
                    "icon": bank.colors.icon,
                },
                "icon": asset("icon.svg"),
                "logo": asset("logo.svg"),
                "v2_icon": asset("v2_icon.svg"),
                "v2_logo": asset("v2_logo.svg"),
            })
        });
    let record = match v.record_state {
        Some((running, completed)) => json!([{
            "_id": b.record_id,
            "status": {"process": {"running": running, "completed": completed}},
        }]),
        None => json!([]),
    };
    let mut out = json!({
        "_id": b.id,
        "id": b.id,
        "account": {
            "_id": b.account_id,
            "name": v.account_name,
            "nuban": nuban,
            "bank": bank,
        },
        "env": env_label(env),
        "__v": 0,
        "available_balance": major(b.available_minor),
        "ledger_balance": major(b.ledger_minor),
        "currency": b.currency,
        "created_at": okra_core::time::iso_ms(b.created_at),
        "last_updated": okra_core::time::iso_ms(b.last_updated),
        "customer": {"_id": b.customer_id, "name": v.customer_name},
        "owner": [v.owner_id],
        "record": record,
        "connected": if v.connected { vec![b.account_id.clone()] } else { Vec::new() },
    });
    if include_periodic {
        out["periodic"] = b.periodic()?;
    }
    Ok(out)
}

/// A page of the tenant's balances matching `filter`.
pub async fn page(
    state: &AppState,
    tenant: &Tenant,
    filter: &BalanceFilter,
    page: PageRequest,
    include_periodic: bool,
) -> Result<BalancePage> {
    let (views, total) = balances::page(&state.db, tenant, filter, page).await?;
    Ok(BalancePage {
        pagination: page.paginate(total),
        balance: views
            .iter()
            .map(|v| balance_object(state, v, tenant.env, include_periodic))
            .collect::<Result<_>>()?,
    })
}

/// `balance/getById`: the balance as a page of one (an unknown id is an empty page).
pub async fn by_id(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    page: PageRequest,
    include_periodic: bool,
) -> Result<BalancePage> {
    let found = balances::get_view(&state.db, tenant, id).await?;
    let all = found
        .iter()
        .map(|v| balance_object(state, v, tenant.env, include_periodic))
        .collect::<Result<Vec<_>>>()?;
    let total = all.len() as u64;
    let shown = (all.into_iter())
        .skip(page.offset().max(0) as usize)
        .take(page.limit as usize)
        .collect();
    Ok(BalancePage {
        pagination: page.paginate(total),
        balance: shown,
    })
}
