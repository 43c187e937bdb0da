//! Request roots opened by the user: a closure for sync code, and
//! [`in_request`](crate::TraceFutureExt::in_request) for async code, e.g.
//! one per HTTP request named `GET /rooms`.

use std::borrow::Cow;

use crate::call::active::ActiveCall;
use crate::clock::Instant;
use crate::config;
use crate::frame::{self, Frame};
use crate::outcome::Outcome;
use crate::tree::{RootInfo, RootName};

/// Runs `f` as the root of a new request named `name`: the traced calls it
/// makes form one tree, delivered when `f` returns (or unwinds, marked
/// `panic`). A scope rather than a guard, so it cannot be held across an
/// `.await`; in async code use
/// [`in_request`](crate::TraceFutureExt::in_request).
///
/// ```
/// #[trace_runtime::trace]
/// fn load() -> u32 { 7 }
///
/// let loaded = trace_runtime::in_request("nightly job", || load());
/// assert_eq!(loaded, 7);
/// ```
pub fn in_request<R>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> R) -> R {
    if !config::is_enabled() {
        return f();
    }
    let mut root = RootScope::open(name.into());
    let result = f();
    root.close(Outcome::Ok);
    result
}

/// The root of a sync request; ends as panicked if dropped unclosed.
struct RootScope {
    active: ActiveCall,
    previous: Frame,
    closed: bool,
}

impl RootScope {
    fn open(name: Cow<'static, str>) -> RootScope {
        let previous = frame::current();
        let active = ActiveCall::root(RootInfo {
            name: RootName::Text(name),
            ..RootInfo::default()
        });
        frame::replace(active.frame);
        RootScope {
            active,
            previous,
            closed: false,
        }
    }

    fn close(&mut self, outcome: Outcome) {
        self.closed = true;
        self.active.end(Instant::now(), None, outcome);
        // Restored first: a sink that makes traced calls while the tree is
        // delivered starts its own root instead of joining this one.
        frame::restore(self.previous);
        self.active.release();
    }
}

impl Drop for RootScope {
    fn drop(&mut self) {
        if !self.closed {
            self.close(Outcome::Panic);
        }
    }
}
