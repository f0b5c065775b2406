//! Customers: one per person (same BVN) per owner and environment. Personal data is sealed; the BVN
//! and NIN are found through blind indexes.

use okra_core::id::new_id;
use okra_core::pagination::PageRequest;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::blind::bvn_index;
use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

mod rows;
mod unique;

pub use crate::blind::{login_index, normalise_digits};
pub use rows::CustomerRow;
pub use unique::{existing_bvn_indexes, existing_logins, first_duplicate, Duplicate};

/// Associated-data context of this sealed column (see `rekey`).
pub const BVN_CONTEXT: &str = "customers.bvn";
/// Associated-data context of this sealed column (see `rekey`).
pub const PII_CONTEXT: &str = "customers.pii";
/// Associated-data context of this sealed column (see `rekey`).
pub const SANDBOX_CONTEXT: &str = "customers.sandbox";

/// Personal data of a customer beyond the BVN, sealed as one JSON value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPii {
    /// National identification number.
    pub nin: Option<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Email addresses.
    pub emails: Vec<String>,
}

/// Login of a sandbox customer at a simulated bank (sealed: it holds a password), with the
/// specification the simulated network builds the person from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxLogin {
    /// Bank id.
    pub bank: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// The person's specification (okra-sandbox's `PersonSpec` as JSON).
    #[serde(default)]
    pub spec: Option<serde_json::Value>,
}

/// A customer to create.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    /// Full name.
    pub name: String,
    /// BVN (11 digits), if known.
    pub bvn: Option<String>,
    /// Other personal data.
    pub pii: CustomerPii,
    /// Set for customers made through the sandbox customer endpoints.
    pub sandbox: Option<SandboxLogin>,
    /// The simulated network's index of a sandbox customer.
    pub sandbox_person: Option<i64>,
    /// Creation time (ms); now when `None` (bulk loads back-date).
    pub created_at: Option<i64>,
}

impl NewCustomer {
    /// The customer a data source's identity describes (name, BVN, NIN, phones, emails); the
    /// sandbox login, slot and creation time are left for the caller.
    pub fn from_identity(identity: &okra_core::source::SourceIdentity) -> Self {
        NewCustomer {
            name: identity.fullname.clone(),
            bvn: identity.bvn.clone(),
            pii: CustomerPii {
                nin: identity.nin.clone(),
                phones: identity.phones.clone(),
                emails: identity.emails.clone(),
            },
            ..NewCustomer::default()
        }
    }
}

/// A stored customer, decrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Customer id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// BVN.
    pub bvn: Option<String>,
    /// Other personal data.
    pub pii: CustomerPii,
    /// Sandbox login, for sandbox customers.
    pub sandbox: Option<SandboxLogin>,
    /// The simulated network's index of a sandbox customer.
    pub sandbox_person: Option<i64>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts a customer on `conn` (inside the caller's transaction). Returns its id. The row is built
/// by [`CustomerRow`], the one place that seals and indexes a customer, and written by
/// [`crate::multirow::insert`], the same statement builder bulk loads use.
pub async fn insert(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    new: &NewCustomer,
) -> Result<String> {
    let id = new_id();
    let row = CustomerRow::new(keyring, id.clone(), new.clone())?;
    crate::multirow::insert(conn, tenant, &[row]).await?;
    Ok(id)
}

const COLUMNS: &str =
    "id, name, bvn_enc, pii_enc, sandbox_enc, sandbox_person, created_at, last_updated";

/// The statement [`get`] runs (public so that the plan test checks the statement the code runs).
/// It names the primary key alone: with a tenant predicate beside it, a planner without
/// statistics may prefer a (owner_id, env, …) index and filter the tenant for the id. The tenant
/// is checked on the row instead.
pub const GET_SQL: &str =
    "SELECT id, name, bvn_enc, pii_enc, sandbox_enc, sandbox_person, created_at, last_updated, \
     owner_id, env FROM customers WHERE id = $1";

/// The statement behind the rows of [`page`]: `$1` owner, `$2` env, `$3` limit, `$4` offset.
pub const PAGE_SQL: &str =
    "SELECT id, name, bvn_enc, pii_enc, sandbox_enc, sandbox_person, created_at, last_updated \
     FROM customers WHERE owner_id = $1 AND env = $2 \
     ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";

/// The statement [`links`] runs on `table` (`accounts` or `records`) for `n` customer ids
/// (`$1…`). Only the `(customer_id, created_at, id)` index can serve it, whatever the statistics
/// say: one index search per id, covering. No ORDER BY: a page's rows are sorted in memory, where
/// an ORDER BY would let SQLite prefer the index that serves it and scan the tenant.
pub fn links_sql(table: &str, n: usize) -> String {
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT customer_id, id, created_at, owner_id, env FROM {table} WHERE customer_id IN ({})",
        placeholders.join(", ")
    )
}

