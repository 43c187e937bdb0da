//! How many trees the trace page keeps, and for how long: [`Retention`],
//! checked into [`RetentionError`]s when the ring is made.

use std::fmt;
use std::time::Duration;

/// The most trees of one kind (slowest, failed) a ring may keep.
pub const MAX_KEPT: usize = 1000;
/// The most nodes a kept tree may keep.
pub const MAX_KEPT_NODES: usize = 10_000;
/// The shortest [`Retention::window`].
pub const MIN_WINDOW: Duration = Duration::from_secs(1);
/// The longest [`Retention::window`].
pub const MAX_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// What [`RecentTrees`](crate::pages::RecentTrees) keeps: the `slowest`
/// requests of the last `window`, the last `failed` ones whenever they
/// happened, and at most `max_nodes` nodes of each.
///
/// ```
/// use std::time::Duration;
/// use trace_runtime::pages::Retention;
///
/// let retention = Retention::default()
///     .slowest(50)
///     .failed(10)
///     .window(Duration::from_secs(600))
///     .max_nodes(300);
/// assert_eq!(retention.slowest_kept(), 50);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    slowest: usize,
    failed: usize,
    window: Duration,
    max_nodes: usize,
}

impl Default for Retention {
    /// The 20 slowest of the last 5 minutes, the last 20 failed, 200 nodes
    /// each.
    fn default() -> Self {
        Retention {
            slowest: 20,
            failed: 20,
            window: Duration::from_secs(300),
            max_nodes: 200,
        }
    }
}

impl Retention {
    /// How many of the slowest recent requests to keep (0 keeps none), at
    /// most [`MAX_KEPT`].
    #[must_use]
    pub fn slowest(mut self, count: usize) -> Self {
        self.slowest = count;
        self
    }

    /// How many of the last failed requests to keep (0 keeps none), at most
    /// [`MAX_KEPT`]. A request failed when one of its calls returned `Err`
    /// or panicked (a 5xx response marks the HTTP root `err`), or when it
    /// was cancelled.
    #[must_use]
    pub fn failed(mut self, count: usize) -> Self {
        self.failed = count;
        self
    }

    /// How far back the slowest requests are looked for, between
    /// [`MIN_WINDOW`] and [`MAX_WINDOW`]. The ring keeps it as two halves
    /// and forgets the older half whole, so a request stays listed for at
    /// least half the window and at most all of it.
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How many nodes of each kept tree to keep, from 1 (the root alone) to
    /// [`MAX_KEPT_NODES`]; the rest are counted, in depth-first order.
    #[must_use]
    pub fn max_nodes(mut self, max: usize) -> Self {
        self.max_nodes = max;
        self
    }

    /// The [`slowest`](Self::slowest) count set.
    #[must_use]
    pub fn slowest_kept(&self) -> usize {
        self.slowest
    }

    /// The [`failed`](Self::failed) count set.
    #[must_use]
    pub fn failed_kept(&self) -> usize {
        self.failed
    }

    /// The [`window`](Self::window) set.
    #[must_use]
    pub fn window_kept(&self) -> Duration {
        self.window
    }

    /// The [`max_nodes`](Self::max_nodes) set.
    #[must_use]
    pub fn max_nodes_kept(&self) -> usize {
        self.max_nodes
    }

    /// Checks every setting against its bounds.
    pub(crate) fn check(self) -> Result<Retention, RetentionError> {
        if self.slowest > MAX_KEPT {
            return Err(RetentionError::TooManySlowest(self.slowest));
        }
        if self.failed > MAX_KEPT {
            return Err(RetentionError::TooManyFailed(self.failed));
        }
        if self.slowest == 0 && self.failed == 0 {
            return Err(RetentionError::NothingKept);
        }
        if !(MIN_WINDOW..=MAX_WINDOW).contains(&self.window) {
            return Err(RetentionError::Window(self.window));
        }
        if !(1..=MAX_KEPT_NODES).contains(&self.max_nodes) {
            return Err(RetentionError::MaxNodes(self.max_nodes));
        }
        Ok(self)
    }
}

