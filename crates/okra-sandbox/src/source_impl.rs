//! The network as an `okra_core::source::BankSource` and `IdentityRegistry`.
//!
//! Each operation has a synchronous form on [`Network`] (the work: pure computation, microseconds)
//! and the trait method wraps its result in a ready future. Delay triggers (`slow.`) are not
//! applied here: the caller reads `faults::delay_for_username` and waits, keeping this crate free
//! of any async runtime.

use okra_core::banks::{self, BankInfo, BANKS};
use okra_core::source::{
    BankSession, BankSource, Credentials, IdentityRegistry, NameEnquiry, SourceAccount,
    SourceBalance, SourceError, SourceFuture, SourceIdentity,
};

use crate::dates::Date;
use crate::faults::{self, Fault};
use crate::network::Network;
use crate::person::Person;

fn bank(bank_id: &str) -> Result<(usize, &'static BankInfo), SourceError> {
    let info = banks::find(bank_id).ok_or(SourceError::NotFound)?;
    let index = BANKS
        .iter()
        .position(|b| b.id == info.id)
        .ok_or(SourceError::NotFound)?;
    Ok((index, info))
}

fn ready<'a, T: Send + 'a>(result: Result<T, SourceError>) -> SourceFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

impl Network {
    /// Logs in (see the credentials rule on [`Network`]); error triggers in the username fire
    /// first, a `slow.` prefix is stripped (its delay is the caller's to apply).
    pub fn login(
        &self,
        bank_id: &str,
        credentials: &Credentials,
    ) -> Result<BankSession, SourceError> {
        let (bank_index, info) = bank(bank_id)?;
        if let Some(Fault::Fail(error)) = faults::fault_for_username(&credentials.username) {
            return Err(error);
        }
        let username = faults::strip_delay_prefix(&credentials.username);
        let person = self
            .person_by_username(info.id, username)
            .ok_or(SourceError::InvalidCredentials)?;
        if credentials.password != Network::password_for(&Network::username(&person)) {
            return Err(SourceError::InvalidCredentials);
        }
        let mac = self.session_mac(bank_index, person.index);
        Ok(BankSession {
            bank_id: info.id.to_string(),
            customer_ref: format!("CIF{:010}", person.index),
            token: format!("sbx1.{bank_index}.{}.{mac:016x}", person.index),
        })
    }

