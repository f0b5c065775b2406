//! Delivering one message (the `webhook.deliver` job): sign it with the owner's `whsec_` secret
//! (Standard Webhooks: `webhook-id` stays the message id on every attempt), POST it through the
//! SSRF-guarded outbound client of its environment, record the attempt, and either finish, disable,
//! give up, or ask the queue to run the job again after the schedule's wait (or the receiver's
//! `Retry-After`, whichever is later).

use std::time::{Duration, Instant, SystemTime};

use okra_core::id::new_id;
use okra_core::webhook_delivery::{self, Answer, Next, RetrySchedule};
use okra_core::webhook_signature;
use okra_core::Environment;
use okra_store::jobs::{self, ClaimedJob, Settle};
use okra_store::webhooks::{self, AttemptOutcome, MessageStatus};
use okra_store::Tenant;

use crate::app::AppState;
use crate::config::Config;
use crate::outbound::{self, OutboundPolicy};
use crate::workers::{job_tenant, JobError, Outcome};

/// What delivering needs, built once per process: the schedule and one HTTP client per
/// environment (clients pool connections, so receivers see kept-alive connections).
pub struct WebhookDelivery {
    /// Waits between attempts.
    pub schedule: RetrySchedule,
    sandbox: reqwest::Client,
    production: reqwest::Client,
    /// Signing key and bearer token per tenant, read from the database at most once a second
    /// (a changed token or rotated secret applies within a second, as API keys do).
    signing: std::sync::Mutex<std::collections::HashMap<Tenant, (Instant, Signing)>>,
}

/// What a tenant's deliveries are signed and authorised with.
#[derive(Clone)]
struct Signing {
    key: Vec<u8>,
    token: Option<String>,
}

/// How long [`Signing`] is reused before it is read again.
const SIGNING_TTL: Duration = Duration::from_secs(1);

impl WebhookDelivery {
    /// From the configuration (validated at load, so the schedule parses).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let schedule = RetrySchedule::parse(&config.webhook_retry_schedule)
            .map_err(|e| anyhow::anyhow!("webhook_retry_schedule: {e}"))?;
        let timeout = Duration::from_secs(config.webhook_timeout_secs);
        Ok(WebhookDelivery {
            schedule,
            sandbox: outbound::client(&policy(config, Environment::Sandbox), timeout),
            production: outbound::client(&policy(config, Environment::Production), timeout),
            signing: std::sync::Mutex::default(),
        })
    }

    /// The tenant's signing key and token: from the cache, or read (and cached) when older
    /// than a second.
    async fn signing(&self, state: &AppState, tenant: &Tenant) -> Result<Signing, JobError> {
        if let Some((at, s)) = self.cached(tenant) {
            if at.elapsed() < SIGNING_TTL {
                return Ok(s);
            }
        }
        let keyring = state.keyring();
        let store = |e: okra_store::StoreError| JobError::retry(format!("database: {e}"));
        let secret = okra_store::owners::webhook_secret_enc(&state.db, &tenant.owner_id)
            .await
            .map_err(store)?
            .ok_or_else(|| JobError::permanent("the owner has no webhook secret"))?;
        let secret = keyring
            .open_str(okra_store::owners::WEBHOOK_SECRET_CONTEXT, &secret)
            .map_err(|e| JobError::permanent(format!("opening the webhook secret: {e}")))?;
        let key = webhook_signature::decode_secret(&secret)
            .map_err(|e| JobError::permanent(format!("webhook secret: {e}")))?;
        let token = webhooks::settings(&state.db, &keyring, tenant)
            .await
            .map_err(store)?
            .token;
        let signing = Signing { key, token };
        if let Ok(mut cache) = self.signing.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(tenant.clone(), (Instant::now(), signing.clone()));
        }
        Ok(signing)
    }

    fn cached(&self, tenant: &Tenant) -> Option<(Instant, Signing)> {
        self.signing.lock().ok()?.get(tenant).cloned()
    }

    fn client(&self, env: Environment) -> &reqwest::Client {
        match env {
            Environment::Sandbox => &self.sandbox,
            Environment::Production => &self.production,
        }
    }
}

/// The outbound policy of webhooks in `env`: sandbox may reach private and loopback addresses,
/// production only public ones and `webhook_allowed_hosts`.
pub fn policy(config: &Config, env: Environment) -> OutboundPolicy {
    OutboundPolicy::for_environment(env == Environment::Sandbox, &config.webhook_allowed_hosts)
}

/// Delivers the message a `webhook.deliver` job names (one attempt).
pub async fn run(state: AppState, job: ClaimedJob) -> Result<Outcome, JobError> {
    let tenant = job_tenant(&job)?;
    let message_id = job.payload["message_id"]
        .as_str()
        .ok_or_else(|| JobError::permanent("webhook job without a message id"))?
        .to_string();
    let result = deliver(&state, &job, &tenant, &message_id).await;
    if let Err(e) = &result {
        if !e.retry || job.attempt >= job.max_attempts {
            // The job ends here without an answer to record (the database failed on every
            // attempt, the owner's secret cannot be read): the message must not stay pending.
            let now = okra_core::time::now_ms();
            if let Err(again) = webhooks::give_up(&state.db, &tenant, &message_id, now).await {
                tracing::error!(error = %again, "marking an undeliverable webhook failed");
            }
        }
    }
    result
}

