//! Records (`records/getById`), accounts (`accounts/getById`, `accounts/getByCustomer`) and the
//! product data of a record as `GET callback` reports it.

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::Tenant;
use serde_json::{json, Value};

use super::balance;
use super::error::{Error, Result};
use super::identity_profile;
use super::views;
use crate::app::AppState;

/// Ids of the accounts connected in `record`: as the record keeps them, or, for a record written
/// before records kept them, the accounts it was the latest connection of.
pub async fn account_ids(
    state: &AppState,
    tenant: &Tenant,
    record: &okra_store::records::Record,
) -> Result<Vec<String>> {
    match &record.accounts {
        Some(ids) => Ok(ids.clone()),
        None => Ok(okra_store::accounts::ids_of_record(&state.db, tenant, &record.id).await?),
    }
}

/// The Record object.
pub async fn get(state: &AppState, tenant: &Tenant, id: &str) -> Result<Value> {
    let record = okra_store::records::get(&state.db, tenant, id)
        .await?
        .ok_or(Error::NotFound("Record"))?;
    let accounts = account_ids(state, tenant, &record).await?;
    Ok(views::record_object(&record, &accounts, tenant.env))
}

/// The Account object.
pub async fn account(state: &AppState, tenant: &Tenant, id: &str) -> Result<Value> {
    let account = okra_store::accounts::get(&state.db, &state.keyring(), tenant, id)
        .await?
        .ok_or(Error::NotFound("Account"))?;
    Ok(views::account_object(&account, None))
}

/// One page of a customer's accounts.
pub async fn accounts_of_customer(
    state: &AppState,
    tenant: &Tenant,
    customer: &str,
    page: PageRequest,
) -> Result<(Pagination, Vec<Value>)> {
    let (accounts, total) = okra_store::accounts::page_by_customer(
        &state.db,
        &state.keyring(),
        tenant,
        customer,
        page.limit,
        page.offset(),
    )
    .await?;
    let list = accounts
        .iter()
        .map(|a| views::account_object(a, None))
        .collect();
    Ok((page.paginate(total), list))
}

/// A product method of `GET callback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The login.
    Auth,
    /// The holder's identity.
    Identity,
    /// The connected accounts' balances.
    Balance,
    /// The connected accounts.
    Accounts,
    /// A balance check (`balance/check`): whether the balance changed since it was fetched.
    CheckBalance,
}

impl Method {
    /// Reads `AUTH`, `IDENTITY`, `BALANCE`, `ACCOUNTS` or `CHECK_BALANCE` (any case).
    pub fn parse(s: &str) -> Option<Method> {
        match s.trim().to_ascii_uppercase().as_str() {
            "AUTH" => Some(Method::Auth),
            "IDENTITY" => Some(Method::Identity),
            "BALANCE" => Some(Method::Balance),
            "ACCOUNTS" => Some(Method::Accounts),
            "CHECK_BALANCE" => Some(Method::CheckBalance),
            _ => None,
        }
    }

    fn product(self) -> &'static str {
        match self {
            Method::Auth => "auth",
            Method::Identity => "identity",
            Method::Balance => "balance",
            Method::Accounts => "accounts",
            Method::CheckBalance => super::balance_refresh::CHECK_PRODUCT,
        }
    }

    /// The message `GET callback` answers with.
    pub fn message(self) -> &'static str {
        match self {
            Method::CheckBalance => "Successfully checked balance",
            _ => "Callback retrieved successfully",
        }
    }
}

/// What `GET callback` reports for a record's product: `{"status":"processing"}` while its job
/// runs, its data once stored, or the failure.
pub async fn callback(
    state: &AppState,
    tenant: &Tenant,
    record_id: &str,
    method: Method,
) -> Result<Value> {
    let record = okra_store::records::get(&state.db, tenant, record_id)
        .await?
        .ok_or(Error::NotFound("Record"))?;
    let product = method.product();
    if !record.products.iter().any(|p| p == product) {
        return Err(Error::Refused(format!(
            "The record did not request the {product} product"
        )));
    }
    match record.product_state(product) {
        None => return Ok(json!({"status": "processing"})),
        Some("failed") => {
            return Ok(json!({
                "status": "failed", "record": record.id,
                "method": product.to_ascii_uppercase(),
                "message": super::products::failure_message(product),
            }))
        }
        Some(_) => {}
    }
    let keyring = state.keyring();
    Ok(match method {
        Method::Auth => json!({
            "status": true, "record": record.id, "bank_id": record.bank_id,
            "customer_id": record.customer_id, "login_type": "web",
        }),
        Method::Accounts => {
            let ids = account_ids(state, tenant, &record).await?;
            let accounts =
                okra_store::accounts::get_many(&state.db, &keyring, tenant, &ids).await?;
            json!({
                "record": record.id,
                "accounts": accounts.iter().map(|a| views::account_object(a, None)).collect::<Vec<_>>(),
            })
        }
        Method::Identity => {
            let identity =
                okra_store::identities::of_record(&state.db, &keyring, tenant, &record.id)
                    .await?
                    .ok_or_else(|| {
                        Error::Internal("identity product done without an identity".into())
                    })?;
            let customer =
                okra_store::customers::get(&state.db, &keyring, tenant, &record.customer_id)
                    .await?
                    .map(|c| c.name)
                    .unwrap_or_default();
            json!({"record": record.id, "identity": identity_profile::identity_object(&identity, &customer, tenant.env)})
        }
        Method::CheckBalance => {
            let status = &record.product_status[product];
            let at = |k: &str| match status[k].as_i64() {
                Some(ms) => json!(okra_core::time::iso_ms(ms)),
                None => Value::Null,
            };
            json!({
                "balance_changed": status["balance_changed"].as_bool().unwrap_or(true),
                "last_checked": at("last_success_at"),
                "last_fetched": at("last_fetched"),
            })
        }
        Method::Balance => {
            // Each account's balance as it stands: the one this record fetched, or refreshed
            // since (a refresh updates the account's latest balance in place).
            let mut balances = Vec::new();
            for id in account_ids(state, tenant, &record).await? {
                if let Some(v) = balance::latest_of_account(state, tenant, &id).await? {
                    balances.push(balance::balance_object(state, &v, tenant.env, true)?);
                }
            }
            json!({"record": record.id, "balances": balances})
        }
    })
}
