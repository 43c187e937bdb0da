//! Metric handles cached per call site, and per caller for the counter.
//!
//! Handles are registered once per (site, recorder) and leaked, so the hot path
//! is a pointer comparison followed by atomic updates. The recorder is
//! identified by address: installing a global recorder after traced calls ran
//! changes it, and the next call registers fresh handles.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};

use crate::call::outcome::Outcome;
use crate::callsite::Callsite;
use crate::metrics::{names, service};

/// An identity for the recorder `metrics` would use right now on this thread.
#[inline]
pub(crate) fn recorder_id() -> usize {
    metrics::with_recorder(|r| std::ptr::from_ref(r).cast::<()>() as usize)
}

/// Handles shared by all calls of one site under one recorder.
pub(crate) struct SiteMetrics {
    recorder: usize,
    pub(crate) duration: Histogram,
    concurrent: Gauge,
    /// Calls in flight, when the gauge is published at scrape time.
    in_flight: Option<AtomicI64>,
    edges: AtomicPtr<EdgeMetrics>,
    labels: [Label; 3],
    /// The next site registered before this one, for publishing.
    next_site: *const SiteMetrics,
}

// SAFETY: `next_site` points to another leaked, never-freed `SiteMetrics`;
// every other field is `Send + Sync`.
unsafe impl Send for SiteMetrics {}
// SAFETY: as above.
unsafe impl Sync for SiteMetrics {}

/// Whether recorders installed from now on have their
/// `function_calls_concurrent` gauges published by [`publish_in_flight`]
/// (set by the exporter, which publishes before every render) instead of
/// being updated on every call.
static PUBLISHED_GAUGES: AtomicBool = AtomicBool::new(false);

/// Every `SiteMetrics` ever registered, newest first.
static ALL_SITES: AtomicPtr<SiteMetrics> = AtomicPtr::new(std::ptr::null_mut());

/// Switches to publishing in-flight gauges at scrape time; called by the
/// exporter once its recorder is installed.
pub(crate) fn publish_gauges_at_scrape() {
    PUBLISHED_GAUGES.store(true, Ordering::Release);
}

/// Sets every `function_calls_concurrent` gauge of the current recorder to
/// its number of calls in flight. The exporter calls this before rendering.
pub(crate) fn publish_in_flight() {
    let recorder = recorder_id();
    let mut cursor = ALL_SITES.load(Ordering::Acquire).cast_const();
    // SAFETY: every node was leaked by `SiteMetrics::leak` and is never freed.
    while let Some(site) = unsafe { cursor.as_ref() } {
        if let (Some(count), true) = (&site.in_flight, site.recorder == recorder) {
            #[allow(clippy::cast_precision_loss)]
            site.concurrent.set(count.load(Ordering::Relaxed) as f64);
        }
        cursor = site.next_site;
    }
}

/// The `function_calls_total` counters of one (site, caller) pair.
pub(crate) struct EdgeMetrics {
    caller: usize,
    ok: Counter,
    error: Counter,
    cancelled: Counter,
    next: *const EdgeMetrics,
}

// SAFETY: `next` points to another leaked, immutable `EdgeMetrics`.
unsafe impl Send for EdgeMetrics {}
// SAFETY: as above; every other field is `Sync`.
unsafe impl Sync for EdgeMetrics {}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl SiteMetrics {
    pub(crate) fn register(site: &'static Callsite, recorder: usize) -> SiteMetrics {
        let labels = [
            Label::from_static_parts("function", site.name()),
            Label::from_static_parts("module", site.module()),
            Label::new("service_name", service::resolve(site.crate_name())),
        ];
        let published = PUBLISHED_GAUGES.load(Ordering::Acquire);
        metrics::with_recorder(|r| SiteMetrics {
            recorder,
            duration: r.register_histogram(
                &Key::from_parts(names::DURATION_SECONDS, labels.to_vec()),
                &METADATA,
            ),
            concurrent: r.register_gauge(
                &Key::from_parts(names::CONCURRENT, labels.to_vec()),
                &METADATA,
            ),
            in_flight: published.then(|| AtomicI64::new(0)),
            edges: AtomicPtr::new(std::ptr::null_mut()),
            labels,
            next_site: std::ptr::null(),
        })
    }

    /// Leaks `self` and links it into the list of all sites.
    pub(crate) fn leak(self) -> &'static SiteMetrics {
        let site: &'static mut SiteMetrics = Box::leak(Box::new(self));
        let mut head = ALL_SITES.load(Ordering::Acquire);
        loop {
            site.next_site = head.cast_const();
            match ALL_SITES.compare_exchange_weak(
                head,
                std::ptr::from_mut(site),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return site,
                Err(now) => head = now,
            }
        }
    }

    /// Counts a call as started.
    #[inline]
    pub(crate) fn enter(&self) {
        match &self.in_flight {
            Some(count) => {
                count.fetch_add(1, Ordering::Relaxed);
            }
            None => self.concurrent.increment(1.0),
        }
    }

    /// Counts a call as ended.
    #[inline]
    pub(crate) fn exit(&self) {
        match &self.in_flight {
            Some(count) => {
                count.fetch_sub(1, Ordering::Relaxed);
            }
            None => self.concurrent.decrement(1.0),
        }
    }

    #[inline]
    pub(crate) fn recorder(&self) -> usize {
        self.recorder
    }

    /// The counters for calls made from `caller` (`None` for a request root).
    #[inline]
    pub(crate) fn edge(&self, caller: Option<&'static Callsite>) -> &'static EdgeMetrics {
        let key = caller.map_or(0, |c| std::ptr::from_ref(c) as usize);
        let mut cursor = self.edges.load(Ordering::Acquire).cast_const();
        // SAFETY: every node was leaked by `add_edge` and is never freed.
        while let Some(edge) = unsafe { cursor.as_ref() } {
            if edge.caller == key {
                return edge;
            }
            cursor = edge.next;
        }
        self.add_edge(caller, key)
    }

    #[cold]
    #[inline(never)]
    fn add_edge(&self, caller: Option<&'static Callsite>, key: usize) -> &'static EdgeMetrics {
        let (caller_function, caller_module) = caller.map_or(("", ""), |c| (c.name(), c.module()));
        let counter = |r: &dyn Recorder, result: &'static str| {
            let mut labels = self.labels.to_vec();
            labels.push(Label::from_static_parts("result", result));
            labels.push(Label::from_static_parts("caller_function", caller_function));
            labels.push(Label::from_static_parts("caller_module", caller_module));
            r.register_counter(&Key::from_parts(names::CALLS_TOTAL, labels), &METADATA)
        };
        let edge = metrics::with_recorder(|r| EdgeMetrics {
            caller: key,
            ok: counter(r, "ok"),
            error: counter(r, "error"),
            cancelled: counter(r, "cancelled"),
            next: std::ptr::null(),
        });
        let edge: &'static mut EdgeMetrics = Box::leak(Box::new(edge));
        let mut head = self.edges.load(Ordering::Acquire);
        loop {
            edge.next = head.cast_const();
            match self.edges.compare_exchange_weak(
                head,
                std::ptr::from_mut(edge),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return edge,
                Err(now) => head = now,
            }
        }
    }
}

impl EdgeMetrics {
    /// The counter for `outcome`.
    #[inline]
    pub(crate) fn counter(&self, outcome: Outcome) -> &Counter {
        match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Error | Outcome::Panic => &self.error,
            Outcome::Cancelled => &self.cancelled,
        }
    }
}
