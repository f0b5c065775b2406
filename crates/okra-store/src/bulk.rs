//! Multi-row inserts for bulk loads (`okra-server sandbox load`).
//!
//! Each table has a row type holding exactly the column values the single-row `insert` of its
//! module writes: sealed with the same [`Keyring`] contexts, blind-indexed with the same functions.
//! Rows are built with `*Row::new` (pure CPU, so a loader can seal on another thread while the
//! previous batch is written) and written with `insert_*` on a transaction connection, many rows
//! per statement. Rows written here are read back by the normal repository functions.
//!
//! Ids are chosen by the caller, so related rows of one batch can refer to each other before any
//! of them is written.

use std::collections::HashSet;

use serde_json::Value;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use crate::accounts::{nuban_index, NewAccount, NUBAN_CONTEXT};
use crate::balances::NewBalance;
use crate::crypto::Keyring;
use crate::customers::{normalise_digits, NewCustomer, BVN_CONTEXT, PII_CONTEXT, SANDBOX_CONTEXT};
use crate::error::Result;
use crate::identities::{IdentityProfile, PII_CONTEXT as IDENTITY_PII_CONTEXT};
use crate::records::NewRecord;
use crate::Tenant;

/// Bind parameters per statement: under SQLite's 32766 (and so PostgreSQL's 65535) limit.
const MAX_PARAMS: usize = 32_000;
/// Rows per statement at most, so one statement stays a few megabytes even for wide rows.
const MAX_ROWS: usize = 1_000;

/// A customer ready to insert (see `customers::insert`).
#[derive(Clone, Debug)]
pub struct CustomerRow {
    id: String,
    name: String,
    bvn_idx: Option<String>,
    bvn_enc: Option<Vec<u8>>,
    nin_idx: Option<String>,
    pii_enc: Vec<u8>,
    sandbox_enc: Option<Vec<u8>>,
    created_at: i64,
}

impl CustomerRow {
    /// Seals and indexes `new` as `customers::insert` does; `created_at` defaults to now.
    pub fn new(keyring: &Keyring, id: String, new: &NewCustomer) -> Result<Self> {
        let bvn = new.bvn.as_deref().map(normalise_digits);
        Ok(CustomerRow {
            id,
            name: new.name.clone(),
            bvn_idx: bvn.as_deref().map(|b| keyring.blind_index("bvn", b)),
            bvn_enc: bvn.as_deref().map(|b| keyring.seal_str(BVN_CONTEXT, b)),
            nin_idx: new
                .pii
                .nin
                .as_deref()
                .map(|n| keyring.blind_index("nin", &normalise_digits(n))),
            pii_enc: keyring.seal(PII_CONTEXT, &serde_json::to_vec(&new.pii)?),
            sandbox_enc: match &new.sandbox {
                Some(s) => Some(keyring.seal(SANDBOX_CONTEXT, &serde_json::to_vec(s)?)),
                None => None,
            },
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
        })
    }

    /// The customer id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The BVN blind index (what the unique index `customers_bvn` holds), if any.
    pub fn bvn_idx(&self) -> Option<&str> {
        self.bvn_idx.as_deref()
    }
}

/// A record ready to insert, with its option rows (see `records::insert`).
#[derive(Clone, Debug)]
pub struct RecordRow {
    id: String,
    customer_id: String,
    bank_id: String,
    link_id: Option<String>,
    products: String,
    options: String,
    option_rows: Vec<(String, String)>,
    meta: String,
    running: i64,
    completed: i64,
    product_status: String,
    callback_url: Option<String>,
    created_at: i64,
}

impl RecordRow {
    /// `new` as `records::insert` writes it: still running, no product status yet.
    pub fn new(id: String, new: &NewRecord) -> Result<Self> {
        Ok(RecordRow {
            id,
            customer_id: new.customer_id.clone(),
            bank_id: new.bank_id.clone(),
            link_id: new.link_id.clone(),
            products: serde_json::to_string(&new.products)?,
            options: Value::Object(new.options.clone()).to_string(),
            option_rows: new
                .options
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            meta: Value::Object(new.meta.clone()).to_string(),
            running: 1,
            completed: 0,
            product_status: "{}".into(),
            callback_url: new.callback_url.clone(),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
        })
    }

    /// Marks the record as processed: not running, completed, every requested product
    /// `{"status": "success", "last_success_at": at, "last_fail_at": null}` (the shape of the
    /// `product_status` column), for loads of connections whose data is already there.
    pub fn completed_at(mut self, at: i64) -> Self {
        let mut status = serde_json::Map::new();
        let products: Vec<String> = serde_json::from_str(&self.products).unwrap_or_default();
        for product in products {
            status.insert(
                product,
                serde_json::json!({"status": "success", "last_success_at": at, "last_fail_at": null}),
            );
        }
        self.running = 0;
        self.completed = 1;
        self.product_status = Value::Object(status).to_string();
        self
    }
}

