//! Okra ids: 24 lowercase hex characters with MongoDB's ObjectId layout.
//!
//! Layout: 4 bytes of seconds since the epoch, 5 random bytes chosen once per process and 3 bytes of
//! a counter that starts at a random value. Ids therefore sort by creation time (to the second) and
//! stay unique across processes without coordination.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rand::Rng;

/// A 12-byte ObjectId, shown as 24 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

fn process_state() -> &'static ([u8; 5], AtomicU32) {
    static STATE: OnceLock<([u8; 5], AtomicU32)> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut rng = rand::thread_rng();
        (rng.gen(), AtomicU32::new(rng.gen::<u32>() & 0x00ff_ffff))
    })
}

impl ObjectId {
    /// A new id for "now".
    pub fn new() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        Self::with_seconds(secs)
    }

    /// A new id whose time part is `secs` (used when back-filling data with a given creation time).
    pub fn with_seconds(secs: u32) -> Self {
        let (random, counter) = process_state();
        let count = counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&secs.to_be_bytes());
        b[4..9].copy_from_slice(random);
        b[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        ObjectId(b)
    }

    /// Parses 24 hex characters (either case; ids are always shown lowercase).
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 24 {
            return None;
        }
        let mut b = [0u8; 12];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hi = (chunk[0] as char).to_digit(16)?;
            let lo = (chunk[1] as char).to_digit(16)?;
            b[i] = (hi * 16 + lo) as u8;
        }
        Some(ObjectId(b))
    }

    /// True when `s` has the shape of an id (validation without allocating).
    pub fn is_valid(s: &str) -> bool {
        s.len() == 24 && s.bytes().all(|c| c.is_ascii_hexdigit())
    }

    /// Seconds since the epoch encoded in the id.
    pub fn seconds(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// The stable id of sub-document `n` of this one (the entries of a balance's `periodic`
    /// arrays): the parent's time part, then 8 bytes mixed from the parent's other bytes and `n`
    /// (SplitMix64's finaliser, a bijection of 64 bits). Sub-documents are not stored with ids of
    /// their own, so the same parent answers the same ids on every read; distinct `n` give
    /// distinct ids, and a clash with a generated id needs 64 bits to agree.
    pub fn derived(&self, n: u32) -> ObjectId {
        let mut tail = [0u8; 8];
        tail.copy_from_slice(&self.0[4..]);
        let mut z =
            u64::from_be_bytes(tail) ^ (u64::from(n) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let mut b = self.0;
        b[4..].copy_from_slice(&z.to_be_bytes());
        ObjectId(b)
    }
}

impl Default for ObjectId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

/// An id's 24 hex characters on the stack (bulk loads format hundreds of ids per person).
pub struct Hex([u8; 24]);

impl Hex {
    /// The characters.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl ObjectId {
    /// The id's lowercase hex form without going through the formatter.
    pub fn hex(&self) -> Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 24];
        for (i, byte) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(byte >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
        }
        Hex(out)
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl FromStr for ObjectId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(InvalidId)
    }
}

/// The string was not 24 hex characters.
#[derive(Debug, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

/// A fresh id as a `String` (the form the store keeps).
pub fn new_id() -> String {
    ObjectId::new().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_distinct_and_keep_the_parents_time() {
        let parent = ObjectId::with_seconds(1_700_000_000);
        let ids: std::collections::HashSet<ObjectId> =
            (0..1000).map(|n| parent.derived(n)).collect();
        assert_eq!(ids.len(), 1000);
        assert!(!ids.contains(&parent));
        assert_eq!(parent.derived(7), parent.derived(7));
        assert_eq!(parent.derived(7).seconds(), 1_700_000_000);
        let other = ObjectId::with_seconds(1_700_000_000);
        assert_ne!(other.derived(7), parent.derived(7));
    }

    #[test]
    fn ids_are_24_lowercase_hex_and_round_trip() {
        let id = ObjectId::new();
        let s = id.to_string();
        assert_eq!(s.len(), 24);
        assert!(s
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(ObjectId::parse(&s), Some(id));
        assert_eq!(ObjectId::parse(&s.to_uppercase()), Some(id));
    }

    #[test]
    fn ids_sort_by_creation_time_and_are_unique() {
        let a = ObjectId::with_seconds(1_000);
        let b = ObjectId::with_seconds(2_000);
        assert!(a.to_string() < b.to_string());
        assert_eq!(a.seconds(), 1_000);
        let many: std::collections::HashSet<String> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(many.len(), 10_000);
    }

    #[test]
    fn okra_bank_ids_parse_and_junk_does_not() {
        assert!(ObjectId::parse("5d6fe57a4099cc4b210bbec0").is_some());
        assert!(ObjectId::parse("5d6fe57a4099cc4b210bbec").is_none());
        assert!(ObjectId::parse("5d6fe57a4099cc4b210bbecz").is_none());
        assert!(ObjectId::parse("ééééééééééää").is_none());
        assert!(!ObjectId::is_valid("xyz"));
    }
}
