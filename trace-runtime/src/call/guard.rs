//! A sync traced call: a guard on the stack of the traced function.

use crate::annotate::{self, ErrorText, FieldSet};
use crate::call::active::{ActiveCall, Start};
use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::frame::{self, Frame};
use crate::outcome::Outcome;

/// Times one sync call; the expansion calls [`finish`](CallGuard::finish)
/// with the outcome. A drop without `finish` means the function is
/// unwinding, and records [`Outcome::Panic`]; for bodies that run in place
/// (`#[track_caller]`, see [`enter_in_place`](CallGuard::enter_in_place)) it
/// may also be an early `return`.
#[must_use = "dropping the guard ends the call"]
pub struct CallGuard {
    call: Option<SyncCall>,
}

struct SyncCall {
    active: ActiveCall,
    /// The caller's frame, current again when the call ends.
    parent: Frame,
    /// For bodies run in place: whether the thread was already panicking
    /// when the call started, so a drop then is an early exit, not a panic.
    panicking_at_start: Option<bool>,
}

impl CallGuard {
    /// Starts a call of `site` whose body runs in a closure, so the guard is
    /// always finished unless the body unwinds. While instrumentation is
    /// switched off this is one relaxed load.
    #[inline(always)]
    pub fn enter(site: &'static Callsite) -> CallGuard {
        if config::is_enabled() {
            SyncCall::start(site, None)
        } else {
            CallGuard { call: None }
        }
    }

    /// Like [`enter`](CallGuard::enter), for a body that runs in place and
    /// may leave early by `return` or `?`: the guard's drop then counts the
    /// call as [`Outcome::Ok`] unless a panic started during the call.
    #[inline(always)]
    pub fn enter_in_place(site: &'static Callsite) -> CallGuard {
        if config::is_enabled() {
            SyncCall::start(site, Some(std::thread::panicking()))
        } else {
            CallGuard { call: None }
        }
    }

    /// Ends the call with `outcome`.
    #[inline(always)]
    pub fn finish(mut self, outcome: Outcome) {
        if let Some(call) = &mut self.call {
            call.end(outcome);
        }
        // Ended: the drop has nothing left to do.
        self.call = None;
    }

    /// Ends the call with `outcome`; an [`Outcome::Error`] of a call with a
    /// node first records the text `describe` writes (`#[trace(err)]`).
    /// Otherwise `describe` does not run: an `Ok` costs one comparison.
    #[inline(always)]
    pub fn finish_err(mut self, outcome: Outcome, describe: impl FnOnce(&mut ErrorText)) {
        if let Some(call) = &mut self.call {
            if outcome == Outcome::Error && call.active.has_node() {
                record_error(&call.active, describe);
            }
            call.end(outcome);
        }
        self.call = None;
    }

    /// Records the `count` values `record` writes on the call's node, if
    /// it has one (`#[trace(fields(...))]`); otherwise `record` does not run.
    #[inline(always)]
    pub fn fields(&self, count: usize, record: impl FnOnce(&mut FieldSet)) {
        if let Some(call) = &self.call {
            if call.active.has_node() {
                record_fields(&call.active, count, record);
            }
        }
    }
}

#[cold]
#[inline(never)]
fn record_error(active: &ActiveCall, describe: impl FnOnce(&mut ErrorText)) {
    let mut text = ErrorText::default();
    describe(&mut text);
    if let Some(text) = text.take() {
        active.annotate(&mut annotate::store_error(text));
    }
}

#[cold]
#[inline(never)]
fn record_fields(active: &ActiveCall, count: usize, record: impl FnOnce(&mut FieldSet)) {
    let fields = annotate::evaluate(count, record);
    active.annotate(&mut annotate::store(fields));
}

impl Drop for CallGuard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(call) = &mut self.call {
            call.end_unfinished();
        }
    }
}

impl SyncCall {
    /// Returns the whole guard, so the state is written straight into the
    /// traced function's stack frame.
    #[inline(never)]
    fn start(site: &'static Callsite, panicking_at_start: Option<bool>) -> CallGuard {
        let (parent, active) = ActiveCall::traced(site, Start::Sync);
        CallGuard {
            call: Some(SyncCall {
                active,
                parent,
                panicking_at_start,
            }),
        }
    }

    /// A guard dropped without `finish`.
    #[cold]
    #[inline(never)]
    fn end_unfinished(&mut self) {
        let outcome = match self.panicking_at_start {
            // The body runs in a closure: only an unwind skips `finish`.
            None => Outcome::Panic,
            Some(was) if std::thread::panicking() && !was => Outcome::Panic,
            Some(_) => Outcome::Ok,
        };
        self.end(outcome);
    }

    /// Ends the call and lets go of its tree (delivering a root's).
    #[inline(never)]
    fn end(&mut self, outcome: Outcome) {
        self.active.end(Instant::now(), None, outcome);
        frame::restore(self.parent);
        self.active.release();
    }
}