/// An account ready to insert (see `accounts::insert`).
#[derive(Clone, Debug)]
pub struct AccountRow {
    id: String,
    customer_id: String,
    bank_id: String,
    record_id: String,
    name: String,
    nuban_enc: Vec<u8>,
    nuban_idx: String,
    account_type: String,
    currency: String,
    connected: i64,
    created_at: i64,
}

impl AccountRow {
    /// Seals and indexes `new` as `accounts::insert` does.
    pub fn new(keyring: &Keyring, id: String, new: &NewAccount) -> Self {
        AccountRow {
            id,
            customer_id: new.customer_id.clone(),
            bank_id: new.bank_id.clone(),
            record_id: new.record_id.clone(),
            name: new.name.clone(),
            nuban_enc: keyring.seal_str(NUBAN_CONTEXT, &new.nuban),
            nuban_idx: nuban_index(keyring, &new.bank_id, &new.nuban),
            account_type: new.account_type.clone(),
            currency: new.currency.clone(),
            connected: i64::from(new.connected),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
        }
    }

    /// The (bank, NUBAN) blind index (what the unique index `accounts_nuban` holds).
    pub fn nuban_idx(&self) -> &str {
        &self.nuban_idx
    }
}

/// An identity ready to insert (see `identities::insert`).
#[derive(Clone, Debug)]
pub struct IdentityRow {
    id: String,
    customer_id: String,
    record_id: Option<String>,
    bvn_idx: Option<String>,
    nin_idx: Option<String>,
    profile: IdentityProfile,
    pii_enc: Vec<u8>,
    created_at: i64,
}

impl IdentityRow {
    /// Seals and indexes `profile` as `identities::insert` does.
    pub fn new(
        keyring: &Keyring,
        id: String,
        customer_id: &str,
        record_id: Option<&str>,
        profile: IdentityProfile,
        created_at: Option<i64>,
    ) -> Result<Self> {
        let index = |domain: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| keyring.blind_index(domain, &normalise_digits(v)))
        };
        Ok(IdentityRow {
            id,
            customer_id: customer_id.to_string(),
            record_id: record_id.map(str::to_string),
            bvn_idx: index("bvn", &profile.pii.bvn),
            nin_idx: index("nin", &profile.pii.nin),
            pii_enc: keyring.seal(IDENTITY_PII_CONTEXT, &serde_json::to_vec(&profile.pii)?),
            profile,
            created_at: created_at.unwrap_or_else(okra_core::time::now_ms),
        })
    }
}

/// A balance ready to insert (see `balances::insert`).
#[derive(Clone, Debug)]
pub struct BalanceRow {
    id: String,
    account_id: String,
    customer_id: String,
    record_id: String,
    available_minor: Option<i64>,
    ledger_minor: Option<i64>,
    currency: String,
    periodic: String,
    created_at: i64,
}

impl BalanceRow {
    /// `new` as `balances::insert` writes it.
    pub fn new(id: String, new: &NewBalance) -> Self {
        Self::with_periodic_json(id, new, new.periodic.to_string())
    }

    /// As [`BalanceRow::new`] with `periodic` already serialised (its `periodic` field is
    /// ignored), so a loader need not build a `serde_json::Value` for every history entry.
    pub fn with_periodic_json(id: String, new: &NewBalance, periodic: String) -> Self {
        BalanceRow {
            id,
            account_id: new.account_id.clone(),
            customer_id: new.customer_id.clone(),
            record_id: new.record_id.clone(),
            available_minor: new.available_minor,
            ledger_minor: new.ledger_minor,
            currency: new.currency.clone(),
            periodic,
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
        }
    }
}

/// One column of a row tuple: a statement-wide parameter (`$1` owner, `$2` env) or the row's own
/// parameter `n` (0-based; one may fill two columns, as `created_at` fills `last_updated`).
#[derive(Clone, Copy)]
enum Slot {
    Shared(usize),
    Own(usize),
}
use Slot::{Own, Shared};

/// Statement-wide parameters: the tenant.
const SHARED: usize = 2;

/// `INSERT … VALUES (…), (…)` for `rows` rows of `tuple`, whose own parameters number `per_row`.
fn values_sql(head: &str, tuple: &[Slot], per_row: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * tuple.len() * 8);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for (i, slot) in tuple.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = match *slot {
                Shared(n) => n,
                Own(j) => SHARED + r * per_row + j + 1,
            };
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql
}

