//! Records: one per connection (link), holding the requested products, custom `options` and `meta`.
//! Options are also written one row per key to `record_options` so `getByOptions` is an index lookup.

use std::borrow::Borrow;

use okra_core::id::new_id;
use serde_json::{Map, Value};
use sqlx::AnyConnection;

use crate::db::Db;
use crate::error::Result;
use crate::loader::Batch;
use crate::multirow::{self, Counted, SqlValue};
use crate::read::{Columns, Param};
use crate::Tenant;

/// A record to create.
#[derive(Clone, Debug, Default)]
pub struct NewRecord {
    /// The connected customer.
    pub customer_id: String,
    /// The bank connected to.
    pub bank_id: String,
    /// The link session, if any.
    pub link_id: Option<String>,
    /// Requested products (`auth`, `identity`, `balance`, `accounts`).
    pub products: Vec<String>,
    /// Custom ids given when linking.
    pub options: Map<String, Value>,
    /// Free metadata given when linking.
    pub meta: Map<String, Value>,
    /// Where webhooks for this record go.
    pub callback_url: Option<String>,
    /// Ids of the accounts this connection brought.
    pub accounts: Vec<String>,
    /// Creation time (ms); now when `None`.
    pub created_at: Option<i64>,
}

/// A stored record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Record id.
    pub id: String,
    /// Customer id.
    pub customer_id: String,
    /// Bank id.
    pub bank_id: String,
    /// Requested products.
    pub products: Vec<String>,
    /// Custom ids.
    pub options: Map<String, Value>,
    /// Metadata.
    pub meta: Map<String, Value>,
    /// Processing still running.
    pub running: bool,
    /// Processing finished.
    pub completed: bool,
    /// Per-product status JSON.
    pub product_status: Value,
    /// Webhook URL.
    pub callback_url: Option<String>,
    /// The link session, if any.
    pub link_id: Option<String>,
    /// Ids of the accounts this connection brought (`None` for records written before the column).
    pub accounts: Option<Vec<String>>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts a record and its option rows on `conn`. Returns the record id. The row is built by
/// [`RecordRow`] and written by [`insert_rows`], as bulk loads are.
pub async fn insert(conn: &mut AnyConnection, tenant: &Tenant, new: &NewRecord) -> Result<String> {
    let id = new_id();
    let row = RecordRow::new(id.clone(), new.clone())?;
    insert_rows(conn, tenant, &[row]).await?;
    Ok(id)
}

/// The columns [`insert_rows`] writes, in bind order (`owner_id, env` bound by the helper).
const INSERT: &str = "INSERT INTO records (owner_id, env, id, customer_id, bank_id, link_id, products, options, meta, running, completed, product_status, callback_url, accounts, created_at, last_updated)";
/// Parameters per row of [`INSERT`].
const INSERT_COLUMNS: usize = 16;
/// The option rows written with each record (one per `options` key, for `getByOptions`).
const INSERT_OPTIONS: &str = "INSERT INTO record_options (owner_id, env, record_id, key, value)";

/// A record ready to insert, with its option rows: the column values [`insert`] writes, with an
/// id chosen by the caller (so a bulk load can refer to it before it is written).
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
    accounts: String,
    created_at: i64,
    /// `(key, value)` of each option row, the value as JSON text.
    option_rows: Vec<(String, String)>,
}

impl RecordRow {
    /// `new` as [`insert`] writes it: still running, no product status yet.
    pub fn new(id: String, new: NewRecord) -> Result<Self> {
        Ok(RecordRow {
            id,
            products: serde_json::to_string(&new.products)?,
            options: Value::Object(new.options.clone()).to_string(),
            meta: Value::Object(new.meta.clone()).to_string(),
            running: 1,
            completed: 0,
            product_status: "{}".into(),
            accounts: serde_json::to_string(&new.accounts)?,
            created_at: new.created_at.unwrap_or_else(okra_core::time::now_ms),
            option_rows: (new.options.iter())
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            new,
        })
    }

