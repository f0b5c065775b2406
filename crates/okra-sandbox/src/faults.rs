//! Built-in, deterministic fault triggers (documented in the crate README).
//!
//! Pure functions of what the caller typed: no state, no clock, no sleeping. A delay is returned
//! as a hint for the caller to apply (`tokio::time::sleep` in the server), so this crate stays
//! runtime-free. Scripted faults (per-test, per-owner) belong to the server layer.
//!
//! | where | trigger | effect |
//! |---|---|---|
//! | username | `locked` / `locked.<anything>` | `Locked` |
//! | username | `otp.<username>` | `OtpRequired` until [`SANDBOX_OTP`] is sent, then a login as `<username>`; another code: `InvalidOtp` |
//! | username | `timeout` / `timeout.<anything>` | `Timeout` |
//! | username | `down` / `down.<anything>` | `BankUnavailable` |
//! | username | `wrong` / `wrong.<anything>` | `InvalidCredentials` |
//! | username | `slow.<username>` / `slowN.<username>` | delay of 3 s / N s (1–60), then log in as `<username>` |
//! | BVN | `22000000408` | `Timeout` |
//! | BVN | `22000000503` | `BankUnavailable` |
//! | BVN | `22000000000`–`22000000999` otherwise | `NotFound` (never assigned) |
//! | NUBAN | serial `000000408` (+ the bank's check digit) | `Timeout` |
//! | NUBAN | serial `000000503` | `BankUnavailable` |
//! | NUBAN | serial `000000422` | `InvalidIdentity` (account exists, no BVN) |
//! | NUBAN | serials `000000000`–`000000999` otherwise | `NotFound` |
//!
//! Error triggers on usernames fire before the password is checked, so any password works.

use std::time::Duration;

use okra_core::source::SourceError;

/// What a trigger asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Fail with this error.
    Fail(SourceError),
    /// Answer normally, but only after this long (the caller waits).
    Delay(Duration),
}

/// Delay of a bare `slow.` prefix.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(3);

/// Longest delay a `slowN.` prefix may ask for.
pub const MAX_SLOW_SECS: u64 = 60;

/// The trigger word of a username (its first dot-separated part), lower-cased.
fn trigger_word(username: &str) -> String {
    username
        .trim()
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The one-time password the simulated banks send (the same for everyone: it is a sandbox).
pub const SANDBOX_OTP: &str = "123456";

/// What the simulated bank says to a one-time password: none yet → `OtpRequired`, the sandbox's
/// code → accepted, anything else → `InvalidOtp`.
pub fn check_otp(otp: Option<&str>) -> Result<(), SourceError> {
    match otp.map(str::trim) {
        None | Some("") => Err(SourceError::OtpRequired),
        Some(SANDBOX_OTP) => Ok(()),
        Some(_) => Err(SourceError::InvalidOtp),
    }
}

/// The login behind an `otp.` username once the one-time password is right: `None` when the
/// username has no `otp` trigger, else the rest of the username (`otp.ada.obi.3` → `ada.obi.3`)
/// or the bank's answer to the password.
pub fn otp_login<'a>(username: &'a str, otp: Option<&str>) -> Option<Result<&'a str, SourceError>> {
    if trigger_word(username) != "otp" {
        return None;
    }
    let rest = username.trim().split_once('.').map_or("", |(_, rest)| rest);
    Some(check_otp(otp).map(|()| rest))
}

/// The fault a username triggers, if any.
pub fn fault_for_username(username: &str) -> Option<Fault> {
    let word = trigger_word(username);
    let error = match word.as_str() {
        "locked" => SourceError::Locked,

        "timeout" => SourceError::Timeout,
        "down" => SourceError::BankUnavailable,
        "wrong" => SourceError::InvalidCredentials,
        _ => return slow_delay(&word).map(Fault::Delay),
    };
    Some(Fault::Fail(error))
}

fn slow_delay(word: &str) -> Option<Duration> {
    let rest = word.strip_prefix("slow")?;
    if rest.is_empty() {
        return Some(DEFAULT_SLOW);
    }
    let secs: u64 = crate::ids::parse_digits(rest)?;
    (1..=MAX_SLOW_SECS)
        .contains(&secs)
        .then(|| Duration::from_secs(secs))
}

/// The delay a username asks for (`slow.` / `slowN.` prefix); what the server sleeps before
/// calling `authenticate`.
pub fn delay_for_username(username: &str) -> Option<Duration> {
    match fault_for_username(username) {
        Some(Fault::Delay(d)) => Some(d),
        _ => None,
    }
}

/// The username with a `slow.`/`slowN.` prefix removed (the login that follows the delay).
pub fn strip_delay_prefix(username: &str) -> &str {
    let trimmed = username.trim();
    match (delay_for_username(trimmed), trimmed.split_once('.')) {
        (Some(_), Some((_, rest))) => rest,
        _ => trimmed,
    }
}

