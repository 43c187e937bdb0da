//! Which delivered trees are exported: a head-sampling ratio, decided from
//! the trace id (so every service of a trace decides alike), and trees with
//! a failed or slow call always kept. Decided when the tree is delivered,
//! when its failures are known; the in-process tree, its log and the
//! metrics are unaffected.

use trace_runtime::tree::CallTree;

/// Which trees are exported, set with
/// [`OtlpBuilder::sampling`](crate::OtlpBuilder::sampling).
///
/// ```
/// use trace_otel::Sampling;
///
/// // One trace in ten, and every trace with a failed or slow call.
/// let sampling = Sampling { ratio: 0.1, ..Sampling::default() };
/// assert!(sampling.keep_failed && sampling.keep_slow);
/// assert!(Sampling { ratio: 1.0, ..sampling }.keeps_trace_id([7; 16]));
/// assert!(!Sampling { ratio: 0.0, ..sampling }.keeps_trace_id([7; 16]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// The share of traces exported, from 0 to 1 (default 1: all). A trace
    /// is kept when its id's low 53 bits, as a fraction, are below the
    /// ratio, so services with the same ratio keep the same traces.
    pub ratio: f64,
    /// Export trees in which a call returned `Err` or panicked (or the
    /// HTTP layer marked the response failed), whatever the ratio
    /// (default `true`).
    pub keep_failed: bool,
    /// Export trees in which a call exceeded its `slow = "..."` threshold,
    /// whatever the ratio (default `true`).
    pub keep_slow: bool,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            ratio: 1.0,
            keep_failed: true,
            keep_slow: true,
        }
    }
}

impl Sampling {
    /// Whether `tree` is exported: failed or slow trees when kept, else a
    /// remote parent that did not sample the trace (flag `00`) drops it,
    /// else [`keeps_trace_id`](Self::keeps_trace_id).
    #[must_use]
    pub fn keeps(&self, tree: &CallTree) -> bool {
        if (self.keep_failed && tree.has_failure()) || (self.keep_slow && tree.has_slow_call()) {
            return true;
        }
        if tree
            .remote_parent()
            .is_some_and(|remote| !remote.is_sampled())
        {
            return false;
        }
        self.keeps_trace_id(tree.trace_id())
    }

    /// Whether the ratio keeps the trace with this id.
    #[must_use]
    pub fn keeps_trace_id(&self, trace_id: [u8; 16]) -> bool {
        if self.ratio >= 1.0 {
            return true;
        }
        if self.ratio.is_nan() || self.ratio <= 0.0 {
            return false;
        }
        let mut low = [0; 8];
        low.copy_from_slice(&trace_id[8..]);
        let bits = u64::from_be_bytes(low) >> 11;
        #[allow(clippy::cast_precision_loss, reason = "53 bits are exact in an f64")]
        let fraction = bits as f64 / (1_u64 << 53) as f64;
        fraction < self.ratio
    }
}

#[cfg(test)]
mod tests {
    use super::Sampling;

    #[test]
    fn the_ratio_keeps_about_its_share_of_trace_ids() {
        let sampling = Sampling {
            ratio: 0.25,
            ..Sampling::default()
        };
        let kept = (0_u64..10_000)
            .filter(|i| {
                let mut id = [0; 16];
                // Spread like random ids: a multiplicative hash of i.
                id[8..].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
                sampling.keeps_trace_id(id)
            })
            .count();
        assert!((2_300..2_700).contains(&kept), "kept {kept} of 10000");
    }
}
