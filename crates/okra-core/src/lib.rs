//! Pure domain of okra-server: no I/O and no async.
//!
//! Everything here is deterministic given its inputs (ids take randomness from the OS) so it can be
//! unit-tested exhaustively: ids, environments, NUBAN check digits, Joi-style validation messages,
//! pagination arithmetic, timestamps, the bank catalogue, webhook signatures and delivery rules.

pub mod apikey;
pub mod banks;
pub mod body;
pub mod digits;
pub mod env;
pub mod id;
pub mod mask;
pub mod nuban;
pub mod pagination;
pub mod schema;
pub mod source;
pub mod time;
pub mod validate;
pub mod webhook_delivery;
pub mod webhook_signature;

pub use env::Environment;
pub use id::ObjectId;
