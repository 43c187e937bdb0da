//! Metric handles cached per call site, and per caller for the counter.
//!
//! Handles are registered once per (site, recorder) and leaked, so the hot path
//! is a pointer comparison followed by atomic updates. The recorder is
//! identified by address: installing a global recorder after traced calls ran
//! changes it, and the next call registers fresh handles.

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::formatting::sanitize_label_value;

use crate::callsite::Callsite;
use crate::metrics::histogram::{self, DurationCells};
use crate::metrics::striped::{self, CellId};
use crate::metrics::{names, service};
use crate::outcome::Outcome;

/// An identity for the recorder `metrics` would use right now on this thread.
#[inline]
pub(crate) fn recorder_id() -> usize {
    metrics::with_recorder(id_of)
}

/// The identity of `recorder`: its address.
fn id_of(recorder: &dyn Recorder) -> usize {
    std::ptr::from_ref(recorder).cast::<()>() as usize
}

/// Handles shared by all calls of the sites with one set of labels, under
/// one recorder. Sites with the same labels (say, two functions given the
/// same `name = "..."`) share one, so their counts add up instead of
/// overwriting each other when published.
pub(crate) struct SiteMetrics {
    recorder: usize,
    duration: Histogram,
    concurrent: Gauge,
    /// Where counts go when they are published at scrape time.
    published: Option<PublishedCells>,
    edges: AtomicPtr<EdgeMetrics>,
    labels: [Label; 3],
    /// The next site registered before this one, for publishing.
    next_site: *const SiteMetrics,
}

/// The per-thread cells of a site whose counts are published at scrape time.
struct PublishedCells {
    in_flight: CellId,
    duration: DurationCells,
    /// `function="…",module="…",service_name="…"`, escaped.
    label_text: String,
}

// SAFETY: `next_site` points to another leaked, never-freed `SiteMetrics`;
// every other field is `Send + Sync`.
unsafe impl Send for SiteMetrics {}
// SAFETY: as above.
unsafe impl Sync for SiteMetrics {}

/// The recorder (by [`recorder_id`]) whose sites count calls in per-thread
/// cells that [`publish`] and [`render_histograms`] read at scrape time,
/// instead of updating the recorder's handles on every call; 0 for none.
/// Set by our exporter, which publishes before every render.
static PUBLISHED: AtomicUsize = AtomicUsize::new(0);

/// Every `SiteMetrics` ever registered, newest first.
static ALL_SITES: AtomicPtr<SiteMetrics> = AtomicPtr::new(std::ptr::null_mut());

/// Serialises registrations (the cold path), so each (labels, recorder) and
/// each (labels, recorder, caller) gets exactly one set of handles.
static REGISTER: Mutex<()> = Mutex::new(());

/// Runs `install`, which installs a global recorder, and switches that
/// recorder to publishing counts at scrape time. Registrations wait until
/// both are done, so no call site registers under the new recorder with
/// per-call handles.
pub(crate) fn install_published<E>(install: impl FnOnce() -> Result<(), E>) -> Result<(), E> {
    let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
    install()?;
    PUBLISHED.store(recorder_id(), Ordering::Release);
    Ok(())
}

