//! Capturing finished call trees by the name of their root.
//!
//! Sinks are global to a test binary, so [`capture_trees`] installs one sink,
//! once, that files every delivered tree under its root's name; a test then
//! reads back the trees of the roots it opened, which it names uniquely.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use trace_runtime::tree::CallTree;

/// How long [`wait_for_trees`] waits for trees still being finished elsewhere
/// (a detached thread or task that holds the request open).
const PATIENCE: Duration = Duration::from_secs(10);

static INSTALL: Once = Once::new();
static TREES: Mutex<BTreeMap<String, Vec<CallTree>>> = Mutex::new(BTreeMap::new());
static ARRIVED: Condvar = Condvar::new();

fn trees() -> MutexGuard<'static, BTreeMap<String, Vec<CallTree>>> {
    // A test that panics while holding the lock must not fail the others.
    TREES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the capturing sink (once per process). Call it before opening the
/// requests to capture: requests that start while nobody listens for trees
/// collect none.
pub fn capture_trees() {
    INSTALL.call_once(|| {
        trace_runtime::tree::add_sink(|tree: &CallTree| {
            trees()
                .entry(tree.root().name().to_owned())
                .or_default()
                .push(tree.clone());
            ARRIVED.notify_all();
        });
    });
}

/// Removes and returns the trees delivered so far whose root is named `root`.
#[must_use]
pub fn take_trees(root: &str) -> Vec<CallTree> {
    trees().remove(root).unwrap_or_default()
}

/// Waits until at least `count` trees named `root` have been delivered, then
/// removes and returns all of them.
///
/// # Panics
/// If they have not all arrived within 10 seconds.
#[must_use]
pub fn wait_for_trees(root: &str, count: usize) -> Vec<CallTree> {
    let deadline = Instant::now() + PATIENCE;
    let mut guard = trees();
    loop {
        let have = guard.get(root).map_or(0, Vec::len);
        if have >= count {
            return guard.remove(root).unwrap_or_default();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "waited {PATIENCE:?} for {count} tree(s) named {root:?}, got {have}"
        );
        guard = ARRIVED
            .wait_timeout(guard, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// The one tree delivered for the root named `root`, waiting for it if needed.
///
/// # Panics
/// If no tree arrives within 10 seconds, or more than one has arrived.
#[must_use]
pub fn one_tree(root: &str) -> CallTree {
    let mut found = wait_for_trees(root, 1);
    assert_eq!(found.len(), 1, "expected one tree named {root:?}");
    found.remove(0)
}
