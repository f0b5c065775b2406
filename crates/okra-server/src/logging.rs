//! Structured logs with `tracing`, to stderr (stdout is for command output such as a new key).
//!
//! Nothing personal is logged: the request middleware logs method, path, status and duration only;
//! bodies, query strings and the Authorization header never reach a log line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber (once; later calls are ignored). Fails on an invalid
/// `log_level` (configuration validation refuses those first). The pretty format uses colour only
/// when stderr is a terminal, so log files get no escape codes.
pub fn init(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_level)
        .map_err(|e| anyhow::anyhow!("log_level `{}`: {e}", config.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    Ok(())
}
