//! Link sessions: the buildWithOptions options of one linking attempt, stored by `links/new` and
//! completed once by the connection they lead to. The options are sealed: they may carry a
//! customer's BVN (`customer.bvn`) and okra-js' `token`.
//!
//! The hosted widget finds a session by the SHA-256 of its secret token (never by its id, which
//! is guessable) and keeps the bank login made in it sealed until the user picks accounts. Logins
//! are counted in one statement before the bank is asked, so parallel attempts cannot pass the
//! limit between a read and a write.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::Tenant;

/// Associated-data context of the sealed options.
pub const OPTIONS_CONTEXT: &str = "link_sessions.options";
/// Associated-data context of the sealed bank login.
pub const LOGIN_CONTEXT: &str = "link_sessions.login";
/// Logins that did not succeed after which a link accepts no more.
pub const MAX_LOGIN_ATTEMPTS: i64 = 5;

/// A stored link session.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSession {
    /// Link id.
    pub id: String,
    /// The buildWithOptions options (functions stripped).
    pub options: Value,
    /// `open` or `completed` (an open session past `expires_at` has expired).
    pub status: String,
    /// The record its connection created.
    pub record_id: Option<String>,
    /// Expiry (ms).
    pub expires_at: i64,
    /// Creation time (ms).
    pub created_at: i64,
    /// The bank login made in the widget (the source's session), once one succeeded.
    pub login: Option<Value>,
    /// Logins that did not succeed.
    pub login_attempts: i64,
    /// Made with the publishable key (by the integrator's page).
    pub by_publishable: bool,
}

/// The columns a [`LinkSession`] is read from.
const COLUMNS: &str =
    "id, owner_id, env, options_enc, status, record_id, expires_at, created_at, login_enc, login_attempts, by_publishable";

fn from_row(keyring: &Keyring, r: &sqlx::any::AnyRow) -> Result<(Tenant, LinkSession)> {
    let sealed: Vec<u8> = r.try_get("options_enc")?;
    let options = keyring.open_str(OPTIONS_CONTEXT, &sealed)?;
    let login: Option<Vec<u8>> = r.try_get("login_enc")?;
    // A kept login that cannot be opened (a lost data key, a damaged row) is no login: the user
    // logs in again, and the link itself stays readable.
    let login = login.and_then(|sealed| {
        let text = keyring.open_str(LOGIN_CONTEXT, &sealed).ok()?;
        serde_json::from_str(&text).ok()
    });
    let env: String = r.try_get("env")?;
    let tenant = Tenant {
        owner_id: r.try_get("owner_id")?,
        env: env
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("link session env {env:?}")))?,
    };
    let session = LinkSession {
        id: r.try_get("id")?,
        options: serde_json::from_str(&options)?,
        status: r.try_get("status")?,
        record_id: r.try_get("record_id")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        login,
        login_attempts: r.try_get("login_attempts")?,
        by_publishable: r.try_get::<i64, _>("by_publishable")? != 0,
    };
    Ok((tenant, session))
}

/// A new session: its id, the SHA-256 (hex) of its widget token, and its options.
pub struct NewLinkSession<'a> {
    /// Link id.
    pub id: &'a str,
    /// SHA-256 (hex) of the secret token in the widget's URL.
    pub token_hash: &'a str,
    /// The buildWithOptions options.
    pub options: &'a Value,
    /// Made with the publishable key.
    pub by_publishable: bool,
}

/// Writes a new open session.
pub async fn insert(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    new: &NewLinkSession<'_>,
    created_at: i64,
    expires_at: i64,
) -> Result<()> {
    let (id, options) = (new.id, new.options);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO link_sessions (id, owner_id, env, options_enc, status, expires_at, created_at, token_hash, by_publishable) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(keyring.seal_str(OPTIONS_CONTEXT, &options.to_string()))
    .bind(expires_at)
    .bind(created_at)
    .bind(new.token_hash)
    .bind(i64::from(new.by_publishable))
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// One session by id, within the tenant.
pub async fn get(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<LinkSession>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM link_sessions WHERE id = $1 AND owner_id = $2 AND env = $3"
    ))
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| from_row(keyring, &r).map(|(_, s)| s))
        .transpose()
}

/// The session whose widget token hashes to `token_hash`, with its tenant.
pub async fn by_token(
    db: &Db,
    keyring: &Keyring,
    token_hash: &str,
) -> Result<Option<(Tenant, LinkSession)>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM link_sessions WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| from_row(keyring, &r)).transpose()
}

/// Counts a login attempt before the bank is asked, and drops any earlier login (a connection
/// always uses the last login the user made): false when the session is not open, has expired,
/// or has had [`MAX_LOGIN_ATTEMPTS`] logins that did not succeed.
pub async fn begin_login(db: &Db, tenant: &Tenant, id: &str, now: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE link_sessions SET login_attempts = login_attempts + 1, login_enc = NULL \
         WHERE id = $1 AND owner_id = $2 AND env = $3 AND status = 'open' AND expires_at > $4 \
         AND login_attempts < $5",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(now)
    .bind(MAX_LOGIN_ATTEMPTS)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(r.rows_affected() == 1)
}

/// Drops the kept login of a session (a stale one the connection refused).
pub async fn drop_login(db: &Db, tenant: &Tenant, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE link_sessions SET login_enc = NULL WHERE id = $1 AND owner_id = $2 AND env = $3",
    )
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

/// How a counted login ended.
pub enum LoginOutcome<'a> {
    /// The bank accepted it: keep this login (sealed); the attempt is given back.
    Succeeded(&'a Value),
    /// Refused (credentials, code, lockout) or stopped at a one-time password: the attempt stays
    /// counted.
    Refused,
    /// Not the user's doing (the bank was down or slow): the attempt is given back.
    Released,
}

/// Records how a login counted by [`begin_login`] ended.
pub async fn end_login(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
    outcome: LoginOutcome<'_>,
) -> Result<()> {
    let give_back =
        "login_attempts = CASE WHEN login_attempts > 0 THEN login_attempts - 1 ELSE 0 END";
    let set = match outcome {
        LoginOutcome::Succeeded(_) => format!("login_enc = $4, {give_back}"),
        LoginOutcome::Refused => return Ok(()),
        LoginOutcome::Released => give_back.to_string(),
    };
    // Only while the link is open: a login that ends after the link was used leaves nothing.
    let sql = format!(
        "UPDATE link_sessions SET {set} WHERE id = $1 AND owner_id = $2 AND env = $3 AND status = 'open'"
    );
    let mut query = sqlx::query(&sql)
        .bind(id)
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str());
    if let LoginOutcome::Succeeded(login) = outcome {
        query = query.bind(keyring.seal_str(LOGIN_CONTEXT, &login.to_string()));
    }
    let mut tx = db.begin().await?;
    query.execute(tx.conn()).await?;
    tx.commit().await
}

/// Completes an open, unexpired session with the record of its connection, on `conn` (inside the
/// connection's transaction). False when it was already used or has expired meanwhile: a link
/// connects once.
pub async fn complete(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    id: &str,
    record_id: &str,
    now: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE link_sessions SET status = 'completed', record_id = $1, login_enc = NULL \
         WHERE id = $2 AND owner_id = $3 AND env = $4 AND status = 'open' AND expires_at > $5",
    )
    .bind(record_id)
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
