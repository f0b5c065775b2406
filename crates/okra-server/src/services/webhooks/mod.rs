//! Webhooks: Okra's flat payloads (`payload`), the outbox written in the transaction of the state
//! it reports (`outbox`), delivery by workers with Standard Webhooks signatures and the retry
//! schedule (`deliver`), and what an owner reads and changes (`admin`: deliveries, re-sending,
//! default URL and token).

pub mod admin;
pub mod deliver;
pub mod outbox;
pub mod payload;

/// The job kind that delivers one message.
pub const DELIVER_JOB: &str = "webhook.deliver";
