//! One `static` per traced function: its labels, its options, and the metric
//! handles cached for it.

use crate::metrics::handles::SiteMetrics;
use crate::metrics::leaked_list::LeakedRef;
use crate::metrics::recorder::RecorderId;

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
    name: &'static str,
    module: &'static str,
    crate_name: Option<&'static str>,
    slow_nanos: Option<u64>,
    metrics: LeakedRef<SiteMetrics>,
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
            name,
            module,
            crate_name,
            slow_nanos,
            metrics: LeakedRef::new(),
        }
    }

    /// The function label: `name = "..."`, `Type::method`, or the function name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module path of the function (`module_path!()` at the definition).
    #[must_use]
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The package that defined the function, when built by cargo.
    pub(crate) fn crate_name(&self) -> Option<&'static str> {
        self.crate_name
    }

    /// The `slow = "..."` threshold, in nanoseconds.
    pub(crate) fn slow_nanos(&self) -> Option<u64> {
        self.slow_nanos
    }

    /// The cached handles, if they are `recorder`'s.
    #[inline]
    pub(crate) fn cached_metrics(&self, recorder: RecorderId) -> Option<&'static SiteMetrics> {
        self.metrics
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
        let metrics = SiteMetrics::find_or_register(self, recorder)?;
        self.metrics.store(metrics);
        Some(metrics)
    }
}

impl std::fmt::Debug for Callsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callsite")
            .field("name", &self.name)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}
