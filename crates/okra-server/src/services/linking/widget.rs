//! The hosted widget's side of linking: a link session opened by its secret token, the bank login
//! made in the browser (with the bank's one-time-password step), and the connection of the
//! accounts the user picked, after consent.
//!
//! The token is the only thing that opens a link in a browser: 192 random bits in the link's URL,
//! kept as a SHA-256 like API keys, so a leaked database or a guessed link id opens nothing. The
//! login is asked of the bank once; the source's session is kept sealed on the link until the
//! user has picked accounts and agreed, and the connection then reads the accounts and identity
//! through that session (a bank that sent a one-time password is not asked for another).

use base64::Engine;
use okra_core::source::{BankSession, Credentials, SourceError};
use okra_store::link_sessions::{self, LinkSession, LoginOutcome};
use okra_store::Tenant;
use rand::RngCore;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::connect::{allowed_bank, finish, link_options, usable_link, webhook_url, Login};
use super::options::LinkOptions;
use crate::app::AppState;
use crate::services::error::{Error, Result};
use crate::services::identity_profile::env_label;
use crate::services::sources::TenantSource;

/// Random bytes in a widget token (base64url: 32 characters).
const TOKEN_BYTES: usize = 24;
/// Length of a widget token.
const TOKEN_LEN: usize = 32;
/// Longest `logo` data URL the widget shows.
const MAX_LOGO_DATA_URL: usize = 200_000;
/// How long a widget login stays usable for the connection (ms).
const LOGIN_TTL_MS: i64 = 10 * 60_000;
/// Logins of one username at one bank that may fail within [`USERNAME_WINDOW_MS`], across links.
const MAX_USERNAME_FAILURES: i64 = 5;
/// The window of [`MAX_USERNAME_FAILURES`] (ms; it slides with each attempt).
const USERNAME_WINDOW_MS: i64 = 15 * 60_000;

/// A new widget token.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A link session opened by its token.
pub struct WidgetLink {
    /// Owner and environment of the link.
    pub tenant: Tenant,
    /// The stored session.
    pub session: LinkSession,
    /// Its buildWithOptions options.
    pub options: LinkOptions,
}

/// The link a token opens ([`Error::NotFound`] `Link` for anything else, malformed tokens
/// without asking the database).
pub async fn open(state: &AppState, token: &str) -> Result<WidgetLink> {
    let shaped = token.len() == TOKEN_LEN
        && (token.bytes()).all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !shaped {
        return Err(Error::NotFound("Link"));
    }
    let (tenant, session) =
        link_sessions::by_token(&state.db, &state.keyring(), &token_hash(token))
            .await?
            .ok_or(Error::NotFound("Link"))?;
    let options = link_options(&session)?;
    Ok(WidgetLink {
        tenant,
        session,
        options,
    })
}

/// What the widget page draws: the link's state, the display options (never `meta`, `options`,
/// `customer` or tokens), the consent text of the products, and the banks it may offer.
pub async fn view(state: &AppState, token: &str) -> Result<Value> {
    let link = open(state, token).await?;
    let now = okra_core::time::now_ms();
    let status = match link.session.status.as_str() {
        "open" if link.session.expires_at <= now => "expired",
        other => other,
    };
    let stored = &link.options.stored;
    let text = |key: &str, max: usize| -> Value {
        match stored.get(key).and_then(Value::as_str).map(str::trim) {
            Some(s) if !s.is_empty() => json!(s.chars().take(max).collect::<String>()),
            _ => Value::Null,
        }
    };
    let flag = |key: &str| stored.get(key).and_then(Value::as_bool).unwrap_or(false);
    let banks: Vec<Value> = (okra_core::banks::BANKS.iter())
        .filter(|b| link.options.allows_bank(b))
        .map(|b| {
            let assets = format!("/assets/banks/{}", b.slug);
            json!({"id": b.id, "name": b.name, "slug": b.slug, "type": b.bank_type.as_str(),
                   "icon": format!("{assets}/icon.svg"), "logo": format!("{assets}/logo.svg"),
                   "colors": {"primary": b.colors.primary, "accent": b.colors.accent}})
        })
        .collect();
    // A link made with the publishable key (anyone may make one) sends the user only to an origin
    // the operator named: with `cors_origins = ["*"]` its redirect_url is kept but not followed.
    let redirect = (link.options.redirect_url.clone())
        .filter(|u| !link.session.by_publishable || super::origin_listed(&state.config, u));
    let consent: Vec<Value> = (link.options.products.iter())
        .filter_map(|p| {
            consent_text(p).map(|(title, data)| json!({"product": p, "title": title, "data": data}))
        })
        .collect();
    Ok(json!({
        "link_id": link.session.id,
        "env": env_label(link.tenant.env),
        "status": status,
        "expires_at": okra_core::time::iso_ms(link.session.expires_at),
        "record_id": link.session.record_id,
        "options": {
            "name": text("name", 80),
            "products": link.options.products,
            "multi_account": link.options.multi_account,
            "showBalance": flag("showBalance"),
            "connectMessage": text("connectMessage", 300),
            "success_title": text("success_title", 120),
            "success_message": text("success_message", 500),
            "color": stored.get("color").and_then(Value::as_str).and_then(css_color),
            "logo": (stored.get("logo").and_then(Value::as_str))
                .and_then(|l| logo_url(l, state.config.widget_remote_logos)),
            "redirect_url": redirect,
        },
        "consent": consent,
        "banks": banks,
    }))
}

