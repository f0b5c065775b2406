//! `okra-server sandbox load`: bulk linking of network people to an owner (being written).

use okra_core::Environment;
use okra_store::crypto::Keyring;
use okra_store::Db;

use crate::config::Config;

/// What to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Owner name.
    pub owner: String,
    /// How many people.
    pub people: u64,
    /// First person index.
    pub start: u64,
    /// Environment.
    pub env: Environment,
    /// People per transaction.
    pub batch: usize,
}

/// Runs the load.
pub async fn run(
    _db: &Db,
    _keyring: &Keyring,
    _config: &Config,
    _options: LoadOptions,
) -> anyhow::Result<()> {
    anyhow::bail!("sandbox load is not implemented yet")
}
