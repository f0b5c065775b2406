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

use crate::accounts::Account;
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
        let (_, info) = bank(bank_id)?;
        let typed = match faults::otp_login(&credentials.username, credentials.otp.as_deref()) {
            Some(answer) => answer?,
            None => credentials.username.as_str(),
        };
        if let Some(Fault::Fail(error)) = faults::fault_for_username(typed) {
            return Err(error);
        }
        let username = faults::strip_delay_prefix(typed);
        let person = self
            .person_by_username(info.id, username)
            .ok_or(SourceError::InvalidCredentials)?;
        if credentials.password != Network::password_for(&Network::username(&person)) {
            return Err(SourceError::InvalidCredentials);
        }
        self.login_as(&person, bank_id)
    }

    /// A session for `person` at `bank_id`, for custom people whose credentials the server has
    /// checked itself: `InvalidCredentials` when the person holds no account there.
    pub fn login_as(&self, person: &Person, bank_id: &str) -> Result<BankSession, SourceError> {
        let (bank_index, info) = bank(bank_id)?;
        if !person.accounts.iter().any(|a| a.bank_index == bank_index) {
            return Err(SourceError::InvalidCredentials);
        }
        let mac = self.session_mac(bank_index, person.index);
        Ok(BankSession {
            bank_id: info.id.to_string(),
            customer_ref: format!("CIF{:010}", person.index),
            token: format!("sbx1.{bank_index}.{}.{mac:016x}", person.index),
        })
    }

    /// The person index behind a session this network issued; `InvalidCredentials` otherwise.
    pub fn session_index(&self, session: &BankSession) -> Result<u64, SourceError> {
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
        Ok(index)
    }

    /// The person behind a session issued by [`Network::login`]; `InvalidCredentials` for a
    /// token this network did not issue.
    pub fn session_person(&self, session: &BankSession) -> Result<Person, SourceError> {
        let index = self.session_index(session)?;
        self.person(index).ok_or(SourceError::InvalidCredentials)
    }

    /// The accounts of the session's person at the session's bank.
    pub fn session_accounts(
        &self,
        session: &BankSession,
    ) -> Result<Vec<SourceAccount>, SourceError> {
        self.session_accounts_for(&self.session_person(session)?, session)
    }

    /// [`Network::session_accounts`] for a session of `person` (custom people: the person built
    /// from the stored spec); `InvalidCredentials` when the session is someone else's.
    pub fn session_accounts_for(
        &self,
        person: &Person,
        session: &BankSession,
    ) -> Result<Vec<SourceAccount>, SourceError> {
        if self.session_index(session)? != person.index {
            return Err(SourceError::InvalidCredentials);
        }
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
        let number = account_number(bank_id, account_ref)?;
        let (person, _) = self
            .account_by_nuban(bank_id, number)
            .ok_or(SourceError::NotFound)?;
        self.balance_for(&person, bank_id, account_ref, as_of)
    }

    /// [`Network::balance_at`] of an account of `person`; `NotFound` when it is not theirs.
    pub fn balance_for(
        &self,
        person: &Person,
        bank_id: &str,
        account_ref: &str,
        as_of: Date,
    ) -> Result<SourceBalance, SourceError> {
        let number = account_number(bank_id, account_ref)?;
        let account = person
            .account(bank_id, number)
            .ok_or(SourceError::NotFound)?;
        Ok(self.balance_of(person, account, as_of))
    }

    /// Registry lookup of a BVN (reserved BVNs trigger their faults).
    pub fn identity_by_bvn(&self, bvn: &str) -> Result<SourceIdentity, SourceError> {
        if let Some(error) = faults::fault_for_bvn(bvn) {
            return Err(error);
        }
        let person = self
            .person_by_bvn(bvn.trim())
            .ok_or(SourceError::NotFound)?;
        self.identity_by_bvn_for(&person, bvn)
    }

    /// [`Network::identity_by_bvn`] answered by `person`; `NotFound` when the BVN is not theirs
    /// (e.g. a custom company, which has none).
    pub fn identity_by_bvn_for(
        &self,
        person: &Person,
        bvn: &str,
    ) -> Result<SourceIdentity, SourceError> {
        if let Some(error) = faults::fault_for_bvn(bvn) {
            return Err(error);
        }
        if person.bvn.as_deref() != Some(bvn.trim()) {
            return Err(SourceError::NotFound);
        }
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
        let (person, _) = self.holder_of(bank_id, nuban)?;
        self.identity_by_nuban_for(&person, bank_id, nuban)
    }

    /// [`Network::identity_by_nuban`] answered by `person`; `NotFound` when the account is not
    /// theirs.
    pub fn identity_by_nuban_for(
        &self,
        person: &Person,
        bank_id: &str,
        nuban: &str,
    ) -> Result<SourceIdentity, SourceError> {
        checked_nuban(bank_id, nuban)?;
        person
            .account(bank_id, nuban)
            .ok_or(SourceError::NotFound)?;
        if person.bvn.is_none() && person.company.is_none() {
            return Err(SourceError::InvalidIdentity);
        }
        Ok(person.identity())
    }

    /// NIP name enquiry on (bank, account number). The reserved no-BVN serial `000000422` answers
    /// a placeholder name without a BVN, like a real tier-1 account would.
    pub fn name_enquiry_of(&self, bank_id: &str, nuban: &str) -> Result<NameEnquiry, SourceError> {
        if let Some(answer) = no_bvn_placeholder(bank_id, nuban)? {
            return Ok(answer);
        }
        let (person, _) = self.holder_of(bank_id, nuban)?;
        self.name_enquiry_for(&person, bank_id, nuban)
    }

    /// [`Network::name_enquiry_of`] answered by `person`; `NotFound` when the account is not
    /// theirs.
    pub fn name_enquiry_for(
        &self,
        person: &Person,
        bank_id: &str,
        nuban: &str,
    ) -> Result<NameEnquiry, SourceError> {
        if let Some(answer) = no_bvn_placeholder(bank_id, nuban)? {
            return Ok(answer);
        }
        person
            .account(bank_id, nuban)
            .ok_or(SourceError::NotFound)?;
        Ok(NameEnquiry {
            name: person.account_name(),
            bvn: person.bvn.clone(),
        })
    }

    /// The holder of (bank, number) after the bank and fault checks.
    fn holder_of(&self, bank_id: &str, nuban: &str) -> Result<(Person, Account), SourceError> {
        checked_nuban(bank_id, nuban)?;
        self.account_by_nuban(bank_id, nuban)
            .ok_or(SourceError::NotFound)
    }
}

/// The account number of an `account_ref` (`<slug>:<number>` or a bare number) at a bank, after
/// the bank and fault checks.
fn account_number<'r>(bank_id: &str, account_ref: &'r str) -> Result<&'r str, SourceError> {
    let (_, info) = bank(bank_id)?;
    let number = match account_ref.split_once(':') {
        Some((slug, number)) if slug == info.slug => number,
        Some(_) => return Err(SourceError::NotFound),
        None => account_ref,
    };
    checked_nuban(bank_id, number)?;
    Ok(number)
}

/// The bank exists and the number triggers no fault.
fn checked_nuban(bank_id: &str, nuban: &str) -> Result<(), SourceError> {
    bank(bank_id)?;
    match faults::fault_for_nuban(nuban) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Name enquiry's answer for the reserved no-BVN serial, other faults as errors.
fn no_bvn_placeholder(bank_id: &str, nuban: &str) -> Result<Option<NameEnquiry>, SourceError> {
    match checked_nuban(bank_id, nuban) {
        Err(SourceError::InvalidIdentity) => Ok(Some(NameEnquiry {
            name: "SANDBOX NO-BVN ACCOUNT".to_string(),
            bvn: None,
        })),
        Err(error) => Err(error),
        Ok(()) => Ok(None),
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
