//! The identity reads (`identity/*`, `products/identities`), each one statement on the one-trip
//! path ([`Db::query`]): the identity, its customer's name and, for a page, the page's total.
//!
//! A page names its rows by id from one index of `identities` (tenant, tenant and customer,
//! tenant and day range, or the records whose options match), then fetches each row by primary
//! key — the customers' layout (`customers::page_sql`): SQLite with `IN (ids)`, PostgreSQL with a
//! LATERAL fetch that `OFFSET 0` keeps from becoming a hash join. `totalDocs` comes from the
//! counter rows where one exists (tenant, customer, days) and otherwise from a count bounded by
//! the filter's own index range (a customer's identities in a date range, the identities of the
//! records with given options).

use std::sync::LazyLock;

use time::Date;

use super::{Identity, IdentityProfile, PII_CONTEXT};
use crate::blind::{bvn_index, nuban_index};
use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::read::{
    customer_date_params, date_params, option_params, options_filter, page_params, Columns,
    PageShape, Param, NEWEST_FIRST, NEWEST_FIRST_SORTED,
};
pub use crate::read::{PageSql, MAX_OPTION_PAIRS};
use crate::Tenant;
use okra_core::pagination::PageRequest;

/// The columns of an identity view, `i` the identity and `c` its customer.
macro_rules! view_columns {
    () => {
        "i.id, i.owner_id, i.env, i.customer_id, i.record_id, i.firstname, i.middlename, \
         i.lastname, i.fullname, i.gender, i.nationality, i.lga_of_origin, i.lga_of_residence, \
         i.state_of_origin, i.state_of_residence, i.marital_status, i.verification_country, \
         i.score, i.watch_listed, i.dti, i.rc_number, i.enrollment_bank, i.enrollment_branch, \
         i.enrollment_date, i.pii_enc, i.created_at, i.last_updated, c.name"
    };
}

/// The identity's customer, by primary key.
macro_rules! customer_join {
    () => {
        " LEFT JOIN customers c ON c.id = i.customer_id"
    };
}

/// `identity/getById`: one identity by primary key alone (the tenant is compared on the row, so
/// no planner prefers a tenant-wide index).
pub const GET_SQL: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM identities i",
    customer_join!(),
    " WHERE i.id = $1"
);

/// `identity/getByBvn`: the tenant's newest identity with the BVN's blind index (`$3`), found in
/// the `identities_bvn` index (which holds the whole order) and fetched by primary key.
pub const BY_BVN_SQL: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM identities i",
    customer_join!(),
    " WHERE i.id = (SELECT id FROM identities WHERE owner_id = $1 AND env = $2 AND bvn_idx = $3 \
     ORDER BY created_at DESC, id DESC LIMIT 1)"
);

/// `identity/getByNuban`: the identity this (bank, NUBAN) blind index (`$3`) was last verified as
/// (`identity_accounts`, by primary key), else the newest identity of the customer who holds that
/// account. The account is found by its
/// index alone (`accounts_nuban` leads with it) with the tenant tested inside the aggregate, and
/// the customer's identities by customer id alone (the customer is the tenant's): no tenant
/// predicate a planner could take for an index search over the whole tenant.
pub const BY_NUBAN_SQL: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM identities i",
    customer_join!(),
    " WHERE i.id = COALESCE(\
     (SELECT identity_id FROM identity_accounts WHERE owner_id = $1 AND env = $2 AND nuban_idx = $3), \
     (SELECT id FROM identities WHERE customer_id = \
      (SELECT MAX(CASE WHEN owner_id = $1 AND env = $2 THEN customer_id END) FROM accounts \
       WHERE nuban_idx = $3) \
      ORDER BY created_at DESC, id DESC LIMIT 1))"
);

/// An identity with the name of its customer, as the identity operations show it.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityView {
    /// The identity.
    pub identity: Identity,
    /// Its customer's name (`None` only if the customer row is missing).
    pub customer_name: Option<String>,
}

/// A row of a view statement before its sealed part is opened.
struct SealedView {
    owner_id: String,
    env: String,
    identity: Identity,
    pii: Vec<u8>,
    customer_name: Option<String>,
    total: Option<i64>,
}

