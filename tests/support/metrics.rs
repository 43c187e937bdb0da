//! Recording traced calls with a `DebuggingRecorder` and reading back what
//! it recorded as a [`Snapshot`].
//!
//! [`capture`] runs a closure under a fresh local recorder, so a test sees
//! exactly its own calls whatever runs in parallel. A local recorder is per
//! thread: every traced call to be captured must run on the thread running
//! the closure, e.g. on a [`current_thread`] runtime built inside it.
//! [`install_global`] and [`global`] are for the tests that need the
//! process-global recorder instead (see [`recorder`]); they say why.

use std::cell::RefCell;

use metrics_util::debugging::{DebuggingRecorder, Snapshotter};

use crate::recorder;

pub use crate::snapshot::{
    call_line, concurrent_line, duration_line, ok, Labels, Snapshot, ROOT, SERVICE,
};

/// A running capture: its recorder's snapshotter and what it read so far.
struct Capture {
    snapshotter: Snapshotter,
    recorded: Snapshot,
}

thread_local! {
    /// The captures running on this thread, innermost last.
    static CAPTURES: RefCell<Vec<Capture>> = const { RefCell::new(Vec::new()) };
}

/// Pops the innermost capture, also when its closure panics.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        CAPTURES.with(|c| c.borrow_mut().pop());
    }
}

/// Runs `f` with a fresh `DebuggingRecorder` as this thread's local
/// recorder, and returns everything it recorded.
pub fn capture(f: impl FnOnce()) -> Snapshot {
    let recorder = DebuggingRecorder::new();
    CAPTURES.with(|c| {
        c.borrow_mut().push(Capture {
            snapshotter: recorder.snapshotter(),
            recorded: Snapshot::default(),
        });
    });
    let pop = Pop;
    ::metrics::with_local_recorder(&recorder, f);
    let recorded = so_far();
    drop(pop);
    recorded
}

/// What the innermost [`capture`] running on this thread recorded so far.
///
/// # Panics
/// Outside a capture.
#[must_use]
pub fn so_far() -> Snapshot {
    CAPTURES.with(|c| {
        let mut captures = c.borrow_mut();
        let capture = captures.last_mut().expect("called inside `capture`");
        capture.recorded.fold(&capture.snapshotter);
        capture.recorded.clone()
    })
}

/// A current-thread tokio runtime with time enabled: its tasks run on the
/// thread that blocks on it, under that thread's local recorder.
///
/// # Panics
/// If the runtime cannot be built.
#[must_use]
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
}

/// Installs a `DebuggingRecorder` as the global recorder (once per test
/// binary); call it before the calls it is to see.
pub fn install_global() {
    recorder::install();
}

/// Everything the global recorder of [`install_global`] recorded so far, in
/// every test of the binary: each test reads only the functions it calls.
#[must_use]
pub fn global() -> Snapshot {
    recorder::with_totals(Snapshot::clone)
}
