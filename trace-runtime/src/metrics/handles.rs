//! Metric handles cached per call site, and per caller for the counter, for
//! the process-global recorder.
//!
//! Handles are registered once per (site labels, recorder) and leaked, so the
//! hot path is one identity comparison followed by atomic updates. Only the
//! global recorder (or the no-op recorder standing in for it, see
//! [`recorder`]) gets cached handles: it lives as long as
//! the process. Installing a global recorder after traced calls ran changes
//! the identity, and the next call registers fresh handles. Calls under any
//! other recorder register theirs per call (see [`local`](super::local)).

use std::sync::{Mutex, OnceLock, PoisonError};

use metrics::{Counter, Gauge, Histogram, Label};
use metrics_exporter_prometheus::formatting::sanitize_label_value;

use crate::metrics::histogram::{self, DurationCells};
use crate::metrics::labels::{self, Caller, METADATA, RESULTS};
use crate::metrics::leaked_list::LeakedList;
#[cfg(feature = "stats")]
use crate::metrics::leaked_list::LeakedRef;
use crate::metrics::recorder::{self, RecorderId};
use crate::metrics::striped::{self, CellId};
use crate::objective::Objective;
use crate::outcome::Outcome;

/// Handles shared by all calls of the sites with one set of labels, under
/// the global recorder. Sites with the same labels (say, two functions given
/// the same `name = "..."`) share one, so their counts add up instead of
/// overwriting each other when published.
pub(crate) struct SiteMetrics {
    recorder: RecorderId,
    duration: Histogram,
    concurrent: Gauge,
    /// Where counts go when they are published at scrape time.
    published: Option<PublishedCells>,
    edges: LeakedList<EdgeMetrics>,
    labels: [Label; 3],
    objective: Option<&'static Objective>,
}

/// The per-thread cells of a site whose counts are published at scrape time.
struct PublishedCells {
    in_flight: CellId,
    duration: DurationCells,
    /// `function="…",module="…",service_name="…"`, escaped.
    label_text: String,
    /// The live statistics, when they are on: set once the site is
    /// registered, as they read its counts.
    #[cfg(feature = "stats")]
    stats: LeakedRef<crate::stats::series::Series>,
}

/// The recorder whose sites count calls in per-thread cells that [`publish`]
/// and [`render_histograms`] read at scrape time, instead of updating the
/// recorder's handles on every call. Set by our exporter, which publishes
/// before every render.
static PUBLISHED: OnceLock<RecorderId> = OnceLock::new();

/// Every `SiteMetrics` ever registered, newest first.
static ALL_SITES: LeakedList<SiteMetrics> = LeakedList::new();

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
    // Without a probe thread the recorder keeps per-call handles: slower
    // calls, same output.
    if let Some(global) = recorder::probe() {
        let _ = PUBLISHED.set(global);
    }
    Ok(())
}

/// Calls `f` on every site whose counts are published at scrape time.
fn for_each_published(mut f: impl FnMut(&'static SiteMetrics, &'static PublishedCells)) {
    for site in ALL_SITES.iter() {
        if let Some(cells) = &site.published {
            f(site, cells);
        }
    }
}

/// Copies every per-thread count of the published sites into their handles:
/// `function_calls_concurrent` gauges are set to the calls in flight,
/// `function_calls_total` counters to their totals. The exporter calls this
/// before rendering.
pub(crate) fn publish() {
    for_each_published(SiteMetrics::publish);
}

/// Appends the `function_calls_duration_seconds` family of the published
/// sites, rendered from their per-thread cells.
pub(crate) fn render_histograms(out: &mut String) {
    let mut series = Vec::new();
    for_each_published(|_, cells| series.push((cells.label_text.as_str(), &cells.duration)));
    series.sort_unstable_by_key(|(labels, _)| *labels);
    histogram::render_family(series, out);
}

/// The `function_calls_total` counters of one (site, caller) pair.
pub(crate) struct EdgeMetrics {
    caller: usize,
    caller_function: &'static str,
    caller_module: &'static str,
    /// Ok, error and cancelled.
    calls: [Counter; 3],
    /// Cells for ok, error and cancelled when counts are published at scrape time.
    cells: Option<[CellId; 3]>,
}

