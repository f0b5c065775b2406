//! The balance reads (`balance/*`, `products/balances`), each one statement on the one-trip path
//! ([`Db::query`]): the balance with its account (name, sealed NUBAN, bank, connected), its
//! customer's name and its record's processing state, and for a page the page's total. The layout
//! is the identities' (`identities::reads`): ids from one index, rows by primary key, totals from
//! counter rows or a count bounded by the filter's own index range.

use std::sync::LazyLock;

use okra_core::pagination::PageRequest;
use time::Date;

use super::{history_from_column, Balance};
use crate::counters;
use crate::db::Db;
use crate::error::Result;
use crate::read::{
    customer_date_params, date_params, option_params, options_filter, page_params, Columns,
    PageShape, Param, NEWEST_FIRST, NEWEST_FIRST_SORTED,
};
pub use crate::read::{PageSql, MAX_OPTION_PAIRS};
use crate::Tenant;

/// The columns of a balance view: `b` the balance, `a` its account, `c` its customer, `r` its
/// record.
macro_rules! view_columns {
    () => {
        "b.id, b.owner_id, b.env, b.account_id, b.customer_id, b.record_id, b.available_minor, \
         b.ledger_minor, b.currency, b.periodic, b.created_at, b.last_updated, a.name, \
         a.nuban_enc, a.bank_id, a.connected, c.name, r.running, r.completed"
    };
}

/// The balance's account, customer and record, each by primary key.
macro_rules! joins {
    () => {
        " LEFT JOIN accounts a ON a.id = b.account_id LEFT JOIN customers c ON c.id = b.customer_id \
         LEFT JOIN records r ON r.id = b.record_id"
    };
}

/// `balance/getById`: one balance by primary key alone (the tenant is compared on the row).
pub const GET_SQL: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM balances b",
    joins!(),
    " WHERE b.id = $1"
);

/// A balance with what the Balance object shows of its account, customer and record.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceView {
    /// The balance.
    pub balance: Balance,
    /// Owner of the balance.
    pub owner_id: String,
    /// Its account's name.
    pub account_name: Option<String>,
    /// Its account's NUBAN, still sealed (`accounts::NUBAN_CONTEXT`): the caller opens it.
    pub nuban_enc: Option<Vec<u8>>,
    /// Its account's bank id.
    pub bank_id: Option<String>,
    /// Whether the account is connected.
    pub connected: bool,
    /// Its customer's name.
    pub customer_name: Option<String>,
    /// Its record's processing state: (running, completed).
    pub record_state: Option<(bool, bool)>,
}

struct Row {
    env: String,
    view: BalanceView,
    total: Option<i64>,
}

impl Row {
    fn read(r: &dyn Columns) -> Result<Self> {
        let running = r.opt_int(17)?;
        let completed = r.opt_int(18)?;
        Ok(Row {
            env: r.text(2)?,
            view: BalanceView {
                balance: Balance {
                    id: r.text(0)?,
                    account_id: r.text(3)?,
                    customer_id: r.text(4)?,
                    record_id: r.text(5)?,
                    available_minor: r.opt_int(6)?,
                    ledger_minor: r.opt_int(7)?,
                    currency: r.text(8)?,
                    history: history_from_column(&r.text(9)?)?,
                    created_at: r.int(10)?,
                    last_updated: r.int(11)?,
                },
                owner_id: r.text(1)?,
                account_name: r.opt_text(12)?,
                nuban_enc: r.opt_blob(13)?,
                bank_id: r.opt_text(14)?,
                connected: r.opt_int(15)?.unwrap_or(0) != 0,
                customer_name: r.opt_text(16)?,
                record_state: running.zip(completed).map(|(a, b)| (a != 0, b != 0)),
            },
            total: None,
        })
    }

    fn read_with_total(r: &dyn Columns) -> Result<Self> {
        let mut row = Row::read(r)?;
        row.total = r.opt_int(19)?;
        Ok(row)
    }

    fn of(&self, tenant: &Tenant) -> bool {
        self.view.owner_id == tenant.owner_id && self.env == tenant.env.as_str()
    }
}

/// One balance by id, within the tenant: one statement ([`GET_SQL`]).
pub async fn get_view(db: &Db, tenant: &Tenant, id: &str) -> Result<Option<BalanceView>> {
    let row = db
        .query_one(GET_SQL, vec![Param::from(id)], Row::read)
        .await?;
    Ok(row.filter(|r| r.of(tenant)).map(|r| r.view))
}

