//! The one error type of the services: what went wrong in domain terms. The API turns it into
//! HTTP answers (`api::errors`); a worker, the CLI or a test reads it as it is.

use okra_store::StoreError;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tenant has no such object; names what was looked for (`Bank`, `Customer`, `Fault`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A sandbox username the tenant (or an earlier item of the same call) already uses; `None`
    /// when a concurrent request took it between the check and the write.
    #[error("sandbox username taken")]
    UsernameTaken(Option<String>),
    /// Sandbox customers need the simulated network, and this sandbox uses a connector.
    #[error("the sandbox does not use the simulated network")]
    NoSimulatedNetwork,
    /// Every slot for sandbox customers of the simulated network is used.
    #[error("the sandbox network is full")]
    NetworkFull,
    /// A business rule refused the request; the message says which, in the reference's tone
    /// (`This link has expired`, `Bank not available for this link`).
    #[error("refused: {0}")]
    Refused(String),
    /// A request named a bank by an id or slug that matches no bank.
    #[error("unknown bank")]
    UnknownBank(String),
    /// The request is well formed but a value is unusable (a webhook URL the policy refuses);
    /// answered like a validation error.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The bank or identity source refused or failed.
    #[error("data source: {0}")]
    Source(#[from] okra_core::source::SourceError),
    /// An `Idempotency-Key` sent again with a different request.
    #[error("idempotency key reused with another request")]
    IdempotencyMismatch,
    /// An `Idempotency-Key` whose first call is still running.
    #[error("idempotency key in flight")]
    IdempotencyRunning,
    /// A unique key clashed where only a concurrent change (or a bug) could make it clash.
    #[error("conflicting concurrent change")]
    Conflict,
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or corrupt data: details for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a service call.
pub type Result<T> = std::result::Result<T, Error>;

impl From<okra_core::body::Invalid> for Error {
    fn from(e: okra_core::body::Invalid) -> Self {
        Error::Invalid(e.0)
    }
}