/// What a product shares, named plainly: (title, data).
fn consent_text(product: &str) -> Option<(&'static str, &'static str)> {
    Some(match product {
        "auth" => (
            "Confirm your bank login",
            "Your bank checks your login. Your password is used once and never stored.",
        ),
        "accounts" => (
            "Your accounts",
            "The names, numbers, types and currencies of the accounts you connect.",
        ),
        "identity" => (
            "Your identity",
            "Your name, BVN, date of birth, gender, phone numbers, e-mail and address as your bank holds them.",
        ),
        "balance" => (
            "Your balances",
            "The available and ledger balances of the accounts you connect, and their daily history.",
        ),
        _ => return None,
    })
}

/// A `color` option the page may use: `#rgb`, `#rrggbb` or `#rrggbbaa` only, so that no other
/// CSS can ride in.
fn css_color(c: &str) -> Option<String> {
    let hex = c.trim().strip_prefix('#')?;
    (matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

/// A `logo` option the page may show: a `data:image/…;base64` URL, a path on this server, or —
/// only when the operator allows remote logos (`widget_remote_logos`) — an `https` URL, the one
/// request the widget would then make to another host.
fn logo_url(url: &str, remote: bool) -> Option<String> {
    let url = url.trim();
    if let Some(data) = url.strip_prefix("data:image/") {
        let (kind, payload) = data.split_once(";base64,")?;
        let ok = matches!(kind, "png" | "jpeg" | "gif" | "webp" | "svg+xml")
            && url.len() <= MAX_LOGO_DATA_URL
            && (payload.bytes()).all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c));
        return ok.then(|| url.to_string());
    }
    if url.starts_with('/') && !url.starts_with("//") && !url.contains('\\') {
        return (url.len() <= 2048).then(|| url.to_string());
    }
    let parsed = reqwest::Url::parse(url).ok()?;
    (remote && parsed.scheme() == "https" && parsed.host_str().is_some() && url.len() <= 2048)
        .then(|| parsed.to_string())
}

/// A login typed into the widget. Its `Debug` leaves the password and code out.
#[derive(Clone)]
pub struct WidgetLogin {
    /// Bank id or slug.
    pub bank: String,
    /// Online-banking username.
    pub username: String,
    /// Online-banking password.
    pub password: String,
    /// The one-time password, on the second attempt.
    pub otp: Option<String>,
}

impl std::fmt::Debug for WidgetLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetLogin")
            .field("bank", &self.bank)
            .finish_non_exhaustive()
    }
}

/// The form of a username its failures are counted under: no whitespace, lower case, and
/// Nigerian phone numbers in their local form (`+234 803…`, `234803…` and `0803…` are one login).
fn canonical_username(username: &str) -> String {
    let compact: String = (username.chars())
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    match digits.strip_prefix("234") {
        Some(rest) if rest.len() == 10 && rest.bytes().all(|c| c.is_ascii_digit()) => {
            format!("0{rest}")
        }
        _ => compact,
    }
}

