//! The wire side of the connector protocol (`docs/connector-protocol.md`): request and response
//! bodies, and how HTTP outcomes become [`SourceError`]s. Kept apart from the client so the
//! mapping rules, which adapter authors rely on, can be read and tested on their own.
//!
//! Nothing here ever copies response text into an error: adapter bodies may carry personal data.

use okra_core::source::{BankSession, Credentials, SourceAccount, SourceError};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::outbound;

/// The protocol version this connector speaks; it is the first path segment of every endpoint
/// (`/v1/...`), so an incompatible v2 can be served side by side by the same adapter.
pub const PROTOCOL_VERSION: &str = "v1";

/// Largest adapter response read. An adapter answer is a few kilobytes; the cap keeps a broken or
/// hostile adapter from making the server buffer without bound.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// `{"error": {"code": ..., "message": ...}}`, the body of every adapter error. The message is
/// deliberately not deserialised: it is never used, so it cannot leak.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

/// Response of `/v1/accounts`: an object rather than a bare array so fields can be added later.
#[derive(Deserialize)]
pub(super) struct AccountsBody {
    pub(super) accounts: Vec<SourceAccount>,
}

/// Body of `/v1/authenticate`.
#[derive(Serialize)]
pub(super) struct AuthenticateRequest<'a> {
    pub(super) bank_id: &'a str,
    pub(super) credentials: &'a Credentials,
}

/// Body of `/v1/accounts` and `/v1/identity`: the session exactly as the adapter issued it.
#[derive(Serialize)]
pub(super) struct SessionRequest<'a> {
    pub(super) session: &'a BankSession,
}

/// Body of `/v1/balance`: no session, since balances refresh later under stored consent.
#[derive(Serialize)]
pub(super) struct BalanceRequest<'a> {
    pub(super) bank_id: &'a str,
    pub(super) account_ref: &'a str,
}

/// Body of `/v1/bvn`.
#[derive(Serialize)]
pub(super) struct BvnRequest<'a> {
    pub(super) bvn: &'a str,
}

/// Body of `/v1/nuban` and `/v1/name-enquiry`.
#[derive(Serialize)]
pub(super) struct NubanRequest<'a> {
    pub(super) bank_id: &'a str,
    pub(super) nuban: &'a str,
}

/// Sends `request` and reads at most [`MAX_RESPONSE_BYTES`] of the answer (`None` beyond that).
pub(super) async fn read_limited(
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, Option<Vec<u8>>), reqwest::Error> {
    let mut response = request.send().await?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Ok((status, None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, Some(body)))
}

/// Maps a failure below HTTP. A policy refusal is a configuration mistake rather than an outage,
/// so it says how to fix it instead of posing as a retryable `BankUnavailable`.
pub(super) fn transport_error(e: &reqwest::Error) -> SourceError {
    if outbound::policy_error(e).is_some() {
        SourceError::Other(
            "connector adapter address refused by the outbound policy (private addresses must be \
             listed in connector_allowed_hosts)"
                .into(),
        )
    } else if e.is_timeout() {
        SourceError::Timeout
    } else {
        // Refused or reset connections, TLS failures, a body cut short: the adapter is not there.
        SourceError::BankUnavailable
    }
}

/// Decodes a success body. serde's messages can quote the offending value (a BVN, a name), so
/// only the error class, position and, for missing fields, the field name are reported.
pub(super) fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = e.to_string();
        let detail = if what.starts_with("missing field") {
            what
        } else {
            format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            )
        };
        SourceError::Other(format!(
            "connector adapter sent a malformed /{endpoint} response: {detail}"
        ))
    })
}

