//! The metric handles one running call updates: looked up when it starts,
//! updated when it ends.

use crate::metrics::handles::{EdgeMetrics, SiteMetrics};
use crate::metrics::local::{self, LocalCall};
use crate::metrics::recorder;
use crate::metrics::site::MetricSite;
use crate::outcome::Outcome;

/// The metric handles one running call updates: cached ones for the global
/// recorder, or the call's own under any other recorder.
#[derive(Clone, Copy)]
pub(crate) enum CallMetrics {
    Cached {
        site: &'static SiteMetrics,
        edge: &'static EdgeMetrics,
    },
    Local(LocalCall),
}

// Kept in two words, like the two references it mostly is.
const _: () = assert!(std::mem::size_of::<CallMetrics>() == 2 * std::mem::size_of::<usize>());

impl CallMetrics {
    /// Looks up the cached handles and counts the call as in flight.
    #[inline(always)]
    pub(crate) fn begin(site: &'static MetricSite, caller: Option<&'static MetricSite>) -> Self {
        match site.cached_metrics(recorder::current()) {
            Some(metrics) => {
                metrics.enter();
                CallMetrics::Cached {
                    site: metrics,
                    edge: metrics.edge(MetricSite::caller_key(caller), || {
                        MetricSite::caller(caller)
                    }),
                }
            }
            None => CallMetrics::begin_uncached(site, caller),
        }
    }

    /// The first call under the global recorder, or a call under another one.
    #[cold]
    #[inline(never)]
    fn begin_uncached(site: &'static MetricSite, caller: Option<&'static MetricSite>) -> Self {
        loop {
            // Read again: a global recorder may have been installed meanwhile.
            let recorder = recorder::current();
            let started = if recorder::is_global(recorder) {
                site.register(recorder).map(|metrics| {
                    metrics.enter();
                    CallMetrics::Cached {
                        site: metrics,
                        edge: metrics.edge(MetricSite::caller_key(caller), || {
                            MetricSite::caller(caller)
                        }),
                    }
                })
            } else {
                local::begin(site, caller, recorder).map(CallMetrics::Local)
            };
            if let Some(started) = started {
                return started;
            }
        }
    }

    /// Records the duration (in nanoseconds, as the clock gives it: no
    /// `Duration` round trip on the hot path) and outcome, and counts the
    /// call as finished.
    #[inline]
    pub(crate) fn end(self, wall_nanos: u64, outcome: Outcome) {
        match self {
            CallMetrics::Cached { site, edge } => site.exit(edge, wall_nanos, outcome),
            CallMetrics::Local(call) => local::end(call, wall_nanos, outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CallMetrics;
    use crate::metrics::recorder;
    use crate::metrics::site::MetricSite;
    use crate::outcome::Outcome;

    static SITE: MetricSite = MetricSite::new("timing_test", "timing::tests", None);

    fn site_of(call: CallMetrics) -> Option<usize> {
        match call {
            CallMetrics::Cached { site, .. } => Some(std::ptr::from_ref(site).addr()),
            CallMetrics::Local(_) => None,
        }
    }

    #[test]
    fn calls_under_the_global_recorder_reuse_cached_handles_and_local_ones_never_do() {
        // No global recorder in this binary: the no-op recorder stands in.
        let first = CallMetrics::begin(&SITE, None);
        first.end(10, Outcome::Ok);
        let cached = SITE
            .cached_metrics(recorder::current())
            .map(|m| std::ptr::from_ref(m).addr());
        assert!(cached.is_some());
        assert_eq!(site_of(first), cached);
        let second = CallMetrics::begin(&SITE, None);
        second.end(10, Outcome::Ok);
        assert_eq!(site_of(second), cached);

        let local = metrics_util::debugging::DebuggingRecorder::new();
        let under_local = metrics::with_local_recorder(&local, || {
            let call = CallMetrics::begin(&SITE, None);
            call.end(10, Outcome::Ok);
            call
        });
        assert_eq!(site_of(under_local), None);
        // The global recorder's handles are still the cached ones.
        assert_eq!(
            SITE.cached_metrics(recorder::current())
                .map(|m| std::ptr::from_ref(m).addr()),
            cached
        );
    }
}
