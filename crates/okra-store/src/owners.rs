//! Owners (the companies using the server) and their wallets.

use okra_core::id::new_id;
use okra_core::time::now_ms;
use okra_core::Environment;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::Result;

/// Associated-data context of the sealed webhook signing secret.
pub const WEBHOOK_SECRET_CONTEXT: &str = "owners.webhook_secret";

/// An owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Owner id.
    pub id: String,
    /// Unique name (`default` for the one made on first start).
    pub name: String,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Starting wallet balance in minor units (hundredths of a credit) per environment (docs/api.md §7):
/// 1,000,000 test credits in sandbox, nothing in production.
pub fn opening_balance_minor(env: Environment) -> i64 {
    match env {
        Environment::Sandbox => 1_000_000 * 100,
        Environment::Production => 0,
    }
}

/// Creates an owner with its two wallets. `webhook_secret_enc` is the sealed `whsec_` secret.
pub async fn create(
    conn: &mut AnyConnection,
    name: &str,
    webhook_secret_enc: &[u8],
) -> Result<Owner> {
    let owner = Owner {
        id: new_id(),
        name: name.to_string(),
        created_at: now_ms(),
    };
    sqlx::query(
        "INSERT INTO owners (id, name, webhook_secret_enc, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&owner.id)
    .bind(&owner.name)
    .bind(webhook_secret_enc.to_vec())
    .bind(owner.created_at)
    .execute(&mut *conn)
    .await?;
    for env in Environment::ALL {
        sqlx::query(
            "INSERT INTO wallets (owner_id, env, balance_minor, currency, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&owner.id)
        .bind(env.as_str())
        .bind(opening_balance_minor(env))
        .bind("Okra Credits")
        .bind(owner.created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(owner)
}

fn owner_from(row: &sqlx::any::AnyRow) -> Result<Owner> {
    Ok(Owner {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Finds an owner by name.
pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<Owner>> {
    let row = sqlx::query("SELECT id, name, created_at FROM owners WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(owner_from).transpose()
}

/// Finds an owner by id.
pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<Owner>> {
    let row = sqlx::query("SELECT id, name, created_at FROM owners WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(owner_from).transpose()
}

/// All owners, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Owner>> {
    let rows = sqlx::query("SELECT id, name, created_at FROM owners ORDER BY created_at, id")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(owner_from).collect()
}

/// The sealed webhook signing secret of an owner.
pub async fn webhook_secret_enc(db: &Db, owner_id: &str) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT webhook_secret_enc FROM owners WHERE id = $1")
            .bind(owner_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// The wallet balance of an owner in an environment, in minor units.
pub async fn wallet_balance_minor(
    db: &Db,
    owner_id: &str,
    env: Environment,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT balance_minor FROM wallets WHERE owner_id = $1 AND env = $2")
            .bind(owner_id)
            .bind(env.as_str())
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Adds `amount_minor` to a wallet (`wallet topup`). Returns the new balance, or `None` if no such wallet.
pub async fn top_up(
    db: &Db,
    owner_id: &str,
    env: Environment,
    amount_minor: i64,
) -> Result<Option<i64>> {
    let _w = db.write_guard().await?;
    Ok(sqlx::query_scalar(
        "UPDATE wallets SET balance_minor = balance_minor + $1, updated_at = $2 \
         WHERE owner_id = $3 AND env = $4 RETURNING balance_minor",
    )
    .bind(amount_minor)
    .bind(now_ms())
    .bind(owner_id)
    .bind(env.as_str())
    .fetch_optional(db.pool())
    .await?)
}

/// Takes `amount_minor` from a wallet on `conn` (the paid call's transaction) if it holds that
/// much: one conditional UPDATE, so concurrent debits can never overdraw it. Returns the balance
/// left, or `None` when the wallet cannot afford the charge.
pub async fn debit_on(
    conn: &mut AnyConnection,
    owner_id: &str,
    env: Environment,
    amount_minor: i64,
    at: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE wallets SET balance_minor = balance_minor - $1, updated_at = $2 \
         WHERE owner_id = $3 AND env = $4 AND balance_minor >= $1 RETURNING balance_minor",
    )
    .bind(amount_minor)
    .bind(at)
    .bind(owner_id)
    .bind(env.as_str())
    .fetch_optional(conn)
    .await?)
}

/// A wallet as `wallet/get` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wallet {
    /// Balance, hundredths of a credit.
    pub balance_minor: i64,
    /// Currency.
    pub currency: String,
    /// Last change (ms).
    pub updated_at: i64,
}

/// The wallet of an owner in an environment.
pub async fn wallet(db: &Db, owner_id: &str, env: Environment) -> Result<Option<Wallet>> {
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT balance_minor, currency, updated_at FROM wallets WHERE owner_id = $1 AND env = $2",
    )
    .bind(owner_id)
    .bind(env.as_str())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|(balance_minor, currency, updated_at)| Wallet {
        balance_minor,
        currency,
        updated_at,
    }))
}

/// The currency of a wallet, on `conn`.
pub async fn wallet_currency_on(
    conn: &mut AnyConnection,
    owner_id: &str,
    env: Environment,
) -> Result<String> {
    let c: Option<String> =
        sqlx::query_scalar("SELECT currency FROM wallets WHERE owner_id = $1 AND env = $2")
            .bind(owner_id)
            .bind(env.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(c.unwrap_or_else(|| "Okra Credits".into()))
}
