//! Live statistics per traced function and per HTTP route: counts, errors,
//! cancellations, the sum, mean, extremes and p50/p90/p95/p99 of call
//! durations, over the process's lifetime and over a recent window.
//!
//! Off until [`ExporterBuilder::stats`](crate::ExporterBuilder::stats)
//! turns them on (cargo feature `stats`); then [`snapshot`] reads them, and
//! [`Stats::to_json`] serialises them.
//!
//! ```
//! use std::time::Duration;
//! use trace_runtime::trace;
//!
//! #[trace]
//! fn lookup(id: u32) -> Result<u32, String> {
//!     if id == 0 { Err("no such id".to_owned()) } else { Ok(id) }
//! }
//!
//! trace_runtime::ExporterBuilder::new()
//!     .stats(Duration::from_secs(60))
//!     .install()?;
//! for id in 0..10 {
//!     let _ = lookup(id);
//! }
//! let stats = trace_runtime::stats::snapshot();
//! let lookup = stats.functions.iter().find(|f| f.name == "lookup").unwrap();
//! assert_eq!((lookup.lifetime.count, lookup.lifetime.errors), (10, 1));
//! assert_eq!(lookup.recent.count, 10);
//! assert!(lookup.lifetime.p99 >= lookup.lifetime.p50);
//! assert!(stats.to_json().starts_with("{\"window_seconds\":60.0,"));
//! # Ok::<(), trace_runtime::exporter::ExportError>(())
//! ```
//!
//! # How they are kept
//! Each call that ends adds 1 to one of its function's 2,304 log-linear
//! duration buckets (its outcome and duration are already counted for the
//! metrics, and read from there) (exact below 128 ns, then 64 per power of two up to 2^41 ns,
//! about 37 minutes; longer calls count in the last bucket). The cells
//! are per thread (the same cells the exporter's counters use), so a call
//! writes memory no other thread writes: no locked instruction, no shared
//! cache line. Every duration but the sum is read from the buckets, hence
//! within [`RELATIVE_ERROR`] (0.79 %) of the true value. A series takes
//! 18 KiB per thread that ends calls of it, whatever the number of calls.
//!
//! The recent window is a difference of totals: a thread takes every
//! series' totals six times per window and keeps those of the last window;
//! the recent summary is the current totals minus the oldest kept ones, so
//! it covers the last 5/6 to 6/6 of the window.

mod buckets;
pub(crate) mod series;
mod summary;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;

pub use summary::Summary;

use summary::seconds;

use crate::clock::Instant;
use crate::metrics::handles::SiteMetrics;
use series::{Series, Subject};

/// The largest relative error of every duration in a [`Summary`] but the
/// sum: 1/128.
pub const RELATIVE_ERROR: f64 = buckets::RELATIVE_ERROR;

/// Whether series are being kept.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The recent window, in nanoseconds.
static WINDOW: AtomicU64 = AtomicU64::new(0);
/// The ticking thread, started once.
static TICKER: OnceLock<()> = OnceLock::new();

/// Turns statistics on with a recent window of `window` (validated by the
/// builder: at least [`MIN_WINDOW`]) and starts the thread that ticks six
/// times per window.
pub(crate) fn enable(window: Duration) -> std::io::Result<()> {
    let nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
    WINDOW.store(nanos, Ordering::Relaxed);
    ENABLED.store(true, Ordering::Release);
    let mut spawned = Ok(());
    TICKER.get_or_init(|| {
        spawned = std::thread::Builder::new()
            .name("trace-runtime-stats".to_owned())
            .spawn(tick_forever)
            .map(drop);
    });
    spawned
}

/// The shortest recent window accepted.
pub const MIN_WINDOW: Duration = Duration::from_millis(60);

fn tick_forever() {
    loop {
        let window = WINDOW.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_nanos(window / 6));
        let now = Instant::now();
        for series in series::all() {
            series.tick(now, window);
        }
    }
}

/// Whether new functions and routes get a series.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// The series of a function, for a call site registering its metrics.
pub(crate) fn function(site: &'static SiteMetrics) -> Option<&'static Series> {
    let (name, module) = site.function_and_module();
    enabled().then(|| Series::register(Subject::Function, name, module, Some(site)))
}

/// The series of an HTTP route (`METHOD /template`), shared by every layer.
#[cfg(feature = "tower")]
pub(crate) fn route(name: &str) -> Option<&'static Series> {
    static REGISTER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    /// Routes with a series at most (a route set is code; this only bounds
    /// a `route_with` function returning unbounded names).
    const MAX_ROUTES: usize = 4096;
    if !enabled() {
        return None;
    }
    let _serial = REGISTER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Series::find(Subject::Route, name).or_else(|| {
        let routes = series::all()
            .filter(|s| s.subject == Subject::Route)
            .count();
        (routes < MAX_ROUTES).then(|| Series::register(Subject::Route, name, "", None))
    })
}

/// The statistics of every traced function and HTTP route so far.
///
/// Empty until [`ExporterBuilder::stats`](crate::ExporterBuilder::stats)
/// turned them on; functions first called before that have none.
#[must_use]
pub fn snapshot() -> Stats {
    let window = WINDOW.load(Ordering::Relaxed);
    let now = Instant::now();
    let mut functions = Vec::new();
    let mut routes = Vec::new();
    for series in series::all() {
        let totals = series.totals();
        let entry = FunctionStats {
            name: series.name.to_string(),
            module: series.module.to_string(),
            recent: Summary::of(&series.recent(now, &totals, window)),
            lifetime: Summary::of(&totals),
        };
        match series.subject {
            Subject::Function => functions.push(entry),
            Subject::Route => routes.push(entry),
        }
    }
    let order =
        |a: &FunctionStats, b: &FunctionStats| (&a.name, &a.module).cmp(&(&b.name, &b.module));
    functions.sort_by(order);
    routes.sort_by(order);
    Stats {
        window: Duration::from_nanos(window),
        relative_error: RELATIVE_ERROR,
        functions,
        routes,
    }
}

/// What [`snapshot`] returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// The recent window (zero when statistics are off).
    #[serde(rename = "window_seconds", serialize_with = "seconds")]
    pub window: Duration,
    /// The largest relative error of the durations ([`RELATIVE_ERROR`]).
    pub relative_error: f64,
    /// Traced functions, by name then module.
    pub functions: Vec<FunctionStats>,
    /// HTTP routes (`METHOD /template`) of
    /// [`TraceLayer`](crate::http::TraceLayer)s, by name.
    pub routes: Vec<FunctionStats>,
}

impl Stats {
    /// The statistics as one line of JSON: durations in seconds, `null`
    /// for the durations of a summary without calls.
    ///
    /// ```
    /// let json = trace_runtime::stats::Stats::default().to_json();
    /// assert_eq!(json, r#"{"window_seconds":0.0,"relative_error":0.0,"functions":[],"routes":[]}"#);
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising these types to a string cannot fail: no map has a
        // non-string key and every float is finite.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One function's (or route's) statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FunctionStats {
    /// The `function` label (a route: `METHOD /template`).
    pub name: String,
    /// The `module` label (empty for a route).
    pub module: String,
    /// Since the process started.
    pub lifetime: Summary,
    /// Over the recent window.
    pub recent: Summary,
}
