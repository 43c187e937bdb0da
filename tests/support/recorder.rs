//! One global `DebuggingRecorder` per test binary, read back as running
//! totals.
//!
//! A debugging snapshot resets counters and gauges and drains histograms, so
//! every snapshot is folded into totals kept under one lock: parallel tests
//! never lose each other's values. Gauges only move by increments under this
//! recorder, so their folded sum is their current value. Each test reads the
//! series of functions whose names are unique to it.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;

/// The labels of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// A metric name and its labels.
pub type Series = (String, Labels);

/// Everything recorded so far.
#[derive(Default)]
pub struct Totals {
    /// Counter totals.
    pub counters: BTreeMap<Series, u64>,
    /// Gauge values.
    pub gauges: BTreeMap<Series, f64>,
    /// Every histogram sample.
    pub histograms: BTreeMap<Series, Vec<f64>>,
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
            .expect("the debugging recorder is the only global recorder of this test binary");
        Store {
            snapshotter,
            totals: Mutex::new(Totals::default()),
        }
    })
}

/// Installs the recorder (once per binary); call before the measured calls.
pub fn install() {
    store();
}

/// Folds a fresh snapshot into the totals and reads them.
pub fn with_totals<R>(read: impl FnOnce(&Totals) -> R) -> R {
    let store = store();
    let mut totals = store.totals.lock().unwrap_or_else(PoisonError::into_inner);
    for (key, _, _, value) in store.snapshotter.snapshot().into_vec() {
        let (kind, key) = key.into_parts();
        let labels = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        let series = (key.name().to_owned(), labels);
        match (kind, value) {
            (MetricKind::Counter, DebugValue::Counter(n)) => {
                *totals.counters.entry(series).or_default() += n;
            }
            (MetricKind::Gauge, DebugValue::Gauge(v)) => {
                *totals.gauges.entry(series).or_default() += v.into_inner();
            }
            (MetricKind::Histogram, DebugValue::Histogram(values)) => {
                let all = totals.histograms.entry(series).or_default();
                all.extend(values.into_iter().map(f64::from));
            }
            _ => {}
        }
    }
    read(&totals)
}
