//! The per-person random stream and the small draws generation needs.
//!
//! Person `i` of seed `s` reads ChaCha8 stream `i` under a key derived from `s`: streams are
//! independent, so a person is computed without generating anyone else, and ChaCha's output is
//! specified bit for bit, so every machine sees the same people. Draws use `next_u64` and
//! integer arithmetic only (no `usize`, no floats), keeping them platform-independent.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic source of draws for one person.
pub struct Draw(ChaCha8Rng);

impl Draw {
    /// Stream `stream` under the 32-byte `key`.
    pub fn new(key: [u8; 32], stream: u64) -> Self {
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream);
        Draw(rng)
    }

    /// Uniform in `[0, n)` (`n > 0`), by the multiply-shift method (bias below 2^-40 here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One element of a non-empty weighted list.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut draw = self.below(total);
        for (item, w) in items {
            if draw < u64::from(*w) {
                return *item;
            }
            draw -= u64::from(*w);
        }
        items[0].0
    }
}

/// The 32-byte ChaCha key of a seed (the seed spread by SplitMix64, so nearby seeds differ widely).
pub fn key_for_seed(seed: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&crate::permute::hash(&[seed, 0x5EED, i as u64]).to_le_bytes());
    }
    key
}
