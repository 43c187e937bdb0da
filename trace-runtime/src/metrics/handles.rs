//! Metric handles cached per call site, and per caller for the counter.
//!
//! Handles are registered once per (site, recorder) and leaked, so the hot path
//! is a pointer comparison followed by atomic updates. The recorder is
//! identified by address: installing a global recorder after traced calls ran
//! changes it, and the next call registers fresh handles.

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};

use crate::call::outcome::Outcome;
use crate::callsite::Callsite;
use crate::metrics::striped::{self, CellId};
use crate::metrics::{names, service};

/// An identity for the recorder `metrics` would use right now on this thread.
#[inline]
pub(crate) fn recorder_id() -> usize {
    metrics::with_recorder(|r| std::ptr::from_ref(r).cast::<()>() as usize)
}

/// Handles shared by all calls of one site under one recorder.
pub(crate) struct SiteMetrics {
    recorder: usize,
    /// The address of the `Callsite` these handles belong to.
    site: usize,
    pub(crate) duration: Histogram,
    concurrent: Gauge,
    /// Calls in flight, when the gauge is published at scrape time.
    in_flight: Option<CellId>,
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

/// Whether sites registered from now on count calls in per-thread cells that
/// [`publish`] copies into their counters and gauges (set by the exporter,
/// which publishes before every render) instead of updating the recorder's
/// handles on every call.
static PUBLISHED: AtomicBool = AtomicBool::new(false);

/// Every `SiteMetrics` ever registered, newest first.
static ALL_SITES: AtomicPtr<SiteMetrics> = AtomicPtr::new(std::ptr::null_mut());

/// Serialises registrations (the cold path), so each (site, recorder) and
/// each (site, recorder, caller) gets exactly one set of handles.
static REGISTER: Mutex<()> = Mutex::new(());

/// Switches to publishing counts at scrape time; called by the exporter once
/// its recorder is installed.
pub(crate) fn publish_at_scrape() {
    PUBLISHED.store(true, Ordering::Release);
}

/// Copies every per-thread count of the current recorder's sites into its
/// handles: `function_calls_concurrent` gauges are set to the calls in
/// flight, `function_calls_total` counters to their totals. The exporter
/// calls this before rendering.
pub(crate) fn publish() {
    let recorder = recorder_id();
    let mut cursor = ALL_SITES.load(Ordering::Acquire).cast_const();
    // SAFETY: every node was leaked by `SiteMetrics::leak` and is never freed.
    while let Some(site) = unsafe { cursor.as_ref() } {
        if site.recorder == recorder {
            site.publish();
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
    /// Cells for ok, error and cancelled when counts are published at scrape time.
    cells: Option<[CellId; 3]>,
    next: *const EdgeMetrics,
}

// SAFETY: `next` points to another leaked, immutable `EdgeMetrics`.
unsafe impl Send for EdgeMetrics {}
// SAFETY: as above; every other field is `Sync`.
unsafe impl Sync for EdgeMetrics {}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl SiteMetrics {
    /// The handles of `site` under `recorder`, registered if there are none.
    pub(crate) fn find_or_register(
        site: &'static Callsite,
        recorder: usize,
    ) -> &'static SiteMetrics {
        let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
        let address = std::ptr::from_ref(site) as usize;
        let mut cursor = ALL_SITES.load(Ordering::Acquire).cast_const();
        // SAFETY: every node was leaked by `leak` and is never freed.
        while let Some(known) = unsafe { cursor.as_ref() } {
            if known.site == address && known.recorder == recorder {
                return known;
            }
            cursor = known.next_site;
        }
        SiteMetrics::register(site, recorder).leak()
    }

    fn register(site: &'static Callsite, recorder: usize) -> SiteMetrics {
        let labels = [
            Label::from_static_parts("function", site.name()),
            Label::from_static_parts("module", site.module()),
            Label::new("service_name", service::resolve(site.crate_name())),
        ];
        let published = PUBLISHED.load(Ordering::Acquire);
        metrics::with_recorder(|r| SiteMetrics {
            recorder,
            site: std::ptr::from_ref(site) as usize,
            duration: r.register_histogram(
                &Key::from_parts(names::DURATION_SECONDS, labels.to_vec()),
                &METADATA,
            ),
            concurrent: r.register_gauge(
                &Key::from_parts(names::CONCURRENT, labels.to_vec()),
                &METADATA,
            ),
            in_flight: published.then(|| CellId::allocate(1)),
            edges: AtomicPtr::new(std::ptr::null_mut()),
            labels,
            next_site: std::ptr::null(),
        })
    }

    /// Leaks `self` and links it into the list of all sites.
    fn leak(self) -> &'static SiteMetrics {
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
        match self.in_flight {
            Some(cell) => striped::add(cell, 1),
            None => self.concurrent.increment(1.0),
        }
    }

    /// Counts a call as ended with `outcome` on `edge`, one of this site's
    /// edges (so both count per thread, or neither does).
    #[inline]
    pub(crate) fn exit_counting(&self, edge: &EdgeMetrics, outcome: Outcome) {
        let index = match outcome {
            Outcome::Ok => 0,
            Outcome::Error | Outcome::Panic => 1,
            Outcome::Cancelled => 2,
        };
        if let (Some(in_flight), Some(cells)) = (self.in_flight, edge.cells) {
            striped::add_two(cells[index], 1, in_flight, 1_u64.wrapping_neg());
        } else {
            [&edge.ok, &edge.error, &edge.cancelled][index].increment(1);
            self.concurrent.decrement(1.0);
        }
    }

    fn publish(&self) {
        if let Some(cell) = self.in_flight {
            // A wrapping sum of +1s and -1s: reinterpret as signed.
            #[allow(clippy::cast_possible_wrap, clippy::cast_precision_loss)]
            let in_flight = striped::sum(cell) as i64 as f64;
            self.concurrent.set(in_flight);
        }
        let mut cursor = self.edges.load(Ordering::Acquire).cast_const();
        // SAFETY: every node was leaked by `add_edge` and is never freed.
        while let Some(edge) = unsafe { cursor.as_ref() } {
            edge.publish();
            cursor = edge.next;
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
        let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cursor = self.edges.load(Ordering::Acquire).cast_const();
        // SAFETY: every node was leaked below and is never freed.
        while let Some(edge) = unsafe { cursor.as_ref() } {
            if edge.caller == key {
                return edge;
            }
            cursor = edge.next;
        }
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
            cells: self.in_flight.map(|_| {
                let first = CellId::allocate(3);
                [first, first.offset(1), first.offset(2)]
            }),
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
    fn publish(&self) {
        if let Some(cells) = self.cells {
            self.ok.absolute(striped::sum(cells[0]));
            self.error.absolute(striped::sum(cells[1]));
            self.cancelled.absolute(striped::sum(cells[2]));
        }
    }
}