/// What a login attempt holds until it ends: the link's attempt (taken by `begin_login`) and the
/// username's (taken in the window). Dropped while still holding them — an error on the way, or
/// the request cancelled at its timeout or by the client going away — it gives both back in the
/// background: neither is the user's failure.
struct Held {
    state: AppState,
    tenant: Tenant,
    link_id: String,
    name_key: Option<String>,
    link: bool,
}

impl Held {
    /// Gives back the username's attempt now.
    async fn release_name(&mut self) -> Result<()> {
        if let Some(key) = self.name_key.take() {
            count_in_window(&self.state, &self.tenant, &key, -1).await?;
        }
        Ok(())
    }

    /// Ends the link's attempt with `outcome`.
    async fn end_link(&mut self, outcome: LoginOutcome<'_>) -> Result<()> {
        if std::mem::take(&mut self.link) {
            let keyring = self.state.keyring();
            link_sessions::end_login(
                &self.state.db,
                &keyring,
                &self.tenant,
                &self.link_id,
                outcome,
            )
            .await?;
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.link && self.name_key.is_none() {
            return;
        }
        let (state, tenant, id) = (
            self.state.clone(),
            self.tenant.clone(),
            self.link_id.clone(),
        );
        let (link, key) = (self.link, self.name_key.take());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Some(key) = key {
                    let _ = count_in_window(&state, &tenant, &key, -1).await;
                }
                if link {
                    let keyring = state.keyring();
                    let _ = link_sessions::end_login(
                        &state.db,
                        &keyring,
                        &tenant,
                        &id,
                        LoginOutcome::Released,
                    )
                    .await;
                }
            });
        }
    }
}

async fn count_in_window(state: &AppState, tenant: &Tenant, key: &str, delta: i64) -> Result<i64> {
    let now = okra_core::time::now_ms();
    let (owner, env) = (tenant.owner_id.as_str(), tenant.env.as_str());
    Ok(okra_store::ephemeral::add_in_window(
        &state.db,
        owner,
        env,
        key,
        delta,
        now,
        USERNAME_WINDOW_MS,
    )
    .await?)
}

