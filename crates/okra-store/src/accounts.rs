//! Bank accounts of customers. The NUBAN is sealed; lookups by (bank, NUBAN) use a blind index.

use std::collections::HashSet;

use okra_core::id::new_id;
use sqlx::{AnyConnection, Row};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::loader::Probe;
use crate::multirow::{self, Counted, InsertRow, SqlValue};
use crate::read::{Columns, Param};
use crate::Tenant;

pub use crate::blind::nuban_index;

/// Associated-data context of this sealed column (see `rekey`).
pub const NUBAN_CONTEXT: &str = "accounts.nuban";
/// Associated-data context of the sealed data-source reference.
pub const ACCOUNT_REF_CONTEXT: &str = "accounts.account_ref";

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
    /// The data source's reference of the account (passed back for balances); `None`: the NUBAN.
    pub account_ref: Option<String>,
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
    /// The data source's reference of the account; `None`: the NUBAN.
    pub account_ref: Option<String>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts an account on `conn`. Returns its id. The row is built by [`AccountRow`], the one place
/// that seals and indexes an account, and written by [`multirow::insert`] as bulk loads are.
pub async fn insert(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    new: &NewAccount,
) -> Result<String> {
    let id = new_id();
    let row = AccountRow::new(keyring, id.clone(), new.clone());
    multirow::insert(conn, tenant, &[row]).await?;
    Ok(id)
}

/// An account ready to insert: the column values [`insert`] writes, with an id chosen by the
/// caller (so a bulk load can refer to it before it is written).
#[derive(Clone, Debug)]
pub struct AccountRow {
    id: String,
    new: NewAccount,
    nuban_enc: Vec<u8>,
    nuban_idx: String,
    account_ref_enc: Option<Vec<u8>>,
    created_at: i64,
}

impl AccountRow {
    /// Seals and indexes `new`; `created_at` defaults to now.
    pub fn new(keyring: &Keyring, id: String, new: NewAccount) -> Self {
        AccountRow {
            id,
            nuban_enc: keyring.seal_str(NUBAN_CONTEXT, &new.nuban),
            nuban_idx: nuban_index(keyring, &new.bank_id, &new.nuban),
            account_ref_enc: (new.account_ref.as_deref())
                .map(|r| keyring.seal_str(ACCOUNT_REF_CONTEXT, r)),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
        }
    }

    /// The (bank, NUBAN) blind index (what the unique index `accounts_nuban` holds).
    pub fn nuban_idx(&self) -> &str {
        &self.nuban_idx
    }

    /// The probe for which of `rows`' NUBANs the tenant's accounts already hold (a bulk load
    /// skips those people).
    pub fn nuban_probe<'a>(rows: impl IntoIterator<Item = &'a AccountRow>) -> Probe<'a> {
        let values = rows.into_iter().map(AccountRow::nuban_idx).collect();
        Probe::new("accounts", "nuban_idx", values)
    }
}

impl InsertRow for AccountRow {
    const INSERT: &'static str = "INSERT INTO accounts (owner_id, env, id, customer_id, bank_id, record_id, name, nuban_enc, nuban_idx, type, currency, connected, account_ref_enc, created_at, last_updated)";
    const COLUMNS: usize = 15;

    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        out.extend([
            SqlValue::from(self.id.as_str()),
            SqlValue::from(self.new.customer_id.as_str()),
            SqlValue::from(self.new.bank_id.as_str()),
            SqlValue::from(self.new.record_id.as_str()),
            SqlValue::from(self.new.name.as_str()),
            SqlValue::from(self.nuban_enc.as_slice()),
            SqlValue::from(self.nuban_idx.as_str()),
            SqlValue::from(self.new.account_type.as_str()),
            SqlValue::from(self.new.currency.as_str()),
            SqlValue::from(i64::from(self.new.connected)),
            SqlValue::from(self.account_ref_enc.as_deref()),
            SqlValue::from(self.created_at),
            SqlValue::from(self.created_at),
        ]);
    }

    fn counted(&self) -> Option<Counted<'_>> {
        Some(Counted {
            collection: crate::counters::ACCOUNTS,
            customer: Some(&self.new.customer_id),
            created_at: self.created_at,
            amounts: None,
        })
    }
}

