//! The products of a record fetched in the background (`record.identity`, `record.balance` jobs,
//! enqueued in the connection's transaction): ask the data source, then in one transaction store
//! the data, mark the product on the record and queue its webhook (`IDENTITY_IS_READY`,
//! `BALANCE_SUCCESS` per account, or the `_FAILED` event).
//!
//! Jobs may run twice (a worker dies after the commit, before the job is marked done): a product
//! already finished on the record is left alone, checked under the record's row lock.

use okra_core::banks::BankInfo;
use okra_core::source::SourceError;
use okra_store::accounts::Account;
use okra_store::balances::{Balance, NewBalance};
use okra_store::customers::Customer;
use okra_store::jobs::{self, ClaimedJob, NewJob};
use okra_store::records::{ProductOutcome, Record};
use okra_store::AnyConnection;
use okra_store::{StoreError, Tenant};
use serde_json::{json, Value};

use super::balance;
use super::identity_profile;
use super::sources::TenantSource;
use super::webhooks::{outbox, payload};
use crate::app::AppState;
use crate::workers::{job_tenant, JobError};

/// Fetches a record's identity.
pub const IDENTITY_JOB: &str = "record.identity";
/// Fetches the balances of a record's connected accounts.
pub const BALANCE_JOB: &str = "record.balance";
/// Attempts of a product job before the product is reported failed.
const ATTEMPTS: i64 = 4;

/// Enqueues the job of `product` (identity or balance) for `record_id` on `conn`.
pub async fn enqueue(
    conn: &mut AnyConnection,
    tenant: &Tenant,
    record_id: &str,
    product: &str,
) -> Result<(), StoreError> {
    let kind = match product {
        "identity" => IDENTITY_JOB,
        "balance" => BALANCE_JOB,
        _ => return Ok(()),
    };
    let mut job = NewJob::new(kind, json!({ "record_id": record_id }));
    job.owner_id = Some(tenant.owner_id.clone());
    job.env = Some(tenant.env.as_str().to_string());
    job.max_attempts = ATTEMPTS;
    jobs::enqueue(conn, &job).await?;
    Ok(())
}

/// What a product job works on.
struct Work {
    tenant: Tenant,
    record: Record,
    customer: Customer,
    bank: &'static BankInfo,
    /// The accounts the user connected in this record (its `accounts`).
    accounts: Vec<Account>,
}

fn store_error(e: StoreError) -> JobError {
    JobError::retry(format!("database: {e}"))
}

async fn load(state: &AppState, job: &ClaimedJob) -> Result<Work, JobError> {
    let tenant = job_tenant(job)?;
    let record_id = job.payload["record_id"]
        .as_str()
        .ok_or_else(|| JobError::permanent("product job without a record id"))?;
    let record = okra_store::records::get(&state.db, &tenant, record_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| JobError::permanent("no such record"))?;
    let keyring = state.keyring();
    let customer = okra_store::customers::get(&state.db, &keyring, &tenant, &record.customer_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| JobError::permanent("the record's customer is missing"))?;
    let bank = okra_core::banks::find(&record.bank_id)
        .ok_or_else(|| JobError::permanent("the record's bank is not in the catalogue"))?;
    let ids = super::records::account_ids(state, &tenant, &record)
        .await
        .map_err(|e| JobError::retry(format!("{e}")))?;
    // The accounts connected in this record, whatever a later connection chose since.
    let accounts = okra_store::accounts::get_many(&state.db, &keyring, &tenant, &ids)
        .await
        .map_err(store_error)?;
    Ok(Work {
        tenant,
        record,
        customer,
        bank,
        accounts,
    })
}

/// Whether waiting can help: outages and timeouts are retried, refusals are final.
fn retryable(e: &SourceError) -> bool {
    matches!(
        e,
        SourceError::Timeout | SourceError::BankUnavailable | SourceError::Other(_)
    )
}

/// A data-source failure: retried while attempts remain, else reported as the product's failure.
async fn failed(
    state: &AppState,
    job: &ClaimedJob,
    work: &Work,
    product: &str,
    e: SourceError,
) -> Result<(), JobError> {
    if retryable(&e) && job.attempt < job.max_attempts {
        return Err(JobError::retry(format!("data source: {e}")));
    }
    finish(
        state,
        work,
        product,
        Outcome::Failed(failure_message(product)),
    )
    .await
}