/// Logs in at the bank for a link: `{"step":"otp"}` when the bank asks for a one-time password,
/// else `{"step":"accounts", bank, accounts, nonce}` (balances only when the link asked
/// `showBalance`). The `nonce` is what the connection must present: only the page that made the
/// login (which keeps it in memory) can connect it, not whoever else holds the link's address.
///
/// Two limits, both counted before the bank is asked: a link takes at most five logins that do
/// not succeed (wrong credentials or code, a locked account, any other refusal, a one-time
/// password asked for), and a username at a bank at most five failures in a fixed window of
/// fifteen minutes across every link of the tenant (new links give no new guesses). Outages,
/// errors on the way and cancelled requests count for neither.
pub async fn login(state: &AppState, token: &str, req: WidgetLogin) -> Result<Value> {
    let link = open(state, token).await?;
    let now = okra_core::time::now_ms();
    usable_link(&link.session, now)?;
    let bank = allowed_bank(&link.options, &req.bank)?;
    let tenant = &link.tenant;
    if !link_sessions::begin_login(&state.db, tenant, &link.session.id, now).await? {
        return Err(Error::Refused(
            "Too many failed attempts: start again with a new link".into(),
        ));
    }
    let mut held = Held {
        state: state.clone(),
        tenant: tenant.clone(),
        link_id: link.session.id.clone(),
        name_key: None,
        link: true,
    };
    let keyring = state.keyring();
    let name_key = format!(
        "widget-login:{}:{}",
        bank.id,
        okra_store::blind::login_index(&keyring, &canonical_username(&req.username))
    );
    let failures = count_in_window(state, tenant, &name_key, 1).await?;
    held.name_key = Some(name_key);
    if failures > MAX_USERNAME_FAILURES {
        held.release_name().await?;
        held.end_link(LoginOutcome::Released).await?;
        return Err(Error::Refused(
            "Too many failed logins for this username: try again later".into(),
        ));
    }
    let source = TenantSource::new(state, tenant).await?;
    let credentials = Credentials {
        username: req.username,
        password: req.password,
        otp: req.otp.filter(|o| !o.trim().is_empty()),
    };
    let asked = async {
        let session = source.authenticate(bank.id, &credentials).await?;
        let accounts = source.list_accounts(&session).await?;
        Ok::<_, SourceError>((session, accounts))
    };
    let (session, accounts) = match asked.await {
        Ok(answer) => answer,
        Err(e) => {
            // Only outages are not the user's doing; anything else the bank refused counts, so
            // an adapter's unexpected answer cannot open unlimited guessing. A request for a
            // one-time password counts for the link (it may send an SMS) but is no failure of
            // the username.
            match e {
                SourceError::Timeout | SourceError::BankUnavailable => {
                    held.release_name().await?;
                    held.end_link(LoginOutcome::Released).await?;
                }
                SourceError::OtpRequired => {
                    held.release_name().await?;
                    held.end_link(LoginOutcome::Refused).await?;
                }
                _ => {
                    held.name_key = None; // the failure stays counted
                    held.end_link(LoginOutcome::Refused).await?;
                }
            }
            if e == SourceError::OtpRequired {
                return Ok(json!({
                    "step": "otp",
                    "message": "Your bank sent a one-time password to your phone or e-mail",
                }));
            }
            return Err(e.into());
        }
    };
    held.release_name().await?;
    if accounts.is_empty() {
        held.end_link(LoginOutcome::Released).await?;
        return Err(Error::Refused("No account was found at this login".into()));
    }
    let show_balance =
        (link.options.stored.get("showBalance")).and_then(Value::as_bool) == Some(true);
    // Balances are asked together (one bank round trip of time, not one per account); one the
    // bank cannot give now leaves its amount empty rather than refusing the login.
    let balances: Vec<Option<okra_core::source::SourceBalance>> = if show_balance {
        futures::future::join_all(
            accounts
                .iter()
                .map(|a| source.balance(bank.id, &a.account_ref)),
        )
        .await
        .into_iter()
        .map(|b| b.ok())
        .collect()
    } else {
        vec![None; accounts.len()]
    };
    let major = |m: Option<i64>| m.map(|m| m as f64 / 100.0);
    let shown: Vec<Value> = (accounts.iter().zip(&balances))
        .map(|(a, balance)| {
            let mut account = json!({"nuban": a.nuban, "name": a.name, "type": a.account_type.as_str(),
                                     "currency": a.currency});
            if show_balance {
                account["available_balance"] = json!(balance.as_ref().and_then(|b| major(b.available_minor)));
                account["ledger_balance"] = json!(balance.as_ref().and_then(|b| major(b.ledger_minor)));
            }
            account
        })
        .collect();
    let nonce = new_token();
    let kept = json!({"bank": bank.id, "session": session, "nonce": token_hash(&nonce), "at": now});
    held.end_link(LoginOutcome::Succeeded(&kept)).await?;
    Ok(json!({
        "step": "accounts",
        "bank": {"id": bank.id, "name": bank.name, "slug": bank.slug},
        "multi_account": link.options.multi_account,
        "accounts": shown,
        "nonce": nonce,
    }))
}

/// What the page asks to connect.
pub struct WidgetConnect<'a> {
    /// NUBANs of the accounts the user picked (at least one).
    pub accounts: &'a [String],
    /// The user agreed.
    pub consent: bool,
    /// The login's nonce, as [`login`] gave it to the page.
    pub nonce: &'a str,
    /// The bank the page shows (id or slug): must be the login's.
    pub bank: &'a str,
}