    /// Marks the record as processed: not running, completed, every requested product
    /// `{"status": "success", "last_success_at": at, "last_fail_at": null}` (the shape of the
    /// `product_status` column), for loads of connections whose data is already there.
    pub fn completed_at(mut self, at: i64) -> Self {
        let status: Map<String, Value> = (self.new.products.iter())
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

impl RecordRow {
    /// The record's values after `owner_id` and `env`, in the order of [`INSERT`].
    fn values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        out.extend([
            SqlValue::from(self.id.as_str()),
            SqlValue::from(self.new.customer_id.as_str()),
            SqlValue::from(self.new.bank_id.as_str()),
            SqlValue::from(self.new.link_id.as_deref()),
            SqlValue::from(self.products.as_str()),
            SqlValue::from(self.options.as_str()),
            SqlValue::from(self.meta.as_str()),
            SqlValue::from(self.running),
            SqlValue::from(self.completed),
            SqlValue::from(self.product_status.as_str()),
            SqlValue::from(self.new.callback_url.as_deref()),
            SqlValue::from(self.accounts.as_str()),
            SqlValue::from(self.created_at),
            SqlValue::from(self.created_at),
        ]);
    }

    /// The values of each option row after `owner_id` and `env` ([`INSERT_OPTIONS`]).
    fn option_values<'a>(&'a self, out: &mut Vec<SqlValue<'a>>) {
        for (key, value) in &self.option_rows {
            out.extend([
                SqlValue::from(self.id.as_str()),
                SqlValue::from(key.as_str()),
                SqlValue::from(value.as_str()),
            ]);
        }
    }

    fn counted(&self) -> Counted<'_> {
        Counted {
            collection: crate::counters::RECORDS,
            customer: Some(&self.new.customer_id),
            created_at: self.created_at,
            amounts: None,
        }
    }
}

/// Inserts records and their option rows on `conn` (inside the caller's transaction), many rows
/// per statement. [`RecordRow`] does not implement [`multirow::InsertRow`] on purpose: a record
/// written without its option rows would be missing from `getByOptions`.
pub async fn insert_rows<R: Borrow<RecordRow>>(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    rows: &[R],
) -> Result<()> {
    multirow::insert_rows(conn, tenant, INSERT, INSERT_COLUMNS, rows, |mut q, r| {
        let mut values = Vec::with_capacity(INSERT_COLUMNS);
        r.borrow().values(&mut values);
        for v in values {
            q = multirow::bind_value(q, v);
        }
        q
    })
    .await?;
    crate::counters::add(conn, tenant, rows.iter().map(|r| r.borrow().counted())).await?;
    let options: Vec<&RecordRow> = (rows.iter().map(Borrow::borrow))
        .filter(|r| !r.option_rows.is_empty())
        .collect();
    let mut values = Vec::new();
    for r in &options {
        r.option_values(&mut values);
    }
    let rows: Vec<&[SqlValue<'_>]> = values.chunks(3).collect();
    multirow::insert_rows(conn, tenant, INSERT_OPTIONS, 5, &rows, |mut q, r| {
        for v in r.iter() {
            q = multirow::bind_value(q, *v);
        }
        q
    })
    .await
}

/// Adds records and their option rows to a bulk load's batch ([`crate::loader`]), with their
/// counters: the same values [`insert_rows`] writes.
pub fn push_rows<'a>(batch: &mut Batch<'a>, rows: impl IntoIterator<Item = &'a RecordRow>) {
    let mut values = Vec::new();
    let mut options = Vec::new();
    let mut counted = Vec::new();
    for r in rows {
        r.values(&mut values);
        r.option_values(&mut options);
        counted.push(r.counted());
    }
    batch.push_values(INSERT, INSERT_COLUMNS, values, counted);
    batch.push_values(INSERT_OPTIONS, 5, options, []);
}

