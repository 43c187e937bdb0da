//! A sync traced call: a guard on the stack of the traced function.

use crate::call::outcome::Outcome;
use crate::call::timing::{end_call, CallMetrics};
use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::context::frame::{self, Frame};
use crate::context::membership::Place;

/// Times one sync call; the expansion calls [`finish`](CallGuard::finish) with
/// the outcome, and a drop without `finish` (a panic unwinding through the
/// function) records [`Outcome::Panic`].
#[must_use = "dropping the guard ends the call"]
pub struct CallGuard {
    call: Option<SyncCall>,
}

struct SyncCall {
    site: &'static Callsite,
    metrics: CallMetrics,
    start: Instant,
    parent: Frame,
    place: Place,
}

impl CallGuard {
    /// Starts a call of `site`: becomes the current frame until finished.
    /// While instrumentation is switched off this is one relaxed load.
    #[inline(always)]
    pub fn enter(site: &'static Callsite) -> CallGuard {
        CallGuard {
            call: if config::is_enabled() {
                Some(SyncCall::start(site))
            } else {
                None
            },
        }
    }

    /// Ends the call with `outcome`.
    #[inline(always)]
    pub fn finish(mut self, outcome: Outcome) {
        if let Some(call) = self.call.take() {
            call.end(outcome);
        }
    }
}

impl Drop for CallGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.end_unfinished();
        }
    }
}

impl SyncCall {
    #[inline]
    fn start(site: &'static Callsite) -> SyncCall {
        let parent = frame::current();
        let metrics = CallMetrics::begin(site, parent.site);
        let start = Instant::now();
        let place = Place::open(parent, site, start);
        let (request, node) = place.frame_parts();
        frame::replace(Frame {
            site: Some(site),
            request,
            node,
        });
        SyncCall {
            site,
            metrics,
            start,
            parent,
            place,
        }
    }

    /// A guard dropped without `finish`: the function is unwinding (or, for
    /// `-> !` functions, left by other means).
    #[cold]
    #[inline(never)]
    fn end_unfinished(self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Ok
        };
        self.end(outcome);
    }

    #[inline(never)]
    fn end(self, outcome: Outcome) {
        let wall_nanos = Instant::now().nanos_since(self.start);
        let (request, node) = self.place.frame_parts();
        // SAFETY: the request is kept alive by this call (root) or by a frame
        // further down this thread's stack (child), which outlives this call.
        let request = unsafe { request.as_ref() };
        let node = request.map(|request| (request, node));
        end_call(self.metrics, self.site, wall_nanos, None, outcome, node);
        frame::restore(self.parent);
        // Dropping a root's request here delivers its tree.
        drop(self.place);
    }
}