    /// The person behind a session issued by [`Network::login`]; `InvalidCredentials` for a
    /// token this network did not issue.
    pub fn session_person(&self, session: &BankSession) -> Result<Person, SourceError> {
        let invalid = || SourceError::InvalidCredentials;
        let mut parts = session.token.split('.');
        let (Some("sbx1"), Some(b), Some(i), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        let bank_index: usize = b.parse().map_err(|_| invalid())?;
        let index: u64 = i.parse().map_err(|_| invalid())?;
        let (expected_bank, _) = bank(&session.bank_id).map_err(|_| invalid())?;
        if bank_index != expected_bank
            || mac != format!("{:016x}", self.session_mac(bank_index, index))
        {
            return Err(invalid());
        }
        self.person(index).ok_or_else(invalid)
    }

    /// The accounts of the session's person at the session's bank.
    pub fn session_accounts(
        &self,
        session: &BankSession,
    ) -> Result<Vec<SourceAccount>, SourceError> {
        let person = self.session_person(session)?;
        let name = person.account_name();
        Ok(person
            .accounts
            .iter()
            .filter(|a| a.bank.id == session.bank_id)
            .map(|a| SourceAccount {
                account_ref: a.account_ref(),
                bank_id: a.bank.id.to_string(),
                nuban: a.number.clone(),
                name: name.clone(),
                account_type: a.account_type,
                currency: a.currency.to_string(),
            })
            .collect())
    }

    /// Balance of `account_ref` (`<slug>:<number>` as listed, or a bare account number) at
    /// `bank_id`, as of the end of `as_of`.
    pub fn balance_at(
        &self,
        bank_id: &str,
        account_ref: &str,
        as_of: Date,
    ) -> Result<SourceBalance, SourceError> {
        let (_, info) = bank(bank_id)?;
        let number = match account_ref.split_once(':') {
            Some((slug, number)) if slug == info.slug => number,
            Some(_) => return Err(SourceError::NotFound),
            None => account_ref,
        };
        if let Some(error) = faults::fault_for_nuban(number) {
            return Err(error);
        }
        let (person, account) = self
            .account_by_nuban(info.id, number)
            .ok_or(SourceError::NotFound)?;
        Ok(self.balance_of(&person, &account, as_of))
    }

    /// Registry lookup of a BVN (reserved BVNs trigger their faults).
    pub fn identity_by_bvn(&self, bvn: &str) -> Result<SourceIdentity, SourceError> {
        if let Some(error) = faults::fault_for_bvn(bvn) {
            return Err(error);
        }
        let person = self
            .person_by_bvn(bvn.trim())
            .ok_or(SourceError::NotFound)?;
        Ok(person.identity())
    }

    /// Identity of the holder of (bank, account number): `NotFound` without such an account,
    /// `InvalidIdentity` when the holder is a person without a BVN. A company's account resolves
    /// to the company's identity (no BVN, with its RC number).
    pub fn identity_by_nuban(
        &self,
        bank_id: &str,
        nuban: &str,
    ) -> Result<SourceIdentity, SourceError> {
        bank(bank_id)?;
        if let Some(error) = faults::fault_for_nuban(nuban) {
            return Err(error);
        }
        let (person, _) = self
            .account_by_nuban(bank_id, nuban)
            .ok_or(SourceError::NotFound)?;
        if person.bvn.is_none() && person.company.is_none() {
            return Err(SourceError::InvalidIdentity);
        }
        Ok(person.identity())
    }

    /// NIP name enquiry on (bank, account number). The reserved no-BVN serial `000000422` answers
    /// a placeholder name without a BVN, like a real tier-1 account would.
    pub fn name_enquiry_of(&self, bank_id: &str, nuban: &str) -> Result<NameEnquiry, SourceError> {
        bank(bank_id)?;
        match faults::fault_for_nuban(nuban) {
            Some(SourceError::InvalidIdentity) => {
                return Ok(NameEnquiry {
                    name: "SANDBOX NO-BVN ACCOUNT".to_string(),
                    bvn: None,
                });
            }
            Some(error) => return Err(error),
            None => {}
        }
        let (person, _) = self
            .account_by_nuban(bank_id, nuban)
            .ok_or(SourceError::NotFound)?;
        Ok(NameEnquiry {
            name: person.account_name(),
            bvn: person.bvn.clone(),
        })
    }
}

impl BankSource for Network {
    fn authenticate<'a>(
        &'a self,
        bank_id: &'a str,
        credentials: &'a Credentials,
    ) -> SourceFuture<'a, BankSession> {
        ready(self.login(bank_id, credentials))
    }

    fn list_accounts<'a>(
        &'a self,
        session: &'a BankSession,
    ) -> SourceFuture<'a, Vec<SourceAccount>> {
        ready(self.session_accounts(session))
    }

    fn identity<'a>(&'a self, session: &'a BankSession) -> SourceFuture<'a, SourceIdentity> {
        ready(self.session_person(session).map(|p| p.identity()))
    }

    fn balance<'a>(
        &'a self,
        bank_id: &'a str,
        account_ref: &'a str,
    ) -> SourceFuture<'a, SourceBalance> {
        ready(self.balance_at(bank_id, account_ref, self.as_of()))
    }
}

impl IdentityRegistry for Network {
    fn lookup_bvn<'a>(&'a self, bvn: &'a str) -> SourceFuture<'a, SourceIdentity> {
        ready(self.identity_by_bvn(bvn))
    }

    fn resolve_nuban<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, SourceIdentity> {
        ready(self.identity_by_nuban(bank_id, nuban))
    }

    fn name_enquiry<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, NameEnquiry> {
        ready(self.name_enquiry_of(bank_id, nuban))
    }
}
