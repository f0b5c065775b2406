//! Identifiers of the network as invertible functions of a person's index.
//!
//! | identifier | form | encodes | domain |
//! |---|---|---|---|
//! | BVN | `22` + 9 digits | index | 999,999,000 values; `22000000000`–`22000000999` reserved for fault triggers |
//! | NIN | 11 digits, no leading 0 | index | 9 × 10^10 |
//! | phone | network prefix + 7 digits | `2 × index + k` (k = 0 primary, 1 second) | 25 prefixes × 10^7 |
//! | NUBAN serial | 9 digits (+ check digit) | `5 × index + slot`, keyed per bank | 999,999,000 values; serials `000000000`–`000000999` reserved |
//! | photo token | 12 digits | index | 10^12 |
//!
//! The phone domain is the tightest: it bounds the population at [`MAX_POPULATION`].

use crate::geo::PHONE_PREFIXES;
use crate::permute::{hash, Permutation};

/// Largest population the identifier domains can hold: two phone numbers a person within 25
/// prefixes × 10^7 numbers (NUBAN serials would allow 199,999,800, BVNs 999,999,000).
pub const MAX_POPULATION: u64 = 125_000_000;

/// Accounts a person may hold; the NUBAN serial encodes `MAX_ACCOUNTS × index + slot`.
pub const MAX_ACCOUNTS: u64 = 5;

/// Identifier values below this are reserved (BVN and NUBAN-serial fault triggers).
pub const RESERVED: u64 = 1000;

const BILLION: u64 = 1_000_000_000;
const PHONE_BLOCK: u64 = 10_000_000;

/// The keyed permutations of one seed.
#[derive(Debug, Clone)]
pub struct Ids {
    bvn: Permutation,
    nin: Permutation,
    phone: Permutation,
    photo: Permutation,
    nuban: Vec<Permutation>,
}

impl Ids {
    /// The identifiers of `seed`; `banks` is the number of banks (one NUBAN key per bank).
    pub fn new(seed: u64, banks: usize) -> Self {
        let key = |purpose: u64| hash(&[seed, purpose]);
        Ids {
            bvn: Permutation::new(key(1), BILLION - RESERVED),
            nin: Permutation::new(key(2), 90_000_000_000),
            phone: Permutation::new(key(3), PHONE_PREFIXES.len() as u64 * PHONE_BLOCK),
            photo: Permutation::new(key(4), 1_000_000_000_000),
            nuban: (0..banks)
                .map(|b| Permutation::new(key(100 + b as u64), BILLION - RESERVED))
                .collect(),
        }
    }

    /// The BVN of person `index`.
    pub fn bvn(&self, index: u64) -> String {
        format!("22{:09}", RESERVED + self.bvn.apply(index))
    }

    /// The person index a BVN encodes (not checked against the population), `None` for malformed
    /// or reserved BVNs.
    pub fn bvn_index(&self, bvn: &str) -> Option<u64> {
        if !okra_core::digits::is_bvn_shaped(bvn) {
            return None;
        }
        let digits = bvn.strip_prefix("22")?;
        let value = parse_digits(digits)?;
        self.bvn.invert(value.checked_sub(RESERVED)?)
    }

    /// The NIN of person `index`.
    pub fn nin(&self, index: u64) -> String {
        format!("{}", 10_000_000_000 + self.nin.apply(index))
    }

    /// Phone number `k` (0 or 1) of person `index`, `08031234567` form.
    pub fn phone(&self, index: u64, k: u64) -> String {
        let v = self.phone.apply(2 * index + k);
        let prefix = PHONE_PREFIXES[(v / PHONE_BLOCK) as usize].0;
        format!("{prefix}{:07}", v % PHONE_BLOCK)
    }

