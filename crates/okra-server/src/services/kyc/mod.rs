//! KYC verifies (`products/kyc/*`): ask the identity registry, then in ONE transaction charge the
//! wallet, find or create the customer, refresh or create the identity, write the verify's
//! record and receipt, and store the answer under the call's `Idempotency-Key`.
//!
//! Order of a call, so that a refused call writes nothing and charges nothing:
//! 1. the 15-minute negative cache (an unknown bank or a NUBAN the source could not tie to an
//!    identity, asked again, is refused without asking the source; kept in the database so
//!    every process agrees);
//! 2. the idempotency claim (replay, 422 for another body, 409 while the first call runs);
//! 3. a balance pre-check (a wallet that cannot pay is refused before the source is asked);
//! 4. the source (a timeout is a 503: nothing written, nothing charged);
//! 5. the transaction, whose conditional debit is the authoritative balance check: of many
//!    concurrent calls only those the wallet affords commit.

mod receipt;

use okra_core::banks::BankInfo;
use okra_core::mask::{mask_bvn, mask_nuban};
use okra_core::source::{SourceError, SourceIdentity};
use okra_store::customers::{self, NewCustomer};
use okra_store::db::Tx;
use okra_store::idempotency::{self, Claim, Lifetimes};
use okra_store::identities::{self, Existing, IdentityRow};
use okra_store::receipts::{self, NewReceipt};
use okra_store::records::{self, NewRecord, RecordRow};
use okra_store::Tenant;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use receipt::{credits, receipt_envelope, receipt_object, ReceiptFacts, Service};

use super::error::{Error, Result};
use super::identity_profile::{self, kyc_object};
use super::sources::TenantSource;
use crate::app::AppState;

/// How long an invalid bank or NUBAN is remembered (the reference: 15 minutes).
const NEGATIVE_TTL_MS: i64 = 15 * 60 * 1000;
/// The answer to an invalid bank or NUBAN asked again within [`NEGATIVE_TTL_MS`].
pub const INVALID_AGAIN: &str = "Invalid identity, please try again in 15 minutes.";
/// A NUBAN the source could not tie to an identity.
pub const NUBAN_NO_IDENTITY: &str = "Could not match the nuban account to a valid identity. Please try to use BVN in order to find the identity.";
/// A BVN no one holds.
pub const BVN_NO_IDENTITY: &str = "There is no identity available for this bvn";
/// A wallet that cannot pay.
pub const INSUFFICIENT: &str = "Insufficient wallet balance";

/// What is verified.
#[derive(Clone, Debug)]
pub enum Subject {
    /// A customer of the tenant, by the BVN on their profile.
    Customer(String),
    /// A BVN.
    Bvn(String),
    /// The holder of an account: bank id or slug as sent, and the NUBAN.
    Nuban {
        /// Bank id or slug, as the client sent it.
        bank: String,
        /// Account number (10 digits).
        nuban: String,
        /// `refresh`: `Some(false)` returns a stored identity without asking the source.
        refresh: Option<bool>,
    },
    /// The name on an account (name enquiry).
    NubanName {
        /// Bank id or slug, as the client sent it.
        bank: String,
        /// Account number.
        nuban: String,
        /// `no_bvn` (sandbox): answer as if no BVN were linked.
        no_bvn: bool,
    },
}

/// A verify request.
#[derive(Clone, Debug)]
pub struct Verify {
    /// What to verify.
    pub subject: Subject,
    /// `testing`: answer from the sandbox's sources, free of charge.
    pub testing: bool,
    /// `success` (with `testing`, or in the sandbox): `Some(false)` forces the failure answer.
    pub success: Option<bool>,
}

impl Verify {
    fn service(&self) -> Service {
        match self.subject {
            Subject::Customer(_) => Service::CustomerVerify,
            Subject::Bvn(_) => Service::BvnVerify,
            Subject::Nuban { .. } => Service::NubanVerify,
            Subject::NubanName { .. } => Service::NubanNameVerify,
        }
    }
}

/// An idempotency key and the request it came with.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    /// The `Idempotency-Key` header.
    pub key: String,
    /// The operation (`bvn-verify`, …).
    pub operation: &'static str,
    /// The parsed body.
    pub body: Value,
}

