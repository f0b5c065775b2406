//! Customers: one per person (same BVN) per owner and environment. Personal data is sealed; the BVN
//! and NIN are found through blind indexes.

use okra_core::id::new_id;
use okra_core::pagination::PageRequest;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::blind::bvn_index;
use crate::crypto::Keyring;
use crate::db::{Backend, Db};
use crate::error::{Result, StoreError};
use crate::read::{Columns, Param};
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

/// A customer with the ids of its accounts and records, oldest first (ties by id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedCustomer {
    /// The customer.
    pub customer: Customer,
    /// Ids of its accounts.
    pub accounts: Vec<String>,
    /// Ids of its records (connections).
    pub records: Vec<String>,
}

/// The ids of a customer `c`'s accounts and of its records, as two columns: each a
/// comma-separated list of `created_at:id`, sorted in memory ([`SealedRow::open`]). The rows are
/// found by customer id alone — only the `(customer_id, created_at, id)` indexes can serve that,
/// whatever the statistics say — and a row counts only if it carries the customer's tenant. The
/// tenant test sits in the aggregated expression, not in WHERE, so that no planner takes it for
/// an index predicate (a tenant-wide index scanned per customer).
macro_rules! links_columns {
    () => {
        "(SELECT string_agg(CASE WHEN a.owner_id = c.owner_id AND a.env = c.env \
         THEN a.created_at || ':' || a.id END, ',') FROM accounts a WHERE a.customer_id = c.id), \
         (SELECT string_agg(CASE WHEN r.owner_id = c.owner_id AND r.env = c.env \
         THEN r.created_at || ':' || r.id END, ',') FROM records r WHERE r.customer_id = c.id)"
    };
}

/// The customer's columns [`SealedRow::read`] expects first.
macro_rules! customer_columns {
    () => {
        "c.id, c.name, c.bvn_enc, c.pii_enc, c.sandbox_enc, c.sandbox_person, c.created_at, \
         c.last_updated, c.owner_id, c.env"
    };
}

/// The statement [`get_linked`] runs (public so that the plan test checks the statement the code
/// runs): the customer and the ids of its accounts and records — the whole of
/// `customers/getById` in one statement, on both engines.
///
/// It names the primary key alone: with a tenant predicate beside it, a planner without
/// statistics may prefer a (owner_id, env, …) index and filter the tenant for the id. The tenant
/// is checked on the row instead.
pub const GET_SQL: &str = concat!(
    "SELECT ",
    customer_columns!(),
    ", ",
    links_columns!(),
    " FROM customers c WHERE c.id = $1"
);

/// The tenant's customer count, from its counter row.
macro_rules! total_column {
    () => {
        "(SELECT n FROM row_counts WHERE owner_id = $1 AND env = $2 \
         AND collection = 'customers' AND customer_id = '')"
    };
}

/// What a page selects for each customer: its columns, its links and the tenant's total.
macro_rules! page_columns {
    () => {
        concat!(
            "SELECT ",
            customer_columns!(),
            ", ",
            links_columns!(),
            ", ",
            total_column!()
        )
    };
}

/// The page's ids, from the covering `customers_page` index: a deep OFFSET steps over index
/// entries, not rows.
macro_rules! page_ids {
    () => {
        "SELECT id FROM customers WHERE owner_id = $1 AND env = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    };
}

/// [`page`] on SQLite (`$1` owner, `$2` env, `$3` limit, `$4` offset): the whole of
/// `customers/list` in one statement. The page's ids drive one primary-key search each (`IN` a
/// list subquery), then the links, and `totalDocs` comes from the counter row. No ORDER BY
/// outside: the page's rows are sorted in memory, so nothing but the index orders the tenant.
pub const PAGE_SQL_SQLITE: &str = concat!(
    page_columns!(),
    " FROM customers c WHERE c.id IN (",
    page_ids!(),
    ")"
);

/// [`page`] on PostgreSQL, as [`PAGE_SQL_SQLITE`], planned for each call's limit and offset
/// ([`Db::query_replanned`]). The row of each id is fetched by a LATERAL
/// subquery that `OFFSET 0` keeps from being flattened into a join: a generic plan (the limit
/// unknown) would otherwise hash-join the page against a full scan of the customers.
pub const PAGE_SQL_POSTGRES: &str = concat!(
    page_columns!(),
    " FROM (",
    page_ids!(),
    ") p CROSS JOIN LATERAL (SELECT * FROM customers WHERE id = p.id OFFSET 0) c"
);

/// The statement [`page`] runs on `backend`.
pub fn page_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => PAGE_SQL_SQLITE,
        Backend::Postgres => PAGE_SQL_POSTGRES,
    }
}

/// A row of [`GET_SQL`] or [`page_sql`], still sealed.
struct SealedRow {
    sealed: Sealed,
    owner_id: String,
    env: String,
    accounts: Option<String>,
    records: Option<String>,
    /// [`page_sql`] only: the tenant's customer count.
    total: Option<i64>,
}

impl SealedRow {
    fn read(r: &dyn Columns) -> Result<Self> {
        Ok(SealedRow {
            sealed: Sealed::read(r)?,
            owner_id: r.text(8)?,
            env: r.text(9)?,
            accounts: r.opt_text(10)?,
            records: r.opt_text(11)?,
            total: None,
        })
    }

