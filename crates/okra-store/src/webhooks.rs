//! The webhook outbox: one message per event (its id is the `webhook-id` header on every attempt),
//! one attempt row per delivery try, and each owner's default URL and bearer token per
//! environment. Bodies carry names, BVNs and balances, so they are sealed like any personal datum;
//! so is the token.
//!
//! Messages are written in the transaction of the state they report (the caller enqueues the
//! delivery job in the same transaction), so a committed state change always has its webhook.

use sqlx::{AnyConnection, Row};

use crate::multirow::{self, SqlValue};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::error::Result;
use crate::Tenant;

/// Associated-data context of sealed webhook bodies.
pub const BODY_CONTEXT: &str = "webhook_messages.body";
/// Associated-data context of the sealed bearer token.
pub const TOKEN_CONTEXT: &str = "webhook_settings.token";
/// The spread counter of delivery attempts (`webhooks/deliveries` totals).
pub const ATTEMPTS: &str = "webhook_attempts";

/// A message to write.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// The message id (`webhook-id`).
    pub id: String,
    /// The record it reports on.
    pub record_id: Option<String>,
    /// `AUTH_SUCCESS`, `IDENTITY_IS_READY`, …
    pub event_code: String,
    /// Where it goes.
    pub url: String,
    /// The JSON body, exactly as it will be sent (and signed).
    pub body: String,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Delivery state of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageStatus {
    /// Not delivered yet; another attempt is due.
    Pending,
    /// A 2xx answer arrived.
    Delivered,
    /// Every attempt of the schedule failed.
    Failed,
    /// The receiver answered 410: no more attempts.
    Disabled,
}

impl MessageStatus {
    /// The stored (and listed) name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Failed => "failed",
            MessageStatus::Disabled => "disabled",
        }
    }
}

/// A stored message, its body opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Id (`webhook-id`).
    pub id: String,
    /// The record it reports on.
    pub record_id: Option<String>,
    /// Event code.
    pub event_code: String,
    /// Destination.
    pub url: String,
    /// JSON body.
    pub body: String,
    /// `pending`, `delivered`, `failed` or `disabled`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// Creation time (ms).
    pub created_at: i64,
}

/// Writes a message on `conn` (inside the transaction of the state it reports).
pub async fn insert_message(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    tenant: &Tenant,
    m: &NewMessage,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_messages (id, owner_id, env, record_id, event_code, url, body_enc, status, attempts, created_at, last_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
    )
    .bind(&m.id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(m.record_id.as_deref())
    .bind(&m.event_code)
    .bind(&m.url)
    .bind(keyring.seal_str(BODY_CONTEXT, &m.body))
    .bind(m.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

const MESSAGE_COLUMNS: &str =
    "id, record_id, event_code, url, body_enc, status, attempts, created_at";

fn message_from(keyring: &Keyring, r: &sqlx::any::AnyRow) -> Result<Message> {
    let body: Vec<u8> = r.try_get("body_enc")?;
    Ok(Message {
        id: r.try_get("id")?,
        record_id: r.try_get("record_id")?,
        event_code: r.try_get("event_code")?,
        url: r.try_get("url")?,
        body: keyring.open_str(BODY_CONTEXT, &body)?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        created_at: r.try_get("created_at")?,
    })
}

/// One message by id, within the tenant.
pub async fn get_message(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    id: &str,
) -> Result<Option<Message>> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE id = $1 AND owner_id = $2 AND env = $3"
    ))
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(|r| message_from(keyring, r)).transpose()
}

/// The messages of these records, oldest first (what `callback/trigger` sends again).
pub async fn messages_of_records(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    record_ids: &[String],
) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    for record_id in record_ids {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM webhook_messages WHERE owner_id = $1 AND env = $2 AND record_id = $3 \
             ORDER BY created_at, id"
        ))
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(record_id)
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            out.push(message_from(keyring, r)?);
        }
    }
    Ok(out)
}

