//! One `static` per traced function: its labels, its options, and the metric
//! handles cached for it.

use std::sync::atomic::{AtomicPtr, Ordering};

use crate::metrics::handles::{recorder_id, SiteMetrics};

/// A traced function, as seen by the runtime.
///
/// Each `#[trace]` expansion declares one `static` of this type. Its handles to
/// the installed `metrics` recorder are registered on the first call and then
/// reused, so a traced call does no registry lookup and no allocation. A
/// recorder installed later is noticed on the next call and receives every
/// call from then on.
pub struct Callsite {
    name: &'static str,
    module: &'static str,
    crate_name: Option<&'static str>,
    slow_nanos: Option<u64>,
    metrics: AtomicPtr<SiteMetrics>,
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
            metrics: AtomicPtr::new(std::ptr::null_mut()),
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

    /// The metric handles for the current recorder, registered on first use.
    #[inline]
    pub(crate) fn metrics(&'static self) -> &'static SiteMetrics {
        let recorder = recorder_id();
        let cached = self.metrics.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was leaked from a `Box` by `register` and is
        // never freed, so it is valid for `'static`.
        if let Some(cached) = unsafe { cached.as_ref() } {
            if cached.recorder() == recorder {
                return cached;
            }
        }
        self.register()
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> &'static SiteMetrics {
        // One `SiteMetrics` per (labels, recorder), ever: counts published at
        // scrape time live in it, so a second one would split them.
        let metrics = SiteMetrics::find_or_register(self);
        self.metrics
            .store(std::ptr::from_ref(metrics).cast_mut(), Ordering::Release);
        metrics
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
