//! Log-linear duration buckets: exact below 128 ns, then 64 buckets per
//! power of two up to 2^41 ns (about 37 minutes); longer durations share
//! the last bucket.
//!
//! A duration `v` with its highest set bit at position `p >= 6` falls in
//! bucket `(p - 5) * 64 + (the six bits below the highest)`, whose width is
//! `2^(p - 6)`, at most 1/64 of any value in it. Reporting the bucket's
//! midpoint is therefore off by at most 1/128 of the true value: a relative
//! error of 0.79 % at worst. Finding a bucket is a count of leading zeros, a
//! shift and a mask: no search and no floating point on the hot path.

/// Sub-buckets per power of two, as a number of bits.
const SUB_BITS: u32 = 6;
/// Sub-buckets per power of two.
const SUB: u64 = 1 << SUB_BITS;
/// Highest bit position kept; longer durations go to the last bucket.
const MAX_BIT: u32 = 40;

/// How many buckets there are.
pub(crate) const COUNT: usize = ((MAX_BIT - SUB_BITS + 2) as usize) << SUB_BITS;

/// The worst relative error of a reported duration: half a bucket's width
/// over its lower bound.
#[allow(clippy::cast_precision_loss, reason = "128 is exact")]
pub(crate) const RELATIVE_ERROR: f64 = 1.0 / (2 * SUB) as f64;

/// The bucket of a duration of `nanos`.
#[inline]
pub(crate) fn index(nanos: u64) -> usize {
    if nanos < 2 * SUB {
        // Below 128 ns every nanosecond has its own bucket.
        #[allow(clippy::cast_possible_truncation, reason = "below 128")]
        return nanos as usize;
    }
    let top = nanos.ilog2().min(MAX_BIT);
    if top == MAX_BIT && nanos >= 1 << (MAX_BIT + 1) {
        return COUNT - 1;
    }
    let shift = top - SUB_BITS;
    #[allow(clippy::cast_possible_truncation, reason = "below COUNT")]
    let sub = ((nanos >> shift) & (SUB - 1)) as usize;
    (((shift + 1) as usize) << SUB_BITS) + sub
}

/// The smallest duration in bucket `index`, in nanoseconds.
pub(crate) fn lower(index: usize) -> u64 {
    let index = index as u64;
    if index < 2 * SUB {
        return index;
    }
    let shift = (index >> SUB_BITS) - 1;
    (SUB + (index & (SUB - 1))) << shift
}

/// The value reported for bucket `index`: its midpoint, in nanoseconds (the
/// exact value below 128 ns).
pub(crate) fn value(index: usize) -> f64 {
    let low = lower(index);
    let width = lower(index + 1) - low;
    #[allow(clippy::cast_precision_loss, reason = "exact below 2^53 ns")]
    if width <= 1 {
        low as f64
    } else {
        low as f64 + (width - 1) as f64 / 2.0
    }
}

#[cfg(test)]
#[allow(clippy::cast_precision_loss, reason = "test values are small")]
mod tests {
    use super::{index, lower, value, COUNT, RELATIVE_ERROR};

    #[test]
    fn small_durations_are_exact() {
        for nanos in 0..128 {
            assert_eq!(index(nanos), usize::try_from(nanos).unwrap());
            assert!((value(index(nanos)) - nanos as f64).abs() < f64::EPSILON);
        }
    }

    #[test]
    fn buckets_are_contiguous_and_increasing() {
        for i in 0..COUNT - 1 {
            assert!(lower(i) < lower(i + 1), "bucket {i}");
            assert_eq!(index(lower(i)), i, "lower bound of bucket {i}");
            assert_eq!(index(lower(i + 1) - 1), i, "upper bound of bucket {i}");
        }
        assert_eq!(index(u64::MAX), COUNT - 1);
        assert_eq!(index(1 << 41), COUNT - 1);
        assert_eq!(index((1 << 41) - 1), COUNT - 1);
        assert_eq!(lower(COUNT), 1 << 41);
    }

    #[test]
    fn every_reported_value_is_within_the_stated_error() {
        // Both ends of every bucket up to the last bounded one, plus a
        // sweep of values in between.
        let mut worst = 0.0_f64;
        for i in 0..COUNT - 1 {
            for nanos in [
                lower(i),
                lower(i + 1) - 1,
                u64::midpoint(lower(i), lower(i + 1)),
            ] {
                let error = (value(index(nanos)) - nanos as f64).abs() / nanos.max(1) as f64;
                worst = worst.max(error);
            }
        }
        assert!(worst <= RELATIVE_ERROR, "worst {worst}");
        assert!(worst > RELATIVE_ERROR * 0.9, "the bound is tight: {worst}");
    }
}
