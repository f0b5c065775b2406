//! `balance/refresh` and `balance/check`: a background run per account, named by a record whose
//! `GET callback` reports it (`BALANCE`: the refreshed balance; `CHECK_BALANCE`: whether the
//! balance changed since it was fetched).
//!
//! Runs are debounced in the database (`okra_store::balances::refresh`): while a run of an
//! account is going, and for 60 seconds after it succeeded, every refresh of that account (from
//! any process) answers with the same record, and the bank is asked once. A refresh updates the
//! account's latest balance in place and adds the day's point to its history (the latest of a day
//! wins); a check stores nothing but its answer. A failure of the bank fails the run at once (no
//! retry: the caller asked for a real-time answer and can ask again; a failed run is not reused),
//! sends `BALANCE_FAILED` for a refresh, and leaves the stored balance as it was.

use okra_core::banks::BankInfo;
use okra_core::id::new_id;
use okra_core::source::{DailyBalance, SourceBalance};
use okra_core::time::now_ms;
use okra_core::Environment;
use okra_store::accounts::Account;
use okra_store::balances::{self, refresh, Balance, BalanceView, NewBalance};
use okra_store::customers::Customer;
use okra_store::jobs::{self, ClaimedJob, NewJob};
use okra_store::records::{NewRecord, ProductOutcome, Record, RecordRow};
use okra_store::{StoreError, Tenant};
use serde_json::{json, Value};

use super::balance::{self as balance_view, Shown};
use super::error::{Error, Result};
use super::sources::TenantSource;
use super::webhooks::{outbox, payload};
use crate::app::AppState;
use crate::workers::{job_tenant, JobError};

/// The job of a refresh.
pub const REFRESH_JOB: &str = "balance.refresh";
/// The job of a check.
pub const CHECK_JOB: &str = "balance.check";
/// The product a check's record stands for (its `GET callback` method is `CHECK_BALANCE`).
pub const CHECK_PRODUCT: &str = "check_balance";
/// Attempts of a run's job: database failures are retried, the bank's are not.
const ATTEMPTS: i64 = 4;

/// Which run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// `balance/refresh`: fetch and store the balance.
    Refresh,
    /// `balance/check`: fetch and compare with the stored balance.
    Check,
}

impl Run {
    /// The `method` of its answer and `GET callback`.
    pub fn method(self) -> &'static str {
        match self {
            Run::Refresh => "BALANCE",
            Run::Check => "CHECK_BALANCE",
        }
    }

    fn product(self) -> &'static str {
        match self {
            Run::Refresh => "balance",
            Run::Check => CHECK_PRODUCT,
        }
    }

    fn job(self) -> &'static str {
        match self {
            Run::Refresh => REFRESH_JOB,
            Run::Check => CHECK_JOB,
        }
    }

    fn of_job(kind: &str) -> Option<Run> {
        match kind {
            REFRESH_JOB => Some(Run::Refresh),
            CHECK_JOB => Some(Run::Check),
            _ => None,
        }
    }
}

/// What a refresh or check answers at once: `{callback_url, record, method}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// `GET callback` of the run, absolute.
    pub callback_url: String,
    /// The run's record.
    pub record: String,
    /// `BALANCE` or `CHECK_BALANCE`.
    pub method: &'static str,
}

/// `<public base>/v2[/sandbox]/callback?record=<id>&method=<M>`.
pub fn callback_url(state: &AppState, env: Environment, record: &str, method: &str) -> String {
    let base = match env {
        Environment::Sandbox => "/v2/sandbox",
        Environment::Production => "/v2",
    };
    format!(
        "{}{base}/callback?record={record}&method={method}",
        state.public_url
    )
}

/// How long a run's job can live (every attempt timing out, its lease lapsing, the longest
/// backoff between attempts), and a minute more: a run older than this lost its job, and the next
/// refresh starts another.
fn longest_run_ms(state: &AppState) -> i64 {
    let c = &state.config;
    let attempt = (c.job_timeout_secs + c.job_lease_secs) * 1000 + c.job_backoff_max_ms;
    i64::try_from(attempt)
        .unwrap_or(i64::MAX / 8)
        .saturating_mul(ATTEMPTS)
        .saturating_add(60_000)
}