/// One delivery attempt's outcome.
#[derive(Clone, Debug)]
pub struct AttemptOutcome<'a> {
    /// Attempt id.
    pub id: String,
    /// The message.
    pub message_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// Where it went.
    pub url: &'a str,
    /// The receiver's status, if it answered.
    pub status_code: Option<i64>,
    /// Why it failed without an answer (timeout, refused), free of personal data.
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: i64,
    /// The message's state after this attempt.
    pub status: MessageStatus,
    /// When the next attempt is due (ms), while pending.
    pub next_attempt_at: Option<i64>,
    /// When (ms).
    pub at: i64,
}

/// Records an attempt and the message's new state on `conn` (the caller settles the delivery job
/// in the same transaction). A message no longer pending (a 410 from a parallel attempt disabled
/// it) keeps its state; the attempt is recorded all the same.
pub async fn record_attempt(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    a: &AttemptOutcome<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_attempts (id, message_id, owner_id, env, attempt, url, status_code, error, duration_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(a.message_id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(a.attempt)
    .bind(a.url)
    .bind(a.status_code)
    .bind(a.error.as_deref())
    .bind(a.duration_ms)
    .bind(a.at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE webhook_messages SET status = $1, attempts = $2, last_status_code = $3, next_attempt_at = $4, last_updated = $5 \
         WHERE id = $6 AND owner_id = $7 AND env = $8 AND status = 'pending'",
    )
    .bind(a.status.as_str())
    .bind(a.attempt)
    .bind(a.status_code)
    .bind(a.next_attempt_at)
    .bind(a.at)
    .bind(a.message_id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(&mut *conn)
    .await?;
    crate::counters::add_spread(conn, tenant, ATTEMPTS, a.message_id, 1).await
}

/// Disables `url` for the tenant after a `410 Gone` (on `conn`): every pending message to it stops
/// (`disabled`; their delivery jobs find them settled), and it stops being the tenant's default
/// URL. Returns how many other pending messages were stopped.
pub async fn disable_url(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    url: &str,
    at: i64,
) -> Result<u64> {
    let stopped = sqlx::query(
        "UPDATE webhook_messages SET status = 'disabled', next_attempt_at = NULL, last_updated = $1 \
         WHERE owner_id = $2 AND env = $3 AND url = $4 AND status = 'pending'",
    )
    .bind(at)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(url)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE webhook_settings SET url = NULL, updated_at = $1 WHERE id = $2 AND owner_id = $3 AND env = $4 AND url = $5",
    )
    .bind(at)
    .bind(settings_id(tenant))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(url)
    .execute(&mut *conn)
    .await?;
    Ok(stopped)
}

/// Makes a finished message (delivered, failed or disabled) due again, to `url` (`callback/trigger`).
/// False when it is pending already: its own delivery job will send it, so the caller must not
/// queue a second one (two jobs would send it twice at once). A pending message only takes the
/// new URL.
pub async fn reopen(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    id: &str,
    url: &str,
    at: i64,
) -> Result<bool> {
    let reopened = sqlx::query(
        "UPDATE webhook_messages SET status = 'pending', url = $1, next_attempt_at = $2, last_updated = $2 \
         WHERE id = $3 AND owner_id = $4 AND env = $5 AND status <> 'pending'",
    )
    .bind(url)
    .bind(at)
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !reopened {
        sqlx::query(
            "UPDATE webhook_messages SET url = $1, last_updated = $2 \
             WHERE id = $3 AND owner_id = $4 AND env = $5 AND status = 'pending'",
        )
        .bind(url)
        .bind(at)
        .bind(id)
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(reopened)
}

/// Marks a pending message `failed` with no attempt (its delivery job gave up for a reason of its
/// own: the owner's secret unreadable, the database failing on every attempt).
pub async fn give_up(db: &Db, tenant: &Tenant, id: &str, at: i64) -> Result<()> {
    let _w = db.write_guard().await?;
    sqlx::query(
        "UPDATE webhook_messages SET status = 'failed', next_attempt_at = NULL, last_updated = $1 \
         WHERE id = $2 AND owner_id = $3 AND env = $4 AND status = 'pending'",
    )
    .bind(at)
    .bind(id)
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// One delivery attempt as `webhooks/deliveries` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Attempt id.
    pub id: String,
    /// The message (`webhook-id`).
    pub message_id: String,
    /// The record the message reports on.
    pub record_id: Option<String>,
    /// Event code.
    pub event_code: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// Destination.
    pub url: String,
    /// Receiver's status.
    pub status_code: Option<i64>,
    /// Failure without an answer.
    pub error: Option<String>,
    /// Duration (ms).
    pub duration_ms: i64,
    /// The message's current state.
    pub message_status: String,
    /// When (ms).
    pub created_at: i64,
}

/// One page of the tenant's delivery attempts, newest first, and their total (kept in the
/// counters, never a scan).
pub async fn page_attempts(
    db: &Db,
    tenant: &Tenant,
    limit: u32,
    offset: i64,
) -> Result<(Vec<Delivery>, u64)> {
    let rows = sqlx::query(
        "SELECT a.id, a.message_id, m.record_id, m.event_code, a.attempt, a.url, a.status_code, a.error, a.duration_ms, m.status, a.created_at \
         FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id \
         WHERE a.owner_id = $1 AND a.env = $2 ORDER BY a.created_at DESC, a.id DESC LIMIT $3 OFFSET $4",
    )
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .bind(i64::from(limit))
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let deliveries = rows
        .iter()
        .map(|r| {
            Ok(Delivery {
                id: r.try_get(0)?,
                message_id: r.try_get(1)?,
                record_id: r.try_get(2)?,
                event_code: r.try_get(3)?,
                attempt: r.try_get(4)?,
                url: r.try_get(5)?,
                status_code: r.try_get(6)?,
                error: r.try_get(7)?,
                duration_ms: r.try_get(8)?,
                message_status: r.try_get(9)?,
                created_at: r.try_get(10)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total = crate::counters::total_spread(db, tenant, ATTEMPTS).await?;
    Ok((deliveries, total))
}

/// An owner's webhook defaults in one environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Default URL (a link's `callback_url`/`webhook_url` wins).
    pub url: Option<String>,
    /// Bearer token sent as `Authorization`.
    pub token: Option<String>,
}

fn settings_id(tenant: &Tenant) -> String {
    format!("{}:{}", tenant.owner_id, tenant.env.as_str())
}

/// The tenant's webhook defaults (empty when never set).
pub async fn settings(db: &Db, keyring: &Keyring, tenant: &Tenant) -> Result<Settings> {
    let row = sqlx::query(
        "SELECT url, token_enc FROM webhook_settings WHERE id = $1 AND owner_id = $2 AND env = $3",
    )
    .bind(settings_id(tenant))
    .bind(&tenant.owner_id)
    .bind(tenant.env.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(Settings::default());
    };
    let token: Option<Vec<u8>> = r.try_get("token_enc")?;
    Ok(Settings {
        url: r.try_get("url")?,
        token: token
            .map(|t| keyring.open_str(TOKEN_CONTEXT, &t))
            .transpose()?,
    })
}

/// Sets the default URL (`None` clears it), keeping the token.
pub async fn set_url(db: &Db, tenant: &Tenant, url: Option<&str>, at: i64) -> Result<()> {
    upsert_setting(db, tenant, "url", at, SqlValue::from(url)).await
}

/// Sets the bearer token (`None` clears it), keeping the URL.
pub async fn set_token(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    token: Option<&str>,
    at: i64,
) -> Result<()> {
    let sealed = token.map(|t| keyring.seal_str(TOKEN_CONTEXT, t));
    upsert_setting(
        db,
        tenant,
        "token_enc",
        at,
        SqlValue::from(sealed.as_deref()),
    )
    .await
}

/// Writes one column of the tenant's settings row (created when missing), the value bound last.
async fn upsert_setting(
    db: &Db,
    tenant: &Tenant,
    column: &'static str,
    at: i64,
    value: SqlValue<'_>,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO webhook_settings (id, owner_id, env, updated_at, {column}) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
    );
    let q = sqlx::query(&sql)
        .bind(settings_id(tenant))
        .bind(&tenant.owner_id)
        .bind(tenant.env.as_str())
        .bind(at);
    let mut tx = db.begin().await?;
    multirow::bind_value(q, value).execute(tx.conn()).await?;
    tx.commit().await
}
