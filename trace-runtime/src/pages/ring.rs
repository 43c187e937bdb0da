//! [`RecentTrees`]: the trees the trace page shows, kept by a tree sink in
//! bounded memory: the slowest requests of a recent window, in two halves
//! of it, and the last failed ones.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::outcome::Outcome;
use crate::pages::retention::{Retention, RetentionError};
use crate::tree::truncate::Dropped;
use crate::tree::CallTree;

/// The longest root name kept, in bytes; longer ones are cut.
pub const MAX_KEPT_NAME: usize = 256;

/// One request's tree as kept: at most
/// [`max_nodes`](Retention::max_nodes) of its nodes.
///
/// ```
/// use trace_runtime::pages::{RecentTrees, Retention};
///
/// #[trace_runtime::trace]
/// fn load() {}
///
/// let recent = RecentTrees::install(Retention::default().max_nodes(10))?;
/// load();
/// let kept = &recent.slowest()[0];
/// assert_eq!(kept.tree().root().name(), "load");
/// assert_eq!((kept.number(), kept.dropped_nodes(), kept.failed()), (1, 0, false));
/// # trace_runtime::tree::clear_sinks();
/// # Ok::<(), trace_runtime::pages::RetentionError>(())
/// ```
#[derive(Debug)]
pub struct KeptTree {
    tree: CallTree,
    number: u64,
    finished: Instant,
    failed: bool,
    dropped: Dropped,
}

impl KeptTree {
    /// The kept copy of the tree.
    #[must_use]
    pub fn tree(&self) -> &CallTree {
        &self.tree
    }

    /// Which tree this was among those the ring was given, from 1.
    #[must_use]
    pub fn number(&self) -> u64 {
        self.number
    }

    /// When the ring received it (about when the request ended).
    #[must_use]
    pub fn finished(&self) -> Instant {
        self.finished
    }

    /// Whether the request failed: a call returned `Err` or panicked, or the
    /// request was cancelled.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Nodes of the tree past [`max_nodes`](Retention::max_nodes), not kept.
    #[must_use]
    pub fn dropped_nodes(&self) -> usize {
        self.dropped.nodes
    }

    /// The calls those nodes stood for.
    #[must_use]
    pub fn dropped_calls(&self) -> u64 {
        self.dropped.calls
    }

    fn wall(&self) -> Duration {
        self.tree.root().wall()
    }
}

/// The recent slowest and failed request trees, for the trace page.
///
/// [`install`](RecentTrees::install) makes one and adds it as a
/// [tree sink](crate::tree::add_sink), so it sees every delivered tree (after
/// the [`TreeFilter`](crate::tree::TreeFilter)). Memory is bounded: at most
/// twice [`slowest`](Retention::slowest) plus [`failed`](Retention::failed)
/// trees (a slow failed request is kept once for both), each of at most
/// [`max_nodes`](Retention::max_nodes) nodes and a root name of at most
/// [`MAX_KEPT_NAME`] bytes. A tree is copied only if it is kept; otherwise
/// a request costs one lock and a comparison.
///
/// ```
/// use trace_runtime::pages::{RecentTrees, Retention};
///
/// #[trace_runtime::trace]
/// fn checkout(fail: bool) -> Result<(), &'static str> {
///     if fail { Err("declined") } else { Ok(()) }
/// }
///
/// let recent = RecentTrees::install(Retention::default().slowest(5).failed(5))?;
/// checkout(false).unwrap();
/// checkout(true).unwrap_err();
/// assert_eq!(recent.slowest().len(), 2);
/// assert_eq!(recent.failed().len(), 1);
/// assert_eq!(recent.seen(), 2);
/// # trace_runtime::tree::clear_sinks();
/// # Ok::<(), trace_runtime::pages::RetentionError>(())
/// ```
pub struct RecentTrees {
    retention: Retention,
    half_window: Duration,
    seen: AtomicU64,
    kept: Mutex<Kept>,
}

/// The retention and the count seen, not the trees.
impl std::fmt::Debug for RecentTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentTrees")
            .field("retention", &self.retention)
            .field("seen", &self.seen())
            .finish_non_exhaustive()
    }
}

