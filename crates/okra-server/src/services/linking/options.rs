//! The buildWithOptions options a connection honours, read from a request body or from a stored
//! link session (the same reader for both, so a link behaves as if its options were sent again).

use okra_core::body::{Body, Invalid};
use serde_json::{Map, Value};

/// Products a connection can fetch.
pub const SUPPORTED_PRODUCTS: [&str; 4] = ["auth", "accounts", "identity", "balance"];
/// Products when the options name none.
pub const DEFAULT_PRODUCTS: [&str; 3] = ["auth", "identity", "balance"];
/// Options that belong to one connection attempt, never to a stored link session.
const NOT_STORED: [&str; 5] = ["username", "password", "accounts", "link_id", "link"];

/// The options of one connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkOptions {
    /// Requested products, `auth` first; unsupported Okra products are dropped.
    pub products: Vec<String>,
    /// Webhook URL (`callback_url`, or okra-js' `webhook_url`).
    pub callback_url: Option<String>,
    /// Where the hosted widget sends the user after success.
    pub redirect_url: Option<String>,
    /// Custom ids, stored on the record and carried into every webhook.
    pub options: Map<String, Value>,
    /// Free metadata, the same way.
    pub meta: Map<String, Value>,
    /// Only these banks (ids or slugs) may be chosen.
    pub filter_banks: Option<Vec<String>>,
    /// The user may connect several accounts.
    pub multi_account: bool,
    /// The options as given, minus credentials and per-attempt fields: what a link session stores.
    pub stored: Map<String, Value>,
}

/// A `redirect_url` must be an absolute `http`/`https` URL: the hosted widget sends the user's
/// browser there, so `javascript:` or relative addresses are refused.
fn check_redirect_url(url: &str) -> Result<(), Invalid> {
    let refused = || Invalid("`redirect_url` must be an absolute http or https URL".into());
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| refused())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || url.chars().count() > 2048
        || !okra_core::schema::is_http_url(url)
    {
        return Err(refused());
    }
    Ok(())
}

/// A webhook URL's shape, checked when the options are read, with the messages the outbound
/// check gives (which resolves the host and applies the policy later).
pub fn check_webhook_url_shape(field: &str, url: &str) -> Result<(), Invalid> {
    crate::outbound::check_shape(url)
        .map_err(|e| Invalid(format!("`{field}` is not usable: {e}")))?;
    if !okra_core::schema::is_http_url(url) {
        return Err(Invalid(format!(
            "`{field}` is not usable: webhook URL must be an absolute http or https URL with a \
             host name or an IPv4 address"
        )));
    }
    Ok(())
}

