//! The metric handles one running call updates: looked up when it starts,
//! updated when it ends.

use crate::callsite::Callsite;
use crate::metrics::handles::{EdgeMetrics, SiteMetrics};
use crate::outcome::Outcome;

/// The metric handles one running call updates.
#[derive(Clone, Copy)]
pub(crate) struct CallMetrics {
    site: &'static SiteMetrics,
    edge: &'static EdgeMetrics,
}

impl CallMetrics {
    /// Looks up the cached handles and counts the call as in flight.
    #[inline]
    pub(crate) fn begin(site: &'static Callsite, caller: Option<&'static Callsite>) -> Self {
        let metrics = site.metrics();
        metrics.enter();
        CallMetrics {
            site: metrics,
            edge: metrics.edge(caller),
        }
    }

    /// Records the duration (in nanoseconds, as the clock gives it: no
    /// `Duration` round trip on the hot path) and outcome, and counts the
    /// call as finished.
    #[inline]
    pub(crate) fn end(self, _site: &'static Callsite, wall_nanos: u64, outcome: Outcome) {
        self.site.exit(self.edge, wall_nanos, outcome);
    }
}
