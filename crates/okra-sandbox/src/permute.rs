//! Keyed, invertible permutations of `[0, n)`: format-preserving encryption for identifiers.
//!
//! Every identifier of the network (BVN, NIN, NUBAN serial, phone number, photo token) is a keyed
//! permutation of a person's index, so it looks random yet maps back to the person in O(1): the
//! inverse permutation instead of a search or a stored table. The construction is an unbalanced
//! Feistel network over `a × b ≥ n` (alternating `mod a` / `mod b` halves, the FF1 idea) with cycle
//! walking to land inside `[0, n)`. It is not cryptography: it hides nothing from someone who
//! knows the seed, and need not.

/// Feistel rounds; 8 mixes the halves thoroughly for domains this small.
const ROUNDS: usize = 8;

/// SplitMix64's finaliser: a fast, well-distributed 64-bit mix used for round functions and for
/// every "hash of these numbers" in the crate (stable across platforms and releases).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a list of numbers into one (order matters).
pub fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x6F6B_7261_5F73_6278, |h, &p| mix64(h ^ mix64(p)))
}

/// A keyed permutation of `[0, n)`.
#[derive(Debug, Clone)]
pub struct Permutation {
    n: u64,
    a: u64,
    b: u64,
    keys: [u64; ROUNDS],
}

impl Permutation {
    /// The permutation of `[0, n)` selected by `key`. `n` must be at least 2 and below 2^62.
    pub fn new(key: u64, n: u64) -> Self {
        assert!((2..1 << 62).contains(&n), "domain out of range");
        let a = (n as f64).sqrt().ceil() as u64;
        let a = a.max(2);
        let b = n.div_ceil(a).max(2);
        let mut keys = [0; ROUNDS];
        for (i, k) in keys.iter_mut().enumerate() {
            *k = hash(&[key, i as u64]);
        }
        Permutation { n, a, b, keys }
    }

    /// Size of the domain.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Always false (kept for clippy's `len_without_is_empty`; a domain has at least 2 values).
    pub fn is_empty(&self) -> bool {
        false
    }

    fn round(&self, i: usize, x: u64, modulus: u64) -> u64 {
        mix64(self.keys[i] ^ x) % modulus
    }

    /// Halves' moduli before round `i`: `(a, b)` on even rounds, `(b, a)` on odd ones.
    fn shape(&self, i: usize) -> (u64, u64) {
        if i & 1 == 0 {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        }
    }

    fn forward_once(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x / self.b, x % self.b);
        for i in 0..ROUNDS {
            let (ml, _) = self.shape(i);
            let next_r = (l + self.round(i, r, ml)) % ml;
            l = r;
            r = next_r;
        }
        l * self.b + r
    }

    fn backward_once(&self, y: u64) -> u64 {
        let (mut l, mut r) = (y / self.b, y % self.b);
        for i in (0..ROUNDS).rev() {
            let (ml, _) = self.shape(i);
            let prev_l = (r + ml - self.round(i, l, ml)) % ml;
            r = l;
            l = prev_l;
        }
        l * self.b + r
    }

    /// The image of `x` (`x < n`).
    pub fn apply(&self, x: u64) -> u64 {
        debug_assert!(x < self.n);
        let mut y = self.forward_once(x);
        // Cycle walking: `a*b - n < a`, so this loops about once in `sqrt(n)` calls.
        while y >= self.n {
            y = self.forward_once(y);
        }
        y
    }

    /// The preimage of `y`, or `None` when `y` is outside the domain.
    pub fn invert(&self, y: u64) -> Option<u64> {
        if y >= self.n {
            return None;
        }
        let mut x = self.backward_once(y);
        while x >= self.n {
            x = self.backward_once(x);
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn small_domains_are_bijections() {
        for n in [2, 3, 10, 97, 100, 1000, 1234] {
            let p = Permutation::new(42 + n, n);
            let images: HashSet<u64> = (0..n).map(|x| p.apply(x)).collect();
            assert_eq!(images.len() as u64, n, "n={n}");
            assert!(images.iter().all(|&y| y < n));
            for x in 0..n {
                assert_eq!(p.invert(p.apply(x)), Some(x));
            }
            assert_eq!(p.invert(n), None);
        }
    }

    #[test]
    fn large_domains_invert_and_scatter() {
        let p = Permutation::new(7, 999_999_000);
        let q = Permutation::new(8, 999_999_000);
        let mut differing = 0;
        for x in (0..1_000_000u64).step_by(997) {
            let y = p.apply(x);
            assert!(y < 999_999_000);
            assert_eq!(p.invert(y), Some(x));
            if y != q.apply(x) {
                differing += 1;
            }
        }
        assert!(differing > 990, "keys select different permutations");
        // Consecutive indexes do not give neighbouring images.
        assert!(p.apply(1).abs_diff(p.apply(2)) > 1000);
    }
}
