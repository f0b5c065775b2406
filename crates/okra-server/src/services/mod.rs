//! Use cases. Services open transactions, call repositories and data sources, and build the
//! response shapes; handlers only translate HTTP to service calls.

pub mod banks;
pub mod customers;
pub mod faults;
pub mod owners;
pub mod rekey;
pub mod sandbox_customers;
pub mod sandbox_load;
pub mod sandbox_users;
pub mod sources;