impl SealedView {
    fn read(r: &dyn Columns) -> Result<Self> {
        Ok(SealedView {
            owner_id: r.text(1)?,
            env: r.text(2)?,
            identity: Identity {
                id: r.text(0)?,
                customer_id: r.text(3)?,
                record_id: r.opt_text(4)?,
                profile: IdentityProfile {
                    firstname: r.opt_text(5)?,
                    middlename: r.opt_text(6)?,
                    lastname: r.opt_text(7)?,
                    fullname: r.opt_text(8)?,
                    gender: r.opt_text(9)?,
                    nationality: r.opt_text(10)?,
                    lga_of_origin: r.opt_text(11)?,
                    lga_of_residence: r.opt_text(12)?,
                    state_of_origin: r.opt_text(13)?,
                    state_of_residence: r.opt_text(14)?,
                    marital_status: r.opt_text(15)?,
                    verification_country: r.text(16)?,
                    score: r.opt_int(17)?,
                    watch_listed: r.opt_int(18)?.map(|w| w != 0),
                    dti: r.opt_real(19)?,
                    rc_number: r.opt_text(20)?,
                    enrollment_bank: r.opt_text(21)?,
                    enrollment_branch: r.opt_text(22)?,
                    enrollment_date: r.opt_text(23)?,
                    pii: Default::default(),
                },
                created_at: r.int(25)?,
                last_updated: r.int(26)?,
            },
            pii: r.opt_blob(24)?.unwrap_or_default(),
            customer_name: r.opt_text(27)?,
            total: None,
        })
    }

    fn read_with_total(r: &dyn Columns) -> Result<Self> {
        let mut row = SealedView::read(r)?;
        row.total = r.opt_int(28)?;
        Ok(row)
    }

    fn of(&self, tenant: &Tenant) -> bool {
        self.owner_id == tenant.owner_id && self.env == tenant.env.as_str()
    }

    fn open(mut self, keyring: &Keyring) -> Result<IdentityView> {
        self.identity.profile.pii = serde_json::from_slice(&keyring.open(PII_CONTEXT, &self.pii)?)?;
        Ok(IdentityView {
            identity: self.identity,
            customer_name: self.customer_name,
        })
    }
}

/// Opens the first row when it is the tenant's.
fn one(
    keyring: &Keyring,
    tenant: &Tenant,
    row: Option<SealedView>,
) -> Result<Option<IdentityView>> {
    match row {
        Some(r) if r.of(tenant) => r.open(keyring).map(Some),
        _ => Ok(None),
    }
}

/// One identity by id with its customer's name, within the tenant: one statement ([`GET_SQL`]).
pub async fn get_view(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<IdentityView>> {
    let row = db
        .query_one(GET_SQL, vec![Param::from(id)], SealedView::read)
        .await?;
    one(keyring, tenant, row)
}

/// The tenant's newest identity with this BVN (blind index): one statement ([`BY_BVN_SQL`]).
pub async fn find_by_bvn(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    bvn: &str,
) -> Result<Option<IdentityView>> {
    let params = vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::from(bvn_index(keyring, bvn)),
    ];
    let row = db.query_one(BY_BVN_SQL, params, SealedView::read).await?;
    one(keyring, tenant, row)
}

/// The identity behind (bank, NUBAN), within the tenant: one statement ([`BY_NUBAN_SQL`]).
pub async fn find_by_nuban(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    bank_id: &str,
    nuban: &str,
) -> Result<Option<IdentityView>> {
    let params = vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::from(nuban_index(keyring, bank_id, nuban)),
    ];
    let row = db.query_one(BY_NUBAN_SQL, params, SealedView::read).await?;
    one(keyring, tenant, row)
}

