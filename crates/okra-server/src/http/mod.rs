//! HTTP plumbing shared by every route: the error type, envelopes, extractors and middleware.

pub mod auth;
pub mod body;
pub mod envelope;
pub mod error;
pub mod middleware;

pub use auth::{PathEnv, SecretAuth};
pub use body::JsonBody;
pub use envelope::success;
pub use error::ApiError;