/// `value` with every object's keys sorted, so that two bodies that differ only in key order
/// (or whitespace) are the same request.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The hash that tells two requests under one key apart: a keyed hash (the blind-index key) of
/// the operation and the canonical body. Keyed because a body holds a BVN or NUBAN, values few
/// enough to be found again from a plain hash.
fn request_hash(state: &AppState, operation: &str, body: &Value) -> String {
    let mut h = Sha256::new();
    h.update(operation.as_bytes());
    h.update([0]);
    h.update(canonical(body).to_string().as_bytes());
    state
        .keyring()
        .blind_index("idempotency", &hex::encode(h.finalize()))
}

/// Releases a claimed key when the call ends without an answer (an error, or the request timeout
/// dropping the call): nothing was charged, so the same key may be sent again.
struct Claimed {
    state: AppState,
    tenant: Tenant,
    key: String,
    token: String,
    armed: bool,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (state, tenant, key, token) = (
            self.state.clone(),
            self.tenant.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        // A failure to release leaves the claim to be taken over after its lease.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if let Err(e) = idempotency::release(&state.db, &tenant, &key, &token).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        });
    }
}

/// The answer of a verify: the envelope's message and data, or a replayed response.
pub enum Answer {
    /// A fresh answer.
    Fresh {
        /// Envelope message.
        message: &'static str,
        /// Envelope data.
        data: Value,
    },
    /// The stored answer of an earlier call with the same key.
    Replay {
        /// Its HTTP status.
        status: u16,
        /// Its body.
        body: Vec<u8>,
    },
}

/// The message of each operation's success envelope (the reference's examples).
fn message(service: Service) -> &'static str {
    match service {
        Service::CustomerVerify | Service::BvnVerify => "Identity successfully retrieved",
        Service::NubanVerify => "Identity retrieved successfully",
        Service::NubanNameVerify => "Account Retrieved successfully",
    }
}

fn negative_key(state: &AppState, kind: &str, value: &str) -> String {
    format!(
        "kyc-invalid:{kind}:{}",
        state.keyring().blind_index("kyc_invalid", value)
    )
}

async fn remembered_invalid(state: &AppState, tenant: &Tenant, key: &str) -> Result<bool> {
    Ok(
        okra_store::ephemeral::get(&state.db, &tenant.owner_id, tenant.env.as_str(), key).await?
            > 0,
    )
}

async fn remember_invalid(state: &AppState, tenant: &Tenant, key: &str) -> Result<()> {
    let until = okra_core::time::now_ms() + NEGATIVE_TTL_MS;
    okra_store::ephemeral::add(
        &state.db,
        &tenant.owner_id,
        tenant.env.as_str(),
        key,
        1,
        until,
    )
    .await?;
    Ok(())
}

