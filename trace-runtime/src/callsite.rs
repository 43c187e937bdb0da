//! One `static` per traced function: its labels, its options, and the metric
//! handles cached for it.

use crate::metrics::site::MetricSite;
use crate::objective::Objective;

/// A traced function, as seen by the runtime.
///
/// Each `#[trace]` expansion declares one `static` of this type. Its handles to
/// the global `metrics` recorder are registered on the first call and then
/// reused, so a traced call does no registry lookup and no allocation. A
/// global recorder installed later is noticed on the next call and receives
/// every call from then on. Calls under a local recorder (set with
/// `metrics::with_local_recorder`) register their handles with it on every
/// call instead, so each local recorder receives exactly the calls made
/// under it.
pub struct Callsite {
    metrics: MetricSite,
    slow_nanos: Option<u64>,
}

impl Callsite {
    /// Creates a call site; used by the macro expansion only.
    #[must_use]
    pub const fn new(
        name: &'static str,
        module: &'static str,
        crate_name: Option<&'static str>,
        slow_nanos: Option<u64>,
    ) -> Self {
        Callsite {
            metrics: MetricSite::new(name, module, crate_name),
            slow_nanos,
        }
    }

    /// The same call site with `objective`'s labels on its series; used by
    /// the macro expansion of `objective = ...` only.
    #[must_use]
    pub const fn with_objective(self, objective: &'static Objective) -> Self {
        Callsite {
            metrics: self.metrics.with_objective(objective),
            slow_nanos: self.slow_nanos,
        }
    }

    /// The function label: `name = "..."`, `Type::method`, or the function name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.metrics.name()
    }

    /// The module path of the function (`module_path!()` at the definition).
    #[must_use]
    pub fn module(&self) -> &'static str {
        self.metrics.module()
    }

    /// The `slow = "..."` threshold, in nanoseconds.
    pub(crate) fn slow_nanos(&self) -> Option<u64> {
        self.slow_nanos
    }

    /// What the metrics know of this function.
    #[inline]
    pub(crate) fn metrics(&'static self) -> &'static MetricSite {
        &self.metrics
    }
}

impl std::fmt::Debug for Callsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callsite")
            .field("name", &self.name())
            .field("module", &self.module())
            .finish_non_exhaustive()
    }
}