/// The abandon hook of `webhook.deliver` jobs: the message is marked `failed` (when still
/// pending), so `callback/trigger` can send it again.
pub async fn abandon(state: AppState, job: ClaimedJob, reason: String) {
    let (Ok(tenant), Some(message_id)) = (job_tenant(&job), job.payload["message_id"].as_str())
    else {
        return;
    };
    let now = okra_core::time::now_ms();
    if let Err(e) = webhooks::give_up(&state.db, &tenant, message_id, now).await {
        tracing::error!(error = %e, %reason, "marking an abandoned webhook failed");
    }
}

/// One attempt at message `message_id`.
async fn deliver(
    state: &AppState,
    job: &ClaimedJob,
    tenant: &Tenant,
    message_id: &str,
) -> Result<Outcome, JobError> {
    let tenant = tenant.clone();
    let keyring = state.keyring();
    let store = |e: okra_store::StoreError| JobError::retry(format!("database: {e}"));
    let Some(message) = webhooks::get_message(&state.db, &keyring, &tenant, message_id)
        .await
        .map_err(store)?
    else {
        return Err(JobError::permanent("no such webhook message"));
    };
    if message.status != MessageStatus::Pending.as_str() {
        // Delivered (or given up) by an earlier run of this job whose outcome was recorded
        // before its worker died: at least once, and no more than needed.
        return Ok(Outcome::Complete);
    }
    let signing = state.webhook_delivery.signing(state, &tenant).await?;

    let timestamp = okra_core::time::now_ms() / 1000;
    let signature = webhook_signature::sign(
        &signing.key,
        &message.id,
        timestamp,
        message.body.as_bytes(),
    );
    let mut request = state
        .webhook_delivery
        .client(tenant.env)
        .post(&message.url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(message.body.clone());
    if let Some(token) = &signing.token {
        request = request.bearer_auth(token);
    }
    let started = Instant::now();
    let (status, retry_after, error) = match request.send().await {
        Ok(response) => {
            let retry_after = (response.headers().get("retry-after"))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            (Some(response.status().as_u16()), retry_after, None)
        }
        Err(e) => (None, None, Some(describe(&e))),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    let answer = webhook_delivery::classify(status, retry_after.as_deref(), SystemTime::now());
    let attempt = u32::try_from(job.attempt.max(1)).unwrap_or(u32::MAX);
    let next = match answer {
        // The job's attempts were fixed when it was queued: a schedule made longer since then
        // must not promise a retry the queue will not run.
        Answer::Failed { .. } if job.attempt >= job.max_attempts => Next::GiveUp,
        _ => webhook_delivery::next(
            &state.webhook_delivery.schedule,
            attempt,
            &answer,
            rand::random::<f64>(),
        ),
    };
    let now = okra_core::time::now_ms();
    let (new_status, next_at) = match &next {
        Next::Done => (MessageStatus::Delivered, None),
        Next::Disable => (MessageStatus::Disabled, None),
        Next::GiveUp => (MessageStatus::Failed, None),
        Next::RetryIn(wait) => (MessageStatus::Pending, Some(now + wait.as_millis() as i64)),
    };
    let error = error.or_else(|| match (&answer, status) {
        (Answer::Failed { .. }, Some(code)) => Some(format!("the receiver answered {code}")),
        _ => None,
    });
    let settle = match &next {
        Next::RetryIn(wait) => Settle::RetryIn {
            ms: wait.as_millis() as i64,
            error: error.as_deref().unwrap_or("delivery failed"),
        },
        Next::Done | Next::Disable | Next::GiveUp => Settle::Done,
    };
    // The attempt, the message's state and the job's, in one transaction.
    let mut tx = state.db.begin().await.map_err(store)?;
    webhooks::record_attempt(
        tx.conn(),
        &tenant,
        &AttemptOutcome {
            id: new_id(),
            message_id: &message.id,
            attempt: message.attempts + 1,
            url: &message.url,
            status_code: status.map(i64::from),
            error: error.clone(),
            duration_ms,
            status: new_status,
            next_attempt_at: next_at,
            at: now,
        },
    )
    .await
    .map_err(store)?;
    // A lost lease (the job was claimed again meanwhile) leaves the job to its new holder; the
    // attempt still happened and stays recorded.
    jobs::settle_on(tx.conn(), job, settle)
        .await
        .map_err(store)?;
    tx.commit().await.map_err(store)?;
    state.metrics.webhook_attempt(match next {
        Next::Done => "delivered",
        Next::RetryIn(_) => "retry",
        Next::GiveUp => "failed",
        Next::Disable => "gone",
    });
    if next == Next::Disable {
        // In a transaction of its own, after this one: it locks the URL's other pending
        // messages, which a parallel attempt may hold (two locks taken in opposite orders
        // would deadlock). The job is settled; a failure here only leaves those messages to be
        // tried (and disabled) one by one.
        let disabled = async {
            let mut tx = state.db.begin().await?;
            let stopped = webhooks::disable_url(tx.conn(), &tenant, &message.url, now).await?;
            tx.commit().await?;
            Ok::<u64, okra_store::StoreError>(stopped)
        };
        match disabled.await {
            Ok(stopped) => tracing::warn!(
                stopped,
                "a webhook receiver answered 410 Gone: its URL is disabled"
            ),
            Err(e) => tracing::warn!(error = %e, "disabling a gone webhook URL failed"),
        }
    }
    Ok(Outcome::Settled)
}

/// A failed request in words fit for `webhooks/deliveries` (no URL, no body).
fn describe(e: &reqwest::Error) -> String {
    if let Some(policy) = outbound::policy_error(e) {
        return format!("refused by the outbound policy: {policy}");
    }
    if e.is_timeout() {
        "the receiver did not answer in time".into()
    } else if e.is_connect() {
        "could not connect to the receiver".into()
    } else {
        "the request failed before an answer arrived".into()
    }
}