    /// (person index, k) of a phone number in `08031234567` form (or without its leading 0).
    pub fn phone_index(&self, phone: &str) -> Option<(u64, u64)> {
        let local = if phone.len() == 10 {
            format!("0{phone}")
        } else {
            phone.to_string()
        };
        // Shape first: the prefix and number are sliced by byte offsets below.
        if !okra_core::digits::is_digits(&local, 11) {
            return None;
        }
        let block = PHONE_PREFIXES
            .iter()
            .position(|(p, _)| local.starts_with(p))? as u64;
        let v = self
            .phone
            .invert(block * PHONE_BLOCK + parse_digits(&local[4..])?)?;
        Some((v / 2, v % 2))
    }

    /// The 12-digit photo token of person `index` (an opaque, unguessable-looking path segment
    /// that maps back to the person, so BVNs never appear in URLs).
    pub fn photo_token(&self, index: u64) -> String {
        format!("{:012}", self.photo.apply(index))
    }

    /// The person index of a photo token.
    pub fn photo_index(&self, token: &str) -> Option<u64> {
        (token.len() == 12).then_some(())?;
        self.photo.invert(parse_digits(token)?)
    }

    /// The 9-digit NUBAN serial of account `slot` of person `index` at the bank numbered `bank`.
    pub fn nuban_serial(&self, bank: usize, index: u64, slot: u64) -> String {
        format!(
            "{:09}",
            RESERVED + self.nuban[bank].apply(MAX_ACCOUNTS * index + slot)
        )
    }

    /// (person index, slot) a 9-digit serial encodes at bank number `bank`; `None` for reserved
    /// or malformed serials.
    pub fn nuban_owner(&self, bank: usize, serial: &str) -> Option<(u64, u64)> {
        okra_core::digits::is_digits(serial, 9).then_some(())?;
        let v = parse_digits(serial)?.checked_sub(RESERVED)?;
        let x = self.nuban.get(bank)?.invert(v)?;
        Some((x / MAX_ACCOUNTS, x % MAX_ACCOUNTS))
    }
}

/// Parses ASCII digits only (no sign, no spaces).
pub fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_invert() {
        let ids = Ids::new(9, 3);
        for i in [0, 1, 2, 999, 10_000_000, MAX_POPULATION - 1] {
            let bvn = ids.bvn(i);
            assert!(bvn.len() == 11 && bvn.starts_with("22"), "{bvn}");
            assert_eq!(ids.bvn_index(&bvn), Some(i));
            assert_eq!(ids.nin(i).len(), 11);
            for k in 0..2 {
                let phone = ids.phone(i, k);
                assert!(crate::geo::operator(&phone).is_some(), "{phone}");
                assert_eq!(ids.phone_index(&phone), Some((i, k)));
                assert_eq!(ids.phone_index(&phone[1..]), Some((i, k)));
            }
            assert_eq!(ids.photo_index(&ids.photo_token(i)), Some(i));
            for slot in 0..MAX_ACCOUNTS {
                let serial = ids.nuban_serial(2, i, slot);
                assert_eq!(ids.nuban_owner(2, &serial), Some((i, slot)));
            }
        }
        assert_eq!(ids.bvn_index("22000000408"), None);
        assert_eq!(ids.nuban_owner(0, "000000408"), None);
        assert_eq!(ids.bvn_index("2212345678x"), None);
    }

    #[test]
    fn malformed_identifiers_are_refused_without_panicking() {
        let ids = Ids::new(9, 3);
        for bad in ["", "2", "22é", "2212345678é", "221234567890", "22123456 78"] {
            assert_eq!(ids.bvn_index(bad), None, "{bad:?}");
        }
        // 11 bytes, a known prefix, then a multi-byte character.
        for bad in [
            "0803123456é",
            "080312345é",
            "0803é",
            "é0803123456",
            "",
            "0803",
        ] {
            assert_eq!(ids.phone_index(bad), None, "{bad:?}");
        }
        for bad in ["", "12345678", "1234567é", "12345678é", "1234567890"] {
            assert_eq!(ids.nuban_owner(0, bad), None, "{bad:?}");
        }
        assert_eq!(ids.photo_index("12345678901é"), None);
    }
}