fn object(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// `records/getById`: one record by primary key alone (`$1`), with its owner and environment,
/// which the caller compares with the tenant: the id is the only predicate, so no planner, with
/// any statistics, can prefer a tenant index. Public for the plan tests.
pub const GET_SQL: &str = "SELECT id, owner_id, env, customer_id, bank_id, link_id, products, options, meta, running, completed, product_status, callback_url, accounts, created_at, last_updated \
     FROM records WHERE id = $1";

/// The columns of [`GET_SQL`], in its order: every read of a whole record selects these and maps
/// them with [`record_from_columns`].
const COLUMNS: &str = "id, owner_id, env, customer_id, bank_id, link_id, products, options, meta, running, completed, product_status, callback_url, accounts, created_at, last_updated";

/// One record by id, within the tenant (another tenant's record is `None`, like a missing one):
/// one statement in one trip ([`Db::query_one`]).
pub async fn get(db: &Db, tenant: &Tenant, id: &str) -> Result<Option<Record>> {
    let row = db
        .query_one(GET_SQL, vec![Param::from(id)], |c| {
            Ok((c.text(1)?, c.text(2)?, record_from_columns(c)?))
        })
        .await?;
    Ok(row
        .filter(|(owner, env, _)| *owner == tenant.owner_id && env == tenant.env.as_str())
        .map(|(_, _, record)| record))
}

/// A record from the columns of [`COLUMNS`], by position.
fn record_from_columns(c: &dyn Columns) -> Result<Record> {
    let accounts = c.opt_text(13)?;
    Ok(Record {
        id: c.text(0)?,
        customer_id: c.text(3)?,
        bank_id: c.text(4)?,
        link_id: c.opt_text(5)?,
        products: serde_json::from_str(&c.text(6)?)?,
        options: object(&c.text(7)?)?,
        meta: object(&c.text(8)?)?,
        running: c.int(9)? != 0,
        completed: c.int(10)? != 0,
        product_status: serde_json::from_str(&c.text(11)?)?,
        callback_url: c.opt_text(12)?,
        accounts: accounts.map(|a| serde_json::from_str(&a)).transpose()?,
        created_at: c.int(14)?,
        last_updated: c.int(15)?,
    })
}

/// One record by id on `conn`, locked for the rest of the caller's transaction (`FOR UPDATE` on
/// PostgreSQL; SQLite's write transactions are exclusive already), so two jobs of one record
/// cannot both read its product status and each write back their own half.
pub async fn get_for_update(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<Record>> {
    let lock = match crate::db::backend_of(conn) {
        crate::db::Backend::Postgres => " FOR UPDATE",
        crate::db::Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM records WHERE id = $1 AND owner_id = $2 AND env = $3{lock}"
    ))
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| record_from_columns(r as &dyn Columns))
        .transpose()
}

/// The outcome of one product of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductOutcome {
    /// Fetched and stored.
    Success,
    /// The source refused or failed for good.
    Failed,
}

impl Record {
    /// The stored status of `product` (`"success"`, `"failed"`), if it has finished.
    pub fn product_state(&self, product: &str) -> Option<&str> {
        self.product_status.get(product)?.get("status")?.as_str()
    }

    /// Records `outcome` for `product` at `at` (ms): its status, and `last_success_at` or
    /// `last_fail_at`; once every requested product has finished the record is completed.
    pub fn finish_product(&mut self, product: &str, outcome: ProductOutcome, at: i64) {
        let mut status = match self.product_status.take() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let previous = status.remove(product).unwrap_or(Value::Null);
        let keep = |k: &str| previous.get(k).cloned().unwrap_or(Value::Null);
        let entry = match outcome {
            ProductOutcome::Success => serde_json::json!({
                "status": "success", "last_success_at": at, "last_fail_at": keep("last_fail_at")}),
            ProductOutcome::Failed => serde_json::json!({
                "status": "failed", "last_success_at": keep("last_success_at"), "last_fail_at": at}),
        };
        status.insert(product.to_string(), entry);
        self.product_status = Value::Object(status);
        let done = self
            .products
            .iter()
            .all(|p| self.product_state(p).is_some());
        self.running = !done;
        self.completed = done;
        self.last_updated = at;
    }
}

/// Writes a record's processing state (`running`, `completed`, `product_status`) on `conn`.
pub async fn save_status(conn: &mut AnyConnection, tenant: &Tenant, record: &Record) -> Result<()> {
    sqlx::query(
        "UPDATE records SET running = $1, completed = $2, product_status = $3, last_updated = $4 \
         WHERE id = $5 AND owner_id = $6 AND env = $7",
    )
    .bind(i64::from(record.running))
    .bind(i64::from(record.completed))
    .bind(record.product_status.to_string())
    .bind(record.last_updated)
    .bind(&record.id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_get_statement_selects_the_mapped_columns() {
        assert!(GET_SQL.starts_with(&format!("SELECT {COLUMNS} ")));
    }

    #[test]
    fn values_and_option_values_have_their_postgres_types() {
        let mut options = Map::new();
        options.insert("loan".into(), serde_json::json!(7));
        let new = NewRecord {
            customer_id: "c".into(),
            bank_id: "b".into(),
            options,
            ..NewRecord::default()
        };
        let row = RecordRow::new("r".into(), new).unwrap();
        let mut values = Vec::new();
        row.values(&mut values);
        crate::multirow::check_postgres_types(INSERT, INSERT_COLUMNS, &values);
        let mut values = Vec::new();
        row.option_values(&mut values);
        assert_eq!(values.len(), 3);
        crate::multirow::check_postgres_types(INSERT_OPTIONS, 5, &values);
    }
}
