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

use std::borrow::Borrow;
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
    new: NewCustomer,
    bvn_idx: Option<String>,
    bvn_enc: Option<Vec<u8>>,
    nin_idx: Option<String>,
    pii_enc: Vec<u8>,
    sandbox_enc: Option<Vec<u8>>,
    sandbox_login_idx: Option<String>,
    created_at: i64,
}

impl CustomerRow {
    /// Seals and indexes `new` as `customers::insert` does; `created_at` defaults to now.
    pub fn new(keyring: &Keyring, id: String, new: NewCustomer) -> Result<Self> {
        let bvn = new.bvn.as_deref().map(normalise_digits);
        let sandbox = new.sandbox.as_ref().map(serde_json::to_vec).transpose()?;
        Ok(CustomerRow {
            id,
            bvn_idx: bvn.as_deref().map(|b| keyring.blind_index("bvn", b)),
            bvn_enc: bvn.as_deref().map(|b| keyring.seal_str(BVN_CONTEXT, b)),
            nin_idx: new
                .pii
                .nin
                .as_deref()
                .map(|n| keyring.blind_index("nin", &normalise_digits(n))),
            pii_enc: keyring.seal(PII_CONTEXT, &serde_json::to_vec(&new.pii)?),
            sandbox_enc: sandbox.map(|s| keyring.seal(SANDBOX_CONTEXT, &s)),
            sandbox_login_idx: new
                .sandbox
                .as_ref()
                .map(|s| crate::customers::login_index(keyring, &s.username)),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
        })
    }

    /// The BVN blind index (what the unique index `customers_bvn` holds), if any.
    pub fn bvn_idx(&self) -> Option<&str> {
        self.bvn_idx.as_deref()
    }

    /// The login blind index (what the unique index `customers_sandbox_login` holds), if any.
    pub fn sandbox_login_idx(&self) -> Option<&str> {
        self.sandbox_login_idx.as_deref()
    }

    /// The customer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The customer as given to [`CustomerRow::new`].
    pub fn customer(&self) -> &NewCustomer {
        &self.new
    }
}

/// A record ready to insert, with its option rows (see `records::insert`).
#[derive(Clone, Debug)]
pub struct RecordRow {
    id: String,
    new: NewRecord,
    products: String,
    options: String,
    meta: String,
    running: i64,
    completed: i64,
    product_status: String,
    created_at: i64,
}

impl RecordRow {
    /// `new` as `records::insert` writes it: still running, no product status yet.
    pub fn new(id: String, new: NewRecord) -> Result<Self> {
        Ok(RecordRow {
            id,
            products: serde_json::to_string(&new.products)?,
            options: Value::Object(new.options.clone()).to_string(),
            meta: Value::Object(new.meta.clone()).to_string(),
            running: 1,
            completed: 0,
            product_status: "{}".into(),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
        })
    }

