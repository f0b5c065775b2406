//! What an API client asks for when it creates a sandbox customer (`customers/create`,
//! `customers/generate`): a [`PersonSpec`], validated with Joi-like messages, and random specs
//! with plausible credentials for `customers/generate`.
//!
//! The server maps the request's wire names (`noOfAccount`, `type`, `internetSpeed`) onto the
//! spec, stores the spec (serde, snake_case) with the custom index it allocated, and hands both
//! back to `Network::person_with` whenever it needs the person.

use std::fmt;
use std::str::FromStr;

use okra_core::banks::{self, BANKS};
use okra_core::source::Credentials;
use serde::{Deserialize, Serialize};

use crate::network::Network;
use crate::permute::hash;
use crate::rng::{key_for_seed, Draw};
use crate::{details, names};

/// How much money and activity a custom person's accounts carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Volume {
    /// Tens of thousands of naira, quiet accounts (±3% a day, few pending debits).
    Low,
    /// Hundreds of thousands of naira, the usual movement (±10% a day).
    #[default]
    Medium,
    /// Tens of millions of naira, busy accounts (±25% a day, pending debits most days).
    High,
}

impl Volume {
    /// The wire value: `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Volume::Low => "low",
            Volume::Medium => "medium",
            Volume::High => "high",
        }
    }
}

impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Volume {
    type Err = String;

    /// Parses `low`, `medium` or `high` (any case); the error is the contract's Joi message.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Volume::Low),
            "medium" => Ok(Volume::Medium),
            "high" => Ok(Volume::High),
            _ => Err("`volume` must be one of low, medium, high".to_string()),
        }
    }
}

/// A sandbox customer as an API client describes it. `None` fields are drawn by the network
/// (deterministically, from the person's index), except `company` (`None`: an individual),
/// `identity` (`None`: the profile as generated) and `internet_speed` (`None`: fast, as 4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonSpec {
    /// Full name of the individual ("First [Middle…] Last"), or the company's registered name.
    pub name: Option<String>,
    /// Bank id or slug of the first account (request field `bank`).
    pub bank: Option<String>,
    /// Number of accounts, 1–5 (request field `noOfAccount`).
    pub accounts: Option<u8>,
    /// True for a company (request `type: "corp"`), false for an individual (`"ind"`).
    pub company: Option<bool>,
    /// How much money and activity the accounts carry (request field `volume`).
    pub volume: Volume,
    /// How complete the identity profile is, 1–100 (request field `identity`): about this share
    /// of the optional data points is present (see `identity_score`).
    pub identity: Option<u8>,
    /// 2–4, how fast the person's bank answers (request field `internetSpeed`): 4 at once, 3
    /// after 1.5 s, 2 after 4 s (see `Network::delay_for`).
    pub internet_speed: Option<u8>,
}

/// Longest accepted name, in characters.
const MAX_NAME: usize = 100;

impl PersonSpec {
    /// Checks the values, with the contract's Joi-style message for the first that is out of range
    /// (fields in the request's order and with its names).
    pub fn validate(&self) -> Result<(), String> {
        if self.accounts.is_some_and(|n| !(1..=5).contains(&n)) {
            return Err("`noOfAccount` must be between 1 and 5".to_string());
        }
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                return Err("`name` is not allowed to be empty".to_string());
            }
            if okra_core::body::has_control_or_invisible(name) {
                return Err("`name` must not contain control or invisible characters".to_string());
            }
            if name.chars().count() > MAX_NAME {
                return Err(format!(
                    "`name` length must be less than or equal to {MAX_NAME} characters long"
                ));
            }
        }
        if let Some(bank) = &self.bank {
            if banks::find(bank).is_none() {
                return Err(format!(
                    "Could not match bank identifier {bank} with a valid bank"
                ));
            }
        }
        if self.identity.is_some_and(|n| !(1..=100).contains(&n)) {
            return Err("`identity` must be between 1 and 100".to_string());
        }
        if self.internet_speed.is_some_and(|n| !(2..=4).contains(&n)) {
            return Err("`internetSpeed` must be between 2 and 4".to_string());
        }
        Ok(())
    }

    /// The request's `type`: `ind` → `false`, `corp` → `true` (any case).
    pub fn parse_type(value: &str) -> Result<bool, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "ind" => Ok(false),
            "corp" => Ok(true),
            _ => Err("`type` must be one of ind, corp".to_string()),
        }
    }
}

impl Network {
    /// `number` random sandbox customers for `customers/generate`, with credentials: the same
    /// `(network seed, seed, number)` always gives the same list, and each prefix of a longer list
    /// is the shorter one. Usernames look like `adaeze.okafor27` (two dot-separated parts, so
    /// never a rule username of the generated population and never a fault trigger); passwords
    /// like `Adaeze@4821`. The server may replace a username to keep usernames unique.
    pub fn generate_specs(&self, seed: u64, number: usize) -> Vec<(PersonSpec, Credentials)> {
        let mut rng = Draw::new(key_for_seed(hash(&[self.seed(), 0x6E4E, seed])), 0);
        (0..number).map(|_| random_spec(&mut rng)).collect()
    }
}

fn random_spec(rng: &mut Draw) -> (PersonSpec, Credentials) {
    let company = rng.chance(10);
    let t = names::tradition_for(rng.below(100) as u32);
    let female = rng.chance(50);
    let first = rng.pick(if female { t.female } else { t.male });
    let last = rng.pick(t.surnames);
    let name = if company {
        details::company(rng, last).name
    } else if rng.chance(40) {
        let middle = rng.pick(if female { t.female } else { t.male });
        format!("{first} {middle} {last}")
    } else {
        format!("{first} {last}")
    };
    let weights: Vec<(usize, u32)> = BANKS
        .iter()
        .enumerate()
        .map(|(i, b)| (i, crate::accounts::bank_weight(b, company)))
        .collect();
    let bank = BANKS[rng.weighted(&weights)].slug.to_string();
    let accounts = rng.weighted(&[(1u8, 35), (2, 30), (3, 20), (4, 10), (5, 5)]);
    let volume = rng.weighted(&[(Volume::Low, 40), (Volume::Medium, 40), (Volume::High, 20)]);
    let identity = rng.between(40, 100) as u8;
    let internet_speed = rng.weighted(&[(4u8, 60), (3, 30), (2, 10)]);
    let username = format!("{first}.{last}{}", rng.between(10, 99)).to_lowercase();
    let password = format!("{first}@{}", rng.between(1000, 9999));
    let spec = PersonSpec {
        name: Some(name),
        bank: Some(bank),
        accounts: Some(accounts),
        company: Some(company),
        volume,
        identity: Some(identity),
        internet_speed: Some(internet_speed),
    };
    (
        spec,
        Credentials {
            username,
            password,
            otp: None,
        },
    )
}
