//! HTTP plumbing shared by every route: the error type, envelopes, extractors and middleware.

pub mod auth;
pub mod body;
pub mod envelope;
pub mod error;
pub mod middleware;
pub mod rate_limit;

pub use auth::{PathEnv, SecretAuth};
pub use body::{JsonBody, JsonPayload};
pub use envelope::success;
pub use error::ApiError;