/// Calls `f` on every site registered under the current recorder.
fn for_each_site(mut f: impl FnMut(&'static SiteMetrics)) {
    let recorder = recorder_id();
    let mut cursor = ALL_SITES.load(Ordering::Acquire).cast_const();
    // SAFETY: every node was leaked by `SiteMetrics::leak` and is never freed.
    while let Some(site) = unsafe { cursor.as_ref() } {
        if site.recorder == recorder {
            f(site);
        }
        cursor = site.next_site;
    }
}

/// Copies every per-thread count of the current recorder's sites into its
/// handles: `function_calls_concurrent` gauges are set to the calls in
/// flight, `function_calls_total` counters to their totals. The exporter
/// calls this before rendering.
pub(crate) fn publish() {
    for_each_site(SiteMetrics::publish);
}

/// Appends the `function_calls_duration_seconds` family of the current
/// recorder's sites, rendered from their per-thread cells.
pub(crate) fn render_histograms(out: &mut String) {
    let mut series = Vec::new();
    for_each_site(|site| {
        if let Some(cells) = &site.published {
            series.push((cells.label_text.as_str(), &cells.duration));
        }
    });
    series.sort_unstable_by_key(|(labels, _)| *labels);
    histogram::render_family(series, out);
}

/// The `function_calls_total` counters of one (site, caller) pair.
pub(crate) struct EdgeMetrics {
    caller: usize,
    caller_function: &'static str,
    caller_module: &'static str,
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
    /// The handles of `site`'s labels under the current recorder, registered
    /// if there are none. The recorder is read under the registration lock,
    /// so the handles come from the recorder the result is keyed by, even
    /// while a recorder is being installed.
    pub(crate) fn find_or_register(site: &'static Callsite) -> &'static SiteMetrics {
        let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
        let labels = [
            Label::from_static_parts("function", site.name()),
            Label::from_static_parts("module", site.module()),
            Label::new("service_name", service::resolve(site.crate_name())),
        ];
        metrics::with_recorder(|r| {
            let recorder = id_of(r);
            let mut cursor = ALL_SITES.load(Ordering::Acquire).cast_const();
            // SAFETY: every node was leaked by `leak` and is never freed.
            while let Some(known) = unsafe { cursor.as_ref() } {
                if known.recorder == recorder && known.labels == labels {
                    return known;
                }
                cursor = known.next_site;
            }
            SiteMetrics::register(labels, r).leak()
        })
    }

    fn register(labels: [Label; 3], r: &dyn Recorder) -> SiteMetrics {
        let recorder = id_of(r);
        let published = (PUBLISHED.load(Ordering::Acquire) == recorder)
            .then(DurationCells::allocate)
            .flatten()
            .map(|duration| PublishedCells {
                in_flight: CellId::allocate(1),
                duration,
                label_text: label_text(&labels),
            });
        SiteMetrics {
            recorder,
            // Published sites never touch the recorder's histogram: the
            // exporter renders theirs from `published.duration`.
            duration: if published.is_some() {
                Histogram::noop()
            } else {
                r.register_histogram(
                    &Key::from_parts(names::DURATION_SECONDS, labels.to_vec()),
                    &METADATA,
                )
            },
            concurrent: r.register_gauge(
                &Key::from_parts(names::CONCURRENT, labels.to_vec()),
                &METADATA,
            ),
            published,
            edges: AtomicPtr::new(std::ptr::null_mut()),
            labels,
            next_site: std::ptr::null(),
        }
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
        match &self.published {
            Some(cells) => striped::add(cells.in_flight, 1),
            None => self.concurrent.increment(1.0),
        }
    }

    /// Counts a call of `wall_nanos` as ended with `outcome` on `edge`, one
    /// of this site's edges (so both count per thread, or neither does).
    #[inline]
    pub(crate) fn exit(&self, edge: &EdgeMetrics, wall_nanos: u64, outcome: Outcome) {
        let index = match outcome {
            Outcome::Ok => 0,
            Outcome::Error | Outcome::Panic => 1,
            Outcome::Cancelled => 2,
        };
        if let (Some(cells), Some(calls)) = (&self.published, edge.cells) {
            let (bucket, sum) = cells.duration.cells_for(wall_nanos);
            striped::add_all([
                (calls[index], 1),
                (cells.in_flight, 1_u64.wrapping_neg()),
                (bucket, 1),
                (sum, wall_nanos),
            ]);
        } else {
            // Exact below 2^53 ns (104 days).
            #[allow(clippy::cast_precision_loss)]
            self.duration.record(wall_nanos as f64 * 1e-9);
            [&edge.ok, &edge.error, &edge.cancelled][index].increment(1);
            self.concurrent.decrement(1.0);
        }
    }

    fn publish(&self) {
        if let Some(cells) = &self.published {
            // A wrapping sum of +1s and -1s: reinterpret as signed.
            #[allow(clippy::cast_possible_wrap, clippy::cast_precision_loss)]
            let in_flight = striped::sum(cells.in_flight) as i64 as f64;
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
        let (caller_function, caller_module) = caller.map_or(("", ""), |c| (c.name(), c.module()));
        // Registered meanwhile, or another caller site with the same labels
        // already has counters: share its cells, so both count into one series.
        let mut twin = None;
        let mut cursor = self.edges.load(Ordering::Acquire).cast_const();
        // SAFETY: every node was leaked by `link_edge` and is never freed.
        while let Some(edge) = unsafe { cursor.as_ref() } {
            if edge.caller == key {
                return edge;
            }
            if edge.caller_function == caller_function && edge.caller_module == caller_module {
                twin = Some(edge);
            }
            cursor = edge.next;
        }
        if let Some(edge) = twin {
            return self.link_edge(EdgeMetrics {
                caller: key,
                next: std::ptr::null(),
                ok: edge.ok.clone(),
                error: edge.error.clone(),
                cancelled: edge.cancelled.clone(),
                ..*edge
            });
        }
        // Counters come from this site's own recorder; if another one has
        // been installed since, that recorder is out of reach and the
        // (stale) edge counts nowhere.
        let counter = |r: &dyn Recorder, result: &'static str| {
            if id_of(r) != self.recorder {
                return Counter::noop();
            }
            let mut labels = self.labels.to_vec();
            labels.push(Label::from_static_parts("result", result));
            labels.push(Label::from_static_parts("caller_function", caller_function));
            labels.push(Label::from_static_parts("caller_module", caller_module));
            r.register_counter(&Key::from_parts(names::CALLS_TOTAL, labels), &METADATA)
        };
        let edge = metrics::with_recorder(|r| EdgeMetrics {
            caller: key,
            caller_function,
            caller_module,
            ok: counter(r, "ok"),
            error: counter(r, "error"),
            cancelled: counter(r, "cancelled"),
            cells: self.published.as_ref().map(|_| {
                let first = CellId::allocate(3);
                [first, first.offset(1), first.offset(2)]
            }),
            next: std::ptr::null(),
        });
        self.link_edge(edge)
    }

    /// Leaks `edge` and links it into this site's edges.
    fn link_edge(&self, edge: EdgeMetrics) -> &'static EdgeMetrics {
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

/// The labels as the Prometheus text format writes them, without braces.
fn label_text(labels: &[Label]) -> String {
    labels
        .iter()
        .map(|l| format!("{}=\"{}\"", l.key(), sanitize_label_value(l.value())))
        .collect::<Vec<_>>()
        .join(",")
}
