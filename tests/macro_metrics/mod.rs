//! Metrics of the macro tests, read back by function label.
//!
//! One `DebuggingRecorder` is installed per test binary. Its snapshots reset
//! counters and drain histograms, so every snapshot is folded into running
//! totals under one lock: parallel tests never lose each other's values, and
//! each test reads only the labels of the functions it calls (all distinct).
// Each test binary that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;

/// The labels of one metric, sorted by name.
pub type Labels = BTreeMap<String, String>;

#[derive(Default)]
struct Totals {
    counters: BTreeMap<(String, Labels), u64>,
    histograms: BTreeMap<(String, Labels), Vec<f64>>,
}

struct Store {
    snapshotter: Snapshotter,
    totals: Mutex<Totals>,
}

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("no other recorder in the macro test binaries");
        Store {
            snapshotter,
            totals: Mutex::new(Totals::default()),
        }
    })
}

/// Installs the recorder; call before the traced calls a test measures.
pub fn install() {
    store();
}

fn with_totals<R>(read: impl FnOnce(&Totals) -> R) -> R {
    let store = store();
    let mut totals = store.totals.lock().unwrap_or_else(PoisonError::into_inner);
    for (key, _, _, value) in store.snapshotter.snapshot().into_vec() {
        let (kind, key) = key.into_parts();
        let labels: Labels = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        let id = (key.name().to_owned(), labels);
        match (kind, value) {
            (MetricKind::Counter, DebugValue::Counter(n)) => {
                *totals.counters.entry(id).or_default() += n;
            }
            (MetricKind::Histogram, DebugValue::Histogram(values)) => {
                let all = totals.histograms.entry(id).or_default();
                all.extend(values.into_iter().map(f64::from));
            }
            _ => {}
        }
    }
    read(&totals)
}

/// `function_calls_total` for `function`, per `result` label, summed over
/// callers: e.g. `[("error", 1), ("ok", 2)]`.
pub fn calls(function: &str) -> Vec<(String, u64)> {
    let mut by_result: BTreeMap<String, u64> = BTreeMap::new();
    with_totals(|totals| {
        for ((name, labels), n) in &totals.counters {
            if name == "function_calls_total" && labels["function"] == function {
                *by_result.entry(labels["result"].clone()).or_default() += n;
            }
        }
    });
    by_result.into_iter().filter(|(_, n)| *n > 0).collect()
}

/// Shorthand for the common expectation: `n` calls, all `ok`.
pub fn ok(n: u64) -> Vec<(String, u64)> {
    vec![("ok".to_owned(), n)]
}

/// The label sets of `function_calls_total` series for `function`.
pub fn call_labels(function: &str) -> Vec<Labels> {
    with_totals(|totals| {
        totals
            .counters
            .keys()
            .filter(|(name, labels)| {
                name == "function_calls_total" && labels["function"] == function
            })
            .map(|(_, labels)| labels.clone())
            .collect()
    })
}

/// Every `function_calls_duration_seconds` value recorded for `function`.
pub fn durations(function: &str) -> Vec<f64> {
    with_totals(|totals| {
        totals
            .histograms
            .iter()
            .filter(|((name, labels), _)| {
                name == "function_calls_duration_seconds" && labels["function"] == function
            })
            .flat_map(|(_, values)| values.iter().copied())
            .collect()
    })
}