/// Which identities a page lists (newest first, ties by id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityFilter {
    /// Every identity of the tenant (`products/identities`).
    All,
    /// A customer's (`identity/getByCustomer`).
    Customer(String),
    /// Created on these whole UTC days, both included (`identity/getByDate`).
    Dates {
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
    /// A customer's, created on these days (`identity/getByCustomerDate`).
    CustomerDates {
        /// Customer id.
        customer: String,
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
    /// Fetched by records whose options hold every (key, JSON-encoded value) pair
    /// (`identity/getByOptions`); at most [`MAX_OPTION_PAIRS`] pairs.
    Options(Vec<(String, String)>),
}

/// The shape of an identity page.
const SHAPE: PageShape = PageShape {
    table: "identities",
    alias: "i",
    columns: view_columns!(),
    joins: customer_join!(),
};

/// A page of the tenant's identities that `filter` narrows, newest first.
fn tenant_page(filter: &str, total: &str) -> PageSql {
    PageSql::new(
        &SHAPE,
        &format!("owner_id = $1 AND env = $2{filter}"),
        total,
        NEWEST_FIRST,
    )
}

/// A counter row of the tenant's identities (`$5` a customer, or the whole collection).
fn counter(customer: &str) -> String {
    format!(
        "(SELECT n FROM row_counts WHERE owner_id = $1 AND env = $2 \
         AND collection = 'identities' AND customer_id = {customer})"
    )
}

fn count_where(filter: &str) -> String {
    format!("(SELECT COUNT(*) FROM identities WHERE owner_id = $1 AND env = $2{filter})")
}

static ALL: LazyLock<PageSql> = LazyLock::new(|| tenant_page("", &counter("''")));
/// A customer's identities are named by customer id alone (`identities_customer` leads with it):
/// customer ids are unique across tenants, and each row's tenant is checked when it is read.
static CUSTOMER: LazyLock<PageSql> = LazyLock::new(|| {
    PageSql::new(&SHAPE, "customer_id = $5", &counter("$5"), NEWEST_FIRST).prepared()
});
static DATES: LazyLock<PageSql> = LazyLock::new(|| {
    tenant_page(
        " AND created_at >= $5 AND created_at <= $6",
        "(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM daily_row_counts \
         WHERE owner_id = $1 AND env = $2 AND collection = 'identities' AND day >= $7 AND day <= $8)",
    )
});
static CUSTOMER_DATES: LazyLock<PageSql> = LazyLock::new(|| {
    let scope = "customer_id = $5 AND created_at >= $6 AND created_at <= $7";
    // The tenant is tested inside the count, not in WHERE (see [`CUSTOMER`]).
    let total = format!(
        "(SELECT COUNT(CASE WHEN owner_id = $1 AND env = $2 THEN 1 END) FROM identities WHERE {scope})"
    );
    PageSql::new(&SHAPE, scope, &total, NEWEST_FIRST).prepared()
});
static OPTIONS: LazyLock<Vec<PageSql>> = LazyLock::new(|| {
    (1..=MAX_OPTION_PAIRS)
        .map(|n| {
            let filter = options_filter(n);
            let scope = format!("owner_id = $1 AND env = $2{filter}");
            PageSql::new(&SHAPE, &scope, &count_where(&filter), NEWEST_FIRST_SORTED)
        })
        .collect()
});

impl IdentityFilter {
    /// The statements of this filter's pages.
    pub fn sql(&self) -> &'static PageSql {
        match self {
            IdentityFilter::All => &ALL,
            IdentityFilter::Customer(_) => &CUSTOMER,
            IdentityFilter::Dates { .. } => &DATES,
            IdentityFilter::CustomerDates { .. } => &CUSTOMER_DATES,
            IdentityFilter::Options(pairs) => &OPTIONS[pairs.len().clamp(1, MAX_OPTION_PAIRS) - 1],
        }
    }

    /// The parameters after owner, env, limit and offset (`$5` on).
    fn params(&self) -> Vec<Param> {
        match self {
            IdentityFilter::All => Vec::new(),
            IdentityFilter::Customer(c) => vec![Param::from(c.as_str())],
            IdentityFilter::Dates { from, to } => date_params(*from, *to),
            IdentityFilter::CustomerDates { customer, from, to } => {
                customer_date_params(customer, *from, *to)
            }
            IdentityFilter::Options(pairs) => option_params(pairs),
        }
    }
}

/// One page of the tenant's identities matching `filter`, newest first, and the total: one
/// statement, and a second (the total alone) only for a page past the end.
pub async fn page(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    filter: &IdentityFilter,
    page: PageRequest,
) -> Result<(Vec<IdentityView>, u64)> {
    if let IdentityFilter::Options(pairs) = filter {
        if pairs.is_empty() || pairs.len() > MAX_OPTION_PAIRS {
            return Ok((Vec::new(), 0));
        }
    }
    let sql = filter.sql();
    let mut params = page_params(tenant, page);
    params.extend(filter.params());
    let mut rows = sql
        .rows(db, params.clone(), SealedView::read_with_total)
        .await?;
    rows.retain(|r| r.of(tenant));
    rows.sort_by(|a, b| {
        (b.identity.created_at, &b.identity.id).cmp(&(a.identity.created_at, &a.identity.id))
    });
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0),
        None => sql.total_alone(db, params).await?,
    };
    let views = rows
        .into_iter()
        .map(|r| r.open(keyring))
        .collect::<Result<_>>()?;
    Ok((views, total.max(0) as u64))
}
