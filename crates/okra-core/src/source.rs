//! Data sources: what can be asked of a bank and of an identity registry.
//!
//! The server never talks to a bank directly; it holds a `dyn BankSource` and a `dyn
//! IdentityRegistry` chosen by configuration (the built-in simulated network of `okra-sandbox`, or
//! an HTTP connector). The traits are object-safe and return boxed futures built from `std` only,
//! so this crate stays free of any async runtime and implementations may be as synchronous as they
//! like (the simulator just computes and returns a ready future).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// The future every data-source call returns: boxed so the traits stay object-safe, `Send` so the
/// server can await it on any worker thread.
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SourceError>> + Send + 'a>>;

/// Why a data source could not answer. The server maps each kind to the contract's error bodies
/// and retry policy, so sources must pick the most specific kind rather than `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SourceError {
    /// The username or password is wrong, or the user does not bank there (never retried).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The bank locked the user's online access (too many attempts, or a hold).
    #[error("account locked")]
    Locked,
    /// The bank asks for a one-time password: log in again with [`Credentials::otp`].
    #[error("one-time password required")]
    OtpRequired,
    /// The one-time password given was wrong or has expired.
    #[error("invalid one-time password")]
    InvalidOtp,
    /// The bank (or registry) is down; worth retrying later.
    #[error("bank unavailable")]
    BankUnavailable,
    /// The bank did not answer in time; worth retrying later.
    #[error("timed out")]
    Timeout,
    /// No such bank, account, BVN or session.
    #[error("not found")]
    NotFound,
    /// The account exists but no identity can be tied to it (e.g. a NUBAN with no BVN).
    #[error("invalid identity")]
    InvalidIdentity,
    /// Anything else, with a message fit for logs (never containing personal data).
    #[error("{0}")]
    Other(String),
}

/// Online-banking credentials as the user typed them into the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The login name (user id, phone or e-mail, depending on the bank).
    pub username: String,
    /// The password or PIN.
    pub password: String,
    /// The one-time password the bank sent, on the second attempt of a login that answered
    /// [`SourceError::OtpRequired`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
}

/// A logged-in session at one bank, returned by [`BankSource::authenticate`] and passed back to
/// the other calls. Opaque to the server apart from `customer_ref`, which it may store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankSession {
    /// Okra id of the bank the session belongs to.
    pub bank_id: String,
    /// The bank's stable id of the person (same on every login), so reconnections can be matched.
    pub customer_ref: String,
    /// The source's session token; meaningful only to the source that issued it.
    pub token: String,
}

/// Kind of a bank account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// A naira savings account (also mobile-money wallets).
    Savings,
    /// A naira current (cheque) account.
    Current,
    /// A foreign-currency (USD) domiciliary account.
    Domiciliary,
}

impl AccountType {
    /// The `type` value in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Savings => "savings",
            AccountType::Current => "current",
            AccountType::Domiciliary => "domiciliary",
        }
    }
}

/// One account as a bank lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAccount {
    /// The source's stable reference of the account; pass it back to [`BankSource::balance`].
    pub account_ref: String,
    /// Okra id of the bank holding the account.
    pub bank_id: String,
    /// The 10-digit account number (a NUBAN, or a phone number at mobile-money operators).
    pub nuban: String,
    /// The account name as the bank shows it.
    pub name: String,
    /// Savings, current or domiciliary.
    pub account_type: AccountType,
    /// ISO currency code: `"NGN"` or `"USD"`.
    pub currency: String,
}

/// The balance of one account now, with its recent daily history. Amounts are in minor units
/// (kobo or cents) so no floating point touches money before the response layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceBalance {
    /// Which account (as in [`SourceAccount::account_ref`]).
    pub account_ref: String,
    /// Money the holder can spend now; `None` when the bank does not report it.
    pub available_minor: Option<i64>,
    /// Booked balance (includes pending debits not yet settled); `None` when not reported.
    pub ledger_minor: Option<i64>,
    /// ISO currency code of the amounts.
    pub currency: String,
    /// End-of-day balances, oldest first (the `periodic` arrays of the Balance object).
    pub history: Vec<DailyBalance>,
}

/// The balance of an account at the end of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyBalance {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Available balance in minor units.
    pub available_minor: i64,
    /// Ledger balance in minor units.
    pub ledger_minor: i64,
}

/// A photo of the person held by the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoId {
    /// Path on this server that serves the image (e.g. `/sandbox/photos/<token>.svg`); the server
    /// prefixes its public base URL. A path, not a URL, so sources need not know the host.
    pub url_path: String,
    /// Okra's `image_type`, e.g. `"bvn_photo"`.
    pub image_type: String,
}

