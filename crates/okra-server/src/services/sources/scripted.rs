//! The scripted faults of one tenant, as a data-source call consumes them.
//!
//! The faults are read once per [`super::TenantSource`] (one indexed query), but that copy only
//! says which faults *may* apply: a fault limited by `count` is applied only when the database
//! grants one application (`okra_store::faults::consume`, a single conditional `UPDATE`), so
//! `count: 1` fires exactly once however many calls, sources or processes race for it.

use std::collections::HashSet;
use std::sync::Mutex;

use okra_store::faults::Fault;
use okra_store::{Db, Tenant};

/// What a call is about, for matching faults.
#[derive(Default)]
pub(super) struct Target {
    /// The bank called, if the call is about one.
    pub bank: Option<String>,
    /// Blind index of the BVN or (bank, NUBAN).
    pub idx: Option<String>,
}

/// A tenant's active faults and the limited ones found used up since they were read.
pub(super) struct ScriptedFaults {
    faults: Vec<Fault>,
    /// Ids the database refused to apply again: not asked about twice by this source.
    exhausted: Mutex<HashSet<String>>,
    db: Db,
    tenant: Tenant,
}

impl ScriptedFaults {
    /// The faults read for `tenant` (empty for production).
    pub fn new(db: Db, tenant: Tenant, faults: Vec<Fault>) -> Self {
        ScriptedFaults {
            faults,
            exhausted: Mutex::default(),
            db,
            tenant,
        }
    }

    fn matches(f: &Fault, kinds: &[&str], target: &Target) -> bool {
        kinds.contains(&f.fault.kind.as_str())
            && f.fault
                .bank_id
                .as_ref()
                .is_none_or(|b| target.bank.as_deref() == Some(b.as_str()))
            && f.fault
                .target_idx
                .as_ref()
                .is_none_or(|t| target.idx.as_deref() == Some(t.as_str()))
    }

    fn is_exhausted(&self, id: &str) -> bool {
        self.exhausted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    /// The first fault of `kinds` that applies to `target` and that this call gets to apply:
    /// unlimited faults always, limited ones only when the database grants an application
    /// (otherwise the next matching fault is tried).
    pub async fn take(&self, kinds: &[&str], target: &Target) -> Option<Fault> {
        for fault in self
            .faults
            .iter()
            .filter(|f| Self::matches(f, kinds, target))
        {
            if fault.fault.remaining.is_none() {
                return Some(fault.clone());
            }
            if self.is_exhausted(&fault.id) {
                continue;
            }
            match okra_store::faults::consume(&self.db, &self.tenant, &fault.id).await {
                Ok(true) => return Some(fault.clone()),
                Ok(false) => {
                    self.exhausted
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(fault.id.clone());
                }
                // Unsure whether it was counted: do not inject it (an injected fault must be
                // one the owner's count allows), and let the call go on.
                Err(e) => tracing::warn!(error = %e, "consuming a scripted fault failed"),
            }
        }
        None
    }
}