impl SiteMetrics {
    /// The handles of `site`'s labels under `recorder`, the global one,
    /// registered if there are none; `None` if `recorder` is no longer this
    /// thread's current recorder.
    pub(crate) fn find_or_register(
        labels: [Label; 3],
        objective: Option<&'static Objective>,
        recorder: RecorderId,
    ) -> Option<&'static SiteMetrics> {
        let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
        warn_if_threshold_is_not_a_bucket(&labels, objective);
        if let Some(known) = ALL_SITES
            .iter()
            .find(|known| known.recorder == recorder && known.labels == labels)
        {
            return Some(known);
        }
        let published = (PUBLISHED.get() == Some(&recorder))
            .then(DurationCells::allocate)
            .flatten()
            .map(|duration| PublishedCells {
                in_flight: CellId::allocate(1),
                duration,
                label_text: label_text(&labels::duration_labels(&labels, objective)),
                #[cfg(feature = "stats")]
                stats: LeakedRef::new(),
            });
        let registered = recorder::with_recorder_of(recorder, |r| SiteMetrics {
            recorder,
            // Published sites never touch the recorder's histogram: the
            // exporter renders theirs from `published.duration`.
            duration: if published.is_some() {
                Histogram::noop()
            } else {
                r.register_histogram(&labels::duration_key(&labels, objective), &METADATA)
            },
            concurrent: r.register_gauge(&labels::concurrent_key(&labels), &METADATA),
            published,
            edges: LeakedList::new(),
            labels,
            objective,
        })?;
        let site = ALL_SITES.push(registered);
        #[cfg(feature = "stats")]
        if let Some(cells) = &site.published {
            if let Some(series) = crate::stats::function(site) {
                cells.stats.store(series);
            }
        }
        Some(site)
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
        let index = labels::result_index(outcome);
        if let (Some(cells), Some(calls)) = (&self.published, edge.cells) {
            let (bucket, sum) = cells.duration.cells_for(wall_nanos);
            striped::add_all([
                (calls[index], 1),
                (cells.in_flight, 1_u64.wrapping_neg()),
                (bucket, 1),
                (sum, wall_nanos),
            ]);
            #[cfg(feature = "stats")]
            if let Some(stats) = cells.stats.load() {
                striped::add(stats.bucket(wall_nanos), 1);
            }
        } else {
            // Exact below 2^53 ns (104 days).
            #[allow(clippy::cast_precision_loss)]
            self.duration.record(wall_nanos as f64 * 1e-9);
            edge.calls[index].increment(1);
            self.concurrent.decrement(1.0);
        }
    }

    /// The `function` and `module` labels.
    #[cfg(feature = "stats")]
    pub(crate) fn function_and_module(&self) -> (&str, &str) {
        (self.labels[0].value(), self.labels[1].value())
    }

    /// Calls ended so far by outcome (ok, error, cancelled) over all
    /// callers, and the sum of their durations in nanoseconds, from the
    /// per-thread cells (zeros for a site without them).
    #[cfg(feature = "stats")]
    pub(crate) fn totals(&self) -> ([u64; 3], u64) {
        let Some(cells) = &self.published else {
            return ([0; 3], 0);
        };
        let mut outcomes = [0_u64; 3];
        for edge in self.edges.iter() {
            if let Some(calls) = edge.cells {
                for (total, cell) in outcomes.iter_mut().zip(calls) {
                    *total = total.wrapping_add(striped::sum(cell));
                }
            }
        }
        (outcomes, striped::sum(cells.duration.sum_cell()))
    }

    fn publish(&self, cells: &PublishedCells) {
        self.concurrent
            .set(in_flight_gauge(striped::sum(cells.in_flight)));
        for edge in self.edges.iter() {
            edge.publish();
        }
    }

    #[inline]
    pub(crate) fn recorder(&self) -> RecorderId {
        self.recorder
    }

    /// The counters for calls made from `caller` (`None` for a request root).
    /// `key` identifies the caller (see [`Caller::key`]); `caller` gives its
    /// labels, read only the first time.
    #[inline]
    pub(crate) fn edge(&self, key: usize, caller: impl FnOnce() -> Caller) -> &'static EdgeMetrics {
        match self.edges.iter().find(|edge| edge.caller == key) {
            Some(edge) => edge,
            None => self.add_edge(caller()),
        }
    }

    #[cold]
    #[inline(never)]
    fn add_edge(&self, caller: Caller) -> &'static EdgeMetrics {
        let _serial = REGISTER.lock().unwrap_or_else(PoisonError::into_inner);
        let (key, caller_function, caller_module) = (caller.key, caller.function, caller.module);
        // Registered meanwhile, or another caller site with the same labels
        // already has counters: share its cells, so both count into one series.
        let mut twin = None;
        for edge in self.edges.iter() {
            if edge.caller == key {
                return edge;
            }
            if edge.caller_function == caller_function && edge.caller_module == caller_module {
                twin = Some(edge);
            }
        }
        if let Some(edge) = twin {
            return self.edges.push(EdgeMetrics {
                caller: key,
                calls: edge.calls.clone(),
                ..*edge
            });
        }
        // Counters come from this site's own recorder; if another one has
        // been installed since, that recorder is out of reach and the
        // (stale) edge counts nowhere.
        let calls = recorder::with_recorder_of(self.recorder, |r| {
            RESULTS.map(|result| {
                let key = labels::calls_key(&self.labels, result, caller, self.objective);
                r.register_counter(&key, &METADATA)
            })
        })
        .unwrap_or_else(|| [Counter::noop(), Counter::noop(), Counter::noop()]);
        self.edges.push(EdgeMetrics {
            caller: key,
            caller_function,
            caller_module,
            calls,
            cells: self.published.as_ref().map(|_| {
                let first = CellId::allocate(3);
                [first, first.offset(1), first.offset(2)]
            }),
        })
    }
}