/// A next of kin recorded by the bank or registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextOfKin {
    /// Full name.
    pub name: String,
    /// Relationship to the person (e.g. `"Spouse"`, `"Brother"`).
    pub relationship: String,
    /// Phone number, `08031234567` form.
    pub phone: String,
}

/// Everything a source knows about a person (or, for `is_company`, a company). Fields mirror the
/// contract's Identity object so the server maps them one to one; unknown values are `None` or
/// empty, never invented by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceIdentity {
    /// Given name (for a company: its director's).
    pub firstname: String,
    /// Middle name, when there is one.
    pub middlename: Option<String>,
    /// Surname (for a company: its director's).
    pub lastname: String,
    /// Full name as the bank shows it (for a company: the company's name).
    pub fullname: String,
    /// Date of birth, `YYYY-MM-DD` (for a company: its director's).
    pub dob: String,
    /// `"Male"` or `"Female"`.
    pub gender: String,
    /// Bank Verification Number, 11 digits; `None` for companies and unverified accounts.
    pub bvn: Option<String>,
    /// National Identification Number, 11 digits, when known.
    pub nin: Option<String>,
    /// Phone numbers, `08031234567` form, primary first.
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Postal addresses, one line each.
    pub addresses: Vec<String>,
    /// Nationality, e.g. `"Nigeria"`.
    pub nationality: String,
    /// State of origin, e.g. `"Oyo State"`.
    pub state_of_origin: String,
    /// Local government area of origin.
    pub lga_of_origin: String,
    /// State of residence.
    pub state_of_residence: String,
    /// Local government area of residence.
    pub lga_of_residence: String,
    /// `"Single"`, `"Married"`, `"Divorced"` or `"Widowed"`, when known.
    pub marital_status: Option<String>,
    /// Mother's maiden name, when known.
    pub mothers_maiden: Option<String>,
    /// Other names the person is known by.
    pub aliases: Vec<String>,
    /// Next of kin on record.
    pub next_of_kins: Vec<NextOfKin>,
    /// The registry photo, when there is one.
    pub photo: Option<PhotoId>,
    /// CBN code of the bank where the BVN was enrolled.
    pub enrollment_bank: Option<String>,
    /// Branch where the BVN was enrolled.
    pub enrollment_branch: Option<String>,
    /// Day of BVN enrolment, `YYYY-MM-DD`.
    pub registration_date: Option<String>,
    /// True when the BVN is on the CBN watch-list (the server reports it, it does not refuse).
    pub watch_listed: bool,
    /// CAC registration number (`RC123456`), companies only.
    pub rc_number: Option<String>,
    /// True when the account holder is a company rather than a person.
    pub is_company: bool,
}

impl SourceIdentity {
    /// Completeness of the identity, 0–100 (the Identity object's `score`): the rounded share of
    /// its applicable *optional* data points that are present — e-mail, address, aliases, next of
    /// kin, mother's maiden name and marital status, and for individuals also NIN, photo and
    /// enrolment branch (6 points for companies, 9 for individuals). Name, date of birth, gender,
    /// phone, places and (individuals) BVN are always known for an account holder, so counting
    /// them would only put a floor under every score. The one score of the server: identities a
    /// connection, a KYC verify or `sandbox load` stores, and the simulated network's own
    /// `identity` completeness, all use it.
    pub fn completeness(&self) -> u8 {
        let mut points = vec![
            !self.emails.is_empty(),
            !self.addresses.is_empty(),
            !self.aliases.is_empty(),
            !self.next_of_kins.is_empty(),
            self.mothers_maiden.is_some(),
            self.marital_status.is_some(),
        ];
        if !self.is_company {
            points.extend([
                self.nin.is_some(),
                self.photo.is_some(),
                self.enrollment_branch.is_some(),
            ]);
        }
        let present = points.iter().filter(|p| **p).count();
        ((present * 100 + points.len() / 2) / points.len()) as u8
    }
}

/// The answer of a NIP name enquiry: who holds an account, without the full identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameEnquiry {
    /// Account name.
    pub name: String,
    /// BVN linked to the account, when there is one.
    pub bvn: Option<String>,
}

