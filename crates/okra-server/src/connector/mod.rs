//! The HTTP bank connector: `BankSource` and `IdentityRegistry` over the small JSON protocol of
//! `docs/connector-protocol.md`, so a real bank or aggregator integration is a separate adapter
//! service the operator runs, and this server never links bank-specific code.
//!
//! Everything the adapter sends is untrusted input that may carry personal data (BVNs, names,
//! balances), so no response body, and no adapter error message, is ever logged or put into a
//! [`SourceError`]: failures are described by endpoint, HTTP status and error code only.

use std::time::Duration;

use okra_core::source::{
    BankSession, BankSource, Credentials, IdentityRegistry, NameEnquiry, SourceAccount,
    SourceBalance, SourceError, SourceFuture, SourceIdentity,
};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::outbound::{self, OutboundPolicy};

mod protocol;

use protocol::{
    decode, error_for, read_limited, transport_error, AccountsBody, AuthenticateRequest,
    BalanceRequest, BvnRequest, NubanRequest, SessionRequest,
};
pub use protocol::{MAX_RESPONSE_BYTES, PROTOCOL_VERSION};

/// Why an [`HttpConnector`] could not be built from its configuration. Messages never echo the URL
/// or the token, since either may hold secrets and they end up in start-up logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The base URL is not an absolute URL.
    #[error("connector base URL is not a valid absolute URL")]
    InvalidUrl,
    /// Only http and https can carry the protocol.
    #[error("connector base URL must use http or https")]
    Scheme,
    /// `user:pass@host` would put a secret into every log line that shows the URL; use the token.
    #[error("connector base URL must not contain a user name or password (use the token)")]
    UrlCredentials,
    /// A query or fragment cannot be combined with the endpoint paths appended to the base URL.
    #[error("connector base URL must not have a query or fragment")]
    QueryOrFragment,
    /// The token contains characters an HTTP header cannot carry.
    #[error("connector token must be visible ASCII")]
    InvalidToken,
}

/// A data source served by an adapter speaking the connector protocol over HTTP.
///
/// Every call is one `POST {base}/v1/<endpoint>` with a JSON body; there is no session state here,
/// so one connector serves any number of concurrent requests. Calls are bounded by the client's
/// total timeout, so a hung adapter yields [`SourceError::Timeout`] instead of a hung request.
#[derive(Clone)]
pub struct HttpConnector {
    /// Base URL without a trailing slash; endpoint paths are appended to it.
    base: String,
    /// `Bearer <token>`, marked sensitive so reqwest never prints it.
    authorization: Option<HeaderValue>,
    /// Built by [`outbound::client`]: SSRF policy at connect time, no redirects, total timeout.
    client: reqwest::Client,
}

impl std::fmt::Debug for HttpConnector {
    // Hand-written so the token can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConnector")
            .field("base", &self.base)
            .field("token", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HttpConnector {
    /// A connector for the adapter at `base_url` (e.g. `http://10.0.4.2:7000` or
    /// `https://adapter.internal/okra`), sending `token` as `Authorization: Bearer <token>`.
    /// `policy` decides which addresses the adapter may live at (a private address needs
    /// `allow_private` or an `allowed_hosts` entry) and `timeout` bounds each call end to end.
    /// Nothing is contacted here; the policy is enforced when each request connects.
    pub fn new(
        base_url: &str,
        token: Option<String>,
        policy: &OutboundPolicy,
        timeout: Duration,
    ) -> Result<Self, ConnectorError> {
        let url = Url::parse(base_url.trim()).map_err(|_| ConnectorError::InvalidUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConnectorError::InvalidUrl);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConnectorError::UrlCredentials);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConnectorError::QueryOrFragment);
        }
        let authorization = match token.filter(|t| !t.is_empty()) {
            None => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| ConnectorError::InvalidToken)?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            authorization,
            client: outbound::client(policy, timeout),
        })
    }

    /// The adapter's base URL as normalised (no trailing slash), for start-up logs.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Asks the adapter's `GET /v1/health` whether it is reachable, allowed by the outbound policy
    /// and accepts our token, so `serve` can warn at start rather than at the first customer.
    pub async fn health(&self) -> Result<(), SourceError> {
        let request = self.client.get(self.url("health"));
        self.send::<serde_json::Value>("health", request)
            .await
            .map(drop)
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/{PROTOCOL_VERSION}/{endpoint}", self.base)
    }

    /// One protocol call: POSTs `body` to `endpoint` and decodes the answer.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        body: &B,
    ) -> Result<T, SourceError> {
        // Bodies, never query strings: BVNs and NUBANs must not land in proxy access logs.
        let request = self.client.post(self.url(endpoint)).json(body);
        self.send(endpoint, request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        mut request: reqwest::RequestBuilder,
    ) -> Result<T, SourceError> {
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        let result = read_limited(request).await;
        let outcome = match result {
            Err(e) => Err(transport_error(&e)),
            Ok((_, None)) => Err(SourceError::Other(format!(
                "connector adapter sent more than {MAX_RESPONSE_BYTES} bytes on /{endpoint}"
            ))),
            Ok((status, Some(body))) if status.is_success() => decode(endpoint, &body),
            Ok((status, Some(body))) => Err(error_for(endpoint, status, &body)),
        };
        // Only the endpoint and the error kind: bodies may hold personal data. Answers about the
        // user (wrong password, unknown BVN) are routine, so only outages and breakage are loud.
        match &outcome {
            Ok(_) => {}
            Err(error @ SourceError::Other(_)) => {
                tracing::error!(endpoint, %error, "connector adapter call failed")
            }
            Err(error @ (SourceError::Timeout | SourceError::BankUnavailable)) => {
                tracing::warn!(endpoint, %error, "connector adapter call failed")
            }
            Err(error) => tracing::debug!(endpoint, %error, "connector adapter answered an error"),
        }
        outcome
    }
}

