//! Encryption at rest and blind indexes.
//!
//! * Values are sealed with AES-256-GCM under the current data key with a fresh random 96-bit
//!   nonce. The stored form is `[version=1][key id: u32 BE][nonce: 12][ciphertext+tag]`, so the data
//!   key can be rotated: old ciphertexts name the key that opens them. A context string (table and
//!   column) is bound as associated data so a ciphertext cannot be moved to another column.
//! * Lookups by secret values (BVN, NIN, bank+NUBAN) go through a blind index: hex HMAC-SHA256 of
//!   the normalised value under a separate index key, so the plaintext is never a column.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::{Result, StoreError};

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

/// The first bytes of every value sealed under data key `key_id` (version, then the id big-endian),
/// so the database can tell which key sealed a value without reading it back.
pub fn sealed_prefix(key_id: u32) -> [u8; 5] {
    let id = key_id.to_be_bytes();
    [VERSION, id[0], id[1], id[2], id[3]]
}

/// One AES-256 data key and its id.
#[derive(Clone)]
pub struct DataKey {
    /// Stored in each ciphertext this key seals.
    pub id: u32,
    cipher: Aes256Gcm,
    raw: [u8; 32],
}

impl DataKey {
    /// A key from its id and 32 raw bytes.
    pub fn new(id: u32, raw: [u8; 32]) -> Self {
        DataKey {
            id,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw)),
            raw,
        }
    }

    /// A fresh random key.
    pub fn generate(id: u32) -> Self {
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        Self::new(id, raw)
    }
}

/// The data keys (current first) and the blind-index key.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<DataKey>,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u32> = self.keys.iter().map(|k| k.id).collect();
        write!(f, "Keyring {{ key_ids: {ids:?}, keys: [redacted] }}")
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

fn key32(s: &str) -> Option<[u8; 32]> {
    unb64(s)?.try_into().ok()
}

impl Keyring {
    /// A keyring from data keys (the first seals new values) and an index key.
    pub fn new(keys: Vec<DataKey>, index_key: [u8; 32]) -> Self {
        assert!(!keys.is_empty(), "a keyring needs at least one data key");
        Keyring { keys, index_key }
    }

    /// A fresh keyring with data key 1 and a random index key.
    pub fn generate() -> Self {
        let mut index_key = [0u8; 32];
        OsRng.fill_bytes(&mut index_key);
        Keyring::new(vec![DataKey::generate(1)], index_key)
    }