/// Runs a verify. `idempotency` is the call's key, if it sent one.
///
/// `testing: true` redirects the whole call to the owner's sandbox, as the reference says: the
/// sandbox's sources answer, the sandbox's data is written (never the production tenant's), its
/// wallet gives the receipt, at no charge.
pub async fn verify(
    state: &AppState,
    tenant: &Tenant,
    req: Verify,
    idempotency: Option<IdempotencyKey>,
) -> Result<Answer> {
    let sandbox;
    let tenant = if req.testing {
        sandbox = Tenant {
            owner_id: tenant.owner_id.clone(),
            env: okra_core::Environment::Sandbox,
        };
        &sandbox
    } else {
        tenant
    };
    // 1. The negative cache and the bank, before anything else.
    let bank = match &req.subject {
        Subject::Nuban { bank, nuban, .. } | Subject::NubanName { bank, nuban, .. } => {
            let bank_key = negative_key(state, "bank", &bank.trim().to_ascii_lowercase());
            if remembered_invalid(state, tenant, &bank_key).await? {
                return Err(Error::Refused(INVALID_AGAIN.into()));
            }
            let Some(info) = okra_core::banks::find(bank) else {
                remember_invalid(state, tenant, &bank_key).await?;
                return Err(Error::UnknownBank(bank.clone()));
            };
            if !info.accepts_account_number(nuban) {
                return Err(Error::Invalid(
                    "`nuban` must be a valid 10-digit NUBAN".into(),
                ));
            }
            let nuban_key = negative_key(state, "nuban", &format!("{}:{nuban}", info.id));
            if remembered_invalid(state, tenant, &nuban_key).await? {
                return Err(Error::Refused(INVALID_AGAIN.into()));
            }
            Some((info, nuban_key))
        }
        _ => None,
    };

    // 2. The idempotency claim.
    let now = okra_core::time::now_ms();
    let mut claimed = None;
    if let Some(k) = &idempotency {
        let times = Lifetimes {
            now,
            ttl_ms: state.config.idempotency_ttl_hours as i64 * 3_600_000,
            // A call lives at most the request timeout (the middleware drops it then): a claim
            // older than twice that belongs to a process that died.
            lease_ms: state.config.request_timeout_secs as i64 * 2_000,
        };
        let hash = request_hash(state, k.operation, &k.body);
        match idempotency::claim(&state.db, &state.keyring(), tenant, &k.key, &hash, times).await? {
            Claim::Fresh(token) => {
                claimed = Some(Claimed {
                    state: state.clone(),
                    tenant: tenant.clone(),
                    key: k.key.clone(),
                    token,
                    armed: true,
                })
            }
            Claim::Replay { status, body } => return Ok(Answer::Replay { status, body }),
            Claim::Mismatch => return Err(Error::IdempotencyMismatch),
            Claim::Running => return Err(Error::IdempotencyRunning),
        }
    }
    let claim = claimed.as_ref().map(|c| (c.key.as_str(), c.token.as_str()));
    let out = run(state, tenant, &req, bank, claim, now).await;
    if let Some(c) = claimed.as_mut() {
        // Success: completed inside the charging transaction. Failure: nothing was charged, and
        // the key is released before the answer leaves, so an immediate retry runs. (The drop
        // guard only covers a call dropped before it got here: the request timeout.)
        c.armed = false;
        if out.is_err() {
            if let Err(e) = idempotency::release(&state.db, tenant, &c.key, &c.token).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        }
    }
    out
}

/// What the source answered (or the stored identity that answers instead).
enum Found {
    Identity(Box<SourceIdentity>),
    Stored(Box<okra_store::identities::IdentityView>),
    Name { name: String, bvn: Option<String> },
}