impl BankSource for HttpConnector {
    fn authenticate<'a>(
        &'a self,
        bank_id: &'a str,
        credentials: &'a Credentials,
    ) -> SourceFuture<'a, BankSession> {
        let body = AuthenticateRequest {
            bank_id,
            credentials,
        };
        Box::pin(async move { self.call("authenticate", &body).await })
    }

    fn list_accounts<'a>(
        &'a self,
        session: &'a BankSession,
    ) -> SourceFuture<'a, Vec<SourceAccount>> {
        Box::pin(async move {
            let body: AccountsBody = self.call("accounts", &SessionRequest { session }).await?;
            Ok(body.accounts)
        })
    }

    fn identity<'a>(&'a self, session: &'a BankSession) -> SourceFuture<'a, SourceIdentity> {
        Box::pin(async move { self.call("identity", &SessionRequest { session }).await })
    }

    fn balance<'a>(
        &'a self,
        bank_id: &'a str,
        account_ref: &'a str,
    ) -> SourceFuture<'a, SourceBalance> {
        let body = BalanceRequest {
            bank_id,
            account_ref,
        };
        Box::pin(async move { self.call("balance", &body).await })
    }
}

impl IdentityRegistry for HttpConnector {
    fn lookup_bvn<'a>(&'a self, bvn: &'a str) -> SourceFuture<'a, SourceIdentity> {
        Box::pin(async move { self.call("bvn", &BvnRequest { bvn }).await })
    }

    fn resolve_nuban<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, SourceIdentity> {
        Box::pin(async move { self.call("nuban", &NubanRequest { bank_id, nuban }).await })
    }

    fn name_enquiry<'a>(
        &'a self,
        bank_id: &'a str,
        nuban: &'a str,
    ) -> SourceFuture<'a, NameEnquiry> {
        Box::pin(async move {
            let body = NubanRequest { bank_id, nuban };
            self.call("name-enquiry", &body).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(url: &str, token: Option<&str>) -> Result<HttpConnector, ConnectorError> {
        let policy = OutboundPolicy::for_environment(true, &[]);
        HttpConnector::new(url, token.map(Into::into), &policy, Duration::from_secs(1))
    }

    #[test]
    fn base_urls() {
        let c = build(" http://10.0.0.2:7000/okra/ ", None).unwrap();
        assert_eq!(c.base_url(), "http://10.0.0.2:7000/okra");
        assert_eq!(c.url("bvn"), "http://10.0.0.2:7000/okra/v1/bvn");
        assert_eq!(
            build("https://a.example", None).unwrap().url("nuban"),
            "https://a.example/v1/nuban"
        );
        let e = |u: &str| build(u, None).unwrap_err();
        assert_eq!(e("not a url"), ConnectorError::InvalidUrl);
        assert_eq!(e("ftp://a.example/"), ConnectorError::Scheme);
        assert_eq!(e("http://u:p@a.example/"), ConnectorError::UrlCredentials);
        assert_eq!(e("http://a.example/?k=1"), ConnectorError::QueryOrFragment);
        assert_eq!(e("http://a.example/#x"), ConnectorError::QueryOrFragment);
        assert_eq!(
            build("http://a.example", Some("a\nb")).unwrap_err(),
            ConnectorError::InvalidToken
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let c = build("http://a.example", Some("s3cret-token")).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