/// The error a reserved 3-digit code asks for: `408` timeout, `503` unavailable, `422` no
/// identity (NUBANs only), anything else not found.
fn reserved_code(code: u64, nuban: bool) -> SourceError {
    match code {
        408 => SourceError::Timeout,
        503 => SourceError::BankUnavailable,
        422 if nuban => SourceError::InvalidIdentity,
        _ => SourceError::NotFound,
    }
}

/// The fault a BVN triggers: only reserved BVNs (`22000000000`–`22000000999`) do. Anything that
/// is not 11 ASCII digits triggers nothing (the shape is checked before any part is read).
pub fn fault_for_bvn(bvn: &str) -> Option<SourceError> {
    if !okra_core::digits::is_bvn_shaped(bvn) {
        return None;
    }
    let code = bvn.strip_prefix("22000000")?;
    Some(reserved_code(crate::ids::parse_digits(code)?, false))
}

/// The fault a 10-digit account number triggers: only reserved serials (`000000000`–`000000999`)
/// do; the check digit is not looked at here (the caller validates the NUBAN first). Anything that
/// is not 10 ASCII digits triggers nothing: the shape is checked before the serial is sliced, so
/// byte offsets cannot fall inside a multi-byte character.
pub fn fault_for_nuban(nuban: &str) -> Option<SourceError> {
    if !okra_core::digits::is_nuban_shaped(nuban) {
        return None;
    }
    let code = nuban.strip_prefix("000000")?;
    Some(reserved_code(crate::ids::parse_digits(&code[..3])?, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_triggers() {
        assert_eq!(
            fault_for_username("locked"),
            Some(Fault::Fail(SourceError::Locked))
        );
        assert_eq!(fault_for_username("OTP.ada.obi.3"), None);
        assert_eq!(
            otp_login("OTP.ada.obi.3", None),
            Some(Err(SourceError::OtpRequired))
        );
        assert_eq!(
            otp_login("otp.ada.obi.3", Some("654321")),
            Some(Err(SourceError::InvalidOtp))
        );
        assert_eq!(
            otp_login("otp.ada.obi.3", Some(" 123456 ")),
            Some(Ok("ada.obi.3"))
        );
        assert_eq!(otp_login("otp", Some("123456")), Some(Ok("")));
        assert_eq!(otp_login("ada.obi.3", None), None);
        assert_eq!(
            fault_for_username("timeout.x"),
            Some(Fault::Fail(SourceError::Timeout))
        );
        assert_eq!(
            fault_for_username("down"),
            Some(Fault::Fail(SourceError::BankUnavailable))
        );
        assert_eq!(
            fault_for_username("slow.ada.obi.3"),
            Some(Fault::Delay(DEFAULT_SLOW))
        );
        assert_eq!(
            delay_for_username("slow10.ada.obi.3"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(delay_for_username("slow61.ada.obi.3"), None);
        assert_eq!(strip_delay_prefix("slow10.ada.obi.3"), "ada.obi.3");
        assert_eq!(strip_delay_prefix("ada.obi.3"), "ada.obi.3");
        assert_eq!(fault_for_username("slowly.ada.3"), None);
        assert_eq!(fault_for_username("ada.obi.3"), None);
    }

    #[test]
    fn identifier_triggers() {
        assert_eq!(fault_for_bvn("22000000408"), Some(SourceError::Timeout));
        assert_eq!(
            fault_for_bvn("22000000503"),
            Some(SourceError::BankUnavailable)
        );
        assert_eq!(fault_for_bvn("22000000422"), Some(SourceError::NotFound));
        assert_eq!(fault_for_bvn("22123456789"), None);
        assert_eq!(
            fault_for_nuban("0000004226"),
            Some(SourceError::InvalidIdentity)
        );
        assert_eq!(fault_for_nuban("0000004081"), Some(SourceError::Timeout));
        assert_eq!(fault_for_nuban("0123456789"), None);
    }

    #[test]
    fn malformed_identifiers_trigger_nothing_and_never_panic() {
        // Ten bytes, reserved prefix, a multi-byte character where the serial is sliced.
        assert_eq!(fault_for_nuban("00000012é"), None);
        assert_eq!(fault_for_nuban("000000éé"), None);
        assert_eq!(fault_for_nuban("0000004٠"), None);
        for short in ["", "0", "000000", "000000408", "00000040811"] {
            assert_eq!(fault_for_nuban(short), None, "{short:?}");
        }
        assert_eq!(fault_for_bvn("22000000é"), None);
        assert_eq!(fault_for_bvn("2200000040"), None);
        assert_eq!(fault_for_bvn("22000000+08"), None);
        assert_eq!(fault_for_bvn(""), None);
        assert_eq!(fault_for_username("é"), None);
        assert_eq!(delay_for_username("slowé.ada"), None);
        assert_eq!(strip_delay_prefix("é.ada"), "é.ada");
    }
}
