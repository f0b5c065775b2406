//! `okra-server sandbox users`: logins of people of the simulated network.

use crate::config::Config;

/// Prints `count` logins (optionally at one bank): a sample spread over the population, or with
/// `start` the people from that index on, in index order.
pub fn print(
    config: &Config,
    bank: Option<&str>,
    count: usize,
    start: Option<u64>,
) -> anyhow::Result<()> {
    if count == 0 {
        anyhow::bail!("--count must be at least 1");
    }
    if let Some(b) = bank {
        if okra_core::banks::find(b).is_none() {
            anyhow::bail!("no bank `{b}`: use a slug or id from `GET /v2/sandbox/banks/list`");
        }
    }
    let network = okra_sandbox::Network::new(config.sandbox_seed, config.sandbox_population);
    let users = match start {
        None => network.sample_users(bank, count),
        Some(first) => {
            let bank_id = bank.and_then(okra_core::banks::find).map(|b| b.id);
            (first..network.population())
                .filter_map(|i| Some((network.credentials(i)?, network.person(i)?)))
                .map(|(c, p)| (c, okra_sandbox::network::summary(&p)))
                .filter(|(_, p)| {
                    bank_id.is_none_or(|id| {
                        p.accounts
                            .iter()
                            .any(|a| okra_core::banks::find(&a.bank).is_some_and(|b| b.id == id))
                    })
                })
                .take(count)
                .collect()
        }
    };
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