struct Kept {
    /// The half of the window in progress, and the one before it.
    current: Half,
    previous: Half,
    /// Oldest first.
    failed: VecDeque<Arc<KeptTree>>,
}

/// The slowest trees of one half of the window, slowest first.
struct Half {
    started: Instant,
    slowest: Vec<Arc<KeptTree>>,
}

impl Half {
    fn new(started: Instant) -> Half {
        Half {
            started,
            slowest: Vec::new(),
        }
    }

    fn would_keep(&self, wall: Duration, room: usize) -> bool {
        self.slowest.len() < room || self.slowest.last().is_some_and(|k| wall > k.wall())
    }

    fn insert(&mut self, kept: Arc<KeptTree>, room: usize) {
        let wall = kept.wall();
        let at = self.slowest.partition_point(|k| k.wall() >= wall);
        self.slowest.insert(at, kept);
        self.slowest.truncate(room);
    }
}

impl RecentTrees {
    /// A ring keeping what `retention` says, not yet receiving trees: give
    /// it trees with [`record`](Self::record), or use
    /// [`install`](Self::install).
    ///
    /// # Errors
    /// [`RetentionError`] for a setting out of its bounds.
    pub fn new(retention: Retention) -> Result<RecentTrees, RetentionError> {
        RecentTrees::starting_at(retention, Instant::now())
    }

    fn starting_at(retention: Retention, now: Instant) -> Result<RecentTrees, RetentionError> {
        let retention = retention.check()?;
        Ok(RecentTrees {
            retention,
            half_window: retention.window_kept() / 2,
            seen: AtomicU64::new(0),
            kept: Mutex::new(Kept {
                current: Half::new(now),
                previous: Half::new(now),
                failed: VecDeque::with_capacity(retention.failed_kept()),
            }),
        })
    }

    /// A ring as [`new`](Self::new) makes it, added as a tree sink: from now
    /// on every delivered tree reaches it (until
    /// [`clear_sinks`](crate::tree::clear_sinks)).
    ///
    /// # Errors
    /// [`RetentionError`] for a setting out of its bounds.
    pub fn install(retention: Retention) -> Result<Arc<RecentTrees>, RetentionError> {
        let recent = Arc::new(RecentTrees::new(retention)?);
        let sink = Arc::clone(&recent);
        crate::tree::add_sink(move |tree: &CallTree| sink.record(tree));
        Ok(recent)
    }

    /// What it keeps.
    #[must_use]
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Trees given to it so far, kept or not.
    #[must_use]
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// Takes a finished tree: keeps a copy if it is among the slowest of
    /// the current half window, or if the request failed.
    pub fn record(&self, tree: &CallTree) {
        self.record_at(tree, Instant::now());
    }

    fn record_at(&self, tree: &CallTree, now: Instant) {
        let number = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        let wall = tree.root().wall();
        let failed = tree.has_failure() || tree.root().outcome() == Some(Outcome::Cancelled);
        let slow_room = self.retention.slowest_kept();
        let failed_room = self.retention.failed_kept();
        let keep_failed = failed && failed_room > 0;
        let keep_slow = slow_room > 0 && self.lock_at(now).current.would_keep(wall, slow_room);
        if !keep_slow && !keep_failed {
            return;
        }
        // Copied outside the lock: other requests' trees need not wait.
        let (copy, dropped) = tree.truncated(self.retention.max_nodes_kept(), MAX_KEPT_NAME);
        let kept = Arc::new(KeptTree {
            tree: copy,
            number,
            finished: now,
            failed,
            dropped,
        });
        let mut guard = self.lock_at(now);
        if keep_slow {
            guard.current.insert(Arc::clone(&kept), slow_room);
        }
        if keep_failed {
            if guard.failed.len() == failed_room {
                guard.failed.pop_front();
            }
            guard.failed.push_back(kept);
        }
    }

    /// The slowest requests of the recent window, slowest first: at most
    /// [`slowest`](Retention::slowest).
    #[must_use]
    pub fn slowest(&self) -> Vec<Arc<KeptTree>> {
        self.slowest_at(Instant::now())
    }

