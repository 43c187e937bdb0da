//! The clock of the hot path: raw readings of `quanta`'s calibrated clock
//! (the TSC where it is reliable, else the OS monotonic clock), scaled to
//! nanoseconds only when a duration is needed. A reading costs a few
//! nanoseconds against about 24 ns for `std::time::Instant::now()` on the
//! reference VM, and every traced call reads it twice.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

#[inline]
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw clock reading; the default is the clock's zero.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Instant(u64);

impl Instant {
    /// Reads the clock.
    #[inline]
    pub(crate) fn now() -> Instant {
        Instant(clock().raw())
    }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    #[inline]
    pub(crate) fn nanos_since(self, earlier: Instant) -> u64 {
        clock().delta_as_nanos(earlier.0, self.0)
    }

    /// Raw ticks from `earlier` to `self`, zero if `earlier` is later;
    /// [`ticks_to_nanos`] scales them.
    #[inline]
    pub(crate) fn ticks_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Nanoseconds in `ticks` raw ticks (a difference of two readings).
pub(crate) fn ticks_to_nanos(ticks: u64) -> u64 {
    clock().delta_as_nanos(0, ticks)
}
