//! A writer that discards what it is given, like `io::sink`, and counts the
//! writes and bytes: the formatted output of the tree contenders is
//! produced and measured, no I/O is, and the count shows that they wrote.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

static WRITES: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// `io::sink` with two relaxed counters.
pub struct CountingSink;

impl io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        WRITES.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `MakeWriter` of the subscribers: a fresh [`CountingSink`] per event.
pub fn make() -> CountingSink {
    CountingSink
}

/// Writes and bytes so far in this process.
pub fn written() -> (u64, u64) {
    (
        WRITES.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}
