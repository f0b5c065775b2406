//! What an owner reads and changes about its webhooks: the delivery attempts
//! (`webhooks/deliveries`), sending a record's webhooks again (`callback/trigger`), and the
//! default URL and bearer token (`okra-server webhooks url|token`).

use okra_core::pagination::{PageRequest, Pagination};
use okra_store::webhooks::{self, Delivery};
use okra_store::Tenant;

use super::outbox;
use okra_store::crypto::Keyring;
use okra_store::Db;

use crate::app::AppState;
use crate::config::Config;
use crate::services::error::{Error, Result};
use crate::services::linking::check_webhook_url;

/// One page of delivery attempts.
pub struct DeliveryPage {
    /// Page metadata.
    pub pagination: Pagination,
    /// Attempts, newest first.
    pub deliveries: Vec<Delivery>,
}

/// The tenant's delivery attempts, newest first.
pub async fn deliveries(
    state: &AppState,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<DeliveryPage> {
    let (deliveries, total) =
        webhooks::page_attempts(&state.db, tenant, page.limit, page.offset()).await?;
    Ok(DeliveryPage {
        pagination: page.paginate(total),
        deliveries,
    })
}

/// What `callback/trigger` queued.
pub struct Triggered {
    /// The records whose webhooks were queued again.
    pub record_ids: Vec<String>,
    /// Messages queued.
    pub messages: usize,
}

/// Sends every webhook of `record_ids` again (to `url` when given, else to where each went),
/// as new attempts of the same messages (same `webhook-id`). Every record must be the tenant's:
/// otherwise nothing is queued.
pub async fn trigger(
    state: &AppState,
    tenant: &Tenant,
    record_ids: &[String],
    url: Option<&str>,
) -> Result<Triggered> {
    if let Some(url) = url {
        check_webhook_url(&state.config, tenant.env, "url", url).await?;
    }
    // Each record once: a repeated id must not queue its messages twice.
    let mut record_ids = record_ids.to_vec();
    record_ids.sort();
    record_ids.dedup();
    for id in &record_ids {
        if okra_store::records::get(&state.db, tenant, id)
            .await?
            .is_none()
        {
            return Err(Error::NotFound("Record"));
        }
    }
    let keyring = state.keyring();
    let messages = webhooks::messages_of_records(&state.db, &keyring, tenant, &record_ids).await?;
    let now = okra_core::time::now_ms();
    let mut tx = state.db.begin().await?;
    for m in &messages {
        let to = url.unwrap_or(&m.url);
        // A message still pending has its job: one job per message, so it is never sent twice
        // at once.
        if webhooks::reopen(tx.conn(), tenant, &m.id, to, now).await? {
            outbox::enqueue_delivery(tx.conn(), state, tenant, &m.id).await?;
        }
    }
    tx.commit().await?;
    state.jobs_ready.notify_waiters();
    Ok(Triggered {
        record_ids,
        messages: messages.len(),
    })
}

/// Sets (or with `None` clears) the tenant's default webhook URL, checked against the
/// environment's outbound policy (`okra-server webhooks url`).
pub async fn set_url(db: &Db, config: &Config, tenant: &Tenant, url: Option<&str>) -> Result<()> {
    if let Some(url) = url {
        check_webhook_url(config, tenant.env, "url", url).await?;
    }
    webhooks::set_url(db, tenant, url, okra_core::time::now_ms()).await?;
    Ok(())
}

/// Sets (or clears) the bearer token sent with the tenant's webhooks (`okra-server webhooks
/// token`).
pub async fn set_token(
    db: &Db,
    keyring: &Keyring,
    tenant: &Tenant,
    token: Option<&str>,
) -> Result<()> {
    if let Some(t) = token {
        // It goes into an `Authorization` header: visible ASCII only (no spaces, no control
        // characters), or every delivery would fail before it is sent.
        if t.is_empty() || t.len() > 1024 || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Invalid(
                "the token must be 1–1024 visible ASCII characters (no spaces)".into(),
            ));
        }
    }
    webhooks::set_token(db, keyring, tenant, token, okra_core::time::now_ms()).await?;
    Ok(())
}

/// The tenant's webhook defaults.
pub async fn settings(db: &Db, keyring: &Keyring, tenant: &Tenant) -> Result<webhooks::Settings> {
    Ok(webhooks::settings(db, keyring, tenant).await?)
}
