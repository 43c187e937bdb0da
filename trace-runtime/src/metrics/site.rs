//! The metrics half of a call site: the labels a traced function's metrics
//! carry, and the handles cached for it under the global recorder.

use metrics::Label;

use crate::metrics::handles::SiteMetrics;
use crate::metrics::labels::{self, Caller};
use crate::metrics::leaked_list::LeakedRef;
use crate::metrics::recorder::RecorderId;
use crate::objective::Objective;

/// A traced function as the metrics see it. Part of its
/// [`Callsite`](crate::callsite::Callsite) static, so its address identifies
/// the function (as a caller, for one).
pub(crate) struct MetricSite {
    name: &'static str,
    module: &'static str,
    crate_name: Option<&'static str>,
    objective: Option<&'static Objective>,
    cached: LeakedRef<SiteMetrics>,
}

impl MetricSite {
    pub(crate) const fn new(
        name: &'static str,
        module: &'static str,
        crate_name: Option<&'static str>,
    ) -> Self {
        MetricSite {
            name,
            module,
            crate_name,
            objective: None,
            cached: LeakedRef::new(),
        }
    }

    pub(crate) const fn with_objective(self, objective: &'static Objective) -> Self {
        MetricSite {
            objective: Some(objective),
            ..self
        }
    }

    /// The objective whose labels its series carry.
    pub(crate) fn objective(&self) -> Option<&'static Objective> {
        self.objective
    }

    /// The `function` label.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The `module` label.
    pub(crate) fn module(&self) -> &'static str {
        self.module
    }

    /// The `function`, `module` and `service_name` labels.
    pub(crate) fn labels(&self) -> [Label; 3] {
        labels::site_labels(self.name, self.module, self.crate_name)
    }

    /// This function as the caller of another, or a request root for `None`.
    pub(crate) fn caller(site: Option<&'static MetricSite>) -> Caller {
        site.map_or(Caller::ROOT, |site| Caller {
            key: MetricSite::caller_key(Some(site)),
            function: site.name,
            module: site.module,
        })
    }

    /// [`Caller::key`] of [`caller`](Self::caller), without its labels.
    #[inline]
    pub(crate) fn caller_key(site: Option<&'static MetricSite>) -> usize {
        site.map_or(0, |site| std::ptr::from_ref(site) as usize)
    }

    /// The cached handles, if they are `recorder`'s.
    #[inline]
    pub(crate) fn cached_metrics(&self, recorder: RecorderId) -> Option<&'static SiteMetrics> {
        self.cached
            .load()
            .filter(|cached| cached.recorder() == recorder)
    }

    /// The handles of `recorder`, the global recorder, registered if needed
    /// and cached; `None` if it is no longer this thread's current recorder.
    #[cold]
    #[inline(never)]
    pub(crate) fn register(&'static self, recorder: RecorderId) -> Option<&'static SiteMetrics> {
        // One `SiteMetrics` per (labels, recorder), ever: counts published at
        // scrape time live in it, so a second one would split them.
        let metrics = SiteMetrics::find_or_register(self.labels(), self.objective, recorder)?;
        self.cached.store(metrics);
        Some(metrics)
    }
}
