//! Data sources per environment (configuration: the simulated network or an HTTP connector), and
//! the per-tenant view services use: it applies the owner's scripted sandbox faults, the simulated
//! network's slow-bank hints and a timeout to every call, so no request waits on a bank forever.

use std::sync::Arc;
use std::time::Duration;

use okra_core::source::{BankSource, IdentityRegistry};
use okra_core::Environment;
use okra_sandbox::Network;

use crate::config::Config;
use crate::connector::HttpConnector;
use crate::outbound::OutboundPolicy;

/// The bank source and identity registry of one environment.
#[derive(Clone)]
pub struct SourceSet {
    /// Banks.
    pub bank: Arc<dyn BankSource>,
    /// BVN registry and NUBAN resolution.
    pub registry: Arc<dyn IdentityRegistry>,
    /// The simulated network, when this environment uses it.
    pub network: Option<Arc<Network>>,
}

/// Both environments' sources.
#[derive(Clone)]
pub struct Sources {
    sandbox: SourceSet,
    production: SourceSet,
}

fn source_set(
    config: &Config,
    env: Environment,
    spec: &str,
    network: &Arc<Network>,
) -> anyhow::Result<SourceSet> {
    if spec.trim().is_empty() || spec.trim() == "simulated" {
        return Ok(SourceSet {
            bank: network.clone(),
            registry: network.clone(),
            network: Some(network.clone()),
        });
    }
    let policy = OutboundPolicy::for_environment(
        env == Environment::Sandbox,
        &config.connector_allowed_hosts,
    );
    let connector = HttpConnector::new(
        spec,
        config
            .connector_token
            .as_ref()
            .map(|t| t.expose().to_string()),
        &policy,
        Duration::from_millis(config.source_timeout_ms),
    )
    .map_err(|e| anyhow::anyhow!("{}_source: {e}", env.as_str()))?;
    let connector = Arc::new(connector);
    Ok(SourceSet {
        bank: connector.clone(),
        registry: connector,
        network: None,
    })
}

impl Sources {
    /// Builds the sources the configuration names (`simulated` or a connector URL per environment).
    pub fn from_config(config: &Config) -> anyhow::Result<Sources> {
        let network = Arc::new(Network::new(config.sandbox_seed, config.sandbox_population));
        Ok(Sources {
            sandbox: source_set(
                config,
                Environment::Sandbox,
                &config.sandbox_source,
                &network,
            )?,
            production: source_set(
                config,
                Environment::Production,
                &config.production_source,
                &network,
            )?,
        })
    }

    /// The sources of `env`.
    pub fn for_env(&self, env: Environment) -> &SourceSet {
        match env {
            Environment::Sandbox => &self.sandbox,
            Environment::Production => &self.production,
        }
    }

    /// True when production is served by the simulated network (a warning at start-up).
    pub fn production_is_simulated(&self) -> bool {
        self.production.network.is_some()
    }
}

mod scripted;
mod tenant;

pub use tenant::TenantSource;