/// Starts (or joins, within the debounce) a run of `account_id`. `record_id`, when given, names
/// the connection whose options, meta and webhook URL the run follows (by default the account's
/// own): it must be a record of the account's customer.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    run: Run,
    account_id: &str,
    record_id: Option<&str>,
) -> Result<Started> {
    let keyring = state.keyring();
    let account = okra_store::accounts::get(&state.db, &keyring, tenant, account_id)
        .await?
        .ok_or(Error::NotFound("Account"))?;
    let origin =
        okra_store::records::get(&state.db, tenant, record_id.unwrap_or(&account.record_id))
            .await?;
    let origin = match (origin, record_id) {
        (Some(r), _) if r.customer_id == account.customer_id => Some(r),
        (_, Some(_)) => return Err(Error::NotFound("Record")),
        (other, None) => other,
    };
    let url = match origin.as_ref().and_then(|r| r.callback_url.clone()) {
        Some(url) => Some(url),
        None => {
            okra_store::webhooks::settings(&state.db, &keyring, tenant)
                .await?
                .url
        }
    };
    let now = now_ms();
    let id = new_id();
    let mut tx = state.db.begin().await?;
    let joined = refresh::claim(
        tx.conn(),
        tenant,
        &account.id,
        run.method(),
        &id,
        now,
        longest_run_ms(state),
    )
    .await?;
    if joined.is_none() {
        let new = NewRecord {
            customer_id: account.customer_id.clone(),
            bank_id: account.bank_id.clone(),
            link_id: None,
            products: vec![run.product().to_string()],
            options: origin
                .as_ref()
                .map(|r| r.options.clone())
                .unwrap_or_default(),
            meta: origin.as_ref().map(|r| r.meta.clone()).unwrap_or_default(),
            callback_url: url,
            accounts: vec![account.id.clone()],
            created_at: Some(now),
        };
        okra_store::records::insert_rows(tx.conn(), tenant, &[RecordRow::new(id.clone(), new)?])
            .await?;
        let mut job = NewJob::new(
            run.job(),
            json!({ "record_id": id, "account_id": account.id }),
        );
        job.owner_id = Some(tenant.owner_id.clone());
        job.env = Some(tenant.env.as_str().to_string());
        job.max_attempts = ATTEMPTS;
        jobs::enqueue(tx.conn(), &job).await?;
    }
    tx.commit().await?;
    if joined.is_none() {
        state.jobs_ready.notify_waiters();
    }
    let record = joined.unwrap_or(id);
    Ok(Started {
        callback_url: callback_url(state, tenant.env, &record, run.method()),
        record,
        method: run.method(),
    })
}

/// What a run works on.
struct Work {
    tenant: Tenant,
    run: Run,
    record: Record,
    account: Account,
    customer: Customer,
    bank: &'static BankInfo,
    /// The account's latest balance before the run.
    before: Option<BalanceView>,
}

fn store_error(e: StoreError) -> JobError {
    JobError::retry(format!("database: {e}"))
}

fn service_error(e: Error) -> JobError {
    JobError::retry(format!("{e}"))
}

async fn load(state: &AppState, job: &ClaimedJob) -> std::result::Result<Work, JobError> {
    let run = Run::of_job(&job.kind).ok_or_else(|| JobError::permanent("not a balance run"))?;
    let tenant = job_tenant(job)?;
    let id = |k: &str| {
        job.payload[k]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| JobError::permanent(format!("balance run without {k}")))
    };
    let (record_id, account_id) = (id("record_id")?, id("account_id")?);
    let keyring = state.keyring();
    let record = okra_store::records::get(&state.db, &tenant, &record_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| JobError::permanent("no such record"))?;
    let account = okra_store::accounts::get(&state.db, &keyring, &tenant, &account_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| JobError::permanent("no such account"))?;
    let customer = okra_store::customers::get(&state.db, &keyring, &tenant, &account.customer_id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| JobError::permanent("the account's customer is missing"))?;
    let bank = okra_core::banks::find(&account.bank_id)
        .ok_or_else(|| JobError::permanent("the account's bank is not in the catalogue"))?;
    let before = balance_view::latest_of_account(state, &tenant, &account.id)
        .await
        .map_err(service_error)?;
    Ok(Work {
        tenant,
        run,
        record,
        account,
        customer,
        bank,
        before,
    })
}

