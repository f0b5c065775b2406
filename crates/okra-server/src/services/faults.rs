//! Fault injection for the sandbox: owners script what their simulated banks do wrong.

use okra_core::body::{Body, Invalid};
use okra_core::mask::{mask_bvn, mask_nuban};
use okra_core::time::{iso_ms, now_ms};
use okra_store::faults::{Fault as StoredFault, NewFault};
use okra_store::Tenant;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::ApiResult;
use crate::http::ApiError;

/// Every fault kind and what it does.
pub const KINDS: &[(&str, &str)] = &[
    (
        "bank_down",
        "every call to the bank (or to any bank) fails as unavailable: 503",
    ),
    ("timeout", "every call times out: 503"),
    (
        "slow",
        "every call takes delay_ms longer; beyond source_timeout_ms it times out: 503",
    ),
    (
        "otp_required",
        "logins at the bank ask for a one-time password",
    ),
    ("locked", "logins at the bank fail as locked"),
    (
        "invalid_credentials",
        "logins at the bank fail as invalid credentials",
    ),
    (
        "invalid_identity",
        "BVN lookup, NUBAN resolution or name enquiry of the target finds no valid identity",
    ),
    (
        "watch_listed",
        "identities with the target BVN come back watch-listed",
    ),
    (
        "no_bvn",
        "the target NUBAN has no BVN: resolution fails, name enquiry returns no BVN",
    ),
];

/// A scripted fault as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Fault {
    /// Fault id.
    pub id: String,
    /// Kind (see `faults/create`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Bank id it is limited to, or null for every bank.
    pub bank: Option<String>,
    /// Masked BVN or NUBAN it is limited to, or null.
    pub target: Option<String>,
    /// Added latency (`slow`).
    pub delay_ms: i64,
    /// Applications left, or null for unlimited.
    pub remaining: Option<i64>,
    /// When it stops applying, or null.
    pub expires_at: Option<String>,
    /// When it was scripted.
    pub created_at: String,
}

fn to_api(f: StoredFault) -> Fault {
    Fault {
        id: f.id,
        kind: f.fault.kind,
        bank: f.fault.bank_id,
        target: f.fault.target_masked,
        delay_ms: f.fault.delay_ms,
        remaining: f.fault.remaining,
        expires_at: f.fault.expires_at.map(iso_ms),
        created_at: iso_ms(f.created_at),
    }
}

/// Scripts a fault from a request body.
pub async fn create(state: &AppState, tenant: &Tenant, body: &Body) -> ApiResult<Fault> {
    let kind = body.req_str(&["type", "kind"])?;
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(Invalid(format!("`type` must be one of {}", names.join(", "))).into());
    }
    let bank_id = match body.opt_str(&["bank"])? {
        Some(b) => Some(
            okra_core::banks::find(&b)
                .ok_or(ApiError::UnknownBank(b.clone()))?
                .id
                .to_string(),
        ),
        None => None,
    };
    let bvn = body.opt_str(&["bvn"])?;
    let nuban = body.opt_str(&["nuban"])?;
    if let Some(b) = &bvn {
        if !okra_core::digits::is_bvn_shaped(b) {
            return Err(Invalid("`bvn` must be 11 digits".into()).into());
        }
    }
    if let Some(n) = &nuban {
        if !okra_core::digits::is_nuban_shaped(n) {
            return Err(Invalid("`nuban` must be a valid 10-digit NUBAN".into()).into());
        }
        if bank_id.is_none() {
            return Err(Invalid("`nuban` is a required input and bank is required".into()).into());
        }
    }
    let needs_target = matches!(
        kind.as_str(),
        "invalid_identity" | "watch_listed" | "no_bvn"
    );
    if needs_target && bvn.is_none() && nuban.is_none() {
        return Err(Invalid(format!("`bvn` or `nuban` is required for `{kind}`")).into());
    }
    if kind == "watch_listed" && bvn.is_none() {
        return Err(okra_core::body::required("bvn").into());
    }
    if kind == "no_bvn" && nuban.is_none() {
        return Err(okra_core::body::required("nuban").into());
    }
    let keyring = state.keyring();
    let (target_idx, target_masked) = match (&bvn, &nuban) {
        (Some(b), _) => (Some(keyring.blind_index("bvn", b)), Some(mask_bvn(b))),
        (None, Some(n)) => (
            Some(okra_store::accounts::nuban_index(
                &keyring,
                bank_id.as_deref().unwrap_or_default(),
                n,
            )),
            Some(mask_nuban(n)),
        ),
        (None, None) => (None, None),
    };
    let delay_ms = body
        .opt_int_between("delay_ms", 0, 120_000)?
        .unwrap_or(if kind == "slow" { 5_000 } else { 0 });
    let remaining = body.opt_int_between("count", 1, 1_000_000)?;
    let expires_at = body
        .opt_int_between("expires_in", 1, 30 * 86_400)?
        .map(|s| now_ms() + s * 1000);
    let new = NewFault {
        kind,
        bank_id,
        target_idx,
        target_masked,
        delay_ms,
        remaining,
        expires_at,
    };
    let id = okra_store::faults::insert(&state.db, tenant, &new).await?;
    Ok(to_api(StoredFault {
        id,
        fault: new,
        created_at: now_ms(),
    }))
}

/// The faults that still apply.
pub async fn list(state: &AppState, tenant: &Tenant) -> ApiResult<Vec<Fault>> {
    Ok(okra_store::faults::active(&state.db, tenant)
        .await?
        .into_iter()
        .map(to_api)
        .collect())
}

/// Deletes one fault (400 when the tenant has no such fault) or, with no id, all of them.
pub async fn delete(state: &AppState, tenant: &Tenant, id: Option<&str>) -> ApiResult<u64> {
    let n = okra_store::faults::delete(&state.db, tenant, id).await?;
    if id.is_some() && n == 0 {
        return Err(ApiError::BadRequest("Fault not found".into()));
    }
    Ok(n)
}