    /// Marks the record as processed: not running, completed, every requested product
    /// `{"status": "success", "last_success_at": at, "last_fail_at": null}` (the shape of the
    /// `product_status` column), for loads of connections whose data is already there.
    pub fn completed_at(mut self, at: i64) -> Self {
        let status: serde_json::Map<String, Value> = (self.new.products.iter())
            .map(|p| {
                let s = serde_json::json!({"status": "success", "last_success_at": at, "last_fail_at": null});
                (p.clone(), s)
            })
            .collect();
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
    new: NewAccount,
    nuban_enc: Vec<u8>,
    nuban_idx: String,
    created_at: i64,
}

impl AccountRow {
    /// Seals and indexes `new` as `accounts::insert` does.
    pub fn new(keyring: &Keyring, id: String, new: NewAccount) -> Self {
        AccountRow {
            id,
            nuban_enc: keyring.seal_str(NUBAN_CONTEXT, &new.nuban),
            nuban_idx: nuban_index(keyring, &new.bank_id, &new.nuban),
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
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
    new: NewBalance,
    periodic: String,
    created_at: i64,
}

impl BalanceRow {
    /// `new` as `balances::insert` writes it.
    pub fn new(id: String, new: NewBalance) -> Self {
        let periodic = new.periodic.to_string();
        Self::with_periodic_json(id, new, periodic)
    }

    /// As [`BalanceRow::new`] with `periodic` already serialised (`new.periodic` is ignored), so a
    /// loader need not build a `serde_json::Value` for each of the 60 entries of a history.
    pub fn with_periodic_json(id: String, mut new: NewBalance, periodic: String) -> Self {
        new.periodic = Value::Null;
        BalanceRow {
            id,
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            new,
            periodic,
        }
    }
}

/// `INSERT … VALUES (…), (…)` for `rows` rows of `columns` parameters each. SQLite gets anonymous
/// `?` placeholders: it resolves `$n` and `?n` through a linear list per parameter, which makes a
/// statement of thousands of them quadratic (seconds per statement); PostgreSQL gets `$n`.
fn values_sql(head: &str, columns: usize, rows: usize, numbered: bool) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 7);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if numbered {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// Rows per statement for rows of `columns` parameters.
fn chunk_rows(columns: usize) -> usize {
    (MAX_PARAMS / columns).clamp(1, MAX_ROWS)
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Writes `rows` with as few statements as the parameter limits allow. `head` names `columns`
/// columns starting with `owner_id, env` (bound here from the tenant); `bind` binds the rest of
/// one row, in order.
async fn insert_rows<'r, R>(
    conn: &mut AnyConnection,
    tenant: &'r Tenant,
    head: &str,
    columns: usize,
    rows: &'r [R],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q R) -> AnyQuery<'q>,
) -> Result<()> {
    let numbered = conn.backend_name() != "SQLite";
    let full = chunk_rows(columns);
    for chunk in rows.chunks(full) {
        let sql = values_sql(head, columns, chunk.len(), numbered);
        // Full chunks repeat the same text, so keep their prepared statement; a batch's tail has a
        // one-off size and would only churn the statement cache.
        // Single rows (the repositories' inserts) have one stable shape too.
        let mut q = sqlx::query(&sql).persistent(chunk.len() == full || chunk.len() == 1);
        for row in chunk {
            q = bind(
                q.bind(tenant.owner_id.as_str()).bind(tenant.env.as_str()),
                row,
            );
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts customers on `conn` (inside the caller's transaction).
pub async fn insert_customers<R: Borrow<CustomerRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let head = "INSERT INTO customers (owner_id, env, id, name, bvn_idx, bvn_enc, nin_idx, pii_enc, sandbox_enc, sandbox_login_idx, sandbox_person, created_at, last_updated)";
    insert_rows(conn, tenant, head, 13, rows, |q, r| {
        let r = r.borrow();
        q.bind(r.id.as_str())
            .bind(r.new.name.as_str())
            .bind(r.bvn_idx.as_deref())
            .bind(r.bvn_enc.as_deref())
            .bind(r.nin_idx.as_deref())
            .bind(r.pii_enc.as_slice())
            .bind(r.sandbox_enc.as_deref())
            .bind(r.sandbox_login_idx.as_deref())
            .bind(r.new.sandbox_person)
            .bind(r.created_at)
            .bind(r.created_at)
    })
    .await
}

/// Inserts records and their option rows on `conn`.
pub async fn insert_records<R: Borrow<RecordRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let head = "INSERT INTO records (owner_id, env, id, customer_id, bank_id, link_id, products, options, meta, running, completed, product_status, callback_url, created_at, last_updated)";
    insert_rows(conn, tenant, head, 15, rows, |q, r| {
        let r = r.borrow();
        q.bind(r.id.as_str())
            .bind(r.new.customer_id.as_str())
            .bind(r.new.bank_id.as_str())
            .bind(r.new.link_id.as_deref())
            .bind(r.products.as_str())
            .bind(r.options.as_str())
            .bind(r.meta.as_str())
            .bind(r.running)
            .bind(r.completed)
            .bind(r.product_status.as_str())
            .bind(r.new.callback_url.as_deref())
            .bind(r.created_at)
            .bind(r.created_at)
    })
    .await?;
    let options: Vec<(&str, &str, String)> = rows
        .iter()
        .flat_map(|r| {
            let r = r.borrow();
            r.new
                .options
                .iter()
                .map(|(k, v)| (r.id.as_str(), k.as_str(), v.to_string()))
        })
        .collect();
    let head = "INSERT INTO record_options (owner_id, env, record_id, key, value)";
    insert_rows(conn, tenant, head, 5, &options, |q, r| {
        q.bind(r.0).bind(r.1).bind(r.2.as_str())
    })
    .await
}

/// Inserts accounts on `conn`.
pub async fn insert_accounts<R: Borrow<AccountRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let head = "INSERT INTO accounts (owner_id, env, id, customer_id, bank_id, record_id, name, nuban_enc, nuban_idx, type, currency, connected, created_at, last_updated)";
    insert_rows(conn, tenant, head, 14, rows, |q, r| {
        let r = r.borrow();
        q.bind(r.id.as_str())
            .bind(r.new.customer_id.as_str())
            .bind(r.new.bank_id.as_str())
            .bind(r.new.record_id.as_str())
            .bind(r.new.name.as_str())
            .bind(r.nuban_enc.as_slice())
            .bind(r.nuban_idx.as_str())
            .bind(r.new.account_type.as_str())
            .bind(r.new.currency.as_str())
            .bind(i64::from(r.new.connected))
            .bind(r.created_at)
            .bind(r.created_at)
    })
    .await
}

/// Inserts identities on `conn`.
pub async fn insert_identities<R: Borrow<IdentityRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let head = "INSERT INTO identities (owner_id, env, id, customer_id, record_id, bvn_idx, nin_idx, firstname, middlename, lastname, fullname, gender, nationality, \
         lga_of_origin, lga_of_residence, state_of_origin, state_of_residence, marital_status, verification_country, score, watch_listed, dti, rc_number, \
         enrollment_bank, enrollment_branch, enrollment_date, pii_enc, created_at, last_updated)";
    insert_rows(conn, tenant, head, 29, rows, |q, r| {
        let r = r.borrow();
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
            .bind(r.created_at)
    })
    .await
}

/// Inserts balances on `conn`.
pub async fn insert_balances<R: Borrow<BalanceRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    let head = "INSERT INTO balances (owner_id, env, id, account_id, customer_id, record_id, available_minor, ledger_minor, currency, periodic, created_at, last_updated)";
    insert_rows(conn, tenant, head, 12, rows, |q, r| {
        let r = r.borrow();
        q.bind(r.id.as_str())
            .bind(r.new.account_id.as_str())
            .bind(r.new.customer_id.as_str())
            .bind(r.new.record_id.as_str())
            .bind(r.new.available_minor)
            .bind(r.new.ledger_minor)
            .bind(r.new.currency.as_str())
            .bind(r.periodic.as_str())
            .bind(r.created_at)
            .bind(r.created_at)
    })
    .await
}

/// Prepares a connection for bulk writes; a no-op on PostgreSQL. On SQLite: a 128 MB page cache
/// (the default 2 MB spills index pages to the WAL in the middle of every batch), statement
/// journals in memory, and checkpoints every 64 MB of WAL rather than 4 MB (index pages that
/// every batch touches are then copied back once per checkpoint, not once per batch). The
/// settings stay on the pooled connection, which only makes it use more memory.
pub async fn tune_connection(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "SQLite" {
        sqlx::raw_sql(
            "PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16384;",
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Which of the given customer BVN blind indexes and account (bank, NUBAN) blind indexes the
/// tenant already has: a loader skips those people instead of breaking the unique indexes. One
/// query per table and few thousand values, so a batch costs two round trips, not one per person.
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
    let numbered = conn.backend_name() != "SQLite";
    for (table, column, values) in lookups {
        for chunk in values.chunks(MAX_PARAMS - 2) {
            // As in `values_sql`: anonymous placeholders on SQLite.
            let list: Vec<String> = (0..chunk.len())
                .map(|i| {
                    if numbered {
                        format!("${}", i + 3)
                    } else {
                        "?".into()
                    }
                })
                .collect();
            let (owner, env) = if numbered { ("$1", "$2") } else { ("?", "?") };
            let sql = format!(
                "SELECT {column} FROM {table} WHERE owner_id = {owner} AND env = {env} AND {column} IN ({})",
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
    fn values_sql_numbers_for_postgres_and_not_for_sqlite() {
        let head = "INSERT INTO t (a, b)";
        assert_eq!(
            values_sql(head, 2, 2, true),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            values_sql(head, 2, 2, false),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        for columns in [5, 11, 12, 14, 15, 29] {
            let rows = chunk_rows(columns);
            assert!(rows * columns <= 32_766, "{columns}");
            assert!(rows >= 1);
        }
    }
}
