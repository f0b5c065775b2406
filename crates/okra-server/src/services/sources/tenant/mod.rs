//! The per-tenant view of an environment's data sources (see the parent module).
//!
//! One type, [`TenantSource`], whose methods are split by concern:
//! - `bank`: calls made at a bank in a session (login, accounts, identity, balance);
//! - `lookups`: registry lookups by BVN or (bank, NUBAN), outside any session;
//! - `faults`: the targets scripted faults are matched on, and the faults that change an answer;
//! - `routing`: sandbox customers, answered from their stored specification;
//! - `timeouts`: outage faults, slowness and the source timeout around every call.

use std::time::Duration;

use okra_core::Environment;
use okra_store::{StoreError, Tenant};

use super::scripted::ScriptedFaults;
use super::SourceSet;
use crate::app::AppState;

mod bank;
mod faults;
mod lookups;
mod routing;
mod timeouts;

/// A tenant's view of its environment's sources, with its scripted faults applied.
pub struct TenantSource {
    set: SourceSet,
    faults: ScriptedFaults,
    timeout: Duration,
    state: AppState,
    tenant: Tenant,
}

impl TenantSource {
    /// Loads the tenant's active faults (sandbox only: production has none) — one indexed query.
    pub async fn new(state: &AppState, tenant: &Tenant) -> Result<TenantSource, StoreError> {
        let faults = match tenant.env {
            Environment::Sandbox => okra_store::faults::active(&state.db, tenant).await?,
            Environment::Production => Vec::new(),
        };
        Ok(TenantSource {
            set: state.sources.for_env(tenant.env).clone(),
            faults: ScriptedFaults::new(state.db.clone(), tenant.clone(), faults),
            timeout: Duration::from_millis(state.config.source_timeout_ms),
            state: state.clone(),
            tenant: tenant.clone(),
        })
    }
}