/// What can be asked of a bank through a user's online-banking login.
pub trait BankSource: Send + Sync {
    /// Logs in at `bank_id` (Okra id or slug) with the user's credentials.
    fn authenticate<'a>(
        &'a self,
        bank_id: &'a str,
        credentials: &'a Credentials,
    ) -> SourceFuture<'a, BankSession>;

    /// Every account the logged-in user holds at the session's bank.
    fn list_accounts<'a>(
        &'a self,
        session: &'a BankSession,
    ) -> SourceFuture<'a, Vec<SourceAccount>>;

    /// The identity of the logged-in user as the bank knows it.
    fn identity<'a>(&'a self, session: &'a BankSession) -> SourceFuture<'a, SourceIdentity>;

    /// Balance of one account; works without a live session (server-side refresh with stored
    /// consent), which is why it takes the bank and account reference rather than a session.
    fn balance<'a>(
        &'a self,
        bank_id: &'a str,
        account_ref: &'a str,
    ) -> SourceFuture<'a, SourceBalance>;
}

/// What can be asked of the national identity infrastructure (BVN registry, NIBSS).
pub trait IdentityRegistry: Send + Sync {
    /// The identity enrolled under `bvn`; `NotFound` when no one holds it.
    fn lookup_bvn<'a>(&'a self, bvn: &'a str) -> SourceFuture<'a, SourceIdentity>;

    /// Identity of the holder of (bank, NUBAN); NotFound when no such account, InvalidIdentity
    /// when the account has no BVN.
    fn resolve_nuban<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, SourceIdentity>;

    /// NIP name enquiry: the account name (and BVN) of (bank, NUBAN); `NotFound` when no such
    /// account.
    fn name_enquiry<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, NameEnquiry>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that answers nothing, to prove the traits are object-safe and their futures `Send`.
    struct Nothing;

    impl IdentityRegistry for Nothing {
        fn lookup_bvn<'a>(&'a self, _bvn: &'a str) -> SourceFuture<'a, SourceIdentity> {
            Box::pin(std::future::ready(Err(SourceError::NotFound)))
        }
        fn resolve_nuban<'a>(
            &'a self,
            _b: &'a str,
            _n: &'a str,
        ) -> SourceFuture<'a, SourceIdentity> {
            Box::pin(std::future::ready(Err(SourceError::InvalidIdentity)))
        }
        fn name_enquiry<'a>(&'a self, _b: &'a str, _n: &'a str) -> SourceFuture<'a, NameEnquiry> {
            Box::pin(async { Err(SourceError::Other("down".into())) })
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    fn bare(is_company: bool) -> SourceIdentity {
        SourceIdentity {
            firstname: "Ada".into(),
            middlename: None,
            lastname: "Obi".into(),
            fullname: "Ada Obi".into(),
            dob: "1990-01-01".into(),
            gender: "Female".into(),
            bvn: Some("22212345678".into()),
            nin: None,
            phones: vec!["08031234567".into()],
            emails: vec![],
            addresses: vec![],
            nationality: "Nigeria".into(),
            state_of_origin: "Lagos State".into(),
            lga_of_origin: "Ikeja".into(),
            state_of_residence: "Lagos State".into(),
            lga_of_residence: "Ikeja".into(),
            marital_status: None,
            mothers_maiden: None,
            aliases: vec![],
            next_of_kins: vec![],
            photo: None,
            enrollment_bank: None,
            enrollment_branch: None,
            registration_date: None,
            watch_listed: false,
            rc_number: None,
            is_company,
        }
    }

    #[test]
    fn completeness_counts_only_optional_points() {
        // Always-known fields give no floor.
        assert_eq!(bare(false).completeness(), 0);
        let mut p = bare(false);
        p.emails.push("a@b.ng".into());
        p.nin = Some("12345678901".into());
        p.marital_status = Some("Single".into());
        assert_eq!(p.completeness(), 33, "3 of 9");
        // Companies have 6 points: NIN, photo and branch do not apply.
        let mut c = bare(true);
        c.emails.push("a@b.ng".into());
        c.nin = Some("12345678901".into());
        assert_eq!(c.completeness(), 17, "1 of 6");
    }

    #[test]
    fn traits_are_object_safe_and_futures_send() {
        let registry: Box<dyn IdentityRegistry> = Box::new(Nothing);
        let fut = registry.lookup_bvn("22123456789");
        assert_send(&fut);
        drop(fut);
        assert_eq!(AccountType::Domiciliary.as_str(), "domiciliary");
        assert_eq!(
            serde_json::to_string(&AccountType::Current).unwrap(),
            "\"current\""
        );
        assert_eq!(SourceError::Other("x".into()).to_string(), "x");
    }
}
