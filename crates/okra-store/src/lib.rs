//! Persistence for okra-server.
//!
//! One schema (in `migrations/sqlite` and `migrations/postgres`, identical but for type names) and
//! one set of SQL statements serve both backends through sqlx's `Any` driver: statements use `$n`
//! placeholders and portable types only (TEXT, BIGINT, BLOB/BYTEA), so there is a single code path.
//! Where the backends must differ (row locking in the job queue) [`Db::backend`] says which is in use.
//!
//! Every repository function over tenant data takes a [`Tenant`] (owner and environment) so that a
//! query without tenant scope cannot be written by accident.
//!
//! Modules come in three layers, and depend only downwards (`tests/layers.rs` checks it):
//! - shared helpers, which name no table module: [`db`], [`error`], [`crypto`], [`blind`] (blind
//!   indexes), [`multirow`] (multi-row `VALUES`, chunking, index probes), [`sequences`] (named
//!   counters), [`admin`] (creating the database);
//! - table modules, each owning its table's row types, INSERT and reads, importing helpers only:
//!   [`accounts`], [`balances`], [`banks`], [`customers`], [`ephemeral`], [`faults`],
//!   [`identities`], [`jobs`], [`key_fingerprints`], [`keys`], [`owners`], [`records`];
//! - above the tables, naming any of them: [`rekey`] (every sealed column) and the compatibility
//!   re-exports of [`bulk`].

pub mod accounts;
pub mod admin;
pub mod balances;
pub mod banks;
pub mod blind;
pub mod bulk;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod ephemeral;
pub mod error;
pub mod faults;
pub mod identities;
pub mod jobs;
pub mod key_fingerprints;
pub mod keys;
pub mod multirow;
pub mod owners;
pub mod records;
pub mod rekey;
pub mod sequences;

pub use db::{Backend, Db, DbOptions, Tx};
pub use error::StoreError;

use okra_core::Environment;

/// The scope of every tenant query: one owner in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// The owner's id.
    pub owner_id: String,
    /// The environment of the key that made the request.
    pub env: Environment,
}
