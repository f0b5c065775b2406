//! okra-server: an Okra v2-compatible open-banking server.
//!
//! Layers, outside in: [`cli`] → [`server`] (bind, workers, shutdown) → [`app`] (router and
//! middleware) → [`api`] (thin handlers) → [`services`] (use cases) → okra-store (SQL).

pub mod api;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connector;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod outbound;
pub mod server;
pub mod services;
pub mod workers;
