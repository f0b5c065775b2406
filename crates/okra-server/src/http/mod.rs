//! HTTP plumbing shared by every route: the error type, envelopes, extractors and middleware.

pub mod auth;
pub mod body;
pub mod cors;
pub mod envelope;
pub mod error;
pub mod listener;
pub mod middleware;
pub mod rate_limit;
pub mod raw_errors;
pub mod throttle;

pub use auth::{LinkAuth, PathEnv, SecretAuth};
pub use body::JsonPayload;
pub use envelope::success;
pub use error::ApiError;
