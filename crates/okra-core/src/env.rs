//! The two environments every key, row and path belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `sandbox` or `production`. Data never crosses environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Test data, simulated banks, `/v2/sandbox/…` paths and `sk_sandbox_` keys.
    Sandbox,
    /// Live data, `/v2/…` paths and `sk_live_` keys.
    Production,
}

impl Environment {
    /// Both environments, sandbox first.
    pub const ALL: [Environment; 2] = [Environment::Sandbox, Environment::Production];

    /// The value stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Production => "production",
        }
    }

    /// The `env` value Okra showed in payloads (`production-sandbox` for sandbox data).
    pub fn label(self) -> &'static str {
        match self {
            Environment::Sandbox => "production-sandbox",
            Environment::Production => "production",
        }
    }

    /// The part of a key after `sk_` / `pk_` (`sandbox` or `live`).
    pub fn key_tag(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Production => "live",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sandbox" | "production-sandbox" => Ok(Environment::Sandbox),
            "production" | "live" => Ok(Environment::Production),
            other => Err(format!(
                "unknown environment `{other}` (expected sandbox or production)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_labels() {
        assert_eq!(
            "sandbox".parse::<Environment>().unwrap(),
            Environment::Sandbox
        );
        assert_eq!(
            "live".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert!("staging".parse::<Environment>().is_err());
        assert_eq!(Environment::Sandbox.label(), "production-sandbox");
        assert_eq!(Environment::Production.label(), "production");
    }
}
