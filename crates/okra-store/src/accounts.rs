//! Bank accounts of customers. The NUBAN is sealed; lookups by (bank, NUBAN) use a blind index.

use okra_core::id::new_id;
use sqlx::{AnyConnection, Row};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

/// Associated-data context of this sealed column (see `rekey`).
pub const NUBAN_CONTEXT: &str = "accounts.nuban";

/// An account to create.
#[derive(Clone, Debug, Default)]
pub struct NewAccount {
    /// Holder.
    pub customer_id: String,
    /// Bank id.
    pub bank_id: String,
    /// The record (connection) that brought it.
    pub record_id: String,
    /// Account name as the bank returns it.
    pub name: String,
    /// Account number.
    pub nuban: String,
    /// `savings`, `current` or `domiciliary`.
    pub account_type: String,
    /// `NGN`, `USD`, …
    pub currency: String,
    /// The customer chose to connect it.
    pub connected: bool,
    /// Creation time (ms); now when `None`.
    pub created_at: Option<i64>,
}

/// A stored account, decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// Holder.
    pub customer_id: String,
    /// Bank id.
    pub bank_id: String,
    /// Latest record.
    pub record_id: String,
    /// Account name.
    pub name: String,
    /// Account number.
    pub nuban: String,
    /// Type.
    pub account_type: String,
    /// Currency.
    pub currency: String,
    /// Connected.
    pub connected: bool,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Blind index of a NUBAN at a bank: the key is (bank, NUBAN) since a NUBAN is unique only per bank.
pub fn nuban_index(keyring: &Keyring, bank_id: &str, nuban: &str) -> String {
    let digits: String = nuban.chars().filter(char::is_ascii_digit).collect();
    keyring.blind_index(
        "nuban",
        &format!("{}:{digits}", bank_id.to_ascii_lowercase()),
    )
}

/// Inserts an account on `conn`. Returns its id. The row is built by [`crate::bulk::AccountRow`],
/// the one place that seals and indexes an account.
pub async fn insert(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    new: &NewAccount,
) -> Result<String> {
    let id = new_id();
    let row = crate::bulk::AccountRow::new(keyring, id.clone(), new.clone());
    crate::bulk::insert_accounts(conn, tenant, &[row]).await?;
    Ok(id)
}

const COLUMNS: &str = "id, customer_id, bank_id, record_id, name, nuban_enc, type, currency, connected, created_at, last_updated";

fn account_from(keyring: &Keyring, r: &sqlx::any::AnyRow) -> Result<Account> {
    let nuban: Vec<u8> = r.try_get("nuban_enc")?;
    Ok(Account {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        bank_id: r.try_get("bank_id")?,
        record_id: r.try_get("record_id")?,
        name: r.try_get("name")?,
        nuban: keyring.open_str(NUBAN_CONTEXT, &nuban)?,
        account_type: r.try_get("type")?,
        currency: r.try_get("currency")?,
        connected: r.try_get::<i64, _>("connected")? != 0,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

/// One account by id, within the tenant.
pub async fn get(db: &Db, keyring: &Keyring, tenant: &Tenant, id: &str) -> Result<Option<Account>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE id = $1 AND owner_id = $2 AND env = $3"
    ))
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| account_from(keyring, r)).transpose()
}

/// The account with this NUBAN at this bank, within the tenant.
pub async fn find_by_nuban(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    bank_id: &str,
    nuban: &str,
) -> Result<Option<Account>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE owner_id = $1 AND env = $2 AND nuban_idx = $3"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(nuban_index(keyring, bank_id, nuban))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| account_from(keyring, r)).transpose()
}