/// Which balances a page lists (newest first, ties by id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BalanceFilter {
    /// Every balance of the tenant (`products/balances`).
    All,
    /// An account's (`balance/getByAccount`).
    Account(String),
    /// A customer's (`balance/getByCustomer`).
    Customer(String),
    /// Created on these whole UTC days, both included (`balance/getByDate`).
    Dates {
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
    /// A customer's, created on these days (`balance/getByCustomerDate`).
    CustomerDates {
        /// Customer id.
        customer: String,
        /// First day.
        from: Date,
        /// Last day.
        to: Date,
    },
    /// Fetched by records whose options hold every (key, JSON-encoded value) pair
    /// (`balance/getByOptions`); at most [`MAX_OPTION_PAIRS`] pairs.
    Options(Vec<(String, String)>),
    /// Whose `kind` amount is at least `minor` (`balance/getByType`), listed largest first (ties
    /// by id, newest id first): the order its index holds, so a page never sorts the matches.
    AtLeast {
        /// Which amount.
        kind: AmountKind,
        /// The least amount, in minor units.
        minor: i64,
    },
}

/// The amount `balance/getByType` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountKind {
    /// `available_balance`.
    Available,
    /// `ledger_balance`.
    Ledger,
}

impl AmountKind {
    /// The request's name of the amount.
    pub fn parse(s: &str) -> Option<AmountKind> {
        match s {
            "available_balance" => Some(AmountKind::Available),
            "ledger_balance" => Some(AmountKind::Ledger),
            _ => None,
        }
    }
}

/// The shape of a balance page.
const SHAPE: PageShape = PageShape {
    table: "balances",
    alias: "b",
    columns: view_columns!(),
    joins: joins!(),
};

/// A counter row of the tenant's balances (`customer`: `$5` or `''`).
fn counter(customer: &str) -> String {
    format!(
        "(SELECT n FROM row_counts WHERE owner_id = $1 AND env = $2 \
         AND collection = 'balances' AND customer_id = {customer})"
    )
}

/// A count of the rows `scope` names, the tenant tested inside the count (not in WHERE, so no
/// planner takes it for an index search over the tenant).
fn tenant_count(scope: &str) -> String {
    format!("(SELECT COUNT(CASE WHEN owner_id = $1 AND env = $2 THEN 1 END) FROM balances WHERE {scope})")
}

static ALL: LazyLock<PageSql> = LazyLock::new(|| {
    PageSql::new(
        &SHAPE,
        "owner_id = $1 AND env = $2",
        &counter("''"),
        NEWEST_FIRST,
    )
});
/// An account's and a customer's balances are named by account or customer id alone (ids are
/// unique across tenants; each row's tenant is checked when it is read).
static ACCOUNT: LazyLock<PageSql> = LazyLock::new(|| {
    let scope = "account_id = $5";
    PageSql::new(&SHAPE, scope, &tenant_count(scope), NEWEST_FIRST).prepared()
});
static CUSTOMER: LazyLock<PageSql> = LazyLock::new(|| {
    PageSql::new(&SHAPE, "customer_id = $5", &counter("$5"), NEWEST_FIRST).prepared()
});
static DATES: LazyLock<PageSql> = LazyLock::new(|| {
    PageSql::new(
        &SHAPE,
        "owner_id = $1 AND env = $2 AND created_at >= $5 AND created_at <= $6",
        "(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM daily_row_counts \
         WHERE owner_id = $1 AND env = $2 AND collection = 'balances' AND day >= $7 AND day <= $8)",
        NEWEST_FIRST,
    )
});
static CUSTOMER_DATES: LazyLock<PageSql> = LazyLock::new(|| {
    let scope = "customer_id = $5 AND created_at >= $6 AND created_at <= $7";
    PageSql::new(&SHAPE, scope, &tenant_count(scope), NEWEST_FIRST).prepared()
});
static OPTIONS: LazyLock<Vec<PageSql>> = LazyLock::new(|| {
    (1..=MAX_OPTION_PAIRS)
        .map(|n| {
            // By record alone: the records come from the tenant's option rows, so no tenant
            // predicate on balances is left for a planner to take for a walk of the tenant.
            let filter = options_filter(n);
            let scope = filter.trim_start_matches(" AND ").to_string();
            let total = format!("(SELECT COUNT(*) FROM balances WHERE {scope})");
            PageSql::new(&SHAPE, &scope, &total, NEWEST_FIRST_SORTED)
        })
        .collect()
});

