//! Use cases. Services take typed commands and the tenant, open transactions, call the store and
//! the data sources, and return domain results or an [`Error`]. They know nothing of HTTP: the
//! wire types and the mapping of [`Error`] to answers live in `api/` (`scripts/check-layers`
//! refuses an import of `axum`, `http` or `crate::http` here).

pub mod balance;
pub mod balance_refresh;
pub mod banks;
pub mod customers;
pub mod error;
pub mod faults;
pub mod identity;
pub mod identity_profile;
pub mod kyc;
pub mod linking;
pub mod owners;
pub mod products;
pub mod records;
pub mod rekey;
pub mod sandbox_customers;
pub mod sandbox_load;
pub mod sandbox_users;
pub mod sources;
pub mod views;
pub mod wallet;
pub mod webhooks;

pub use error::Error;
