//! `okra-server sandbox users`: logins of people of the simulated network.

use crate::config::Config;

/// Prints `count` logins (optionally at one bank).
pub fn print(config: &Config, bank: Option<&str>, count: usize) -> anyhow::Result<()> {
    if count == 0 {
        anyhow::bail!("--count must be at least 1");
    }
    if let Some(b) = bank {
        if okra_core::banks::find(b).is_none() {
            anyhow::bail!("no bank `{b}`: use a slug or id from `GET /v2/sandbox/banks/list`");
        }
    }
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    let users = network.sample_users(bank, count);
    if users.is_empty() {
        anyhow::bail!("no users found at that bank");
    }
    for (credentials, person) in users {
        println!(
            "{}\t{}\t{}",
            credentials.username,
            credentials.password,
            serde_json::to_string(&person)?
        );
    }
    Ok(())
}
