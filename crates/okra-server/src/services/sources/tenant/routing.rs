//! Sandbox-customer routing: a person made through the sandbox customer endpoints lives at a
//! custom index of the simulated network and is built from the specification stored with the
//! customer, so calls about them are answered here rather than by the plain source.

use std::future::Future;
use std::sync::Arc;

use okra_core::source::{BankSession, Credentials, SourceError, SourceIdentity};
use okra_sandbox::{Lookup, Network, Person, PersonSpec};

use super::super::scripted::Target;
use super::TenantSource;

impl TenantSource {
    /// Runs a call for the person `lookup` names: a sandbox customer is answered by `custom` from
    /// its stored spec (bank calls wait its slow-bank delay), everyone else by the plain source.
    pub(super) async fn routed<T>(
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

    /// As [`Self::routed`] for a call that answers an identity, which a `watch_listed` fault on
    /// its BVN then flags.
    pub(super) async fn routed_identity(
        &self,
        target: &Target,
        lookup: Lookup<'_>,
        bank_call: bool,
        custom: impl FnOnce(&Network, &Person) -> Result<SourceIdentity, SourceError>,
        plain: impl Future<Output = Result<SourceIdentity, SourceError>>,
    ) -> Result<SourceIdentity, SourceError> {
        let mut identity = self
            .routed(target, lookup, bank_call, custom, plain)
            .await?;
        self.mark_watch_listed(&mut identity).await;
        Ok(identity)
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

    /// Logs a sandbox customer in with their own username and password: `None` when the username
    /// is no sandbox customer's of the tenant (or the network is not simulated), so the plain
    /// source decides.
    pub(super) async fn login_sandbox_customer(
        &self,
        target: &Target,
        bank_id: &str,
        credentials: &Credentials,
    ) -> Option<Result<BankSession, SourceError>> {
        let network = self.set.network.clone()?;
        let keyring = self.state.keyring();
        let stored = okra_store::customers::find_by_login(
            &self.state.db,
            &keyring,
            &self.tenant,
            &credentials.username,
        )
        .await;
        let customer = match stored {
            Ok(customer) => customer?,
            Err(_) => return Some(Err(SourceError::BankUnavailable)),
        };
        let login = match customer.sandbox.as_ref() {
            Some(login) => login,
            None => return Some(Err(SourceError::InvalidCredentials)),
        };
        let matches = bool::from(subtle::ConstantTimeEq::ct_eq(
            login.password.as_bytes(),
            credentials.password.as_bytes(),
        ));
        let Some(index) = customer.sandbox_person else {
            return Some(Err(SourceError::InvalidCredentials));
        };
        if !matches {
            return Some(Err(SourceError::InvalidCredentials));
        }
        let spec: PersonSpec = login
            .spec
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let Some(person) = network.person_with(index as u64, &spec) else {
            return Some(Err(SourceError::InvalidCredentials));
        };
        let delay = Network::delay_for(&person);
        let bank = bank_id.to_string();
        Some(
            self.call(
                target,
                delay,
                async move { network.login_as(&person, &bank) },
            )
            .await,
        )
    }
}