/// A tenant's balances whose amount `column` (named `name` in its index and its counters) is at
/// least `$5`, largest first: the ids walk the amount's index (`owner:env:name`, amount, id)
/// backwards from the top. The total adds the amount-bucket counters above `$5`'s bucket (`$6`,
/// [`counters::amount_bucket`]) to a count of `$5`'s own bucket in the index (`$5` to `$7`, the
/// bucket's top): a few counter rows and at most a thousandth of a decade of index entries,
/// however many balances match. The tenant is named only through the index's own expression, so
/// neither the plain tenant index (`balances_page`) nor the other amount's index can serve the
/// search, and no amount index a page of the tenant alone.
fn at_least(column: &str, name: &str) -> PageSql {
    let tenant = format!("(owner_id || ':' || env || ':{name}') = ($1 || ':' || $2 || ':{name}')");
    let scope = format!("{tenant} AND {column} >= $5");
    let total = format!(
        "(CAST((SELECT COALESCE(SUM(n), 0) FROM balance_amount_counts WHERE owner_id = $1 \
         AND env = $2 AND kind = '{name}' AND bucket > $6) AS BIGINT) \
         + (SELECT COUNT(*) FROM balances WHERE {tenant} AND {column} >= $5 AND {column} <= $7))"
    );
    let order = format!("{column} DESC, id DESC");
    PageSql::new(&SHAPE, &scope, &total, &order)
}

static AVAILABLE_AT_LEAST: LazyLock<PageSql> =
    LazyLock::new(|| at_least("available_minor", counters::AVAILABLE));
static LEDGER_AT_LEAST: LazyLock<PageSql> =
    LazyLock::new(|| at_least("ledger_minor", counters::LEDGER));

impl BalanceFilter {
    /// The statements of this filter's pages.
    pub fn sql(&self) -> &'static PageSql {
        match self {
            BalanceFilter::All => &ALL,
            BalanceFilter::Account(_) => &ACCOUNT,
            BalanceFilter::Customer(_) => &CUSTOMER,
            BalanceFilter::Dates { .. } => &DATES,
            BalanceFilter::CustomerDates { .. } => &CUSTOMER_DATES,
            BalanceFilter::Options(pairs) => &OPTIONS[pairs.len().clamp(1, MAX_OPTION_PAIRS) - 1],
            BalanceFilter::AtLeast { kind, .. } => match kind {
                AmountKind::Available => &AVAILABLE_AT_LEAST,
                AmountKind::Ledger => &LEDGER_AT_LEAST,
            },
        }
    }

    fn params(&self) -> Vec<Param> {
        match self {
            BalanceFilter::All => Vec::new(),
            BalanceFilter::Account(id) | BalanceFilter::Customer(id) => {
                vec![Param::from(id.as_str())]
            }
            BalanceFilter::Dates { from, to } => date_params(*from, *to),
            BalanceFilter::CustomerDates { customer, from, to } => {
                customer_date_params(customer, *from, *to)
            }
            BalanceFilter::Options(pairs) => option_params(pairs),
            BalanceFilter::AtLeast { minor, .. } => vec![
                Param::Int(*minor),
                Param::Int(counters::amount_bucket(*minor)),
                Param::Int(counters::bucket_top(*minor)),
            ],
        }
    }

    /// The order of this filter's pages, as a key to sort a page's rows by (descending): the rows
    /// of a page come back by primary key, in no order.
    fn sort_key(&self, b: &Balance) -> (i64, String) {
        match self {
            BalanceFilter::AtLeast { kind, .. } => {
                let amount = match kind {
                    AmountKind::Available => b.available_minor,
                    AmountKind::Ledger => b.ledger_minor,
                };
                (amount.unwrap_or(i64::MIN), b.id.clone())
            }
            _ => (b.created_at, b.id.clone()),
        }
    }
}

/// One page of the tenant's balances matching `filter`, newest first, and the total: one
/// statement, and a second (the total alone) only for a page past the end.
pub async fn page(
    db: &Db,
    tenant: &Tenant,
    filter: &BalanceFilter,
    page: PageRequest,
) -> Result<(Vec<BalanceView>, u64)> {
    if let BalanceFilter::Options(pairs) = filter {
        if pairs.is_empty() || pairs.len() > MAX_OPTION_PAIRS {
            return Ok((Vec::new(), 0));
        }
    }
    let sql = filter.sql();
    let mut params = page_params(tenant, page);
    params.extend(filter.params());
    let mut rows = sql.rows(db, params.clone(), Row::read_with_total).await?;
    rows.retain(|r| r.of(tenant));
    rows.sort_by(|a, b| {
        let key = |r: &Row| filter.sort_key(&r.view.balance);
        key(b).cmp(&key(a))
    });
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0),
        None => sql.total_alone(db, params).await?,
    };
    Ok((
        rows.into_iter().map(|r| r.view).collect(),
        total.max(0) as u64,
    ))
}