    fn slowest_at(&self, now: Instant) -> Vec<Arc<KeptTree>> {
        let guard = self.lock_at(now);
        let mut all: Vec<Arc<KeptTree>> = (guard.current.slowest.iter())
            .chain(&guard.previous.slowest)
            .cloned()
            .collect();
        drop(guard);
        // Stable: of equal walls, the current half's first.
        all.sort_by_key(|k| std::cmp::Reverse(k.wall()));
        all.truncate(self.retention.slowest_kept());
        all
    }

    /// The last failed requests, newest first: at most
    /// [`failed`](Retention::failed).
    #[must_use]
    pub fn failed(&self) -> Vec<Arc<KeptTree>> {
        let guard = self.lock();
        guard.failed.iter().rev().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // Nothing is left half-done under the lock: a poisoned one is fine.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lock, with the halves moved on to `now`.
    fn lock_at(&self, now: Instant) -> MutexGuard<'_, Kept> {
        let mut guard = self.lock();
        let elapsed = now.saturating_duration_since(guard.current.started);
        if elapsed >= self.half_window * 2 {
            guard.previous = Half::new(now);
            guard.current = Half::new(now);
        } else if elapsed >= self.half_window {
            let started = guard.current.started + self.half_window;
            guard.previous = std::mem::replace(&mut guard.current, Half::new(started));
        }
        guard
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, Instant};

    use super::{RecentTrees, MAX_KEPT_NAME};
    use crate::outcome::Outcome;
    use crate::pages::Retention;
    use crate::tree::{CallTree, NodeData, RootInfo, RootName, NO_EXTRA, NO_TIME};

    /// A request named `name` of `wall_ms` whose `children` calls ended
    /// with `outcome`.
    fn request(name: String, wall_ms: u64, children: usize, outcome: Outcome) -> CallTree {
        request_ending(name, wall_ms, children, outcome, Outcome::Ok)
    }

    /// The same, its root ending with `root_outcome`.
    fn request_ending(
        name: String,
        wall_ms: u64,
        children: usize,
        outcome: Outcome,
        root_outcome: Outcome,
    ) -> CallTree {
        let node = |depth: u32, subtree: u32, outcome: Outcome| NodeData {
            name: "child",
            module: "m",
            depth,
            subtree,
            start_ticks: 0,
            wall_nanos: wall_ms * 1_000_000,
            own_nanos: 0,
            busy_nanos: NO_TIME,
            outcome: Some(outcome),
            slow: false,
            aggregate: false,
            calls: 1,
            failures: u64::from(outcome.is_failure()),
            extra: NO_EXTRA,
        };
        let subtree = u32::try_from(children + 1).unwrap();
        let mut nodes = vec![node(0, subtree, root_outcome)];
        nodes.extend((0..children).map(|_| node(1, 1, outcome)));
        let root = RootInfo {
            name: RootName::Text(Cow::Owned(name)),
            ..RootInfo::default()
        };
        CallTree::from_parts(root, nodes, 0, Vec::new())
    }

    fn ok(name: &str, wall_ms: u64) -> CallTree {
        request(name.to_owned(), wall_ms, 1, Outcome::Ok)
    }

    fn names(kept: &[std::sync::Arc<super::KeptTree>]) -> Vec<String> {
        kept.iter()
            .map(|k| k.tree().root().name().to_owned())
            .collect()
    }

    fn ring(retention: Retention, start: Instant) -> RecentTrees {
        RecentTrees::starting_at(retention, start).unwrap()
    }

    #[test]
    fn keeps_exactly_the_slowest_of_the_window() {
        let t0 = Instant::now();
        let recent = ring(Retention::default().slowest(3).failed(0), t0);
        // 10 requests of 1..=10 ms, in a scrambled order.
        for ms in [4, 9, 1, 7, 10, 2, 8, 3, 6, 5] {
            recent.record_at(&ok(&format!("r{ms}"), ms), t0);
        }
        assert_eq!(names(&recent.slowest_at(t0)), ["r10", "r9", "r8"]);
        assert_eq!(recent.seen(), 10);
        assert!(recent.failed().is_empty(), "no failed request was given");
    }