/// True when row `r` belongs to `tenant` (statements keyed by a globally unique id check it here).
fn of_tenant(r: &sqlx::any::AnyRow, tenant: &Tenant) -> Result<bool> {
    let owner: String = r.try_get("owner_id")?;
    let env: String = r.try_get("env")?;
    Ok(owner == tenant.owner_id && env == tenant.env.as_str())
}

fn customer_from(keyring: &Keyring, r: &sqlx::any::AnyRow) -> Result<Customer> {
    let bvn: Option<Vec<u8>> = r.try_get("bvn_enc")?;
    let pii: Option<Vec<u8>> = r.try_get("pii_enc")?;
    let sandbox: Option<Vec<u8>> = r.try_get("sandbox_enc")?;
    Ok(Customer {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        bvn: bvn.map(|b| keyring.open_str(BVN_CONTEXT, &b)).transpose()?,
        pii: match pii {
            Some(p) => serde_json::from_slice(&keyring.open(PII_CONTEXT, &p)?)?,
            None => CustomerPii::default(),
        },
        sandbox: match sandbox {
            Some(s) => Some(serde_json::from_slice(&keyring.open(SANDBOX_CONTEXT, &s)?)?),
            None => None,
        },
        sandbox_person: r.try_get("sandbox_person")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

/// The sandbox customer who logs in with `username`, within the tenant.
pub async fn find_by_login(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    username: &str,
) -> Result<Option<Customer>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM customers WHERE owner_id = $1 AND env = $2 AND sandbox_login_idx = $3"))
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(login_index(keyring, username))
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(|r| customer_from(keyring, r)).transpose()
}

/// The sandbox customer built from the network's person `index` (any tenant: indexes are global,
/// so the caller checks the tenant).
pub async fn find_by_sandbox_person(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    index: i64,
) -> Result<Option<Customer>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE sandbox_person = $1 AND owner_id = $2 AND env = $3"
    ))
    .bind(index)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| customer_from(keyring, r)).transpose()
}

/// One customer by id, within the tenant.
pub async fn get(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<Customer>> {
    let row = sqlx::query(GET_SQL)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) if of_tenant(&r, tenant)? => customer_from(keyring, &r).map(Some),
        _ => Ok(None),
    }
}

/// The customer with this BVN, within the tenant (blind-index lookup).
pub async fn find_by_bvn(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    bvn: &str,
) -> Result<Option<Customer>> {
    let idx = bvn_index(keyring, bvn);
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customers WHERE owner_id = $1 AND env = $2 AND bvn_idx = $3"
    ))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(idx)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| customer_from(keyring, r)).transpose()
}

/// One page of the tenant's customers, newest first, and the total.
pub async fn page(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<(Vec<Customer>, u64)> {
    let rows = sqlx::query(PAGE_SQL)
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(i64::from(page.limit))
        .bind(page.offset())
        .fetch_all(db.pool())
        .await?;
    // The counter kept with the rows (`counters`), never a COUNT over the tenant's customers.
    let total = crate::counters::total(db, tenant, crate::counters::CUSTOMERS).await?;
    let customers = rows
        .iter()
        .map(|r| customer_from(keyring, r))
        .collect::<Result<_>>()?;
    Ok((customers, total))
}

/// Ids of the accounts and records of each given customer (two queries for a whole page: no
/// N+1), each list oldest first (ties by id).
pub async fn links(
    db: &Db,
    tenant: &Tenant,
    customer_ids: &[String],
) -> Result<Vec<(String, Vec<String>, Vec<String>)>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: [Vec<(String, i64, String)>; 2] = [Vec::new(), Vec::new()];
    for (table, slot) in [("accounts", 0usize), ("records", 1usize)] {
        let sql = links_sql(table, customer_ids.len());
        let mut q = sqlx::query(&sql);
        for id in customer_ids {
            q = q.bind(id);
        }
        for row in q.fetch_all(db.pool()).await? {
            if of_tenant(&row, tenant)? {
                found[slot].push((
                    row.try_get("customer_id")?,
                    row.try_get("created_at")?,
                    row.try_get("id")?,
                ));
            }
        }
        found[slot].sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
    }
    let ids_of = |slot: usize, customer: &str| -> Vec<String> {
        found[slot]
            .iter()
            .filter(|(c, _, _)| c == customer)
            .map(|(_, _, id)| id.clone())
            .collect()
    };
    Ok(customer_ids
        .iter()
        .map(|c| (c.clone(), ids_of(0, c), ids_of(1, c)))
        .collect())
}
