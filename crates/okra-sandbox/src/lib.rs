//! The simulated Nigerian bank network: a deterministic population of people, banks, accounts
//! and balances generated from a seed, serving as the default data source
//! (`okra_core::source::BankSource` and `IdentityRegistry`).
//!
//! Millions of people cost no storage: person `i` is computed from `(seed, i)` alone in a few
//! microseconds, and every identifier (BVN, NIN, phone, NUBAN, photo token) is a keyed
//! permutation of `i`, so reverse lookups are O(1) computations. See [`Network`] for the
//! credentials rule and [`faults`] for the built-in fault triggers; the README has both.
//!
//! Sandbox customers that API clients create are *custom people* at reserved indexes
//! ([`CUSTOM_BASE`]..): [`Network::person_with`] builds one from its [`PersonSpec`], and
//! [`Network::custom_index_of`] tells which requests name one (see the `custom` module).
//!
//! ```
//! use okra_sandbox::Network;
//! let network = Network::new(7, 1_000);
//! let person = network.person(3).unwrap();
//! let bvn = person.bvn.clone().unwrap_or_default();
//! assert!(bvn.is_empty() || network.person_by_bvn(&bvn).unwrap().index == 3);
//! ```

pub mod accounts;
pub mod balances;
pub mod custom;
pub mod dates;
mod details;
pub mod faults;
pub mod geo;
pub mod ids;
pub mod names;
pub mod network;
pub mod permute;
pub mod person;
pub mod photo;
pub mod profile;
mod rng;
mod source_impl;
pub mod spec;

#[cfg(test)]
mod tests;

pub use accounts::Account;
pub use custom::{Lookup, CUSTOM_BASE, CUSTOM_CAPACITY};
pub use dates::Date;
pub use faults::{
    check_otp, delay_for_username, fault_for_bvn, fault_for_nuban, fault_for_username, otp_login,
    Fault, SANDBOX_OTP,
};
pub use ids::MAX_POPULATION;
pub use network::{AccountSummary, Network, PersonSummary, DEFAULT_POPULATION, DEFAULT_SEED};
pub use person::{Company, Person};
pub use profile::identity_score;
pub use spec::{PersonSpec, Volume};