/// Maps an adapter error answer: by `code` when the body follows the protocol, otherwise by
/// status, so a proxy's bare 502/504 in front of the adapter still reads as an outage.
pub(super) fn error_for(endpoint: &str, status: StatusCode, body: &[u8]) -> SourceError {
    let code = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error.code);
    match code.as_deref() {
        Some("invalid_credentials") => return SourceError::InvalidCredentials,
        Some("locked") => return SourceError::Locked,
        Some("otp_required") => return SourceError::OtpRequired,
        Some("invalid_otp") => return SourceError::InvalidOtp,
        Some("bank_unavailable") => return SourceError::BankUnavailable,
        Some("timeout") => return SourceError::Timeout,
        Some("not_found") => return SourceError::NotFound,
        Some("invalid_identity") => return SourceError::InvalidIdentity,
        _ => {}
    }
    match status {
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => SourceError::Timeout,
        StatusCode::TOO_MANY_REQUESTS => SourceError::BankUnavailable,
        s if s.is_server_error() => SourceError::BankUnavailable,
        s if s.is_redirection() => SourceError::Other(format!(
            "connector adapter answered a redirect (HTTP {}) on /{endpoint}; redirects are not \
             followed, configure the final address",
            s.as_u16()
        )),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SourceError::Other(format!(
            "connector adapter refused our token on /{endpoint} (HTTP {})",
            status.as_u16()
        )),
        _ => {
            // Codes are adapter-chosen text: keep only snake_case letters (no digits, so no BVN or
            // account number can ride along) for the log.
            let code: String = code
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_lowercase() || *c == '_')
                .take(40)
                .collect();
            SourceError::Other(format!(
                "connector adapter answered HTTP {} on /{endpoint} with unknown error code {code:?}",
                status.as_u16()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okra_core::source::NameEnquiry;

    #[test]
    fn error_codes_and_statuses() {
        let body =
            |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"Ada 22212345678"}}}}"#);
        let cases = [
            ("invalid_credentials", 422, SourceError::InvalidCredentials),
            ("locked", 423, SourceError::Locked),
            ("otp_required", 422, SourceError::OtpRequired),
            ("invalid_otp", 422, SourceError::InvalidOtp),
            ("bank_unavailable", 503, SourceError::BankUnavailable),
            ("timeout", 504, SourceError::Timeout),
            ("not_found", 404, SourceError::NotFound),
            ("invalid_identity", 422, SourceError::InvalidIdentity),
            // The code wins over a status that disagrees with it.
            ("not_found", 500, SourceError::NotFound),
            // Unknown codes fall back on the status.
            ("brand_new", 503, SourceError::BankUnavailable),
            ("brand_new", 504, SourceError::Timeout),
        ];
        for (code, status, want) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                error_for("bvn", status, body(code).as_bytes()),
                want,
                "{code}"
            );
        }
        let bare = |s: u16| error_for("bvn", StatusCode::from_u16(s).unwrap(), b"<html>");
        assert_eq!(bare(502), SourceError::BankUnavailable);
        assert_eq!(bare(504), SourceError::Timeout);
        assert_eq!(bare(408), SourceError::Timeout);
        assert_eq!(bare(429), SourceError::BankUnavailable);
        assert!(matches!(bare(401), SourceError::Other(m) if m.contains("token")));
        assert!(matches!(bare(404), SourceError::Other(m) if m.contains("HTTP 404")));
        let odd = error_for(
            "bvn",
            StatusCode::BAD_REQUEST,
            body("x-22212345678 y").as_bytes(),
        );
        let SourceError::Other(m) = odd else {
            panic!("{odd:?}")
        };
        assert!(
            m.contains("HTTP 400") && !m.contains("Ada") && !m.contains("2221"),
            "{m}"
        );
    }

    #[test]
    fn malformed_bodies_do_not_quote_values() {
        let wrong: Result<NameEnquiry, _> = decode("name-enquiry", br#"{"name": 22212345678}"#);
        let SourceError::Other(m) = wrong.unwrap_err() else {
            panic!()
        };
        assert!(
            m.contains("/name-enquiry") && !m.contains("22212345678"),
            "{m}"
        );
        let missing: Result<NameEnquiry, _> = decode("name-enquiry", br#"{"bvn": "22212345678"}"#);
        let SourceError::Other(m) = missing.unwrap_err() else {
            panic!()
        };
        assert!(
            m.contains("missing field `name`") && !m.contains("22212345678"),
            "{m}"
        );
        let syntax: Result<NameEnquiry, _> = decode("name-enquiry", b"Ada Obi 2221");
        let SourceError::Other(m) = syntax.unwrap_err() else {
            panic!()
        };
        assert!(m.contains("Syntax") && !m.contains("Ada"), "{m}");
    }
}
