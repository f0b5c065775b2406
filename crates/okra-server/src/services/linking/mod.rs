//! Linking: link sessions (`links/new`), the headless sandbox connection (`link/connect`) that
//! logs in at the environment's data source and writes a record, and the onSuccess payload.
//!
//! A connection is one transaction: the customer (found again by BVN, else by an account it
//! already holds), a new record, its accounts (found again by bank and NUBAN), the link session
//! marked used, the `AUTH_SUCCESS`/`ACCOUNTS_SUCCESS` webhooks and the jobs of the other
//! products. Everything the data source is asked happens before it, so a refused or failed login
//! writes nothing.

mod connect;
pub mod options;
pub mod widget;

use okra_core::id::new_id;
use okra_core::Environment;
use okra_store::Tenant;

pub use connect::{connect, ConnectRequest};
pub use options::{check_webhook_url_shape, LinkOptions};

use super::error::{Error, Result};
use super::webhooks::deliver::policy;
use crate::app::AppState;
use crate::config::Config;
use crate::outbound;

/// A link session as `links/new` returns it.
#[derive(Clone, Debug)]
pub struct NewLink {
    /// Link id.
    pub link_id: String,
    /// The hosted widget's page for this link.
    pub url: String,
    /// The same page by a shorter address (it redirects to `url`).
    pub short_url: String,
    /// Expiry (ms).
    pub expires_at: i64,
}

/// Checks a webhook URL against the environment's outbound policy, naming the option in the
/// error so the client knows what to change.
pub(crate) async fn check_webhook_url(
    config: &Config,
    env: Environment,
    field: &str,
    url: &str,
) -> Result<()> {
    outbound::check_url(&policy(config, env), url)
        .await
        .map(|_| ())
        .map_err(|e| Error::Invalid(format!("`{field}` is not usable: {e}")))
}

/// The banks `filter.banks` names must exist.
fn check_filter(options: &LinkOptions) -> Result<()> {
    for bank in options.filter_banks.iter().flatten() {
        if okra_core::banks::find(bank).is_none() {
            return Err(Error::UnknownBank(bank.clone()));
        }
    }
    Ok(())
}

/// Whether `url`'s origin is named in `cors_origins` (`*` names none).
pub(super) fn origin_listed(config: &Config, url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return false;
    };
    let origin = parsed.origin().ascii_serialization();
    (config.cors_origins.iter())
        .any(|o| o.trim().trim_end_matches('/').eq_ignore_ascii_case(&origin))
}

/// A `redirect_url` given with the publishable key (by anyone who read it from a web page) must
/// not turn the hosted page into a redirector to anywhere: in production it must be `https`, and
/// when `cors_origins` names the integrator's front ends, it must be on one of them.
fn check_redirect(config: &Config, env: Environment, options: &LinkOptions) -> Result<()> {
    let Some(url) = &options.redirect_url else {
        return Ok(());
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| {
        Error::Invalid("`redirect_url` must be an absolute http or https URL".into())
    })?;
    if env == Environment::Production && parsed.scheme() != "https" {
        return Err(Error::Invalid(
            "`redirect_url` must be an https URL in production".into(),
        ));
    }
    let any = config.cors_origins.iter().any(|o| o.trim() == "*");
    if !any && !origin_listed(config, url) {
        return Err(Error::Invalid(
            "`redirect_url` must be on one of the allowed origins (cors_origins)".into(),
        ));
    }
    Ok(())
}

/// Stores a link session with `options` for `link_ttl_secs`; `by_publishable` when the
/// publishable key made it (an integrator's page).
pub async fn create_link(
    state: &AppState,
    tenant: &Tenant,
    options: &LinkOptions,
    by_publishable: bool,
) -> Result<NewLink> {
    check_filter(options)?;
    if by_publishable {
        check_redirect(&state.config, tenant.env, options)?;
    }
    if let Some(url) = &options.callback_url {
        check_webhook_url(&state.config, tenant.env, "callback_url", url).await?;
    }
    let id = new_id();
    let token = widget::new_token();
    let now = okra_core::time::now_ms();
    let expires_at = now.saturating_add((state.config.link_ttl_secs as i64).saturating_mul(1000));
    let stored = serde_json::Value::Object(options.stored.clone());
    let new = okra_store::link_sessions::NewLinkSession {
        id: &id,
        token_hash: &widget::token_hash(&token),
        options: &stored,
        by_publishable,
    };
    okra_store::link_sessions::insert(&state.db, &state.keyring(), tenant, &new, now, expires_at)
        .await?;
    Ok(NewLink {
        url: format!("{}/link/{token}", state.public_url),
        short_url: format!("{}/l/{token}", state.public_url),
        link_id: id,
        expires_at,
    })
}
