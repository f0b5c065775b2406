//! API key format (docs/api.md §2): `sk_sandbox_…`, `sk_live_…`, `pk_sandbox_…`, `pk_live_…`.
//!
//! After the prefix come 30 base62 characters of randomness (about 178 bits) and a 6-character
//! base62 CRC-32 of them, so a leaked key can be recognised by scanners without a database and
//! typos are rejected before any lookup. Only the SHA-256 of the whole key is ever stored.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::Environment;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 30;
const CHECK_LEN: usize = 6;

/// Secret keys read data; publishable keys only open and complete link sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `sk_…`: full API access for its owner and environment.
    Secret,
    /// `pk_…`: the widget's key.
    Publishable,
}

impl KeyKind {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "secret" => Some(KeyKind::Secret),
            "publishable" => Some(KeyKind::Publishable),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk",
            KeyKind::Publishable => "pk",
        }
    }
}

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("alphabet is ASCII")
}

fn checksum(random: &str) -> String {
    base62(u64::from(crc32fast::hash(random.as_bytes())), CHECK_LEN)
}

/// A new key of `kind` for `env`.
pub fn generate(kind: KeyKind, env: Environment) -> String {
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..RANDOM_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..62)] as char)
        .collect();
    format!(
        "{}_{}_{}{}",
        kind.prefix(),
        env.key_tag(),
        random,
        checksum(&random)
    )
}

/// The kind and environment a well-formed key claims, or `None` when the shape or checksum is wrong.
pub fn parse(key: &str) -> Option<(KeyKind, Environment)> {
    let (kind, rest) = if let Some(r) = key.strip_prefix("sk_") {
        (KeyKind::Secret, r)
    } else if let Some(r) = key.strip_prefix("pk_") {
        (KeyKind::Publishable, r)
    } else {
        return None;
    };
    let (env, body) = if let Some(b) = rest.strip_prefix("sandbox_") {
        (Environment::Sandbox, b)
    } else if let Some(b) = rest.strip_prefix("live_") {
        (Environment::Production, b)
    } else {
        return None;
    };
    if body.len() != RANDOM_LEN + CHECK_LEN || !body.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (random, check) = body.split_at(RANDOM_LEN);
    (checksum(random) == check).then_some((kind, env))
}

/// The SHA-256 of a key, as stored (64 hex characters).
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A display hint that identifies a key without revealing it (`sk_sandbox_AbC…wxyz`).
pub fn hint(key: &str) -> String {
    // Counted in characters, not bytes, so no input can make a slice split a character.
    let chars: Vec<char> = key.chars().collect();
    let cut = chars
        .iter()
        .rposition(|c| *c == '_')
        .map(|i| i + 4)
        .unwrap_or(4)
        .min(chars.len());
    let tail = chars.len().saturating_sub(4);
    let head: String = chars[..cut].iter().collect();
    let end: String = chars[tail..].iter().collect();
    format!("{head}…{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_never_splits_a_character() {
        assert_eq!(hint("sk_sandbox_éééééé"), "sk_sandbox_ééé…éééé");
        assert_eq!(hint("é"), "é…é");
        assert_eq!(hint(""), "…");
    }

    #[test]
    fn generated_keys_parse_back() {
        for kind in [KeyKind::Secret, KeyKind::Publishable] {
            for env in Environment::ALL {
                let k = generate(kind, env);
                assert_eq!(parse(&k), Some((kind, env)), "{k}");
            }
        }
        let k = generate(KeyKind::Secret, Environment::Production);
        assert!(k.starts_with("sk_live_"));
        assert_eq!(k.len(), "sk_live_".len() + 36);
    }

    #[test]
    fn checksum_catches_typos_and_junk() {
        let k = generate(KeyKind::Secret, Environment::Sandbox);
        let mut chars: Vec<char> = k.chars().collect();
        let i = 15;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(parse(&typo), None);
        for junk in [
            "",
            "sk_",
            "sk_sandbox_",
            "Bearer x",
            "sk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            &k[..k.len() - 1],
        ] {
            assert_eq!(parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn hash_and_hint_do_not_reveal_the_key() {
        let k = generate(KeyKind::Secret, Environment::Sandbox);
        let h = hash(&k);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&k[11..20]));
        let hint = hint(&k);
        assert!(hint.starts_with("sk_sandbox_"));
        assert!(hint.len() < k.len());
        assert!(!hint.contains(&k[15..30]));
    }
}
