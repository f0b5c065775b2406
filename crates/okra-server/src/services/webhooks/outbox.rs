//! Writing webhooks: a message sealed in the outbox and the job that delivers it, both on the
//! caller's transaction, so a committed state change always has its webhook (even if the process
//! dies right after the commit) and a rolled-back one never does.

use okra_core::id::new_id;
use okra_store::crypto::Keyring;
use okra_store::jobs::{self, NewJob};
use okra_store::webhooks::{self, NewMessage};
use okra_store::AnyConnection;
use okra_store::{StoreError, Tenant};
use serde_json::{json, Map, Value};

use super::DELIVER_JOB;
use crate::app::AppState;

/// Queues `body` for delivery to `url` on `conn`: the message and its delivery job.
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    conn: &mut AnyConnection,
    state: &AppState,
    keyring: &Keyring,
    tenant: &Tenant,
    record_id: Option<&str>,
    event_code: &str,
    url: &str,
    body: Map<String, Value>,
) -> Result<String, StoreError> {
    let id = new_id();
    let message = NewMessage {
        id: id.clone(),
        record_id: record_id.map(str::to_string),
        event_code: event_code.to_string(),
        url: url.to_string(),
        body: Value::Object(body).to_string(),
        created_at: okra_core::time::now_ms(),
    };
    webhooks::insert_message(conn, keyring, tenant, &message).await?;
    enqueue_delivery(conn, state, tenant, &id).await?;
    Ok(id)
}

/// Enqueues the delivery job of message `id` on `conn` (also used to re-send).
pub async fn enqueue_delivery(
    conn: &mut AnyConnection,
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<(), StoreError> {
    let mut job = NewJob::new(DELIVER_JOB, json!({ "message_id": id }));
    job.owner_id = Some(tenant.owner_id.clone());
    job.env = Some(tenant.env.as_str().to_string());
    job.max_attempts = i64::from(state.webhook_delivery.schedule.attempts());
    jobs::enqueue(conn, &job).await?;
    Ok(())
}
