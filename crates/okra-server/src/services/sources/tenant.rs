//! The per-tenant view of an environment's data sources (see the parent module).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use okra_core::source::{
    BankSession, Credentials, NameEnquiry, SourceAccount, SourceBalance, SourceError,
    SourceIdentity,
};
use okra_core::Environment;
use okra_sandbox::{Lookup, Network, Person, PersonSpec};
use okra_store::Tenant;

use super::scripted::{ScriptedFaults, Target};
use super::SourceSet;
use crate::app::AppState;
use crate::http::error::ApiResult;

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
    pub async fn new(state: &AppState, tenant: &Tenant) -> ApiResult<TenantSource> {
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

    async fn take(&self, kinds: &[&str], target: &Target) -> Option<okra_store::faults::Fault> {
        self.faults.take(kinds, target).await
    }

    /// Applies outage faults and slowness, then runs `op` within the source timeout.
    async fn call<T>(
        &self,
        target: &Target,
        extra_delay: Option<Duration>,
        op: impl Future<Output = Result<T, SourceError>>,
    ) -> Result<T, SourceError> {
        if self.take(&["bank_down"], target).await.is_some() {
            return Err(SourceError::BankUnavailable);
        }
        if self.take(&["timeout"], target).await.is_some() {
            return Err(SourceError::Timeout);
        }
        let mut delay = extra_delay.unwrap_or_default();
        if let Some(f) = self.take(&["slow"], target).await {
            delay += Duration::from_millis(f.fault.delay_ms.max(0) as u64);
        }
        let work = async {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            op.await
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout),
        }
    }

    fn bvn_target(&self, bvn: &str) -> Target {
        let digits = okra_store::customers::normalise_digits(bvn);
        Target {
            bank: None,
            idx: Some(self.state.keyring().blind_index("bvn", &digits)),
        }
    }

    fn nuban_target(&self, bank_id: &str, nuban: &str) -> Target {
        Target {
            bank: Some(bank_id.to_string()),
            idx: Some(okra_store::accounts::nuban_index(
                &self.state.keyring(),
                bank_id,
                nuban,
            )),
        }
    }

    fn bank_target(bank_id: &str) -> Target {
        Target {
            bank: Some(bank_id.to_string()),
            idx: None,
        }
    }

    /// Runs a call for the person `lookup` names: a sandbox customer is answered by `custom` from
    /// its stored spec (bank calls wait its slow-bank delay), everyone else by the plain source.
    async fn routed<T>(
        &self,
        target: &Target,
        lookup: Lookup<'_>,
        bank_call: bool,
        custom: impl FnOnce(&Network, &Person) -> Result<T, SourceError>,
        plain: impl Future<Output = Result<T, SourceError>>,
    ) -> Result<T, SourceError> {
        match self.custom_person(lookup).await? {
            Some((network, person)) => {
                let delay = if bank_call {
                    Network::delay_for(&person)
                } else {
                    None
                };
                self.call(target, delay, async move { custom(&network, &person) })
                    .await
            }
            None => self.call(target, None, plain).await,
        }
    }

    /// The sandbox customer behind a custom index of the simulated network, built from its stored
    /// specification: `Ok(None)` for people of the generated population (answered by the plain
    /// source), `NotFound` for another owner's custom people.
    async fn custom_person(
        &self,
        lookup: Lookup<'_>,
    ) -> Result<Option<(Arc<Network>, Person)>, SourceError> {
        let Some(network) = self.set.network.clone() else {
            return Ok(None);
        };
        let Some(index) = network.custom_index_of(lookup) else {
            return Ok(None);
        };
        let customer = okra_store::customers::find_by_sandbox_person(
            &self.state.db,
            &self.state.keyring(),
            &self.tenant,
            index as i64,
        )
        .await
        .map_err(|_| SourceError::BankUnavailable)?
        .ok_or(SourceError::NotFound)?;
        let spec: PersonSpec = customer
            .sandbox
            .and_then(|s| s.spec)
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let person = network
            .person_with(index, &spec)
            .ok_or(SourceError::NotFound)?;
        Ok(Some((network, person)))
    }

    /// Logs in at a bank: a sandbox customer's own username and password first, then the network.
    pub async fn authenticate(
        &self,
        bank_id: &str,
        credentials: &Credentials,
    ) -> Result<BankSession, SourceError> {
        let target = Self::bank_target(bank_id);
        for (kind, err) in [
            ("otp_required", SourceError::OtpRequired),
            ("locked", SourceError::Locked),
            ("invalid_credentials", SourceError::InvalidCredentials),
        ] {
            if self.take(&[kind], &target).await.is_some() {
                return Err(err);
            }
        }
        if let Some(network) = self.set.network.clone() {
            let keyring = self.state.keyring();
            let stored = okra_store::customers::find_by_login(
                &self.state.db,
                &keyring,
                &self.tenant,
                &credentials.username,
            )
            .await
            .map_err(|_| SourceError::BankUnavailable)?;
            if let Some(customer) = stored {
                let login = customer
                    .sandbox
                    .as_ref()
                    .ok_or(SourceError::InvalidCredentials)?;
                let matches = bool::from(subtle::ConstantTimeEq::ct_eq(
                    login.password.as_bytes(),
                    credentials.password.as_bytes(),
                ));
                let index = customer
                    .sandbox_person
                    .ok_or(SourceError::InvalidCredentials)? as u64;
                if !matches {
                    return Err(SourceError::InvalidCredentials);
                }
                let spec: PersonSpec = login
                    .spec
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                let person = network
                    .person_with(index, &spec)
                    .ok_or(SourceError::InvalidCredentials)?;
                let delay = Network::delay_for(&person);
                let bank = bank_id.to_string();
                return self
                    .call(
                        &target,
                        delay,
                        async move { network.login_as(&person, &bank) },
                    )
                    .await;
            }
        }
        let delay = self
            .set
            .network
            .as_ref()
            .and_then(|_| okra_sandbox::faults::delay_for_username(&credentials.username));
        self.call(
            &target,
            delay,
            self.set.bank.authenticate(bank_id, credentials),
        )
        .await
    }

    /// Accounts visible in a session.
    pub async fn list_accounts(
        &self,
        session: &BankSession,
    ) -> Result<Vec<SourceAccount>, SourceError> {
        let target = Self::bank_target(&session.bank_id);
        self.routed(
            &target,
            Lookup::Session(session),
            true,
            |network, person| network.session_accounts_for(person, session),
            self.set.bank.list_accounts(session),
        )
        .await
    }

    /// The account holder's identity in a session.
    pub async fn identity(&self, session: &BankSession) -> Result<SourceIdentity, SourceError> {
        let target = Self::bank_target(&session.bank_id);
        let mut identity = self
            .routed(
                &target,
                Lookup::Session(session),
                true,
                |_, person| Ok(person.identity()),
                self.set.bank.identity(session),
            )
            .await?;
        self.mark_watch_listed(&mut identity).await;
        Ok(identity)
    }

    /// One account's balance.
    pub async fn balance(
        &self,
        bank_id: &str,
        account_ref: &str,
    ) -> Result<SourceBalance, SourceError> {
        let target = Self::bank_target(bank_id);
        self.routed(
            &target,
            Lookup::Account {
                bank: bank_id,
                number: account_ref,
            },
            true,
            |network, person| network.balance_for(person, bank_id, account_ref, network.as_of()),
            self.set.bank.balance(bank_id, account_ref),
        )
        .await
    }

    async fn mark_watch_listed(&self, identity: &mut SourceIdentity) {
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

    /// The identity registered for a BVN.
    pub async fn lookup_bvn(&self, bvn: &str) -> Result<SourceIdentity, SourceError> {
        if self
            .take(&["invalid_identity"], &self.bvn_target(bvn))
            .await
            .is_some()
        {
            return Err(SourceError::InvalidIdentity);
        }
        let mut identity = self
            .routed(
                &Target::default(),
                Lookup::Bvn(bvn),
                false,
                |network, person| network.identity_by_bvn_for(person, bvn),
                self.set.registry.lookup_bvn(bvn),
            )
            .await?;
        self.mark_watch_listed(&mut identity).await;
        Ok(identity)
    }

    /// The identity of the holder of (bank, NUBAN).
    pub async fn resolve_nuban(
        &self,
        bank_id: &str,
        nuban: &str,
    ) -> Result<SourceIdentity, SourceError> {
        let target = self.nuban_target(bank_id, nuban);
        if self
            .take(&["invalid_identity", "no_bvn"], &target)
            .await
            .is_some()
        {
            return Err(SourceError::InvalidIdentity);
        }
        let mut identity = self
            .routed(
                &target,
                Lookup::Account {
                    bank: bank_id,
                    number: nuban,
                },
                false,
                |network, person| network.identity_by_nuban_for(person, bank_id, nuban),
                self.set.registry.resolve_nuban(bank_id, nuban),
            )
            .await?;
        self.mark_watch_listed(&mut identity).await;
        Ok(identity)
    }

    /// The account name (and BVN, when linked) of (bank, NUBAN).
    pub async fn name_enquiry(
        &self,
        bank_id: &str,
        nuban: &str,
    ) -> Result<NameEnquiry, SourceError> {
        let target = self.nuban_target(bank_id, nuban);
        if self.take(&["invalid_identity"], &target).await.is_some() {
            return Err(SourceError::InvalidIdentity);
        }
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
