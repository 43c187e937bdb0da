//! One global `DebuggingRecorder` per test binary, read back as running
//! totals, for the tests that need the process-global recorder: calls spread
//! over many threads, or a recorder installed after calls ran. Other tests
//! use [`metrics::capture`](crate::metrics::capture).
//!
//! A debugging snapshot resets counters and gauges and drains histograms, so
//! every snapshot is folded into totals kept under one lock: parallel tests
//! never lose each other's values. Each test reads the series of functions
//! whose names are unique to it.

use std::sync::{Mutex, OnceLock, PoisonError};

use metrics_util::debugging::{DebuggingRecorder, Snapshotter};

use crate::snapshot::Snapshot;

struct Store {
    snapshotter: Snapshotter,
    totals: Mutex<Snapshot>,
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
            totals: Mutex::new(Snapshot::default()),
        }
    })
}

/// Installs the recorder (once per binary); call before the measured calls.
pub fn install() {
    store();
}

/// Folds a fresh snapshot into the totals and reads them.
pub fn with_totals<R>(read: impl FnOnce(&Snapshot) -> R) -> R {
    let store = store();
    let mut totals = store.totals.lock().unwrap_or_else(PoisonError::into_inner);
    totals.fold(&store.snapshotter);
    read(&totals)
}
