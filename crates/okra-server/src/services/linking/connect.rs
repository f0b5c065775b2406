//! `link/connect`: one whole connection, headless.

use okra_core::banks::BankInfo;
use okra_core::body::Body;
use okra_core::source::{Credentials, SourceAccount, SourceIdentity};
use okra_store::accounts::{self, AccountRow, NewAccount, Relink};
use okra_store::customers::{self, NewCustomer};
use okra_store::records::{self, NewRecord, ProductOutcome, RecordRow};
use okra_store::{Tenant, Tx};
use serde_json::{json, Map, Value};

use super::check_webhook_url;
use super::options::LinkOptions;
use crate::app::AppState;
use crate::services::error::{Error, Result};
use crate::services::identity_profile::{self, env_label};
use crate::services::products;
use crate::services::sources::TenantSource;
use crate::services::webhooks::{outbox, payload};

/// What `link/connect` is given. Its `Debug` leaves the password out.
#[derive(Clone)]
pub struct ConnectRequest {
    /// Bank id or slug.
    pub bank: String,
    /// Online-banking login.
    pub username: String,
    /// Online-banking password.
    pub password: String,
    /// NUBANs to connect; `None`: all (with `multi_account`) or the first.
    pub accounts: Option<Vec<String>>,
    /// A link session whose options apply instead of the body's.
    pub link_id: Option<String>,
    /// buildWithOptions options of the body.
    pub options: LinkOptions,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("bank", &self.bank)
            .field("accounts", &self.accounts.as_ref().map(Vec::len))
            .field("link_id", &self.link_id)
            .finish_non_exhaustive()
    }
}

/// Runs a connection and returns the onSuccess payload.
pub async fn connect(state: &AppState, tenant: &Tenant, req: ConnectRequest) -> Result<Value> {
    let now = okra_core::time::now_ms();
    let options = match &req.link_id {
        None => req.options.clone(),
        Some(id) => {
            let session = okra_store::link_sessions::get(&state.db, &state.keyring(), tenant, id)
                .await?
                .ok_or_else(|| Error::Refused("Link not found".into()))?;
            usable_link(&session, now)?;
            link_options(&session)?
        }
    };
    let bank = allowed_bank(&options, &req.bank)?;
    let url = webhook_url(state, tenant, &options).await?;

    // Everything the bank is asked, before anything is written.
    let source = TenantSource::new(state, tenant).await?;
    let credentials = Credentials {
        username: req.username.clone(),
        password: req.password.clone(),
        otp: None,
    };
    let session = source.authenticate(bank.id, &credentials).await?;
    let login = Login {
        bank,
        source: &source,
        session: &session,
    };
    finish(
        state,
        tenant,
        &options,
        req.link_id.as_deref(),
        url.as_deref(),
        login,
        req.accounts.as_deref(),
        now,
    )
    .await
}

/// A refusal unless the link session can still connect (open and unexpired).
pub(super) fn usable_link(
    session: &okra_store::link_sessions::LinkSession,
    now: i64,
) -> Result<()> {
    if session.status != "open" {
        return Err(Error::Refused("This link has already been used".into()));
    }
    if session.expires_at <= now {
        return Err(Error::Refused("This link has expired".into()));
    }
    Ok(())
}

/// The options a link session stored, read as if they were sent again.
pub(super) fn link_options(
    session: &okra_store::link_sessions::LinkSession,
) -> Result<LinkOptions> {
    let raw = session.options.as_object().cloned().unwrap_or_default();
    Ok(LinkOptions::read(
        &Body::from_value(session.options.clone())?,
        &raw,
    )?)
}

/// The bank named by id or slug, if the options' `filter.banks` allows it.
pub(super) fn allowed_bank(options: &LinkOptions, bank: &str) -> Result<&'static BankInfo> {
    let bank = okra_core::banks::find(bank).ok_or_else(|| Error::UnknownBank(bank.to_string()))?;
    if !options.allows_bank(bank) {
        return Err(Error::Refused(
            "This bank is not available for this link".into(),
        ));
    }
    Ok(bank)
}