    /// Parses the configuration forms: data keys `"ID:BASE64[,ID:BASE64…]"` (current first) and an
    /// index key `"BASE64"`, each key 32 bytes.
    pub fn parse(data_keys: &str, index_key: &str) -> std::result::Result<Self, String> {
        let mut keys = Vec::new();
        for part in data_keys
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (id, material) = part
                .split_once(':')
                .ok_or("a data key must look like ID:BASE64 (32 bytes)")?;
            let id: u32 = id
                .trim()
                .parse()
                .map_err(|_| "a data key id must be a number")?;
            let raw = key32(material).ok_or("a data key must be 32 bytes of base64")?;
            if keys.iter().any(|k: &DataKey| k.id == id) {
                return Err(format!("data key id {id} appears twice"));
            }
            keys.push(DataKey::new(id, raw));
        }
        if keys.is_empty() {
            return Err("no data key given".into());
        }
        let index_key = key32(index_key).ok_or("the index key must be 32 bytes of base64")?;
        Ok(Keyring::new(keys, index_key))
    }

    /// The configuration forms of this keyring (data keys, index key), for the key file.
    pub fn export(&self) -> (String, String) {
        let data = self
            .keys
            .iter()
            .map(|k| format!("{}:{}", k.id, b64(&k.raw)))
            .collect::<Vec<_>>()
            .join(",");
        (data, b64(&self.index_key))
    }

    /// A keyring whose new current key is a fresh one (id one above the highest), keeping the
    /// others for decryption.
    pub fn rotated(&self) -> Self {
        let next = self.keys.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        let mut keys = vec![DataKey::generate(next)];
        keys.extend(self.keys.iter().cloned());
        Keyring::new(keys, self.index_key)
    }

    /// Id of the key that seals new values.
    pub fn current_key_id(&self) -> u32 {
        self.keys[0].id
    }

    /// Seals `plaintext`, binding `context` (for example `"identities.pii"`) as associated data.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.extend_from_slice(&sealed_prefix(key.id));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a value sealed by [`Keyring::seal`] with the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let corrupt = |why: &str| StoreError::Corrupt(format!("{context}: {why}"));
        if sealed.len() < HEADER + 16 || sealed[0] != VERSION {
            return Err(corrupt("not a sealed value"));
        }
        let id = Self::key_id_of(sealed).ok_or_else(|| corrupt("no key id"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| corrupt(&format!("sealed with unknown data key {id}")))?;
        key.cipher
            .decrypt(
                Nonce::from_slice(&sealed[5..HEADER]),
                Payload {
                    msg: &sealed[HEADER..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt("authentication failed"))
    }

    /// The id of the data key that sealed `sealed`.
    pub fn key_id_of(sealed: &[u8]) -> Option<u32> {
        sealed
            .get(1..5)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Seals a string.
    pub fn seal_str(&self, context: &str, value: &str) -> Vec<u8> {
        self.seal(context, value.as_bytes())
    }

    /// Opens a sealed string.
    pub fn open_str(&self, context: &str, sealed: &[u8]) -> Result<String> {
        String::from_utf8(self.open(context, sealed)?)
            .map_err(|_| StoreError::Corrupt(format!("{context}: not UTF-8")))
    }

    /// Fingerprints of every key, safe to store next to the data they protect: an HMAC-SHA256 of a
    /// fixed label under the key itself, so matching fingerprints prove two processes hold the same
    /// key while revealing nothing about it.
    pub fn fingerprints(&self) -> KeyFingerprints {
        KeyFingerprints {
            data: self
                .keys
                .iter()
                .map(|k| (k.id, fingerprint(&k.raw)))
                .collect(),
            index: fingerprint(&self.index_key),
        }
    }

    /// The blind index of a normalised value in a domain (`"bvn"`, `"nin"`, `"nuban"`).
    pub fn blind_index(&self, domain: &str, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .expect("HMAC accepts any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Fingerprints of a keyring's keys (hex), current data key first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFingerprints {
    /// `(key id, fingerprint)` of each data key, current first.
    pub data: Vec<(u32, String)>,
    /// Fingerprint of the blind-index key.
    pub index: String,
}

/// The label hashed under a key to fingerprint it; versioned so the scheme can change.
const FINGERPRINT_LABEL: &[u8] = b"okra-server key fingerprint v1";

fn fingerprint(raw: &[u8; 32]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(raw).expect("HMAC accepts any key length");
    mac.update(FINGERPRINT_LABEL);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_fresh_nonces() {
        let k = Keyring::generate();
        let a = k.seal_str("t.c", "22165416979");
        let b = k.seal_str("t.c", "22165416979");
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.windows(11).any(|w| w == b"22165416979"));
        assert_eq!(k.open_str("t.c", &a).unwrap(), "22165416979");
        assert!(k.open_str("t.other", &a).is_err(), "context is bound");
        let mut tampered = a.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(k.open("t.c", &tampered).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let k1 = Keyring::generate();
        let old = k1.seal_str("c", "x");
        let k2 = k1.rotated();
        assert_eq!(k2.current_key_id(), 2);
        assert_eq!(Keyring::key_id_of(&old), Some(1));
        assert_eq!(k2.open_str("c", &old).unwrap(), "x");
        assert_eq!(Keyring::key_id_of(&k2.seal_str("c", "y")), Some(2));
        assert_eq!(k1.blind_index("bvn", "1"), k2.blind_index("bvn", "1"));
    }

    #[test]
    fn export_parse_round_trip_and_errors() {
        let k = Keyring::generate().rotated();
        let (data, index) = k.export();
        let back = Keyring::parse(&data, &index).unwrap();
        assert_eq!(back.open_str("c", &k.seal_str("c", "v")).unwrap(), "v");
        assert_eq!(back.blind_index("bvn", "123"), k.blind_index("bvn", "123"));
        assert!(Keyring::parse("1:short", &index).is_err());
        assert!(Keyring::parse("", &index).is_err());
        assert!(Keyring::parse(&data, "x").is_err());
        assert!(!format!("{k:?}").contains(&index));
    }

    #[test]
    fn fingerprints_identify_keys_without_revealing_them() {
        let k = Keyring::generate();
        let f = k.fingerprints();
        let (data, index) = k.export();
        let again = Keyring::parse(&data, &index).unwrap().fingerprints();
        assert_eq!(f, again, "the same keys give the same fingerprints");
        assert_ne!(f, Keyring::generate().fingerprints());
        assert_ne!(f.index, f.data[0].1);
        let rotated = k.rotated().fingerprints();
        assert_eq!(rotated.data[1], f.data[0]);
        assert_eq!(rotated.index, f.index);
        assert!(!format!("{f:?}").contains(&index));
    }

    #[test]
    fn blind_index_separates_domains() {
        let k = Keyring::generate();
        assert_ne!(k.blind_index("bvn", "123"), k.blind_index("nin", "123"));
        assert_eq!(k.blind_index("bvn", "123").len(), 64);
    }
}