/// Rows per statement for a row of `per_row` own parameters.
fn chunk_rows(per_row: usize) -> usize {
    ((MAX_PARAMS - SHARED) / per_row).clamp(1, MAX_ROWS)
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Writes `rows` with as few statements as the parameter limits allow.
async fn insert_rows<'r, R>(
    conn: &mut AnyConnection,
    tenant: &'r Tenant,
    head: &str,
    tuple: &[Slot],
    rows: &'r [R],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q R) -> AnyQuery<'q>,
) -> Result<()> {
    let per_row = tuple
        .iter()
        .filter_map(|s| match s {
            Own(j) => Some(j + 1),
            Shared(_) => None,
        })
        .max()
        .unwrap_or(0);
    let full = chunk_rows(per_row);
    for chunk in rows.chunks(full) {
        let sql = values_sql(head, tuple, per_row, chunk.len());
        // Full chunks repeat the same text, so keep their prepared statement; a batch's tail has a
        // one-off size and would only churn the statement cache.
        let mut q = sqlx::query(&sql)
            .persistent(chunk.len() == full)
            .bind(tenant.owner_id.as_str())
            .bind(tenant.env.as_str());
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts customers on `conn` (inside the caller's transaction).
pub async fn insert_customers(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[CustomerRow],
) -> Result<()> {
    let head = "INSERT INTO customers (id, owner_id, env, name, bvn_idx, bvn_enc, nin_idx, pii_enc, sandbox_enc, created_at, last_updated)";
    let tuple = [
        Own(0),
        Shared(1),
        Shared(2),
        Own(1),
        Own(2),
        Own(3),
        Own(4),
        Own(5),
        Own(6),
        Own(7),
        Own(7),
    ];
    insert_rows(conn, tenant, head, &tuple, rows, |q, r| {
        q.bind(r.id.as_str())
            .bind(r.name.as_str())
            .bind(r.bvn_idx.as_deref())
            .bind(r.bvn_enc.as_deref())
            .bind(r.nin_idx.as_deref())
            .bind(r.pii_enc.as_slice())
            .bind(r.sandbox_enc.as_deref())
            .bind(r.created_at)
    })
    .await
}

/// Inserts records and their option rows on `conn`.
pub async fn insert_records(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[RecordRow],
) -> Result<()> {
    let head = "INSERT INTO records (id, owner_id, env, customer_id, bank_id, link_id, products, options, meta, running, completed, product_status, callback_url, created_at, last_updated)";
    let tuple = [
        Own(0),
        Shared(1),
        Shared(2),
        Own(1),
        Own(2),
        Own(3),
        Own(4),
        Own(5),
        Own(6),
        Own(7),
        Own(8),
        Own(9),
        Own(10),
        Own(11),
        Own(11),
    ];
    insert_rows(conn, tenant, head, &tuple, rows, |q, r| {
        q.bind(r.id.as_str())
            .bind(r.customer_id.as_str())
            .bind(r.bank_id.as_str())
            .bind(r.link_id.as_deref())
            .bind(r.products.as_str())
            .bind(r.options.as_str())
            .bind(r.meta.as_str())
            .bind(r.running)
            .bind(r.completed)
            .bind(r.product_status.as_str())
            .bind(r.callback_url.as_deref())
            .bind(r.created_at)
    })
    .await?;
    let options: Vec<(&str, &str, &str)> = rows
        .iter()
        .flat_map(|r| {
            r.option_rows
                .iter()
                .map(|(k, v)| (r.id.as_str(), k.as_str(), v.as_str()))
        })
        .collect();
    let head = "INSERT INTO record_options (record_id, owner_id, env, key, value)";
    let tuple = [Own(0), Shared(1), Shared(2), Own(1), Own(2)];
    insert_rows(conn, tenant, head, &tuple, &options, |q, r| {
        q.bind(r.0).bind(r.1).bind(r.2)
    })
    .await
}

/// Inserts accounts on `conn`.
pub async fn insert_accounts(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[AccountRow],
) -> Result<()> {
    let head = "INSERT INTO accounts (id, owner_id, env, customer_id, bank_id, record_id, name, nuban_enc, nuban_idx, type, currency, connected, created_at, last_updated)";
    let tuple = [
        Own(0),
        Shared(1),
        Shared(2),
        Own(1),
        Own(2),
        Own(3),
        Own(4),
        Own(5),
        Own(6),
        Own(7),
        Own(8),
        Own(9),
        Own(10),
        Own(10),
    ];
    insert_rows(conn, tenant, head, &tuple, rows, |q, r| {
        q.bind(r.id.as_str())
            .bind(r.customer_id.as_str())
            .bind(r.bank_id.as_str())
            .bind(r.record_id.as_str())
            .bind(r.name.as_str())
            .bind(r.nuban_enc.as_slice())
            .bind(r.nuban_idx.as_str())
            .bind(r.account_type.as_str())
            .bind(r.currency.as_str())
            .bind(r.connected)
            .bind(r.created_at)
    })
    .await
}

/// Inserts identities on `conn`.
pub async fn insert_identities(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[IdentityRow],
) -> Result<()> {
    let head = "INSERT INTO identities (id, owner_id, env, customer_id, record_id, bvn_idx, nin_idx, firstname, middlename, lastname, fullname, gender, nationality, \
         lga_of_origin, lga_of_residence, state_of_origin, state_of_residence, marital_status, verification_country, score, watch_listed, dti, rc_number, \
         enrollment_bank, enrollment_branch, enrollment_date, pii_enc, created_at, last_updated)";
    let mut tuple = vec![Own(0), Shared(1), Shared(2)];
    tuple.extend((1..=25).map(Own));
    tuple.push(Own(25));
    insert_rows(conn, tenant, head, &tuple, rows, |q, r| {
        let p = &r.profile;
        q.bind(r.id.as_str())
            .bind(r.customer_id.as_str())
            .bind(r.record_id.as_deref())
            .bind(r.bvn_idx.as_deref())
            .bind(r.nin_idx.as_deref())
            .bind(p.firstname.as_deref())
            .bind(p.middlename.as_deref())
            .bind(p.lastname.as_deref())
            .bind(p.fullname.as_deref())
            .bind(p.gender.as_deref())
            .bind(p.nationality.as_deref())
            .bind(p.lga_of_origin.as_deref())
            .bind(p.lga_of_residence.as_deref())
            .bind(p.state_of_origin.as_deref())
            .bind(p.state_of_residence.as_deref())
            .bind(p.marital_status.as_deref())
            .bind(p.verification_country.as_str())
            .bind(p.score)
            .bind(p.watch_listed.map(i64::from))
            .bind(p.dti)
            .bind(p.rc_number.as_deref())
            .bind(p.enrollment_bank.as_deref())
            .bind(p.enrollment_branch.as_deref())
            .bind(p.enrollment_date.as_deref())
            .bind(r.pii_enc.as_slice())
            .bind(r.created_at)
    })
    .await
}

/// Inserts balances on `conn`.
pub async fn insert_balances(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[BalanceRow],
) -> Result<()> {
    let head = "INSERT INTO balances (id, owner_id, env, account_id, customer_id, record_id, available_minor, ledger_minor, currency, periodic, created_at, last_updated)";
    let tuple = [
        Own(0),
        Shared(1),
        Shared(2),
        Own(1),
        Own(2),
        Own(3),
        Own(4),
        Own(5),
        Own(6),
        Own(7),
        Own(8),
        Own(8),
    ];
    insert_rows(conn, tenant, head, &tuple, rows, |q, r| {
        q.bind(r.id.as_str())
            .bind(r.account_id.as_str())
            .bind(r.customer_id.as_str())
            .bind(r.record_id.as_str())
            .bind(r.available_minor)
            .bind(r.ledger_minor)
            .bind(r.currency.as_str())
            .bind(r.periodic.as_str())
            .bind(r.created_at)
    })
    .await
}

/// Which of the given customer BVN blind indexes and account (bank, NUBAN) blind indexes the
/// tenant already has: a loader skips those people instead of breaking the unique indexes. One
/// query per few thousand values, so a batch costs one round trip, not one per person.
pub async fn existing_indexes(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    bvn_idxs: &[&str],
    nuban_idxs: &[&str],
) -> Result<HashSet<String>> {
    let mut found = HashSet::new();
    let lookups = [
        ("customers", "bvn_idx", bvn_idxs),
        ("accounts", "nuban_idx", nuban_idxs),
    ];
    for (table, column, values) in lookups {
        for chunk in values.chunks(MAX_PARAMS - SHARED) {
            let list: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", SHARED + i + 1))
                .collect();
            let sql = format!(
                "SELECT {column} FROM {table} WHERE owner_id = $1 AND env = $2 AND {column} IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query(&sql)
                .persistent(false)
                .bind(tenant.owner_id.as_str())
                .bind(tenant.env.as_str());
            for v in chunk {
                q = q.bind(*v);
            }
            for row in q.fetch_all(&mut *conn).await? {
                found.insert(row.try_get::<String, _>(0)?);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_sql_shares_the_tenant_and_numbers_rows() {
        let sql = values_sql(
            "INSERT INTO t (a, o, e, b, c)",
            &[Own(0), Shared(1), Shared(2), Own(1), Own(1)],
            2,
            2,
        );
        assert_eq!(
            sql,
            "INSERT INTO t (a, o, e, b, c) VALUES ($3, $1, $2, $4, $4), ($5, $1, $2, $6, $6)"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        for per_row in [3, 8, 9, 11, 12, 25, 26] {
            let rows = chunk_rows(per_row);
            assert!(SHARED + rows * per_row <= 32_766, "{per_row}");
            assert!(rows >= 1);
        }
    }
}
