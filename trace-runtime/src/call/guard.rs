//! A sync traced call: a guard on the stack of the traced function.
//!
//! The call's state is built in place in the guard and ended through a
//! reference, never moved: it is a few words, and copying it in and out of
//! `Option`s on every call showed up in profiles.

use std::mem::ManuallyDrop;

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
    /// Ended (and its contents dropped) exactly once, by `finish` or `drop`.
    call: ManuallyDrop<Option<SyncCall>>,
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
        if config::is_enabled() {
            SyncCall::start(site)
        } else {
            CallGuard {
                call: ManuallyDrop::new(None),
            }
        }
    }

    /// Ends the call with `outcome`.
    #[inline(always)]
    pub fn finish(self, outcome: Outcome) {
        // Not dropped: the call ends here instead.
        let mut this = ManuallyDrop::new(self);
        if let Some(call) = &mut *this.call {
            // SAFETY: `this` is never used or dropped again.
            unsafe { call.end(outcome) };
        }
    }
}

impl Drop for CallGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(call) = &mut *self.call {
            // SAFETY: `self.call` is `ManuallyDrop` and never used again.
            unsafe { call.end_unfinished() };
        }
    }
}

impl SyncCall {
    /// Returns the whole guard, so the state is written straight into the
    /// caller's frame.
    #[inline(never)]
    fn start(site: &'static Callsite) -> CallGuard {
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
        CallGuard {
            call: ManuallyDrop::new(Some(SyncCall {
                site,
                metrics,
                start,
                parent,
                place,
            })),
        }
    }

    /// A guard dropped without `finish`: the function is unwinding (or, for
    /// `-> !` functions, left by other means).
    ///
    /// # Safety
    /// As for [`end`](SyncCall::end).
    #[cold]
    #[inline(never)]
    unsafe fn end_unfinished(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Ok
        };
        // SAFETY: upheld by the caller.
        unsafe { self.end(outcome) };
    }

    /// Ends the call and drops its place (releasing a root's request).
    ///
    /// # Safety
    /// Called at most once, and `self` is neither used nor dropped afterwards.
    #[inline(never)]
    unsafe fn end(&mut self, outcome: Outcome) {
        let wall_nanos = Instant::now().nanos_since(self.start);
        let (request, node) = self.place.frame_parts();
        // SAFETY: the request is kept alive by this call (root) or by a frame
        // further down this thread's stack (child), which outlives this call.
        let request = unsafe { request.as_ref() };
        let node = request.map(|request| (request, node));
        end_call(self.metrics, self.site, wall_nanos, None, outcome, node);
        frame::restore(self.parent);
        // Dropping a root's request here delivers its tree.
        // SAFETY: read once; the caller never drops or uses `self` again.
        drop(unsafe { std::ptr::read(&raw const self.place) });
    }
}