    fn read_with_total(r: &dyn Columns) -> Result<Self> {
        let mut row = SealedRow::read(r)?;
        row.total = r.opt_int(12)?;
        Ok(row)
    }

    fn of(&self, tenant: &Tenant) -> bool {
        self.owner_id == tenant.owner_id && self.env == tenant.env.as_str()
    }

    fn open(self, keyring: &Keyring) -> Result<LinkedCustomer> {
        // `created_at:id` entries; ids are ObjectIds (hex), so no separator occurs in one.
        let ids = |list: Option<String>| -> Result<Vec<String>> {
            let Some(list) = list else {
                return Ok(Vec::new());
            };
            let mut entries = list
                .split(',')
                .map(|entry| {
                    let (at, id) = entry
                        .split_once(':')
                        .ok_or_else(|| StoreError::Corrupt(format!("link entry {entry:?}")))?;
                    let at: i64 = at
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("link entry {entry:?}")))?;
                    Ok((at, id.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            entries.sort();
            Ok(entries.into_iter().map(|(_, id)| id).collect())
        };
        Ok(LinkedCustomer {
            customer: open_customer(keyring, self.sealed)?,
            accounts: ids(self.accounts)?,
            records: ids(self.records)?,
        })
    }
}

/// The stored columns of a customer ([`COLUMNS`], in order), before its personal data is opened.
struct Sealed {
    id: String,
    name: String,
    bvn: Option<Vec<u8>>,
    pii: Option<Vec<u8>>,
    sandbox: Option<Vec<u8>>,
    sandbox_person: Option<i64>,
    created_at: i64,
    last_updated: i64,
}

impl Sealed {
    /// Columns 0–7 of a customer statement, [`COLUMNS`] in order.
    fn read(r: &dyn Columns) -> Result<Self> {
        Ok(Sealed {
            id: r.text(0)?,
            name: r.text(1)?,
            bvn: r.opt_blob(2)?,
            pii: r.opt_blob(3)?,
            sandbox: r.opt_blob(4)?,
            sandbox_person: r.opt_int(5)?,
            created_at: r.int(6)?,
            last_updated: r.int(7)?,
        })
    }
}

fn open_customer(keyring: &Keyring, s: Sealed) -> Result<Customer> {
    Ok(Customer {
        id: s.id,
        name: s.name,
        bvn: s
            .bvn
            .map(|b| keyring.open_str(BVN_CONTEXT, &b))
            .transpose()?,
        pii: match s.pii {
            Some(p) => serde_json::from_slice(&keyring.open(PII_CONTEXT, &p)?)?,
            None => CustomerPii::default(),
        },
        sandbox: match s.sandbox {
            Some(b) => Some(serde_json::from_slice(&keyring.open(SANDBOX_CONTEXT, &b)?)?),
            None => None,
        },
        sandbox_person: s.sandbox_person,
        created_at: s.created_at,
        last_updated: s.last_updated,
    })
}

/// A customer from a row whose first columns are [`COLUMNS`] (every customer statement's).
fn customer_from(keyring: &Keyring, r: &dyn Columns) -> Result<Customer> {
    open_customer(keyring, Sealed::read(r)?)
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
    Ok(get_linked(db, keyring, tenant, id)
        .await?
        .map(|linked| linked.customer))
}

/// One customer by id with the ids of its accounts and records, within the tenant: one
/// statement ([`GET_SQL`]).
pub async fn get_linked(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<LinkedCustomer>> {
    let row = db
        .query_one(GET_SQL, vec![Param::from(id)], SealedRow::read)
        .await?;
    match row {
        Some(r) if r.of(tenant) => r.open(keyring).map(Some),
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

/// The id of the customer with this BVN, on `conn` (inside the caller's transaction, so a
/// connection that finds none can insert one before anyone else does: see
/// [`crate::db::lock_key`]).
pub async fn find_id_by_bvn_on(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    bvn: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM customers WHERE owner_id = $1 AND env = $2 AND bvn_idx = $3",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(bvn_index(keyring, bvn))
    .fetch_optional(conn)
    .await?)
}

/// One page of the tenant's customers, newest first, each with its links, and the total: one
/// statement ([`page_sql`]), and a second (the counter alone) only for a page past the end.
pub async fn page(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<(Vec<LinkedCustomer>, u64)> {
    let params = vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::Int(i64::from(page.limit)),
        Param::Int(page.offset()),
    ];
    let mut rows = db
        .query_replanned(page_sql(db.backend()), params, SealedRow::read_with_total)
        .await?;
    // The page's ids came from the tenant's index, so every row is the tenant's unless the data
    // is corrupt; the check keeps another tenant's row out whatever happens.
    rows.retain(|r| r.of(tenant));
    rows.sort_by(|a, b| {
        (b.sealed.created_at, &b.sealed.id).cmp(&(a.sealed.created_at, &a.sealed.id))
    });
    // The counter kept with the rows (`counters`), never a COUNT over the tenant's customers.
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0).max(0) as u64,
        None => crate::counters::total(db, tenant, crate::counters::CUSTOMERS).await?,
    };
    let customers = rows
        .into_iter()
        .map(|r| r.open(keyring))
        .collect::<Result<_>>()?;
    Ok((customers, total))
}