/// What a product's `_FAILED` webhook (and `GET callback`) says.
pub(crate) fn failure_message(product: &str) -> &'static str {
    match product {
        "identity" => "Identity could not be retrieved",
        super::balance_refresh::CHECK_PRODUCT => "Balance could not be checked",
        _ => "Balance could not be retrieved",
    }
}

/// Marks `product` failed on the record (and queues its `_FAILED` webhook) unless it finished:
/// best effort, for jobs ending without a result of their own (`reason` goes to the log).
async fn fail_product(state: &AppState, work: &Work, product: &str, reason: &str) {
    let failed = Outcome::Failed(failure_message(product));
    if let Err(e) = finish(state, work, product, failed).await {
        tracing::error!(error = %e.message, %reason, "recording a failed product failed");
    }
}

/// What a product job stores.
enum Outcome {
    Identity(Box<okra_store::identities::IdentityProfile>),
    Balances(Vec<(Account, okra_core::source::SourceBalance)>),
    Failed(&'static str),
}

/// Stores the outcome, marks the product and queues its webhooks: one transaction.
async fn finish(
    state: &AppState,
    work: &Work,
    product: &str,
    outcome: Outcome,
) -> Result<(), JobError> {
    let keyring = state.keyring();
    let tenant = &work.tenant;
    let mut tx = state.db.begin().await.map_err(store_error)?;
    let conn = tx.conn();
    let Some(mut record) = okra_store::records::get_for_update(conn, tenant, &work.record.id)
        .await
        .map_err(store_error)?
    else {
        return Err(JobError::permanent("the record disappeared"));
    };
    if record.product_state(product).is_some() {
        return Ok(()); // an earlier run of this job finished it
    }
    let now = okra_core::time::now_ms();
    let ok = !matches!(outcome, Outcome::Failed(_));
    let result = if ok {
        ProductOutcome::Success
    } else {
        ProductOutcome::Failed
    };
    record.finish_product(product, result, now);
    let url = record.callback_url.clone();
    let ctx = url.as_deref().map(|url| payload::Context {
        owner_id: &tenant.owner_id,
        env: tenant.env,
        record_id: &record.id,
        bank: work.bank,
        customer_id: &work.customer.id,
        customer_emails: &work.customer.pii.emails,
        options: &work.record.options,
        meta: &work.record.meta,
        url,
        started_at: work.record.created_at,
    });
    let mut bodies: Vec<(String, serde_json::Map<String, Value>)> = Vec::new();
    match outcome {
        Outcome::Identity(profile) => {
            let id = okra_store::identities::insert(
                conn,
                &keyring,
                tenant,
                &work.customer.id,
                Some(&record.id),
                &profile,
                Some(now),
            )
            .await
            .map_err(store_error)?;
            if let Some(ctx) = &ctx {
                let identity = okra_store::identities::Identity {
                    id,
                    customer_id: work.customer.id.clone(),
                    record_id: Some(record.id.clone()),
                    profile: *profile,
                    created_at: now,
                    last_updated: now,
                };
                let mut body = payload::envelope(ctx, product, true, "Identity is ready", now);
                body.insert(
                    "identity".into(),
                    identity_profile::identity_object(&identity, &work.customer.name, tenant.env),
                );
                bodies.push((payload::code_of(product, true), body));
            }
        }
        Outcome::Balances(fetched) => {
            for (account, b) in fetched {
                let new = NewBalance {
                    account_id: account.id.clone(),
                    customer_id: work.customer.id.clone(),
                    record_id: record.id.clone(),
                    available_minor: b.available_minor,
                    ledger_minor: b.ledger_minor,
                    currency: b.currency.clone(),
                    history: b.history.clone(),
                    created_at: Some(now),
                };
                let id = okra_store::balances::insert(conn, tenant, &new)
                    .await
                    .map_err(store_error)?;
                if let Some(ctx) = &ctx {
                    let balance = Balance {
                        id,
                        account_id: new.account_id,
                        customer_id: new.customer_id,
                        record_id: new.record_id,
                        available_minor: new.available_minor,
                        ledger_minor: new.ledger_minor,
                        currency: new.currency,
                        history: new.history,
                        created_at: now,
                        last_updated: now,
                    };
                    let mut body = payload::envelope(ctx, product, true, "Balance is ready", now);
                    body.insert("nuban".into(), json!(account.nuban));
                    let shown = balance::Shown::of_account(
                        &tenant.owner_id,
                        &account,
                        Some(&work.customer.name),
                        (record.running, record.completed),
                    );
                    let object =
                        balance::render(&state.public_url, &balance, &shown, tenant.env, true)
                            .map_err(|e| JobError::permanent(format!("balance object: {e}")))?;
                    body.insert("balance".into(), object);
                    bodies.push((payload::code_of(product, true), body));
                }
            }
        }
        Outcome::Failed(message) => {
            if let Some(ctx) = &ctx {
                let body = payload::envelope(ctx, product, false, message, now);
                bodies.push((payload::code_of(product, false), body));
            }
        }
    }
    okra_store::records::save_status(conn, tenant, &record)
        .await
        .map_err(store_error)?;
    if let Some(url) = &url {
        for (code, body) in bodies {
            outbox::queue(
                conn,
                state,
                &keyring,
                tenant,
                Some(&record.id),
                &code,
                url,
                body,
            )
            .await
            .map_err(store_error)?;
        }
    }
    tx.commit().await.map_err(store_error)?;
    state.jobs_ready.notify_waiters();
    Ok(())
}

/// Ends the product as failed when its job ends without a result of its own (the database or
/// the profile failing on the last attempt, a permanent error): the record must not stay
/// `running` nor its callback `processing` for ever. The job's error is kept.
async fn settle_failure(
    state: &AppState,
    job: &ClaimedJob,
    work: &Work,
    product: &str,
    result: Result<(), JobError>,
) -> Result<(), JobError> {
    match result {
        Err(e) if !e.retry || job.attempt >= job.max_attempts => {
            fail_product(state, work, product, &e.message).await;
            Err(e)
        }
        other => other,
    }
}

/// The abandon hook of product jobs: the product is marked failed on its record (and its
/// `_FAILED` webhook queued) unless it finished.
pub async fn abandon(state: AppState, job: ClaimedJob, reason: String) {
    let product = match job.kind.as_str() {
        IDENTITY_JOB => "identity",
        BALANCE_JOB => "balance",
        _ => return,
    };
    if let Ok(work) = load(&state, &job).await {
        fail_product(&state, &work, product, &reason).await;
    }
}

/// The `record.identity` job: the identity of the holder of the record's first connected account,
/// from the registry (the bank session of the connection is gone by now).
pub async fn run_identity(state: AppState, job: ClaimedJob) -> Result<(), JobError> {
    let work = load(&state, &job).await?;
    let result = identity(&state, &job, &work).await;
    settle_failure(&state, &job, &work, "identity", result).await
}

async fn identity(state: &AppState, job: &ClaimedJob, work: &Work) -> Result<(), JobError> {
    if work.record.product_state("identity").is_some() {
        return Ok(());
    }
    let Some(account) = work.accounts.first() else {
        return finish(
            state,
            work,
            "identity",
            Outcome::Failed("No connected account"),
        )
        .await;
    };
    let source = TenantSource::new(state, &work.tenant)
        .await
        .map_err(store_error)?;
    match source.resolve_nuban(&account.bank_id, &account.nuban).await {
        Ok(identity) => {
            let profile = identity_profile::profile(&identity, &state.public_url)
                .map_err(|e| JobError::permanent(format!("identity profile: {e}")))?;
            finish(
                state,
                work,
                "identity",
                Outcome::Identity(Box::new(profile)),
            )
            .await
        }
        Err(e) => failed(state, job, work, "identity", e).await,
    }
}

/// The `record.balance` job: the balance of every connected account of the record; all or none
/// (a failure of one account fails the product, and nothing is stored).
pub async fn run_balance(state: AppState, job: ClaimedJob) -> Result<(), JobError> {
    let work = load(&state, &job).await?;
    let result = balance(&state, &job, &work).await;
    settle_failure(&state, &job, &work, "balance", result).await
}

async fn balance(state: &AppState, job: &ClaimedJob, work: &Work) -> Result<(), JobError> {
    if work.record.product_state("balance").is_some() {
        return Ok(());
    }
    let source = TenantSource::new(state, &work.tenant)
        .await
        .map_err(store_error)?;
    let mut fetched = Vec::with_capacity(work.accounts.len());
    for account in &work.accounts {
        let reference = account.account_ref.as_deref().unwrap_or(&account.nuban);
        match source.balance(&account.bank_id, reference).await {
            Ok(b) => fetched.push((account.clone(), b)),
            Err(e) => return failed(state, job, work, "balance", e).await,
        }
    }
    finish(state, work, "balance", Outcome::Balances(fetched)).await
}
