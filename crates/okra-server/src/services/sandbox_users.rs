//! `okra-server sandbox users`: logins of people of the simulated network.

use crate::config::Config;

/// Prints `count` logins (optionally at one bank).
pub fn print(config: &Config, bank: Option<&str>, count: usize) -> anyhow::Result<()> {
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    let users = network.sample_users(bank, count);
    if users.is_empty() {
        anyhow::bail!("no users found (unknown bank?)");
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