/// The job of a refresh or a check: ask the bank once, then record the outcome.
pub async fn run_job(state: AppState, job: ClaimedJob) -> std::result::Result<(), JobError> {
    let work = load(&state, &job).await?;
    if work.record.product_state(work.run.product()).is_some() {
        return Ok(()); // an earlier attempt finished it
    }
    let source = TenantSource::new(&state, &work.tenant)
        .await
        .map_err(store_error)?;
    let account = &work.account;
    let reference = account.account_ref.as_deref().unwrap_or(&account.nuban);
    let fetched = match source.balance(&account.bank_id, reference).await {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(record = %work.record.id, error = %e, "balance run failed at the bank");
            None
        }
    };
    let result = finish(&state, &work, fetched).await;
    if let Err(e) = &result {
        if !e.retry || job.attempt >= job.max_attempts {
            fail(&state, &work, &e.message).await;
        }
    }
    result
}

/// The abandon hook: a run whose job was failed for good without finishing is reported failed;
/// when its parts cannot be loaded (for the webhook), at least its record and the account's run
/// are ended, so that nothing waits on it and the next refresh starts another.
pub async fn abandon(state: AppState, job: ClaimedJob, reason: String) {
    match load(&state, &job).await {
        Ok(work) => fail(&state, &work, &reason).await,
        Err(_) => {
            if let Err(e) = end_failed(&state, &job).await {
                tracing::error!(error = %e.message, %reason, "ending an abandoned balance run failed");
            }
        }
    }
}

/// Marks the run of `job` failed with nothing but its ids: the record's status and the end of the
/// account's run, in one transaction.
async fn end_failed(state: &AppState, job: &ClaimedJob) -> std::result::Result<(), JobError> {
    let run = Run::of_job(&job.kind).ok_or_else(|| JobError::permanent("not a balance run"))?;
    let tenant = job_tenant(job)?;
    let (Some(record_id), Some(account_id)) = (
        job.payload["record_id"].as_str(),
        job.payload["account_id"].as_str(),
    ) else {
        return Err(JobError::permanent("balance run without its ids"));
    };
    let now = now_ms();
    let mut tx = state.db.begin().await.map_err(store_error)?;
    let conn = tx.conn();
    if let Some(mut record) = okra_store::records::get_for_update(conn, &tenant, record_id)
        .await
        .map_err(store_error)?
    {
        if record.product_state(run.product()).is_none() {
            record.finish_product(run.product(), ProductOutcome::Failed, now);
            okra_store::records::save_status(conn, &tenant, &record)
                .await
                .map_err(store_error)?;
        }
    }
    refresh::finish(
        conn,
        &tenant,
        account_id,
        run.method(),
        record_id,
        false,
        now,
    )
    .await
    .map_err(store_error)?;
    tx.commit().await.map_err(store_error)
}

/// Best effort: the run is recorded as failed (`reason` goes to the log).
async fn fail(state: &AppState, work: &Work, reason: &str) {
    if let Err(e) = finish(state, work, None).await {
        tracing::error!(error = %e.message, %reason, "recording a failed balance run failed");
    }
}

/// The day (`YYYY-MM-DD`, UTC) a refresh at `ms` adds to the history.
fn day_of(ms: i64) -> String {
    okra_core::time::iso_ms(ms)[..10].to_string()
}

/// The refreshed balance: the account's latest updated in place, or a first one.
async fn store_refresh(
    conn: &mut okra_store::AnyConnection,
    work: &Work,
    fetched: SourceBalance,
    now: i64,
) -> std::result::Result<Balance, JobError> {
    let tenant = &work.tenant;
    // The day's point, when the bank gave an amount (a missing one is the other's).
    let point = match (fetched.available_minor, fetched.ledger_minor) {
        (None, None) => None,
        (available, ledger) => Some(DailyBalance {
            date: day_of(now),
            available_minor: available.or(ledger).unwrap_or_default(),
            ledger_minor: ledger.or(available).unwrap_or_default(),
        }),
    };
    let add_point = |history: Vec<DailyBalance>| match &point {
        Some(p) => refresh::with_point(history, p.clone()),
        None => history,
    };
    let stored = refresh::latest_for_update(conn, tenant, &work.account.id)
        .await
        .map_err(store_error)?;
    if let Some(was) = stored {
        let mut b = was.clone();
        // An amount the bank did not give keeps its last known value.
        b.available_minor = fetched.available_minor.or(b.available_minor);
        b.ledger_minor = fetched.ledger_minor.or(b.ledger_minor);
        b.currency = fetched.currency;
        b.history = add_point(std::mem::take(&mut b.history));
        b.last_updated = now;
        refresh::update(conn, tenant, &was, &b)
            .await
            .map_err(store_error)?;
        return Ok(b);
    }
    let new = NewBalance {
        account_id: work.account.id.clone(),
        customer_id: work.account.customer_id.clone(),
        record_id: work.record.id.clone(),
        available_minor: fetched.available_minor,
        ledger_minor: fetched.ledger_minor,
        currency: fetched.currency,
        history: add_point(fetched.history),
        created_at: Some(now),
    };
    let id = balances::insert(conn, tenant, &new)
        .await
        .map_err(store_error)?;
    Ok(Balance {
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
    })
}

