//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what okra-server puts in the
//! `webhook-signature` header of every delivery, and how a receiver checks it.
//!
//! The signed content is `"{webhook-id}.{webhook-timestamp}.{body}"`; the signature is
//! HMAC-SHA256 under the owner's secret (`whsec_` + base64 of the key bytes), sent as
//! `v1,<base64>`. A header may carry several space-separated signatures (while a secret is being
//! rotated); one that matches is enough. The timestamp bounds replays: a receiver refuses a
//! delivery whose timestamp is more than [`TOLERANCE_SECS`] away from its clock.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a delivery's timestamp may be from the receiver's clock, either way (the
/// specification's recommendation: five minutes).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a secret or a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The secret is not `whsec_` (optional) followed by base64 of 24 to 64 bytes.
    #[error("the webhook secret is not `whsec_` and base64 of 24 to 64 bytes")]
    InvalidSecret,
    /// `webhook-timestamp` is not a number of seconds.
    #[error("the webhook timestamp is not a number of seconds")]
    InvalidTimestamp,
    /// The timestamp is outside [`TOLERANCE_SECS`] of now: a replay or a skewed clock.
    #[error("the webhook timestamp is too far from now")]
    TimestampOutOfTolerance,
    /// No `v1` signature in the header matches.
    #[error("no webhook signature matches")]
    NoMatchingSignature,
}

/// The key bytes of a `whsec_…` secret (the prefix is optional, as receivers paste it either way).
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| SignatureError::InvalidSecret)?;
    if (24..=64).contains(&key.len()) {
        Ok(key)
    } else {
        Err(SignatureError::InvalidSecret)
    }
}

fn mac(key: &[u8], msg_id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for a delivery: `v1,<base64 HMAC-SHA256>`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(key, msg_id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// Checks a delivery as a receiver would: the timestamp header within [`TOLERANCE_SECS`] of
/// `now` (seconds since the epoch), and one of the header's `v1` signatures matching, compared in
/// constant time. Signatures of other versions are ignored.
pub fn verify(
    key: &[u8],
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &str,
    now: i64,
) -> Result<(), SignatureError> {
    // Plain decimal digits only, and the signature covers exactly those characters: a header
    // that reads as the same number in another spelling (`+…`, ` 0…`) is not the signed one.
    // Up to 19 digits: every time `sign` can write (an i64) verifies; longer is refused unread.
    if timestamp.is_empty()
        || timestamp.len() > 19
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(SignatureError::InvalidTimestamp);
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp)?;
    if now.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::TimestampOutOfTolerance);
    }
    let expected = mac(key, msg_id, timestamp, body);
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .any(|tag| expected.clone().verify_slice(&tag).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's published test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_like_the_specifications_test_vector() {
        let key = decode_secret(SECRET).unwrap();
        assert_eq!(sign(&key, MSG_ID, TIMESTAMP, BODY), SIGNATURE);
        // Receivers paste the secret with or without its prefix.
        assert_eq!(decode_secret(&SECRET["whsec_".len()..]).unwrap(), key);
    }

    #[test]
    fn verifies_the_vector_and_refuses_any_change() {
        let key = decode_secret(SECRET).unwrap();
        let ts = TIMESTAMP.to_string();
        assert_eq!(
            verify(&key, MSG_ID, &ts, BODY, SIGNATURE, TIMESTAMP + 10),
            Ok(())
        );
        let no = Err(SignatureError::NoMatchingSignature);
        assert_eq!(
            verify(
                &key,
                MSG_ID,
                &ts,
                br#"{"test": 2432232315}"#,
                SIGNATURE,
                TIMESTAMP
            ),
            no
        );
        assert_eq!(
            verify(&key, "msg_other", &ts, BODY, SIGNATURE, TIMESTAMP),
            no
        );
        assert_eq!(verify(&key, MSG_ID, &ts, BODY, "v2,abc", TIMESTAMP), no);
        assert_eq!(
            verify(&key, MSG_ID, &ts, BODY, "v1,not base64", TIMESTAMP),
            no
        );
        let other = decode_secret("whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==").unwrap();
        assert_eq!(verify(&other, MSG_ID, &ts, BODY, SIGNATURE, TIMESTAMP), no);
        // The signed timestamp is the one checked: moving it breaks the signature.
        let later = (TIMESTAMP + 1).to_string();
        assert_eq!(verify(&key, MSG_ID, &later, BODY, SIGNATURE, TIMESTAMP), no);
    }

    #[test]
    fn one_matching_signature_of_several_is_enough() {
        let key = decode_secret(SECRET).unwrap();
        let header = format!("v1,AAAA {SIGNATURE} v1a,ignored");
        let ts = TIMESTAMP.to_string();
        assert_eq!(verify(&key, MSG_ID, &ts, BODY, &header, TIMESTAMP), Ok(()));
    }

    #[test]
    fn old_or_future_timestamps_are_replays() {
        let key = decode_secret(SECRET).unwrap();
        let ts = TIMESTAMP.to_string();
        for now in [
            TIMESTAMP + TOLERANCE_SECS + 1,
            TIMESTAMP - TOLERANCE_SECS - 1,
        ] {
            assert_eq!(
                verify(&key, MSG_ID, &ts, BODY, SIGNATURE, now),
                Err(SignatureError::TimestampOutOfTolerance)
            );
        }
        assert_eq!(
            verify(
                &key,
                MSG_ID,
                &ts,
                BODY,
                SIGNATURE,
                TIMESTAMP + TOLERANCE_SECS
            ),
            Ok(())
        );
        for odd in [
            "yesterday",
            "-9223372036854775808",
            "+1614265330",
            " 1614265330",
            "01614265330",
            "",
        ] {
            let want = if odd == "01614265330" {
                // Digits, so read, but not the signed characters.
                Err(SignatureError::NoMatchingSignature)
            } else {
                Err(SignatureError::InvalidTimestamp)
            };
            assert_eq!(
                verify(&key, MSG_ID, odd, BODY, SIGNATURE, TIMESTAMP),
                want,
                "{odd:?}"
            );
        }
    }

    /// Found by the `webhook_signature` fuzz target: a time of 19 digits (10¹⁸ s and later) was
    /// signed but refused as malformed. Every time `sign` writes verifies at that time; beyond
    /// an i64 it is refused unread.
    #[test]
    fn every_signable_time_verifies() {
        let key = decode_secret(SECRET).unwrap();
        for now in [0, 1_000_000_000_000_000_000, i64::MAX] {
            let signature = sign(&key, MSG_ID, now, BODY);
            assert_eq!(
                verify(&key, MSG_ID, &now.to_string(), BODY, &signature, now),
                Ok(()),
                "{now}"
            );
        }
        for beyond in ["9223372036854775808", "99999999999999999999"] {
            assert_eq!(
                verify(&key, MSG_ID, beyond, BODY, SIGNATURE, i64::MAX),
                Err(SignatureError::InvalidTimestamp)
            );
        }
    }

    #[test]
    fn short_long_or_garbled_secrets_are_refused() {
        assert!(decode_secret("whsec_c2hvcnQ=").is_err()); // 5 bytes
        assert!(decode_secret("whsec_not base64!").is_err());
        assert!(decode_secret(&format!("whsec_{}", "A".repeat(100))).is_err()); // 75 bytes
        let generated = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 24])
        );
        assert_eq!(decode_secret(&generated).unwrap(), [7u8; 24]);
    }
}