    #[test]
    fn the_older_half_of_the_window_is_forgotten_whole() {
        let t0 = Instant::now();
        let window = Duration::from_secs(60);
        let recent = ring(Retention::default().slowest(2).window(window), t0);
        recent.record_at(&ok("old-slow", 100), t0);
        recent.record_at(&ok("old-fast", 1), t0);
        // Next half: the older half's trees are still listed.
        let t1 = t0 + Duration::from_secs(30);
        recent.record_at(&ok("new", 50), t1);
        assert_eq!(names(&recent.slowest_at(t1)), ["old-slow", "new"]);
        // The half after: the first half is gone, the second stays.
        let t2 = t0 + Duration::from_secs(61);
        assert_eq!(names(&recent.slowest_at(t2)), ["new"]);
        // A whole window with nothing: everything is gone.
        let t3 = t2 + window;
        assert!(recent.slowest_at(t3).is_empty());
        recent.record_at(&ok("later", 1), t3);
        assert_eq!(names(&recent.slowest_at(t3)), ["later"]);
    }

    #[test]
    fn keeps_the_last_failed_requests_newest_first() {
        let t0 = Instant::now();
        let recent = ring(Retention::default().slowest(1).failed(3), t0);
        for i in 0..10 {
            let outcome = if i % 2 == 0 {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            recent.record_at(&request(format!("r{i}"), 1, 2, outcome), t0);
        }
        recent.record_at(&request("panicked".to_owned(), 1, 1, Outcome::Panic), t0);
        assert_eq!(names(&recent.failed()), ["panicked", "r8", "r6"]);
        assert!(recent.failed().iter().all(|k| k.failed()));
        assert_eq!(recent.failed()[1].number(), 9);
        assert_eq!(recent.slowest_at(t0).len(), 1);
    }

    #[test]
    fn a_cancelled_request_counts_as_failed() {
        let t0 = Instant::now();
        let recent = ring(Retention::default().slowest(0).failed(2), t0);
        let cancelled = request_ending(
            "cancelled".to_owned(),
            1,
            1,
            Outcome::Ok,
            Outcome::Cancelled,
        );
        recent.record_at(&cancelled, t0);
        recent.record_at(&ok("fine", 1), t0);
        assert_eq!(names(&recent.failed()), ["cancelled"]);
        assert!(recent.slowest_at(t0).is_empty(), "slowest(0) keeps none");
    }

    #[test]
    fn a_slow_failed_request_is_kept_once_for_both_lists() {
        let t0 = Instant::now();
        let recent = ring(Retention::default().slowest(2).failed(2), t0);
        recent.record_at(&request("both".to_owned(), 9, 1, Outcome::Error), t0);
        let slow = recent.slowest_at(t0);
        let failed = recent.failed();
        assert!(std::sync::Arc::ptr_eq(&slow[0], &failed[0]));
    }

    #[test]
    fn kept_trees_are_bounded_in_nodes_and_name() {
        let t0 = Instant::now();
        let recent = ring(Retention::default().slowest(4).failed(4).max_nodes(5), t0);
        let long_name = "<".repeat(MAX_KEPT_NAME * 4);
        for i in 0..1000 {
            let outcome = if i % 3 == 0 {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            recent.record_at(&request(long_name.clone(), i, 50, outcome), t0);
        }
        let slow = recent.slowest_at(t0);
        let failed = recent.failed();
        assert_eq!((slow.len(), failed.len()), (4, 4));
        for kept in slow.iter().chain(&failed) {
            assert_eq!(kept.tree().iter().count(), 5);
            assert_eq!(kept.dropped_nodes(), 46);
            assert_eq!(kept.dropped_calls(), 46);
            assert_eq!(kept.tree().root().name().len(), MAX_KEPT_NAME);
        }
        let walls: Vec<u64> = slow
            .iter()
            .map(|k| u64::try_from(k.tree().root().wall().as_millis()).unwrap())
            .collect();
        assert_eq!(walls, [999, 998, 997, 996]);
    }
}
