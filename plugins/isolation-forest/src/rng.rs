//! A small seeded generator (SplitMix64): the forest must be the same for
//! the same seed and points, and its state goes into the snapshot.

use serde::{Deserialize, Serialize};

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    #[allow(clippy::cast_precision_loss, reason = "53 bits")]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Uniform in [0, n), for n > 0.
    #[allow(clippy::cast_possible_truncation, reason = "below n, a usize")]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift: unbiased enough for sampling.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}
