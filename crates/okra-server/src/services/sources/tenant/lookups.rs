//! Registry lookups outside any bank session: the identity behind a BVN or an account number,
//! and name enquiry.

use okra_core::source::{NameEnquiry, SourceError, SourceIdentity};
use okra_sandbox::Lookup;

use super::TenantSource;

impl TenantSource {
    /// The identity registered for a BVN.
    pub async fn lookup_bvn(&self, bvn: &str) -> Result<SourceIdentity, SourceError> {
        // The BVN is the call's target: faults scripted for it (an outage, a timeout, a slow
        // answer) apply; faults of one bank do not (a BVN lookup calls no bank).
        let target = self.bvn_target(bvn);
        self.refuse_identity(&["invalid_identity"], &target).await?;
        self.routed_identity(
            &target,
            Lookup::Bvn(bvn),
            false,
            |network, person| network.identity_by_bvn_for(person, bvn),
            self.set.registry.lookup_bvn(bvn),
        )
        .await
    }

    /// The identity of the holder of (bank, NUBAN).
    pub async fn resolve_nuban(
        &self,
        bank_id: &str,
        nuban: &str,
    ) -> Result<SourceIdentity, SourceError> {
        let target = self.nuban_target(bank_id, nuban);
        self.refuse_identity(&["invalid_identity", "no_bvn"], &target)
            .await?;
        self.routed_identity(
            &target,
            Lookup::Account {
                bank: bank_id,
                number: nuban,
            },
            false,
            |network, person| network.identity_by_nuban_for(person, bank_id, nuban),
            self.set.registry.resolve_nuban(bank_id, nuban),
        )
        .await
    }

    /// The account name (and BVN, when linked) of (bank, NUBAN).
    pub async fn name_enquiry(
        &self,
        bank_id: &str,
        nuban: &str,
    ) -> Result<NameEnquiry, SourceError> {
        let target = self.nuban_target(bank_id, nuban);
        self.refuse_identity(&["invalid_identity"], &target).await?;
        let no_bvn = self.take(&["no_bvn"], &target).await.is_some();
        let mut answer = self
            .routed(
                &target,
                Lookup::Account {
                    bank: bank_id,
                    number: nuban,
                },
                false,
                |network, person| network.name_enquiry_for(person, bank_id, nuban),
                self.set.registry.name_enquiry(bank_id, nuban),
            )
            .await?;
        if no_bvn {
            answer.bvn = None;
        }
        Ok(answer)
    }
}