impl LinkOptions {
    /// Reads the options from a body. Unknown options are ignored (okra-js sends many that only
    /// its own widget used); the ones honoured are type-checked with the reference's messages.
    pub fn read(body: &Body, raw: &Map<String, Value>) -> Result<LinkOptions, Invalid> {
        let requested = body.opt_str_array("products", 20)?;
        let mut products: Vec<String> = vec!["auth".into()];
        let wanted: Vec<String> = match requested {
            Some(list) if !list.is_empty() => list,
            _ => DEFAULT_PRODUCTS.iter().map(|p| p.to_string()).collect(),
        };
        for p in wanted {
            let p = p.trim().to_ascii_lowercase();
            if SUPPORTED_PRODUCTS.contains(&p.as_str()) && !products.contains(&p) {
                products.push(p);
            }
        }
        let callback_url = body.opt_str(&["callback_url", "webhook_url"])?;
        if let Some(url) = callback_url.as_deref().filter(|u| !u.trim().is_empty()) {
            check_webhook_url_shape("callback_url", url)?;
        }
        let redirect_url = body.opt_str(&["redirect_url"])?;
        if let Some(url) = redirect_url.as_deref().filter(|u| !u.trim().is_empty()) {
            check_redirect_url(url)?;
        }
        let options = body.opt_object("options")?.cloned().unwrap_or_default();
        let meta = body.opt_object("meta")?.cloned().unwrap_or_default();
        let filter_banks = match body.opt_object("filter")? {
            None => None,
            Some(filter) => Body::from_value(Value::Object(filter.clone()))?
                .opt_str_array("banks", 100)
                .map_err(|e| Invalid(e.0.replace("`banks", "`filter.banks")))?,
        };
        let multi_account = body.opt_bool("multi_account")?.unwrap_or(false);
        let stored = (raw.iter())
            .filter(|(k, _)| !NOT_STORED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(LinkOptions {
            products,
            callback_url: callback_url.filter(|u| !u.trim().is_empty()),
            redirect_url: redirect_url.filter(|u| !u.trim().is_empty()),
            options,
            meta,
            filter_banks: filter_banks.filter(|b| !b.is_empty()),
            multi_account,
            stored,
        })
    }

    /// Whether `bank` (an entry of the catalogue) may be connected under `filter.banks`.
    pub fn allows_bank(&self, bank: &okra_core::banks::BankInfo) -> bool {
        match &self.filter_banks {
            None => true,
            Some(list) => list
                .iter()
                .any(|b| b.eq_ignore_ascii_case(bank.slug) || b.eq_ignore_ascii_case(bank.id)),
        }
    }

    /// Whether `product` was requested.
    pub fn wants(&self, product: &str) -> bool {
        self.products.iter().any(|p| p == product)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> Result<LinkOptions, Invalid> {
        let raw = v.as_object().cloned().unwrap_or_default();
        LinkOptions::read(&Body::from_value(v).unwrap(), &raw)
    }

    #[test]
    fn products_default_keep_auth_first_and_drop_unsupported() {
        assert_eq!(
            read(json!({})).unwrap().products,
            ["auth", "identity", "balance"]
        );
        let o =
            read(json!({"products": ["balance", "transactions", "Balance", "accounts"]})).unwrap();
        assert_eq!(o.products, ["auth", "balance", "accounts"]);
    }

    #[test]
    fn wrong_types_are_refused_with_field_names() {
        assert_eq!(
            read(json!({"options": 3})).unwrap_err().0,
            "`options` must be an object"
        );
        assert_eq!(
            read(json!({"meta": []})).unwrap_err().0,
            "`meta` must be an object"
        );
        assert_eq!(
            read(json!({"filter": {"banks": "gtb"}})).unwrap_err().0,
            "`filter.banks` must be an array"
        );
        assert_eq!(
            read(json!({"multi_account": "yes"})).unwrap_err().0,
            "`multi_account` must be a boolean"
        );
        assert_eq!(
            read(json!({"products": [1]})).unwrap_err().0,
            "`products[0]` must be a string"
        );
    }

    #[test]
    fn redirect_urls_must_be_absolute_http() {
        for bad in [
            "javascript:alert(1)",
            "/done",
            "ftp://x.ng/a",
            "data:text/html,hi",
            "https://",
        ] {
            assert_eq!(
                read(json!({"redirect_url": bad})).unwrap_err().0,
                "`redirect_url` must be an absolute http or https URL",
                "{bad}"
            );
        }
        let o = read(json!({"redirect_url": "https://app.example/linked?x=1"})).unwrap();
        assert_eq!(
            o.redirect_url.as_deref(),
            Some("https://app.example/linked?x=1")
        );
    }

    #[test]
    fn credentials_are_never_stored() {
        let o =
            read(json!({"username": "u", "password": "p", "accounts": [], "name": "App"})).unwrap();
        assert_eq!(
            o.stored,
            json!({"name": "App"}).as_object().unwrap().clone()
        );
    }

    #[test]
    fn filter_matches_slug_or_id() {
        let o = read(json!({"filter": {"banks": ["zenith-bank"]}})).unwrap();
        let zenith = okra_core::banks::find("zenith-bank").unwrap();
        let gtb = okra_core::banks::find("guaranty-trust-bank").unwrap();
        assert!(o.allows_bank(zenith));
        assert!(!o.allows_bank(gtb));
    }
}