/// Calls in flight of the function labelled `function` in `module`, over
/// its sites whose counts are published at scrape time; `None` if it has
/// none.
pub(crate) fn in_flight(function: &str, module: &str) -> Option<u64> {
    let mut found = None;
    for_each_published(|site, cells| {
        if site.labels[0].value() == function && site.labels[1].value() == module {
            #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
            let count = (striped::sum(cells.in_flight) as i64).max(0) as u64;
            found = Some(found.unwrap_or(0) + count);
        }
    });
    found
}

/// The `function_calls_concurrent` value for a summed in-flight cell.
///
/// The sum is a wrapping sum of +1s and -1s, read one thread's cell at a
/// time, so a call that moves between threads while it is summed (started
/// on a cell already read, ended on one read later) can make it dip below
/// zero for one scrape; no call is in flight fewer than zero times.
fn in_flight_gauge(sum: u64) -> f64 {
    // Reinterpret as signed; far below 2^53 in any real process.
    #[allow(clippy::cast_possible_wrap, clippy::cast_precision_loss)]
    let in_flight = (sum as i64).max(0) as f64;
    in_flight
}

impl EdgeMetrics {
    fn publish(&self) {
        if let Some(cells) = self.cells {
            for (counter, cell) in self.calls.iter().zip(cells) {
                counter.absolute(striped::sum(cell));
            }
        }
    }
}

/// The labels as the Prometheus text format writes them, without braces.
/// Says so, once per site registration, when an objective's latency target
/// is not a bucket of the configured histogram (custom buckets, objective
/// not declared with `ExporterBuilder::objective`): no rule can evaluate it.
#[cold]
fn warn_if_threshold_is_not_a_bucket(labels: &[Label; 3], objective: Option<&Objective>) {
    let Some((objective, (latency, _))) =
        objective.and_then(|o| o.latency_target().map(|t| (o, t)))
    else {
        return;
    };
    if !histogram::is_bound(latency.seconds()) {
        tracing::warn!(
            target: "trace_runtime::objective",
            function = labels[0].value(),
            objective = objective.name(),
            threshold_seconds = latency.seconds(),
            "the objective's latency target is not one of the histogram buckets: add it to ExporterBuilder::buckets, or declare the objective with ExporterBuilder::objective to have install check it"
        );
    }
}