/// Why a [`Retention`] was refused.
///
/// ```
/// use trace_runtime::pages::{RecentTrees, Retention, RetentionError};
///
/// let err = RecentTrees::new(Retention::default().slowest(0).failed(0)).unwrap_err();
/// assert_eq!(err, RetentionError::NothingKept);
/// assert!(err.to_string().contains(".slowest("));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetentionError {
    /// [`Retention::slowest`] above [`MAX_KEPT`].
    TooManySlowest(usize),
    /// [`Retention::failed`] above [`MAX_KEPT`].
    TooManyFailed(usize),
    /// Both counts are 0: the page would always be empty.
    NothingKept,
    /// [`Retention::window`] outside [`MIN_WINDOW`]..=[`MAX_WINDOW`].
    Window(Duration),
    /// [`Retention::max_nodes`] outside 1..=[`MAX_KEPT_NODES`].
    MaxNodes(usize),
}

impl fmt::Display for RetentionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetentionError::TooManySlowest(n) => write!(
                f,
                "cannot keep the {n} slowest requests: at most {MAX_KEPT}, set with `.slowest(...)`"
            ),
            RetentionError::TooManyFailed(n) => write!(
                f,
                "cannot keep the last {n} failed requests: at most {MAX_KEPT}, set with `.failed(...)`"
            ),
            RetentionError::NothingKept => write!(
                f,
                "the trace page would keep no request: give `.slowest(...)` or `.failed(...)` a count above 0"
            ),
            RetentionError::Window(window) => write!(
                f,
                "window of {window:?} for the slowest requests: give `.window(...)` between {MIN_WINDOW:?} and {MAX_WINDOW:?}"
            ),
            RetentionError::MaxNodes(n) => write!(
                f,
                "{n} nodes per kept tree: give `.max_nodes(...)` between 1 and {MAX_KEPT_NODES}"
            ),
        }
    }
}

/// The same message as `Display`, so an error returned from `main` reads
/// as what to fix.
impl fmt::Debug for RetentionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for RetentionError {}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Retention, RetentionError, MAX_KEPT, MAX_KEPT_NODES, MAX_WINDOW, MIN_WINDOW};

    #[test]
    fn each_setting_is_checked_against_its_bounds() {
        let ok = Retention::default();
        assert_eq!(ok.check(), Ok(ok));
        let edges = ok
            .slowest(MAX_KEPT)
            .failed(0)
            .window(MAX_WINDOW)
            .max_nodes(MAX_KEPT_NODES);
        assert_eq!(edges.check(), Ok(edges));
        let low = ok.slowest(0).failed(1).window(MIN_WINDOW).max_nodes(1);
        assert_eq!(low.check(), Ok(low));
        for (bad, err) in [
            (
                ok.slowest(MAX_KEPT + 1),
                RetentionError::TooManySlowest(MAX_KEPT + 1),
            ),
            (
                ok.failed(MAX_KEPT + 1),
                RetentionError::TooManyFailed(MAX_KEPT + 1),
            ),
            (ok.slowest(0).failed(0), RetentionError::NothingKept),
            (
                ok.window(Duration::ZERO),
                RetentionError::Window(Duration::ZERO),
            ),
            (
                ok.window(MAX_WINDOW + Duration::from_nanos(1)),
                RetentionError::Window(MAX_WINDOW + Duration::from_nanos(1)),
            ),
            (ok.max_nodes(0), RetentionError::MaxNodes(0)),
            (
                ok.max_nodes(MAX_KEPT_NODES + 1),
                RetentionError::MaxNodes(MAX_KEPT_NODES + 1),
            ),
        ] {
            assert_eq!(bad.check(), Err(err));
            assert_eq!(format!("{err:?}"), err.to_string());
        }
    }
}
