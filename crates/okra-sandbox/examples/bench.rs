//! Prints how fast the network generates people and answers reverse lookups.
//!
//! `cargo run --release -p okra-sandbox --example bench [count]`

use std::time::Instant;

use okra_sandbox::Network;

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let network = Network::default();
    let step = network.population() / count;

    let start = Instant::now();
    let mut accounts = 0;
    for i in 0..count {
        accounts += network.person(i * step).map_or(0, |p| p.accounts.len());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "generated {count} people ({accounts} accounts) in {secs:.2} s: {:.0} people/s, {:.2} µs each",
        count as f64 / secs,
        secs * 1e6 / count as f64
    );

    let people: Vec<_> = (0..10_000)
        .filter_map(|i| network.person(i * step))
        .collect();
    let start = Instant::now();
    let mut found = 0;
    for p in &people {
        if let Some(bvn) = &p.bvn {
            found += usize::from(network.person_by_bvn(bvn).is_some());
        }
        let a = &p.accounts[0];
        found += usize::from(network.account_by_nuban(a.bank.id, &a.number).is_some());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{found} reverse lookups (BVN, NUBAN) in {secs:.3} s: {:.0} lookups/s",
        found as f64 / secs
    );

    for (credentials, person) in network.sample_users(Some("guaranty-trust-bank"), 3) {
        println!(
            "{} / {}  {} ({} accounts)",
            credentials.username,
            credentials.password,
            person.name,
            person.accounts.len()
        );
    }
}
