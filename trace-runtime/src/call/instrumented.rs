//! An async traced call: a future wrapping the function's body.
//!
//! The call starts at the first poll, which runs inside the caller's poll, so
//! the current frame at that moment is the true parent even when siblings of a
//! `join!` interleave. Each poll makes the call's frame current and restores
//! the previous one afterwards, on whichever thread the poll runs.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::call::outcome::Outcome;
use crate::call::timing::{end_call, CallMetrics};
use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::context::frame::{self, Frame};
use crate::context::membership::{OwnedPlace, Place};

/// The future of an async traced call. Dropping it before completion records
/// [`Outcome::Cancelled`]; a panic inside a poll records [`Outcome::Panic`].
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<F, C> {
    inner: F,
    site: &'static Callsite,
    classify: C,
    state: State,
}

enum State {
    /// Starts at the first poll if instrumentation is on then.
    NotStarted,
    /// Starts at the first poll: the caller has just checked the switch.
    Starting,
    Running(AsyncCall),
    Finished,
    Disabled,
}

struct AsyncCall {
    metrics: CallMetrics,
    start: Instant,
    busy_nanos: u64,
    polled: bool,
    /// Released by [`State::finish`], so `State` has no drop glue and
    /// dropping a finished or switched-off call checks one tag.
    place: ManuallyDrop<OwnedPlace>,
}

impl AsyncCall {
    /// Starts a call of `site` in `state`, written in place.
    #[inline(never)]
    fn start(state: &mut State, site: &'static Callsite) {
        let parent = frame::current();
        let metrics = CallMetrics::begin(site, parent.site);
        let start = Instant::now();
        let place = Place::open(parent, site, start).into_owned();
        *state = State::Running(AsyncCall {
            metrics,
            start,
            busy_nanos: 0,
            polled: false,
            place: ManuallyDrop::new(place),
        });
    }

    /// Adds the time of a poll that began at `poll_start` and ended at
    /// `now`; only trees show it.
    #[inline]
    fn add_busy(&mut self, poll_start: Instant, now: Instant) {
        if self.place.0.is_some() {
            self.busy_nanos += now.nanos_since(poll_start);
        }
    }

    /// Records the end of the call. The caller then calls
    /// [`State::finish`], which releases the call's place.
    #[inline(never)]
    fn end(&self, site: &'static Callsite, end: Instant, outcome: Outcome) {
        let node = self
            .place
            .0
            .as_deref()
            .map(|request| (request, self.place.1));
        let wall_nanos = end.nanos_since(self.start);
        end_call(
            self.metrics,
            site,
            wall_nanos,
            Some(self.busy_nanos),
            outcome,
            node,
        );
    }
}

impl State {
    /// Ends a call that stops before its future completes: dropped
    /// ([`Outcome::Cancelled`]) or unwound by a panic ([`Outcome::Panic`]).
    #[cold]
    #[inline(never)]
    fn end_early(&mut self, site: &'static Callsite, outcome: Outcome) {
        if let State::Running(call) = self {
            call.end(site, Instant::now(), outcome);
        }
        self.finish();
    }

    /// [`State::end_early`] for a dropped call. Taking no outcome keeps the
    /// drop glue that calls it one instruction smaller: callgrind counted
    /// about one more instruction per switched-off async call with the
    /// argument passed at the call site.
    #[cold]
    #[inline(never)]
    fn cancel(&mut self, site: &'static Callsite) {
        self.end_early(site, Outcome::Cancelled);
    }

    /// Marks the call finished and releases its place. A panic while ending
    /// the call leaves it running, so it is ended again (counted twice) when
    /// dropped, but its place is released exactly once, here.
    #[inline]
    fn finish(&mut self) {
        if let State::Running(call) = self {
            // SAFETY: taken once: the state stops being `Running` right after.
            let place = unsafe { ManuallyDrop::take(&mut call.place) };
            *self = State::Finished;
            drop(place);
        } else {
            *self = State::Finished;
        }
    }
}

impl<F, C> Instrumented<F, C>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
{
    /// Wraps `inner`; `classify` reads the outcome off its output.
    #[inline]
    pub fn new(site: &'static Callsite, inner: F, classify: C) -> Self {
        Instrumented {
            inner,
            site,
            classify,
            state: State::NotStarted,
        }
    }

    /// Like [`Instrumented::new`], for a caller that has just found
    /// instrumentation on and polls right away (an `async fn`'s body), so
    /// the first poll does not read the switch again.
    #[inline]
    pub fn enabled(site: &'static Callsite, inner: F, classify: C) -> Self {
        Instrumented {
            inner,
            site,
            classify,
            state: State::Starting,
        }
    }
}

/// Restores the frame after a poll; if the poll panicked, ends the call.
struct PollGuard<'a> {
    previous: Frame,
    state: &'a mut State,
    site: &'static Callsite,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        frame::restore(self.previous);
        if std::thread::panicking() {
            self.state.end_early(self.site, Outcome::Panic);
        }
    }
}

impl<F, C> Future for Instrumented<F, C>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is never moved out of `self`; the other fields are
        // not structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        match this.state {
            State::Running(_) => this.poll_running(cx),
            State::NotStarted if !config::is_enabled() => {
                this.state = State::Disabled;
                // SAFETY: see above.
                unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
            }
            State::NotStarted | State::Starting => {
                AsyncCall::start(&mut this.state, this.site);
                this.poll_running(cx)
            }
            // SAFETY: see above.
            State::Disabled | State::Finished => {
                unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
            }
        }
    }
}

impl<F, C> Instrumented<F, C>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
{
    /// One poll of a running call, kept out of line so the switched-off path
    /// of `poll` stays small enough to inline into the caller.
    #[inline(never)]
    fn poll_running(&mut self, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `self` is pinned by `poll`'s caller and `inner` is never
        // moved out of it.
        let inner = unsafe { Pin::new_unchecked(&mut self.inner) };
        let State::Running(call) = &mut self.state else {
            return inner.poll(cx);
        };
        let poll_start = if call.polled {
            Instant::now()
        } else {
            call.polled = true;
            call.start
        };
        let guard = PollGuard {
            previous: frame::replace(call.place.frame(Some(self.site))),
            state: &mut self.state,
            site: self.site,
        };
        let result = inner.poll(cx);
        drop(guard);
        let now = Instant::now();
        match result {
            Poll::Pending => {
                if let State::Running(call) = &mut self.state {
                    call.add_busy(poll_start, now);
                }
                Poll::Pending
            }
            Poll::Ready(output) => {
                if let State::Running(call) = &mut self.state {
                    call.add_busy(poll_start, now);
                    call.end(self.site, now, (self.classify)(&output));
                }
                self.state.finish();
                Poll::Ready(output)
            }
        }
    }
}

impl<F, C> Drop for Instrumented<F, C> {
    #[inline]
    fn drop(&mut self) {
        // Only a running call has anything to end; the check inlines, the
        // rest stays out of line.
        if let State::Running(_) = self.state {
            self.state.cancel(self.site);
        }
    }
}