/// Records the run's outcome in one transaction: the balance (refresh), the record's status and
/// the check's answer, the end of the debounce run, and the webhook.
async fn finish(
    state: &AppState,
    work: &Work,
    fetched: Option<SourceBalance>,
) -> std::result::Result<(), JobError> {
    let keyring = state.keyring();
    let tenant = &work.tenant;
    let product = work.run.product();
    let now = now_ms();
    let mut tx = state.db.begin().await.map_err(store_error)?;
    let conn = tx.conn();
    let Some(mut record) = okra_store::records::get_for_update(conn, tenant, &work.record.id)
        .await
        .map_err(store_error)?
    else {
        return Err(JobError::permanent("the record disappeared"));
    };
    if record.product_state(product).is_some() {
        return Ok(());
    }
    let ok = fetched.is_some();
    let outcome = if ok {
        ProductOutcome::Success
    } else {
        ProductOutcome::Failed
    };
    record.finish_product(product, outcome, now);
    let mut refreshed = None;
    match (work.run, fetched) {
        (Run::Refresh, Some(fetched)) => {
            refreshed = Some(store_refresh(conn, work, fetched, now).await?);
        }
        (Run::Check, Some(fetched)) => {
            let stored = work.before.as_ref().map(|v| &v.balance);
            let changed = stored.is_none_or(|b| {
                b.available_minor != fetched.available_minor
                    || b.ledger_minor != fetched.ledger_minor
            });
            if let Some(status) = record.product_status.get_mut(product) {
                status["balance_changed"] = json!(changed);
                status["last_fetched"] = json!(stored.map(|b| b.last_updated));
            }
        }
        (_, None) => {}
    }
    okra_store::records::save_status(conn, tenant, &record)
        .await
        .map_err(store_error)?;
    refresh::finish(
        conn,
        tenant,
        &work.account.id,
        work.run.method(),
        &record.id,
        ok,
        now,
    )
    .await
    .map_err(store_error)?;
    if let (Run::Refresh, Some(url)) = (work.run, record.callback_url.as_deref()) {
        let body = webhook_body(state, work, &record, url, refreshed.as_ref(), now)?;
        let code = payload::code_of("balance", ok);
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
    tx.commit().await.map_err(store_error)?;
    state.jobs_ready.notify_waiters();
    Ok(())
}

/// `BALANCE_SUCCESS` (with `nuban` and the Balance object) or `BALANCE_FAILED`.
fn webhook_body(
    state: &AppState,
    work: &Work,
    record: &Record,
    url: &str,
    refreshed: Option<&Balance>,
    now: i64,
) -> std::result::Result<serde_json::Map<String, Value>, JobError> {
    let tenant = &work.tenant;
    let ctx = payload::Context {
        owner_id: &tenant.owner_id,
        env: tenant.env,
        record_id: &record.id,
        bank: work.bank,
        customer_id: &work.customer.id,
        customer_emails: &work.customer.pii.emails,
        options: &record.options,
        meta: &record.meta,
        url,
        started_at: record.created_at,
    };
    let Some(balance) = refreshed else {
        let message = super::products::failure_message("balance");
        return Ok(payload::envelope(&ctx, "balance", false, message, now));
    };
    // The balance's own record: this run's (a first balance) or the connection's, as it stood.
    let record_state = if balance.record_id == record.id {
        Some((record.running, record.completed))
    } else {
        work.before.as_ref().and_then(|v| v.record_state)
    };
    let shown = Shown {
        record_state,
        ..Shown::of_account(
            &tenant.owner_id,
            &work.account,
            Some(&work.customer.name),
            (false, true),
        )
    };
    let object = balance_view::render(&state.public_url, balance, &shown, tenant.env, true)
        .map_err(|e| JobError::permanent(format!("balance object: {e}")))?;
    let mut body = payload::envelope(&ctx, "balance", true, "Balance is ready", now);
    body.insert("nuban".into(), json!(work.account.nuban));
    body.insert("balance".into(), object);
    Ok(body)
}