async fn run(
    state: &AppState,
    tenant: &Tenant,
    req: &Verify,
    bank: Option<(&'static BankInfo, String)>,
    claim: Option<(&str, &str)>,
    now: i64,
) -> Result<Answer> {
    let service = req.service();
    let price = if req.testing {
        0
    } else {
        service.price_minor(&state.config)
    };

    // 3. A wallet that cannot pay is refused before the source is asked.
    let wallet = okra_store::owners::wallet(&state.db, &tenant.owner_id, tenant.env)
        .await?
        .ok_or_else(|| Error::Internal("the owner has no wallet".into()))?;
    if wallet.balance_minor < price {
        return Err(Error::Refused(INSUFFICIENT.into()));
    }

    // `success: false` forces the failure answer (testing, or the sandbox).
    let forced_failure = req.success == Some(false)
        && (req.testing || tenant.env == okra_core::Environment::Sandbox);
    let failure = |service: Service| match service {
        Service::NubanVerify | Service::NubanNameVerify => NUBAN_NO_IDENTITY,
        Service::CustomerVerify | Service::BvnVerify => BVN_NO_IDENTITY,
    };
    if forced_failure {
        return Err(Error::Refused(failure(service).into()));
    }

    // 4. The source.
    // (A `testing` call arrives here as the owner's sandbox: the sandbox's sources and its
    // scripted faults answer it.)
    let source = TenantSource::new(state, tenant).await?;
    let keyring = state.keyring();
    let mut customer_id: Option<String> = None;
    let found = match &req.subject {
        Subject::Customer(id) => {
            let customer = customers::get(&state.db, &keyring, tenant, id)
                .await?
                .ok_or(Error::NotFound("Customer"))?;
            let bvn = customer.bvn.clone().ok_or_else(|| {
                Error::Refused(
                    "This customer has no BVN on their profile, please verify them by BVN or NUBAN"
                        .into(),
                )
            })?;
            customer_id = Some(customer.id);
            source_answer(source.lookup_bvn(&bvn).await, BVN_NO_IDENTITY)?
        }
        Subject::Bvn(bvn) => source_answer(source.lookup_bvn(bvn).await, BVN_NO_IDENTITY)?,
        Subject::Nuban { nuban, refresh, .. } => {
            let (info, nuban_key) = bank.as_ref().expect("nuban verifies resolve their bank");
            let stored = match refresh {
                Some(false) => {
                    identities::find_by_nuban(&state.db, &keyring, tenant, info.id, nuban).await?
                }
                _ => None,
            };
            match stored {
                Some(view) => Found::Stored(Box::new(view)),
                None => match source.resolve_nuban(info.id, nuban).await {
                    Err(SourceError::NotFound) => {
                        // No such account: an invalid NUBAN, remembered.
                        remember_invalid(state, tenant, nuban_key).await?;
                        return Err(Error::Refused(NUBAN_NO_IDENTITY.into()));
                    }
                    // An account without a BVN is not remembered: its name can still be asked
                    // (nuban-name-verify), as the answer advises.
                    Err(SourceError::InvalidIdentity) => {
                        return Err(Error::Refused(NUBAN_NO_IDENTITY.into()))
                    }
                    other => Found::Identity(Box::new(other?)),
                },
            }
        }
        Subject::NubanName { nuban, no_bvn, .. } => {
            let (info, nuban_key) = bank.as_ref().expect("nuban verifies resolve their bank");
            match source.name_enquiry(info.id, nuban).await {
                Err(SourceError::NotFound) => {
                    remember_invalid(state, tenant, nuban_key).await?;
                    return Err(Error::Refused(NUBAN_NO_IDENTITY.into()));
                }
                Err(SourceError::InvalidIdentity) => {
                    return Err(Error::Refused(NUBAN_NO_IDENTITY.into()))
                }
                other => {
                    let answer = other?;
                    let sandbox_like = req.testing || tenant.env == okra_core::Environment::Sandbox;
                    Found::Name {
                        name: answer.name,
                        bvn: if *no_bvn && sandbox_like {
                            None
                        } else {
                            answer.bvn
                        },
                    }
                }
            }
        }
    };

    // 5. One transaction.
    let mut tx: Tx = state.db.begin().await?;
    let written = write(
        state,
        &mut tx,
        tenant,
        req,
        service,
        price,
        bank.as_ref().map(|(b, _)| *b),
        customer_id,
        &found,
        now,
    )
    .await?;
    let message = message(service);
    if let Some((key, token)) = claim {
        let body =
            serde_json::to_vec(&json!({"status": "success", "message": message, "data": &written}))
                .map_err(|e| Error::Internal(e.to_string()))?;
        let ours = okra_store::idempotency::complete_on(
            tx.conn(),
            &keyring,
            tenant,
            key,
            token,
            200,
            &body,
        )
        .await?;
        if !ours {
            // Another call took the key over (this one outlived its lease): roll back, so that
            // the key is charged once.
            return Err(Error::IdempotencyRunning);
        }
    }
    tx.commit().await?;
    Ok(Answer::Fresh {
        message,
        data: written,
    })
}

/// The source's identity, or the operation's not-found answer.
fn source_answer(
    answer: std::result::Result<SourceIdentity, SourceError>,
    not_found: &str,
) -> Result<Found> {
    match answer {
        Ok(identity) => Ok(Found::Identity(Box::new(identity))),
        Err(SourceError::NotFound | SourceError::InvalidIdentity) => {
            Err(Error::Refused(not_found.into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Everything the verify writes, in the caller's transaction; returns the answer's data.
#[allow(clippy::too_many_arguments)]
async fn write(
    state: &AppState,
    tx: &mut Tx,
    tenant: &Tenant,
    req: &Verify,
    service: Service,
    price: i64,
    bank: Option<&'static BankInfo>,
    customer_id: Option<String>,
    found: &Found,
    now: i64,
) -> Result<Value> {
    let keyring = state.keyring();
    let conn = tx.conn();
    let balance = okra_store::owners::debit_on(conn, &tenant.owner_id, tenant.env, price, now)
        .await?
        .ok_or_else(|| Error::Refused(INSUFFICIENT.into()))?;
    let currency =
        okra_store::owners::wallet_currency_on(conn, &tenant.owner_id, tenant.env).await?;

    let nuban = match &req.subject {
        Subject::Nuban { nuban, .. } | Subject::NubanName { nuban, .. } => Some(nuban.as_str()),
        _ => None,
    };
    let nuban_idx = match (bank, nuban) {
        (Some(b), Some(n)) => Some(okra_store::blind::nuban_index(&keyring, b.id, n)),
        _ => None,
    };
    let (bvn, name, source_identity): (Option<String>, String, Option<&SourceIdentity>) =
        match found {
            Found::Identity(s) => (s.bvn.clone(), s.fullname.clone(), Some(s)),
            Found::Stored(v) => (
                v.identity.profile.pii.bvn.clone(),
                v.identity.profile.fullname.clone().unwrap_or_default(),
                None,
            ),
            Found::Name { name, bvn } => (bvn.clone(), name.clone(), None),
        };
    let bvn_idx = bvn
        .as_deref()
        .map(|b| okra_store::blind::bvn_index(&keyring, b));

    // One person's verifies (and connections) queue here on PostgreSQL, so two of them cannot
    // both find no customer and both create one.
    let person = bvn_idx.clone().or(nuban_idx.clone()).unwrap_or_default();
    okra_store::db::lock_key(
        conn,
        &format!(
            "connect:{}:{}:{person}",
            tenant.owner_id,
            tenant.env.as_str()
        ),
    )
    .await?;

    // The identity this verify refreshes, if one exists.
    let existing = match found {
        Found::Stored(v) => Some(Existing {
            id: v.identity.id.clone(),
            customer_id: v.identity.customer_id.clone(),
            created_at: v.identity.created_at,
        }),
        _ => identities::find_existing_on(conn, tenant, bvn_idx.as_deref(), nuban_idx.as_deref())
            .await?
            // customer-verify refreshes the named customer's own identity, not another
            // customer's with the same BVN.
            .filter(|e| customer_id.as_ref().is_none_or(|c| *c == e.customer_id)),
    };
    let customer_id = match customer_id {
        Some(id) => id,
        None => match (&existing, &bvn) {
            (Some(e), _) => e.customer_id.clone(),
            (None, Some(b)) => match customers::find_id_by_bvn_on(conn, &keyring, tenant, b).await?
            {
                Some(id) => id,
                None => {
                    let new = match source_identity {
                        Some(s) => NewCustomer::from_identity(s),
                        None => NewCustomer {
                            name: name.clone(),
                            bvn: bvn.clone(),
                            ..NewCustomer::default()
                        },
                    };
                    let new = NewCustomer {
                        created_at: Some(now),
                        ..new
                    };
                    customers::insert(conn, &keyring, tenant, &new).await?
                }
            },
            // Without a BVN: the holder the source described (a company), else — a name
            // enquiry — the customer who linked that account, else no customer at all (nothing
            // to find one by again, so none is made per call).
            (None, None) => match source_identity {
                Some(s) => {
                    let new = NewCustomer {
                        created_at: Some(now),
                        ..NewCustomer::from_identity(s)
                    };
                    customers::insert(conn, &keyring, tenant, &new).await?
                }
                None => {
                    let holder = match &nuban_idx {
                        Some(idx) => okra_store::accounts::find_by_index_on(conn, tenant, idx)
                            .await?
                            .map(|(_, customer)| customer),
                        None => None,
                    };
                    match holder {
                        Some(customer) => customer,
                        None => {
                            let receipt = write_receipt(
                                state,
                                conn,
                                tenant,
                                (service, price, balance, &currency),
                                None,
                                None,
                                now,
                            )
                            .await?;
                            return Ok(json!({
                                "identity": {
                                    "bvn": null,
                                    "name": name,
                                    "nuban": nuban.map(mask_nuban),
                                    "isBvnVerified": false,
                                },
                                "bank": bank.map(|b| json!({"_id": b.id, "slug": b.slug})),
                                "customer": null,
                                "record": [],
                                "receipt": receipt,
                            }));
                        }
                    }
                }
            },
        },
    };

    // The verify's record: at the bank named, else the identity's enrollment bank.
    let record_bank = bank.or_else(|| {
        source_identity
            .and_then(|s| s.enrollment_bank.as_deref())
            .and_then(okra_core::banks::find_by_code)
    });
    let record_id = match record_bank {
        Some(b) => {
            let id = okra_core::id::new_id();
            let row = RecordRow::new(
                id.clone(),
                NewRecord {
                    customer_id: customer_id.clone(),
                    bank_id: b.id.to_string(),
                    products: vec!["identity".into()],
                    created_at: Some(now),
                    ..NewRecord::default()
                },
            )?
            .completed_at(now);
            records::insert_rows(conn, tenant, &[row]).await?;
            Some(id)
        }
        None => None,
    };

    // The identity: refreshed when one exists, else created (name-verify stores none).
    let identity = match found {
        Found::Identity(s) => {
            let profile = identity_profile::profile(s, &state.public_url)
                .map_err(|e| Error::Internal(e.to_string()))?;
            let id = match &existing {
                Some(e) => {
                    identities::refresh(
                        conn,
                        &keyring,
                        tenant,
                        &e.id,
                        record_id.as_deref(),
                        &profile,
                        now,
                    )
                    .await?;
                    e.id.clone()
                }
                None => {
                    let id = okra_core::id::new_id();
                    let row = IdentityRow::new(
                        &keyring,
                        id.clone(),
                        &customer_id,
                        record_id.as_deref(),
                        profile.clone(),
                        Some(now),
                    )?;
                    okra_store::multirow::insert(conn, tenant, &[row]).await?;
                    id
                }
            };
            // The account it was verified by finds it again (identity/getByNuban, refresh:false).
            if let Some(idx) = &nuban_idx {
                identities::link_account(conn, tenant, idx, &id, now).await?;
            }
            let (created_at, last_updated) = match &existing {
                Some(e) => (e.created_at, now),
                None => (now, now),
            };
            Some(okra_store::identities::Identity {
                id,
                customer_id: customer_id.clone(),
                record_id: record_id.clone(),
                profile,
                created_at,
                last_updated,
            })
        }
        // The stored profile, answered with this verify's record.
        Found::Stored(v) => Some(okra_store::identities::Identity {
            record_id: record_id.clone(),
            ..v.identity.clone()
        }),
        Found::Name { .. } => None,
    };

    let receipt = write_receipt(
        state,
        conn,
        tenant,
        (service, price, balance, &currency),
        record_id.as_deref(),
        Some(&customer_id),
        now,
    )
    .await?;

    let bank_json = bank.map(|b| json!({"_id": b.id, "slug": b.slug}));
    Ok(match (service, identity) {
        (Service::NubanNameVerify, _) => json!({
            "identity": {
                "bvn": bvn.as_deref().map(mask_bvn),
                "name": name,
                "nuban": nuban.map(mask_nuban),
                "isBvnVerified": bvn.is_some(),
            },
            "bank": bank_json,
            "customer": customer_id,
            "record": record_id.into_iter().collect::<Vec<_>>(),
            "receipt": receipt,
        }),
        (Service::NubanVerify, Some(identity)) => json!({
            "identity": kyc_object(&identity, tenant.env),
            "account": null,
            "bank": bank_json,
            "customer": customer_id,
            "receipt": receipt,
        }),
        (_, Some(identity)) => {
            let mut v = kyc_object(&identity, tenant.env);
            v["record"] = json!(record_id);
            v["receipt"] = receipt;
            v
        }
        (_, None) => return Err(Error::Internal("a verify without an identity".into())),
    })
}

/// Writes the receipt of a paid call (`charge`: service, charge, balance after it, currency) on
/// the call's transaction; returns the receipt envelope of the answer.
async fn write_receipt(
    state: &AppState,
    conn: &mut okra_store::AnyConnection,
    tenant: &Tenant,
    charge: (Service, i64, i64, &str),
    record_id: Option<&str>,
    customer_id: Option<&str>,
    now: i64,
) -> Result<Value> {
    let (service, price, balance, currency) = charge;
    let receipt_id = okra_core::id::new_id();
    let line_id = okra_core::id::new_id();
    let receipt = receipt_object(&ReceiptFacts {
        id: &receipt_id,
        line_id: &line_id,
        owner_id: &tenant.owner_id,
        env: tenant.env,
        service,
        price_minor: service.price_minor(&state.config),
        charge_minor: price,
        balance_minor: balance,
        currency,
        record_id,
        customer_id,
        at: now,
    });
    receipts::insert(
        conn,
        tenant,
        &NewReceipt {
            id: receipt_id,
            record_id: record_id.map(str::to_string),
            customer_id: customer_id.map(str::to_string),
            kind: receipt["type"].as_str().unwrap_or("api-call").to_string(),
            billable_service: service.name().into(),
            charge_minor: price,
            wallet_balance_minor: balance,
            currency: currency.to_string(),
            body: receipt.clone(),
            created_at: now,
        },
    )
    .await?;
    Ok(receipt_envelope(&receipt))
}
