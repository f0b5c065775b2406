//! Fault injection for the sandbox: owners script what their simulated banks do wrong.

use okra_core::mask::{mask_bvn, mask_nuban};
use okra_core::time::now_ms;
use okra_store::faults::{Fault, NewFault};
use okra_store::Tenant;

use super::error::{Error, Result};
use crate::app::AppState;

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

/// Kinds that act on one person or account, so need a `bvn` or `nuban` target.
pub const TARGETED_KINDS: &[&str] = &["invalid_identity", "watch_listed", "no_bvn"];

/// A fault to script, checked by the request (known kind, known bank, well-shaped target).
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// One of [`KINDS`].
    pub kind: String,
    /// Bank id it is limited to, or `None` for every bank.
    pub bank_id: Option<String>,
    /// BVN it is limited to.
    pub bvn: Option<String>,
    /// NUBAN (at `bank_id`) it is limited to, when no BVN is given.
    pub nuban: Option<String>,
    /// Added latency; `slow` defaults to 5 s, other kinds to none.
    pub delay_ms: Option<i64>,
    /// Applications before it stops, or `None` for unlimited.
    pub count: Option<i64>,
    /// Seconds from now until it stops applying, or `None` for never.
    pub expires_in_secs: Option<i64>,
}

/// Scripts a fault; the target is stored as a blind index and a masked hint, never in clear.
pub async fn create(state: &AppState, tenant: &Tenant, spec: FaultSpec) -> Result<Fault> {
    let keyring = state.keyring();
    let (target_idx, target_masked) = match (&spec.bvn, &spec.nuban) {
        (Some(b), _) => (Some(keyring.blind_index("bvn", b)), Some(mask_bvn(b))),
        (None, Some(n)) => (
            Some(okra_store::accounts::nuban_index(
                &keyring,
                spec.bank_id.as_deref().unwrap_or_default(),
                n,
            )),
            Some(mask_nuban(n)),
        ),
        (None, None) => (None, None),
    };
    let default_delay = if spec.kind == "slow" { 5_000 } else { 0 };
    let new = NewFault {
        delay_ms: spec.delay_ms.unwrap_or(default_delay),
        kind: spec.kind,
        bank_id: spec.bank_id,
        target_idx,
        target_masked,
        remaining: spec.count,
        expires_at: spec.expires_in_secs.map(|s| now_ms() + s * 1000),
    };
    let id = okra_store::faults::insert(&state.db, tenant, &new).await?;
    Ok(Fault {
        id,
        fault: new,
        created_at: now_ms(),
    })
}

/// The faults that still apply.
pub async fn list(state: &AppState, tenant: &Tenant) -> Result<Vec<Fault>> {
    Ok(okra_store::faults::active(&state.db, tenant).await?)
}

/// Deletes one fault ([`Error::NotFound`] when the tenant has no such fault) or, with no id, all
/// of them; returns how many were deleted.
pub async fn delete(state: &AppState, tenant: &Tenant, id: Option<&str>) -> Result<u64> {
    let n = okra_store::faults::delete(&state.db, tenant, id).await?;
    if id.is_some() && n == 0 {
        return Err(Error::NotFound("Fault"));
    }
    Ok(n)
}
