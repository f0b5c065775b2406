//! Fault scripting as a call sees it: the target a fault is matched on (bank, BVN or
//! (bank, NUBAN) blind index), and the faults that change an answer rather than fail the call.

use okra_core::source::{SourceError, SourceIdentity};
use okra_store::blind::{bvn_index, nuban_index};

use super::super::scripted::Target;
use super::TenantSource;

/// Login faults, checked in this order before any outage fault.
const LOGIN_FAULTS: [(&str, SourceError); 3] = [
    ("otp_required", SourceError::OtpRequired),
    ("locked", SourceError::Locked),
    ("invalid_credentials", SourceError::InvalidCredentials),
];

impl TenantSource {
    /// Consumes one application of the first active fault of `kinds` that matches `target`.
    pub(super) async fn take(
        &self,
        kinds: &[&str],
        target: &Target,
    ) -> Option<okra_store::faults::Fault> {
        self.faults.take(kinds, target).await
    }

    /// The error of the first login fault scripted at the target's bank, if any.
    pub(super) async fn login_fault(&self, target: &Target) -> Option<SourceError> {
        for (kind, err) in LOGIN_FAULTS {
            if self.take(&[kind], target).await.is_some() {
                return Some(err);
            }
        }
        None
    }

    /// `InvalidIdentity` when a fault of `kinds` (`invalid_identity`, `no_bvn`) names the target.
    pub(super) async fn refuse_identity(
        &self,
        kinds: &[&str],
        target: &Target,
    ) -> Result<(), SourceError> {
        match self.take(kinds, target).await {
            Some(_) => Err(SourceError::InvalidIdentity),
            None => Ok(()),
        }
    }

    /// The target of a call about a BVN.
    pub(super) fn bvn_target(&self, bvn: &str) -> Target {
        Target {
            bank: None,
            idx: Some(bvn_index(&self.state.keyring(), bvn)),
        }
    }

    /// The target of a call about an account number at a bank.
    pub(super) fn nuban_target(&self, bank_id: &str, nuban: &str) -> Target {
        Target {
            bank: Some(bank_id.to_string()),
            idx: Some(nuban_index(&self.state.keyring(), bank_id, nuban)),
        }
    }

    /// The target of a call at a bank about no particular person.
    pub(super) fn bank_target(bank_id: &str) -> Target {
        Target {
            bank: Some(bank_id.to_string()),
            idx: None,
        }
    }

    /// Flags the identity as watch-listed when a `watch_listed` fault names its BVN.
    pub(super) async fn mark_watch_listed(&self, identity: &mut SourceIdentity) {
        if let Some(bvn) = identity.bvn.clone() {
            if self
                .take(&["watch_listed"], &self.bvn_target(&bvn))
                .await
                .is_some()
            {
                identity.watch_listed = true;
            }
        }
    }
}