/// The webhook URL of the connection's records: the options' (checked against the outbound
/// policy), else the owner's default.
pub(super) async fn webhook_url(
    state: &AppState,
    tenant: &Tenant,
    options: &LinkOptions,
) -> Result<Option<String>> {
    Ok(match &options.callback_url {
        Some(url) => {
            check_webhook_url(&state.config, tenant.env, "callback_url", url).await?;
            Some(url.clone())
        }
        None => {
            okra_store::webhooks::settings(&state.db, &state.keyring(), tenant)
                .await?
                .url
        }
    })
}

/// A bank login that succeeded: where, and the source's session.
#[derive(Clone, Copy)]
pub(super) struct Login<'a> {
    pub bank: &'static BankInfo,
    pub source: &'a TenantSource,
    pub session: &'a okra_core::source::BankSession,
}

/// The rest of a connection once the bank accepted the login: the accounts and the holder's
/// identity asked of the bank, the accounts chosen, everything written in one transaction, and
/// the onSuccess payload.
#[allow(clippy::too_many_arguments)]
pub(super) async fn finish(
    state: &AppState,
    tenant: &Tenant,
    options: &LinkOptions,
    link_id: Option<&str>,
    url: Option<&str>,
    login: Login<'_>,
    accounts: Option<&[String]>,
    now: i64,
) -> Result<Value> {
    let bank = login.bank;
    let listed = login.source.list_accounts(login.session).await?;
    let holder = login.source.identity(login.session).await?;
    let chosen = choose(&listed, accounts, options.multi_account)?;

    let written = write(
        state, tenant, bank, options, url, link_id, &listed, &chosen, &holder, now,
    )
    .await?;
    state.jobs_ready.notify_waiters();
    Ok(on_success(
        state, tenant, bank, options, url, &listed, &chosen, &holder, &written,
    ))
}

/// Which listed accounts the user connects (indexes into `listed`).
fn choose(listed: &[SourceAccount], wanted: Option<&[String]>, multi: bool) -> Result<Vec<usize>> {
    if listed.is_empty() {
        return Err(Error::Refused("No account was found at this login".into()));
    }
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return Ok(if multi {
            (0..listed.len()).collect()
        } else {
            vec![0]
        });
    };
    if wanted.len() > 1 && !multi {
        return Err(Error::Refused(
            "Only one account may be connected: multi_account is false".into(),
        ));
    }
    let mut chosen = Vec::new();
    for nuban in wanted {
        let i = (listed.iter().position(|a| a.nuban == nuban.trim())).ok_or_else(|| {
            Error::Refused("An account to connect is not held at this login".into())
        })?;
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    Ok(chosen)
}

