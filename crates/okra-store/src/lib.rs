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
//!   indexes), [`multirow`] (multi-row `VALUES`, chunking, index probes), [`loader`] (bulk writes:
//!   rusqlite, PostgreSQL `COPY`), [`sequences`] (named
//!   counters), [`counters`] (row counts kept with the rows), [`admin`] (creating the database);
//! - table modules, each owning its table's row types, INSERT and reads, importing helpers only:
//!   [`accounts`], [`balances`], [`banks`], [`customers`], [`ephemeral`], [`faults`],
//!   [`identities`], [`jobs`], [`key_fingerprints`], [`keys`], [`link_sessions`], [`owners`],
//!   [`records`], [`webhooks`];
//! - operations no table uses: [`rekey`] (every sealed column, listed in [`SEALED_COLUMNS`]).
//!
//! Only this crate root names every table: the list of sealed columns and the [`bulk`]
//! re-exports live here.

pub mod accounts;
pub mod admin;
pub mod balances;
pub mod banks;
pub mod blind;
pub mod counters;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod ephemeral;
pub mod error;
pub mod faults;
pub mod idempotency;
pub mod identities;
pub mod jobs;
pub mod key_fingerprints;
pub mod keys;
pub mod link_sessions;
pub mod loader;
pub mod multirow;
pub mod owners;
pub mod read;
pub mod receipts;
pub mod records;
pub mod rekey;
pub mod sequences;
pub mod webhooks;

pub use db::{Backend, Db, DbOptions, Tx};
pub use error::StoreError;
/// The connection a transaction runs statements on ([`Tx::conn`]), for services that compose
/// several table modules in one transaction.
pub use sqlx::AnyConnection;

use okra_core::Environment;

/// The scope of every tenant query: one owner in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tenant {
    /// The owner's id.
    pub owner_id: String,
    /// The environment of the key that made the request.
    pub env: Environment,
}

/// Every sealed column: (table, column, associated-data context), for data-key rotation
/// ([`rekey`]). A table that adds a sealed column adds it here.
pub const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "owners",
        "webhook_secret_enc",
        owners::WEBHOOK_SECRET_CONTEXT,
    ),
    ("customers", "bvn_enc", customers::BVN_CONTEXT),
    ("customers", "pii_enc", customers::PII_CONTEXT),
    ("customers", "sandbox_enc", customers::SANDBOX_CONTEXT),
    ("accounts", "nuban_enc", accounts::NUBAN_CONTEXT),
    ("accounts", "account_ref_enc", accounts::ACCOUNT_REF_CONTEXT),
    ("identities", "pii_enc", identities::PII_CONTEXT),
    (
        "link_sessions",
        "options_enc",
        link_sessions::OPTIONS_CONTEXT,
    ),
    ("link_sessions", "login_enc", link_sessions::LOGIN_CONTEXT),
    ("webhook_messages", "body_enc", webhooks::BODY_CONTEXT),
    ("webhook_settings", "token_enc", webhooks::TOKEN_CONTEXT),
    (
        "idempotency_keys",
        "response_enc",
        idempotency::RESPONSE_CONTEXT,
    ),
];

/// The former home of the row types and multi-row inserts, kept as re-exports so callers outside
/// this crate that still name `okra_store::bulk::…` build unchanged. New code names the table
/// module (`customers::CustomerRow`) and [`multirow::insert`]. It sits in the crate root, which
/// names every table anyway, so that no module imports a table module but its own.
pub mod bulk {
    use std::borrow::Borrow;

    use sqlx::AnyConnection;

    pub use crate::customers::CustomerRow;
    use crate::error::Result;
    pub use crate::multirow::tune_connection;
    use crate::Tenant;

    /// Inserts customers on `conn`: [`crate::multirow::insert`] under its former name.
    pub async fn insert_customers<R: Borrow<CustomerRow>>(
        conn: &mut AnyConnection,
        tenant: &Tenant,
        rows: &[R],
    ) -> Result<()> {
        let rows: Vec<&CustomerRow> = rows.iter().map(Borrow::borrow).collect();
        crate::multirow::insert(conn, tenant, &rows).await
    }
}
