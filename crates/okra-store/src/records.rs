//! Records: one per connection (link), holding the requested products, custom `options` and `meta`.
//! Options are also written one row per key to `record_options` so `getByOptions` is an index lookup.

use okra_core::id::new_id;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::Result;
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
    /// Creation time (ms).
    pub created_at: i64,
    /// Last update (ms).
    pub last_updated: i64,
}

/// Inserts a record and its option rows on `conn`. Returns the record id. The row is built by
/// [`crate::bulk::RecordRow`], shared with bulk loads.
pub async fn insert(conn: &mut AnyConnection, tenant: &Tenant, new: &NewRecord) -> Result<String> {
    let id = new_id();
    let row = crate::bulk::RecordRow::new(id.clone(), new.clone())?;
    crate::bulk::insert_records(conn, tenant, &[row]).await?;
    Ok(id)
}

fn object(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// One record by id, within the tenant.
pub async fn get(db: &Db, tenant: &Tenant, id: &str) -> Result<Option<Record>> {
    let row = sqlx::query(
        "SELECT id, customer_id, bank_id, products, options, meta, running, completed, product_status, callback_url, created_at, last_updated \
         FROM records WHERE id = $1 AND owner_id = $2 AND env = $3",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Record {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        bank_id: r.try_get("bank_id")?,
        products: serde_json::from_str(r.try_get("products")?)?,
        options: object(r.try_get("options")?)?,
        meta: object(r.try_get("meta")?)?,
        running: r.try_get::<i64, _>("running")? != 0,
        completed: r.try_get::<i64, _>("completed")? != 0,
        product_status: serde_json::from_str(r.try_get("product_status")?)?,
        callback_url: r.try_get("callback_url")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    }))
}