/// Labels the exporter adds to every series, by name: a series' own label
/// of the same name wins.
static GLOBAL_LABELS: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Sets the global labels, before any call site registers under the
/// exporter; only the first call counts.
pub(crate) fn set_global_labels(labels: Vec<(String, String)>) {
    let _ = GLOBAL_LABELS.set(labels);
}

/// The global labels alone, rendered, for families with no labels of their
/// own (the process metrics).
#[cfg_attr(not(feature = "process"), allow(dead_code))]
pub(crate) fn global_label_text() -> String {
    label_text(&[])
}

/// The label list of a series rendered by us, ordered as the exporter
/// orders its own series: global labels first (a series' own value replacing
/// the global one in place), then the series' other labels.
fn label_text(labels: &[Label]) -> String {
    let globals = GLOBAL_LABELS.get().map_or(&[][..], Vec::as_slice);
    let own = |name: &str| labels.iter().find(|l| l.key() == name).map(Label::value);
    globals
        .iter()
        .map(|(name, value)| (name.as_str(), own(name).unwrap_or(value)))
        .chain(
            labels
                .iter()
                .filter(|l| globals.iter().all(|(name, _)| l.key() != name))
                .map(|l| (l.key(), l.value())),
        )
        .map(|(name, value)| format!("{name}=\"{}\"", sanitize_label_value(value)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
// The values compared are small whole numbers, exact in `f64`.
#[allow(clippy::float_cmp)]
mod tests {
    use metrics::Recorder as _;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::{in_flight_gauge, PublishedCells, SiteMetrics};
    use crate::metrics::histogram::{self, DurationCells};
    use crate::metrics::labels::{self, METADATA};
    use crate::metrics::leaked_list::LeakedList;
    #[cfg(feature = "stats")]
    use crate::metrics::leaked_list::LeakedRef;
    use crate::metrics::recorder;
    use crate::metrics::striped::{self, CellId};

    #[test]
    fn a_negative_in_flight_sum_publishes_as_zero() {
        assert_eq!(in_flight_gauge(0), 0.0);
        assert_eq!(in_flight_gauge(3), 3.0);
        assert_eq!(in_flight_gauge(1_u64.wrapping_neg()), 0.0);
        assert_eq!(in_flight_gauge(5_u64.wrapping_neg()), 0.0);
    }

    #[test]
    fn publishing_never_sets_the_in_flight_gauge_below_zero() {
        histogram::configure(&[0.1, 1.0]);
        let debugging = DebuggingRecorder::new();
        let snapshotter = debugging.snapshotter();
        let labels = [
            metrics::Label::new("function", "moved"),
            metrics::Label::new("module", "tests"),
            metrics::Label::new("service_name", "tests"),
        ];
        let cells = PublishedCells {
            in_flight: CellId::allocate(1),
            duration: DurationCells::allocate().expect("bounds are configured"),
            label_text: String::new(),
            #[cfg(feature = "stats")]
            stats: LeakedRef::new(),
        };
        let in_flight = cells.in_flight;
        let site = SiteMetrics {
            recorder: recorder::current(),
            duration: metrics::Histogram::noop(),
            concurrent: debugging.register_gauge(&labels::concurrent_key(&labels), &METADATA),
            published: None,
            edges: LeakedList::new(),
            labels,
            objective: None,
        };
        let gauge = || {
            let values: Vec<_> = snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(_, _, _, value)| value)
                .collect();
            match values.as_slice() {
                [DebugValue::Gauge(v)] => v.into_inner(),
                other => panic!("one gauge expected, got {other:?}"),
            }
        };
        // A call that started on a thread whose cell was summed already and
        // ended on this one, whose cell was not: the sum reads -1.
        striped::add(in_flight, 1_u64.wrapping_neg());
        site.publish(&cells);
        assert_eq!(gauge(), 0.0);
        striped::add(in_flight, 3);
        site.publish(&cells);
        assert_eq!(gauge(), 2.0);
    }
}
