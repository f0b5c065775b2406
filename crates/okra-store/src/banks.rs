//! The bank list, seeded from the catalogue in okra-core at start-up.

use okra_core::banks::BANKS;
use okra_core::pagination::PageRequest;
use okra_core::time::now_ms;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// One stored bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankRow {
    /// Okra bank id.
    pub id: String,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// CBN code.
    pub sortcode: String,
    /// NIBSS NIP code.
    pub nip_code: String,
    /// `bank`, `microfinance` or `mobile_money`.
    pub bank_type: String,
    /// JSON object of colours.
    pub colors: String,
    /// JSON array of products.
    pub products: String,
    /// Serves individuals.
    pub individual: bool,
    /// Serves companies.
    pub corporate: bool,
    /// `healthy` unless an operator marks it otherwise.
    pub status: String,
}

const COLUMNS: &str =
    "id, slug, name, sortcode, nip_code, type, colors, products, individual, corporate, status";

fn bank_from(r: &sqlx::any::AnyRow) -> Result<BankRow> {
    Ok(BankRow {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        sortcode: r.try_get("sortcode")?,
        nip_code: r.try_get("nip_code")?,
        bank_type: r.try_get("type")?,
        colors: r.try_get("colors")?,
        products: r.try_get("products")?,
        individual: r.try_get::<i64, _>("individual")? != 0,
        corporate: r.try_get::<i64, _>("corporate")? != 0,
        status: r.try_get("status")?,
    })
}

/// Inserts or updates every bank of the catalogue (idempotent, one transaction).
pub async fn seed(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    let now = now_ms();
    for (position, b) in BANKS.iter().enumerate() {
        let colors = serde_json::json!({
            "primary": b.colors.primary, "accent": b.colors.accent, "bg": b.colors.bg,
            "button": b.colors.button, "icon": b.colors.icon,
        });
        sqlx::query(
            "INSERT INTO banks (id, slug, name, sortcode, nip_code, type, colors, products, individual, corporate, status, position, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'healthy', $11, $12) \
             ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, sortcode = excluded.sortcode, \
             nip_code = excluded.nip_code, type = excluded.type, colors = excluded.colors, products = excluded.products, \
             individual = excluded.individual, corporate = excluded.corporate, position = excluded.position",
        )
        .bind(b.id)
        .bind(b.slug)
        .bind(b.name)
        .bind(b.cbn_code)
        .bind(b.nip_code)
        .bind(b.bank_type.as_str())
        .bind(colors.to_string())
        .bind(serde_json::to_string(&okra_core::banks::PRODUCTS)?)
        .bind(i64::from(b.individual))
        .bind(i64::from(b.corporate))
        .bind(position as i64)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await
}

/// A page of banks in catalogue order, with the total count.
pub async fn list(db: &Db, page: PageRequest) -> Result<(Vec<BankRow>, u64)> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM banks ORDER BY position, id LIMIT $1 OFFSET $2"
    ))
    .bind(i64::from(page.limit))
    .bind(page.offset())
    .fetch_all(db.pool())
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM banks")
        .fetch_one(db.pool())
        .await?;
    Ok((
        rows.iter().map(bank_from).collect::<Result<_>>()?,
        total as u64,
    ))
}

/// Every bank in catalogue order.
pub async fn all(db: &Db) -> Result<Vec<BankRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM banks ORDER BY position, id"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(bank_from).collect()
}

/// One bank by id.
pub async fn get(db: &Db, id: &str) -> Result<Option<BankRow>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM banks WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(bank_from).transpose()
}
