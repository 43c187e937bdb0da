//! This project: `#[trace_runtime::trace]` on every function, in four
//! run-time configurations: the default path (each tree rendered and logged
//! through a `tracing_subscriber::fmt` subscriber, as the README sets it
//! up, writing to a counting `io::sink`), trees built and delivered to a
//! sink that takes the data but not rendered, metrics only
//! (`TreeConfig::collect(false)`), and switched off (`set_enabled(false)`).

use std::sync::atomic::{AtomicU64, Ordering};

use trace_runtime::tree::CallTree;
use trace_runtime::TreeConfig;

use crate::check;
use crate::counting;

crate::workload::tree_workload!(#[trace_runtime::trace]);

/// Which run-time configuration of the runtime is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The default path: trees rendered and logged by a fmt subscriber.
    Logged,
    /// Trees built and delivered to a sink that takes the data, not
    /// rendered or logged.
    Built,
    /// [`Mode::Built`], with live statistics on (set when the recorder is
    /// installed, see [`Mode::stats`]).
    BuiltStats,
    /// Trees switched off: metrics (with caller labels) only.
    MetricsOnly,
    /// Instrumentation switched off at run time.
    Off,
}

impl Mode {
    /// Whether the exporter keeps live statistics.
    pub fn stats(self) -> bool {
        self == Mode::BuiltStats
    }
}

/// Trees the sink of [`Mode::Built`] (and of the other modes but
/// [`Mode::Logged`], which must see none) received.
static DELIVERED: AtomicU64 = AtomicU64::new(0);

/// Configures the runtime (and the subscriber) for `mode`.
pub fn setup(mode: Mode) {
    if mode == Mode::Logged {
        // `tracing_subscriber::fmt::init()` of the README, but for the
        // writer: every event formatted (timestamp, level, target, fields,
        // the rendered tree), then discarded. No colours, as for every
        // text formatter of the bench: the output is not a terminal, and
        // tracing-subscriber's default for them depends on which crates of
        // the workspace are built with it (its `ansi` feature).
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(counting::make)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
        return;
    }
    TreeConfig::current().log(false).apply();
    trace_runtime::tree::add_sink(|tree: &CallTree| {
        std::hint::black_box(tree.call_count());
        DELIVERED.fetch_add(1, Ordering::Relaxed);
    });
    match mode {
        Mode::Logged | Mode::Built | Mode::BuiltStats => {}
        Mode::MetricsOnly => TreeConfig::current().collect(false).apply(),
        Mode::Off => trace_runtime::set_enabled(false),
    }
}

/// After `requests` requests of `calls` traced calls in all: every call
/// counted and timed (none when off), and one tree per request logged (with
/// at least a line per call) or delivered, or none without trees.
pub fn check(mode: Mode, metrics: &str, requests: u64, calls: u64) -> Result<(), String> {
    match mode {
        Mode::Off => check::no_metrics(metrics)?,
        _ => check::metrics_count(metrics, calls, check::Histograms::Exact)?,
    }
    #[allow(clippy::cast_precision_loss)]
    let delivered = DELIVERED.load(Ordering::Relaxed) as f64;
    match mode {
        Mode::Logged => {
            // One write per event (the fmt layer formats into a buffer and
            // writes it at once), one event per tree.
            let (writes, _) = counting::written();
            #[allow(clippy::cast_precision_loss)]
            check::expect_count("fmt writes (one per tree)", writes as f64, requests)?;
            check::wrote("the fmt subscriber", requests, calls)
        }
        Mode::Built => check::expect_count("trees delivered", delivered, requests),
        Mode::BuiltStats => {
            check::expect_count("trees delivered", delivered, requests)?;
            let stats = trace_runtime::stats::snapshot();
            let counted: u64 = stats.functions.iter().map(|f| f.lifetime.count).sum();
            #[allow(clippy::cast_precision_loss)]
            check::expect_count("calls in the live stats", counted as f64, calls)
        }
        Mode::MetricsOnly | Mode::Off => check::expect_count("trees delivered", delivered, 0),
    }
}
