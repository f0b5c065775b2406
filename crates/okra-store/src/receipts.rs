//! Receipts of paid calls (`products/kyc/*`): one per call, in the reference's receipt shape,
//! written in the transaction that debits the wallet. A receipt holds ids and amounts, never
//! personal data, so its body is stored as the JSON the API returned.

use okra_core::pagination::PageRequest;
use serde_json::Value;
use sqlx::AnyConnection;

use crate::counters::{self, Counted};
use crate::db::Db;
use crate::error::Result;
use crate::read::{Columns, Param};
use crate::Tenant;

/// The collection receipts are counted in ([`crate::counters`]).
pub const RECEIPTS: &str = "receipts";

/// A receipt to write.
#[derive(Clone, Debug)]
pub struct NewReceipt {
    /// Receipt id (`_id` of its body).
    pub id: String,
    /// The record of the paid call.
    pub record_id: Option<String>,
    /// The customer of the paid call.
    pub customer_id: Option<String>,
    /// `api-call`, `customer-verify`, …
    pub kind: String,
    /// The operation billed (`nuban-verify`, …).
    pub billable_service: String,
    /// Charge, hundredths of a credit.
    pub charge_minor: i64,
    /// Wallet balance after the charge, hundredths of a credit.
    pub wallet_balance_minor: i64,
    /// Currency of the wallet.
    pub currency: String,
    /// The receipt as the API returns it.
    pub body: Value,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Writes a receipt on `conn` (the paid call's transaction) and counts it.
pub async fn insert(conn: &mut AnyConnection, tenant: &Tenant, r: &NewReceipt) -> Result<()> {
    sqlx::query(
        "INSERT INTO receipts (id, owner_id, env, record_id, customer_id, type, billable_service, \
         charge_minor, wallet_balance_minor, currency, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(r.record_id.as_deref())
    .bind(r.customer_id.as_deref())
    .bind(&r.kind)
    .bind(&r.billable_service)
    .bind(r.charge_minor)
    .bind(r.wallet_balance_minor)
    .bind(&r.currency)
    .bind(serde_json::to_string(&r.body)?)
    .bind(r.created_at)
    .execute(&mut *conn)
    .await?;
    counters::add(
        conn,
        tenant,
        [Counted {
            collection: RECEIPTS,
            customer: None,
            created_at: r.created_at,
            amounts: None,
        }],
    )
    .await
}

/// `wallet/receipts`: a page of the tenant's receipts, newest first, with the total from its
/// counter row, in one statement on the `receipts_page` index.
pub const PAGE_SQL: &str = "SELECT id, owner_id, env, body, created_at, \
     (SELECT n FROM row_counts WHERE owner_id = $1 AND env = $2 AND collection = 'receipts' AND customer_id = '') \
     FROM receipts WHERE owner_id = $1 AND env = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";

/// One page of receipt bodies, newest first, and the total.
pub async fn page(db: &Db, tenant: &Tenant, page: PageRequest) -> Result<(Vec<Value>, u64)> {
    let params = vec![
        Param::from(tenant.owner_id.as_str()),
        Param::from(tenant.env.as_str()),
        Param::Int(i64::from(page.limit)),
        Param::Int(page.offset()),
    ];
    let rows = db
        .query_replanned(PAGE_SQL, params, |r: &dyn Columns| {
            Ok((r.text(1)?, r.text(2)?, r.text(3)?, r.opt_int(5)?))
        })
        .await?;
    let total = match rows.first() {
        Some((_, _, _, n)) => n.unwrap_or(0).max(0) as u64,
        None => counters::total(db, tenant, RECEIPTS).await?,
    };
    let bodies = rows
        .into_iter()
        .filter(|(o, e, _, _)| *o == tenant.owner_id && e == tenant.env.as_str())
        .map(|(_, _, body, _)| Ok(serde_json::from_str(&body)?))
        .collect::<Result<_>>()?;
    Ok((bodies, total))
}