/// What the transaction wrote.
struct Written {
    customer_id: String,
    record_id: String,
    /// Account id of each listed account, in `listed` order.
    account_ids: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
async fn write(
    state: &AppState,
    tenant: &Tenant,
    bank: &'static BankInfo,
    options: &LinkOptions,
    url: Option<&str>,
    link_id: Option<&str>,
    listed: &[SourceAccount],
    chosen: &[usize],
    holder: &SourceIdentity,
    now: i64,
) -> Result<Written> {
    let keyring = state.keyring();
    let mut tx: Tx = state.db.begin().await?;
    let conn = tx.conn();
    // One person's connections queue here on PostgreSQL, so two of them cannot both find no
    // customer and both create one (SQLite's write transactions exclude each other already).
    let person = match &holder.bvn {
        Some(bvn) => okra_store::blind::bvn_index(&keyring, bvn),
        None => accounts::nuban_index(&keyring, bank.id, &listed[0].nuban),
    };
    okra_store::db::lock_key(
        conn,
        &format!(
            "connect:{}:{}:{person}",
            tenant.owner_id,
            tenant.env.as_str()
        ),
    )
    .await?;

    let indexes: Vec<String> = (listed.iter())
        .map(|a| accounts::nuban_index(&keyring, bank.id, &a.nuban))
        .collect();
    let mut existing = Vec::with_capacity(listed.len());
    for idx in &indexes {
        existing.push(accounts::find_by_index_on(conn, tenant, idx).await?);
    }
    let by_bvn = match &holder.bvn {
        Some(bvn) => customers::find_id_by_bvn_on(conn, &keyring, tenant, bvn).await?,
        None => None,
    };
    // An account the tenant already holds ties the login to its customer first (the record and
    // its accounts must name the same customer, and `relink` keeps an account's customer); else
    // the BVN; else a new customer.
    let by_account = existing.iter().flatten().map(|(_, c)| c.clone()).next();
    let customer_id = match by_account.or(by_bvn) {
        Some(id) => id,
        None => {
            let new = NewCustomer {
                created_at: Some(now),
                ..NewCustomer::from_identity(holder)
            };
            customers::insert(conn, &keyring, tenant, &new).await?
        }
    };

    let record_id = okra_core::id::new_id();
    let account_ids: Vec<String> = (existing.iter())
        .map(|e| match e {
            Some((id, _)) => id.clone(),
            None => okra_core::id::new_id(),
        })
        .collect();
    let new_record = NewRecord {
        customer_id: customer_id.clone(),
        bank_id: bank.id.to_string(),
        link_id: link_id.map(str::to_string),
        products: options.products.clone(),
        options: options.options.clone(),
        meta: options.meta.clone(),
        callback_url: url.map(str::to_string),
        accounts: chosen.iter().map(|&i| account_ids[i].clone()).collect(),
        created_at: Some(now),
    };
    let row = RecordRow::new(record_id.clone(), new_record)?;
    records::insert_rows(conn, tenant, &[row]).await?;

    let mut new_rows = Vec::new();
    for (i, account) in listed.iter().enumerate() {
        let connected = chosen.contains(&i);
        match &existing[i] {
            Some((id, _)) => {
                let relink = Relink {
                    id,
                    record_id: &record_id,
                    connected,
                    name: &account.name,
                    account_ref: Some(&account.account_ref),
                    at: now,
                };
                accounts::relink(conn, &keyring, tenant, &relink).await?;
            }
            None => new_rows.push(AccountRow::new(
                &keyring,
                account_ids[i].clone(),
                NewAccount {
                    customer_id: customer_id.clone(),
                    bank_id: bank.id.to_string(),
                    record_id: record_id.clone(),
                    name: account.name.clone(),
                    nuban: account.nuban.clone(),
                    account_type: account.account_type.as_str().to_string(),
                    currency: account.currency.clone(),
                    connected,
                    account_ref: Some(account.account_ref.clone()),
                    created_at: Some(now),
                },
            )),
        }
    }
    okra_store::multirow::insert(conn, tenant, &new_rows).await?;

    if let Some(link_id) = link_id {
        if !okra_store::link_sessions::complete(conn, tenant, link_id, &record_id, now).await? {
            // Used or expired since it was read: the whole connection is undone.
            return Err(Error::Refused("This link has already been used".into()));
        }
    }

    // Auth and the account list come with the login itself: done when the record is written.
    let mut record = records::get_for_update(conn, tenant, &record_id)
        .await?
        .ok_or_else(|| Error::Internal("the record just written is missing".into()))?;
    for product in ["auth", "accounts"] {
        if options.wants(product) {
            record.finish_product(product, ProductOutcome::Success, now);
        }
    }
    records::save_status(conn, tenant, &record).await?;

    if let Some(url) = url {
        let customer = NewCustomer::from_identity(holder);
        let ctx = payload::Context {
            owner_id: &tenant.owner_id,
            env: tenant.env,
            record_id: &record_id,
            bank,
            customer_id: &customer_id,
            customer_emails: &customer.pii.emails,
            options: &options.options,
            meta: &options.meta,
            url,
            started_at: now,
        };
        let mut bodies = Vec::new();
        if options.wants("auth") {
            let mut body = payload::envelope(&ctx, "auth", true, "Auth is ready", now);
            body.insert("auth".into(), json!({"status": true, "bank_id": bank.id, "customer_id": customer_id, "login_type": "web"}));
            bodies.push(("auth", body));
        }
        if options.wants("accounts") {
            for &i in chosen {
                let a = &listed[i];
                let mut body = payload::envelope(&ctx, "accounts", true, "Accounts are ready", now);
                body.insert(
                    "account".into(),
                    account_json(tenant, a, &account_ids[i], &customer_id, true),
                );
                bodies.push(("accounts", body));
            }
        }
        for (product, body) in bodies {
            let code = payload::code_of(product, true);
            outbox::queue(
                conn,
                state,
                &keyring,
                tenant,
                Some(&record_id),
                &code,
                url,
                body,
            )
            .await?;
        }
    }
    for product in ["identity", "balance"] {
        if options.wants(product) {
            products::enqueue(conn, tenant, &record_id, product).await?;
        }
    }
    tx.commit().await?;
    Ok(Written {
        customer_id,
        record_id,
        account_ids,
    })
}

/// An account as onSuccess and `ACCOUNTS_SUCCESS` show it (balances arrive with the balance
/// product, so they are null here).
fn account_json(
    tenant: &Tenant,
    a: &SourceAccount,
    id: &str,
    customer_id: &str,
    connected: bool,
) -> Value {
    json!({
        "id": id,
        "_id": id,
        "accountId": id,
        "name": a.name,
        "nuban": a.nuban,
        "type": a.account_type.as_str(),
        "ref": a.account_ref,
        "currency": a.currency,
        "available_balance": null,
        "ledger_balance": null,
        "status": "active",
        "env": env_label(tenant.env),
        "customer": customer_id,
        "bank": a.bank_id,
        "connected": connected,
    })
}

/// The onSuccess payload okra-js' widget posted.
#[allow(clippy::too_many_arguments)]
fn on_success(
    state: &AppState,
    tenant: &Tenant,
    bank: &'static BankInfo,
    options: &LinkOptions,
    url: Option<&str>,
    listed: &[SourceAccount],
    chosen: &[usize],
    holder: &SourceIdentity,
    w: &Written,
) -> Value {
    let assets = format!("{}/assets/banks/{}", state.public_url, bank.slug);
    let accounts: Vec<Value> = (listed.iter().enumerate())
        .map(|(i, a)| {
            account_json(
                tenant,
                a,
                &w.account_ids[i],
                &w.customer_id,
                chosen.contains(&i),
            )
        })
        .collect();
    let mut payload = Map::new();
    payload.insert(
        "auth".into(),
        json!({
            "bank_details": {"_id": bank.id, "name": bank.name, "slug": bank.slug, "type": bank.bank_type.as_str(),
                             "logo": format!("{assets}/logo.svg"), "icon": format!("{assets}/icon.svg")},
            "bank_id": bank.id,
            "clientId": options.stored.get("app_id").cloned().unwrap_or(json!(tenant.owner_id)),
            "customer_id": w.customer_id,
            "login_type": "web",
            "status": true,
            "type": "validate",
        }),
    );
    payload.insert("callback_url".into(), json!(url));
    payload.insert("meta".into(), Value::Object(options.meta.clone()));
    payload.insert("options".into(), Value::Object(options.options.clone()));
    payload.insert("accounts".into(), Value::Array(accounts));
    if options.wants("identity") {
        payload.insert(
            "identity".into(),
            session_identity(state, tenant, holder, &w.customer_id, &w.record_id),
        );
    }
    payload.insert("record_id".into(), json!(w.record_id));
    payload.insert("record".into(), json!(w.record_id));
    payload.insert("bank_id".into(), json!(bank.id));
    payload.insert("customer_id".into(), json!(w.customer_id));
    payload.insert("products".into(), json!(options.products));
    payload.insert("done".into(), json!(true));
    payload.insert("success".into(), json!(true));
    Value::Object(payload)
}

/// The identity the bank showed in the session, in the Identity shape; its `id` is null until
/// the identity product stores it (`IDENTITY_IS_READY` carries the stored one).
fn session_identity(
    state: &AppState,
    tenant: &Tenant,
    holder: &SourceIdentity,
    customer_id: &str,
    record_id: &str,
) -> Value {
    let Ok(profile) = identity_profile::profile(holder, &state.public_url) else {
        return Value::Null;
    };
    let now = okra_core::time::now_ms();
    let identity = okra_store::identities::Identity {
        id: String::new(),
        customer_id: customer_id.to_string(),
        record_id: Some(record_id.to_string()),
        profile,
        created_at: now,
        last_updated: now,
    };
    let mut v = identity_profile::identity_object(&identity, &holder.fullname, tenant.env);
    v["id"] = Value::Null;
    v["_id"] = Value::Null;
    v
}
