//! A tiny random number source for the demo (xorshift, seeded from the
//! standard library's per-process random hasher keys): no extra dependency.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared, lock-free random numbers; quality is irrelevant here.
pub struct Dice(AtomicU64);

impl Dice {
    pub fn new() -> Self {
        Dice(AtomicU64::new(RandomState::new().hash_one(0_u8) | 1))
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&self, n: u64) -> u64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        x % n
    }
}
