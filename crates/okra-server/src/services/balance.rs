//! The balance reads (`balance/*`, `products/balances`): each one statement
//! (`okra_store::balances`), shown as the one superset Balance object of the contract.

use okra_core::pagination::{PageRequest, Pagination};
use okra_core::Environment;
use okra_store::accounts::Account;
use okra_store::balances::{self, Balance, BalanceFilter, BalanceView};
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

/// What the Balance object shows beside the balance itself: its account, customer and record.
#[derive(Clone, Debug, Default)]
pub struct Shown<'a> {
    /// The owner.
    pub owner_id: &'a str,
    /// The account's name.
    pub account_name: Option<&'a str>,
    /// The account's NUBAN, opened.
    pub nuban: Option<String>,
    /// The account's bank.
    pub bank_id: Option<&'a str>,
    /// Whether the account is connected.
    pub connected: bool,
    /// The customer's name.
    pub customer_name: Option<&'a str>,
    /// The balance's record: (running, completed).
    pub record_state: Option<(bool, bool)>,
}

impl<'a> Shown<'a> {
    /// What a stored view shows (its NUBAN opened).
    pub fn of_view(state: &AppState, v: &'a BalanceView) -> Result<Shown<'a>> {
        let nuban = match &v.nuban_enc {
            Some(sealed) => Some(
                state
                    .keyring()
                    .open_str(okra_store::accounts::NUBAN_CONTEXT, sealed)?,
            ),
            None => None,
        };
        Ok(Shown {
            owner_id: &v.owner_id,
            account_name: v.account_name.as_deref(),
            nuban,
            bank_id: v.bank_id.as_deref(),
            connected: v.connected,
            customer_name: v.customer_name.as_deref(),
            record_state: v.record_state,
        })
    }

    /// What an account and its customer's name show (a balance written in the caller's
    /// transaction, before any view of it can be read).
    pub fn of_account(
        owner_id: &'a str,
        account: &'a Account,
        customer_name: Option<&'a str>,
        record_state: (bool, bool),
    ) -> Shown<'a> {
        Shown {
            owner_id,
            account_name: Some(&account.name),
            nuban: Some(account.nuban.clone()),
            bank_id: Some(&account.bank_id),
            connected: account.connected,
            customer_name,
            record_state: Some(record_state),
        }
    }
}

/// The Balance object of a stored view (see [`render`]).
pub fn balance_object(
    state: &AppState,
    v: &BalanceView,
    env: Environment,
    include_periodic: bool,
) -> Result<Value> {
    render(
        &state.public_url,
        &v.balance,
        &Shown::of_view(state, v)?,
        env,
        include_periodic,
    )
}

/// The Balance object (one superset shape everywhere: reads, webhooks, `GET callback`; CONTRACT
/// §6): `_id, id, account:{_id, name, nuban, bank:{_id, name, slug, colors{primary, accent,
/// button, icon}, icon, logo, v2_icon, v2_logo}}, env, __v, available_balance, ledger_balance,
/// currency, created_at, last_updated, customer:{_id, name}, owner:[id], record:[{_id,
/// status:{process:{running, completed}}}], connected:[account id], periodic` (`periodic` unless
/// `include_periodic` is false).
pub fn render(
    public_url: &str,
    b: &Balance,
    shown: &Shown<'_>,
    env: Environment,
    include_periodic: bool,
) -> Result<Value> {
    let bank = shown.bank_id.and_then(okra_core::banks::find).map(|bank| {
        let asset = |file: &str| format!("{public_url}/assets/banks/{}/{file}", bank.slug);
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
    let record = match shown.record_state {
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
            "name": shown.account_name,
            "nuban": shown.nuban,
            "bank": bank,
        },
        "env": env_label(env),
        "__v": 0,
        "available_balance": major(b.available_minor),
        "ledger_balance": major(b.ledger_minor),
        "currency": b.currency,
        "created_at": okra_core::time::iso_ms(b.created_at),
        "last_updated": okra_core::time::iso_ms(b.last_updated),
        "customer": {"_id": b.customer_id, "name": shown.customer_name},
        "owner": [shown.owner_id],
        "record": record,
        "connected": if shown.connected { vec![b.account_id.clone()] } else { Vec::new() },
    });
    if include_periodic {
        out["periodic"] = b.periodic()?;
    }
    Ok(out)
}

/// The latest balance of `account_id` as a view (`None`: the account has none).
pub async fn latest_of_account(
    state: &AppState,
    tenant: &Tenant,
    account_id: &str,
) -> Result<Option<BalanceView>> {
    let filter = BalanceFilter::Account(account_id.to_string());
    let first = PageRequest { page: 1, limit: 1 };
    let (views, _) = balances::page(&state.db, tenant, &filter, first).await?;
    Ok(views.into_iter().next())
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