/// Which of the given (bank, NUBAN) blind indexes ([`AccountRow::nuban_idx`]) the tenant's
/// accounts already hold, on `conn`: a loader skips those people instead of breaking the unique
/// index.
pub async fn existing_nuban_indexes(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    nuban_idxs: &[&str],
) -> Result<HashSet<String>> {
    multirow::existing_values(conn, tenant, "accounts", "nuban_idx", nuban_idxs).await
}

/// `accounts/getById`: one account by primary key alone (`$1`), with its owner and environment,
/// which the caller compares with the tenant (no planner can prefer a tenant index). Public for
/// the plan tests.
pub const GET_SQL: &str = "SELECT id, owner_id, env, customer_id, bank_id, record_id, name, nuban_enc, type, currency, connected, account_ref_enc, created_at, last_updated \
     FROM accounts WHERE id = $1";

/// The columns of [`GET_SQL`], in its order: every read of whole accounts selects these and maps
/// them with [`SealedAccount::read`].
const COLUMNS: &str = "id, owner_id, env, customer_id, bank_id, record_id, name, nuban_enc, type, currency, connected, account_ref_enc, created_at, last_updated";

/// `accounts/getByCustomer`: a page of a customer's accounts, newest first, each row carrying the
/// tenant's account count of the customer from `row_counts` (`$1` owner, `$2` environment, `$3`
/// customer, `$4` limit, `$5` offset). The accounts are found by customer id alone, the way the
/// `accounts_customer` index is ordered (customer ids are unique across tenants; the caller drops
/// rows of another tenant, whose count here is 0). Public for the plan tests.
pub const BY_CUSTOMER_SQL: &str = "SELECT id, owner_id, env, customer_id, bank_id, record_id, name, nuban_enc, type, currency, connected, account_ref_enc, created_at, last_updated, \
     (SELECT n FROM row_counts WHERE row_counts.owner_id = $1 AND row_counts.env = $2 \
      AND collection = 'accounts' AND row_counts.customer_id = $3) AS total \
     FROM accounts WHERE customer_id = $3 \
     ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5";

/// One account by id, within the tenant (another tenant's account is `None`, like a missing one):
/// one statement in one trip ([`Db::query_one`]).
pub async fn get(db: &Db, keyring: &Keyring, tenant: &Tenant, id: &str) -> Result<Option<Account>> {
    let row = db
        .query_one(GET_SQL, vec![Param::from(id)], |c| {
            SealedAccount::read(c, false)
        })
        .await?;
    match row {
        Some(r) if r.of(tenant) => r.open(keyring).map(Some),
        _ => Ok(None),
    }
}

/// An account as read, before its sealed columns are opened (outside the read's thread).
struct SealedAccount {
    owner_id: String,
    env: String,
    account: Account,
    nuban_enc: Vec<u8>,
    account_ref_enc: Option<Vec<u8>>,
    /// The customer's account count ([`BY_CUSTOMER_SQL`] only).
    total: Option<i64>,
}

impl SealedAccount {
    /// The columns of [`COLUMNS`] (and, `with_total`, the total of [`BY_CUSTOMER_SQL`]), by
    /// position.
    fn read(c: &dyn Columns, with_total: bool) -> Result<SealedAccount> {
        Ok(SealedAccount {
            owner_id: c.text(1)?,
            env: c.text(2)?,
            account: Account {
                id: c.text(0)?,
                customer_id: c.text(3)?,
                bank_id: c.text(4)?,
                record_id: c.text(5)?,
                name: c.text(6)?,
                nuban: String::new(),
                account_type: c.text(8)?,
                currency: c.text(9)?,
                connected: c.int(10)? != 0,
                account_ref: None,
                created_at: c.int(12)?,
                last_updated: c.int(13)?,
            },
            nuban_enc: c
                .opt_blob(7)?
                .ok_or_else(|| StoreError::Corrupt("an account without its NUBAN".into()))?,
            account_ref_enc: c.opt_blob(11)?,
            total: if with_total { c.opt_int(14)? } else { None },
        })
    }

    fn of(&self, tenant: &Tenant) -> bool {
        self.owner_id == tenant.owner_id && self.env == tenant.env.as_str()
    }

    fn open(self, keyring: &Keyring) -> Result<Account> {
        let mut account = self.account;
        account.nuban = keyring.open_str(NUBAN_CONTEXT, &self.nuban_enc)?;
        account.account_ref = (self.account_ref_enc.as_deref())
            .map(|sealed| keyring.open_str(ACCOUNT_REF_CONTEXT, sealed))
            .transpose()?;
        Ok(account)
    }
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
    row.as_ref()
        .map(|r| SealedAccount::read(r, false)?.open(keyring))
        .transpose()
}