/// Connects the accounts the user picked (NUBANs) through the link's kept login, once the user
/// agreed: the same connection as `link/connect`. Answers the onSuccess payload when the link was
/// made by the integrator's page (publishable key), which holds its options already — without the
/// owner's default webhook URL; for a link made with the secret key (sent to the user), only what
/// the page needs: the record, customer, bank and accounts.
pub async fn connect(state: &AppState, token: &str, req: WidgetConnect<'_>) -> Result<Value> {
    if !req.consent {
        return Err(Error::Invalid(
            "`consent` must be true: the user agrees to share the data before connecting".into(),
        ));
    }
    if req.accounts.is_empty() {
        return Err(Error::Invalid(
            "`accounts` must contain at least 1 items".into(),
        ));
    }
    let link = open(state, token).await?;
    let now = okra_core::time::now_ms();
    usable_link(&link.session, now)?;
    let not_logged_in = || Error::Refused("Log in at your bank first".into());
    let kept: Map<String, Value> = (link.session.login.as_ref())
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(not_logged_in)?;
    let nonce_ok = (kept.get("nonce").and_then(Value::as_str))
        .is_some_and(|h| bool::from(h.as_bytes().ct_eq(token_hash(req.nonce).as_bytes())));
    let bank_id = kept.get("bank").and_then(Value::as_str).unwrap_or_default();
    let same_bank = okra_core::banks::find(req.bank).is_some_and(|b| b.id == bank_id);
    if !nonce_ok || !same_bank {
        return Err(not_logged_in());
    }
    let at = kept.get("at").and_then(Value::as_i64).unwrap_or(0);
    if now.saturating_sub(at) > LOGIN_TTL_MS {
        link_sessions::drop_login(&state.db, &link.tenant, &link.session.id).await?;
        return Err(Error::Refused(
            "Your bank login has expired: log in again".into(),
        ));
    }
    let bank = allowed_bank(&link.options, bank_id)?;
    let tenant = &link.tenant;
    let session: BankSession =
        serde_json::from_value(kept.get("session").cloned().unwrap_or_default())
            .map_err(|_| not_logged_in())?;
    let url = webhook_url(state, tenant, &link.options).await?;
    let source = TenantSource::new(state, tenant).await?;
    let login = Login {
        bank,
        source: &source,
        session: &session,
    };
    let mut payload = finish(
        state,
        tenant,
        &link.options,
        Some(&link.session.id),
        url.as_deref(),
        login,
        Some(req.accounts),
        now,
    )
    .await?;
    Ok(if link.session.by_publishable {
        if link.options.callback_url.is_none() {
            payload["callback_url"] = Value::Null;
        }
        payload
    } else {
        page_safe(&payload)
    })
}

/// The part of an onSuccess payload a page may see when the integrator did not make the link
/// itself: ids and the accounts as the user saw them (no identity, options, meta or URLs).
fn page_safe(payload: &Value) -> Value {
    let accounts: Vec<Value> = (payload["accounts"].as_array().into_iter().flatten())
        .map(|a| {
            json!({"id": a["id"], "nuban": a["nuban"], "name": a["name"], "type": a["type"],
                   "currency": a["currency"], "connected": a["connected"]})
        })
        .collect();
    json!({
        "record_id": payload["record_id"],
        "record": payload["record"],
        "customer_id": payload["customer_id"],
        "bank_id": payload["bank_id"],
        "accounts": accounts,
        "done": true,
        "success": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
    }

    #[test]
    fn usernames_are_counted_in_one_form() {
        assert_eq!(canonical_username(" Ada.Obi "), "ada.obi");
        assert_eq!(canonical_username("ada obi"), "adaobi");
        for phone in [
            "08031234567",
            "+2348031234567",
            "2348031234567",
            "+234 803 123 4567",
            "0803-123-4567",
        ] {
            assert_eq!(canonical_username(phone), "08031234567", "{phone}");
        }
        assert_eq!(
            canonical_username("234803"),
            "234803",
            "too short for a phone number"
        );
    }

    #[test]
    fn only_plain_colours_pass() {
        assert_eq!(css_color("#3D5AFE").as_deref(), Some("#3d5afe"));
        assert_eq!(css_color("#abc").as_deref(), Some("#abc"));
        for bad in [
            "red",
            "#12345",
            "#zzzzzz",
            "#fff;background:url(x)",
            "",
            "#",
        ] {
            assert_eq!(css_color(bad), None, "{bad}");
        }
    }

    #[test]
    fn logos_are_https_data_images_or_local_paths() {
        assert!(logo_url("https://cdn.app.example/logo.png", true).is_some());
        assert_eq!(logo_url("https://cdn.app.example/logo.png", false), None);
        assert!(logo_url("data:image/png;base64,iVBORw0KGgo=", false).is_some());
        assert!(logo_url("/assets/banks/gtb/logo.svg", false).is_some());
        for bad in [
            "http://app.example/logo.png",
            "javascript:alert(1)",
            "//evil.example/x.png",
            "data:text/html;base64,PHNjcmlwdD4=",
            "data:image/png;base64,\"onerror=alert(1)",
            "/\\evil.example",
        ] {
            assert_eq!(logo_url(bad, true), None, "{bad}");
        }
    }
}