/// The account with this (bank, NUBAN) blind index, on `conn` (inside the caller's transaction):
/// its id and holder. A connection reuses the account instead of adding a second one.
pub async fn find_by_index_on(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    nuban_idx: &str,
) -> Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT id, customer_id FROM accounts WHERE owner_id = $1 AND env = $2 AND nuban_idx = $3",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(nuban_idx)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("customer_id")?)))
        .transpose()
}

/// What a new connection changes on an account it found again: the record that brought it last,
/// whether the user connected it this time, its name and the source's reference.
#[derive(Clone, Debug)]
pub struct Relink<'a> {
    /// The account.
    pub id: &'a str,
    /// The new connection.
    pub record_id: &'a str,
    /// The user chose it this time.
    pub connected: bool,
    /// The name the bank shows now.
    pub name: &'a str,
    /// The source's reference now.
    pub account_ref: Option<&'a str>,
    /// When (ms).
    pub at: i64,
}

/// Applies a [`Relink`] on `conn` (inside the caller's transaction).
pub async fn relink(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    r: &Relink<'_>,
) -> Result<()> {
    let account_ref = r
        .account_ref
        .map(|a| keyring.seal_str(ACCOUNT_REF_CONTEXT, a));
    sqlx::query(
        "UPDATE accounts SET record_id = $1, connected = $2, name = $3, account_ref_enc = $4, last_updated = $5 \
         WHERE id = $6 AND owner_id = $7 AND env = $8",
    )
    .bind(r.record_id)
    .bind(i64::from(r.connected))
    .bind(r.name)
    .bind(account_ref)
    .bind(r.at)
    .bind(r.id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The accounts with these ids, within the tenant, in the order given (missing ids are skipped).
pub async fn get_many(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    ids: &[String],
) -> Result<Vec<Account>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM accounts WHERE owner_id = $1 AND env = $2 AND id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str());
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut found: Vec<Account> = rows
        .iter()
        .map(|r| SealedAccount::read(r, false)?.open(keyring))
        .collect::<Result<_>>()?;
    found.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
    Ok(found)
}

/// Ids of the accounts whose latest record is `record_id` (the `accounts_record` index): what a
/// record written before records kept their accounts (migration 0013) connected.
pub async fn ids_of_record(db: &Db, tenant: &Tenant, record_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE owner_id = $1 AND env = $2 AND record_id = $3 ORDER BY created_at, id",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(record_id)
    .fetch_all(db.pool())
    .await?)
}

/// One page of a customer's accounts, newest first, and the customer's account count (the
/// counter kept with the rows, never a scan): one statement, and a second (the counter alone)
/// only for a page past the end.
pub async fn page_by_customer(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    customer_id: &str,
    limit: u32,
    offset: i64,
) -> Result<(Vec<Account>, u64)> {
    let params = vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::from(customer_id),
        Param::Int(i64::from(limit)),
        Param::Int(offset),
    ];
    let rows = db
        .query(BY_CUSTOMER_SQL, params, |c| SealedAccount::read(c, true))
        .await?;
    // The counter kept with the rows; a second statement only for a page past the end.
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0).max(0) as u64,
        None => {
            crate::counters::for_customer(db, tenant, crate::counters::ACCOUNTS, customer_id)
                .await?
        }
    };
    let mut accounts = Vec::with_capacity(rows.len());
    for r in rows {
        if r.of(tenant) {
            accounts.push(r.open(keyring)?);
        }
    }
    Ok((accounts, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reads_select_the_mapped_columns() {
        assert!(GET_SQL.starts_with(&format!("SELECT {COLUMNS} ")));
        assert!(BY_CUSTOMER_SQL.starts_with(&format!("SELECT {COLUMNS}, ")));
    }

    #[test]
    fn values_have_their_postgres_types() {
        let keyring = crate::crypto::Keyring::generate();
        let new = NewAccount {
            nuban: "0123456789".into(),
            connected: true,
            ..NewAccount::default()
        };
        let row = AccountRow::new(&keyring, "a".into(), new);
        let mut values = Vec::new();
        row.values(&mut values);
        crate::multirow::check_postgres_types(AccountRow::INSERT, AccountRow::COLUMNS, &values);
    }
}
