//! An async call: a future wrapping the call's body. Traced `async fn`s and
//! user-opened roots ([`in_request`](crate::TraceFutureExt::in_request)) are
//! the same state machine, told apart by what they start.
//!
//! The call starts at the first poll, which runs inside the caller's poll, so
//! the current frame at that moment is the true parent even when siblings of a
//! `join!` interleave. Each poll makes the call's frame current and restores
//! the previous one afterwards, on whichever thread the poll runs.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::annotate::{self, ErrorText};
use crate::call::active::{ActiveCall, Opening};
use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::frame::{self, Frame};
use crate::outcome::Outcome;
use crate::tree::{RootInfo, RootName};

pin_project! {
    /// The future of an async traced call. Dropping it before completion
    /// records [`Outcome::Cancelled`]; a panic inside a poll records
    /// [`Outcome::Panic`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F, C, D> {
        #[pin]
        inner: F,
        // After `inner`, so it is dropped after it: calls still running
        // inside end (cancelled) before this one does.
        call: AsyncCall<Traced<C, D>>,
    }
}

pin_project! {
    /// A future that is the root of its own request; see
    /// [`TraceFutureExt::in_request`](crate::TraceFutureExt::in_request).
    #[must_use = "futures do nothing unless polled"]
    pub struct InRequest<F> {
        #[pin]
        inner: F,
        call: AsyncCall<Root>,
    }
}

/// What an async call starts, and how its output reads as an outcome (which
/// may also annotate the call, e.g. a root with its response status).
pub(crate) trait Kind<T> {
    fn opening(&mut self) -> Opening;
    fn outcome(&mut self, output: &T, call: &ActiveCall) -> Outcome;
}

/// A traced function: its call site, how to classify its output, and how
/// to describe an error.
struct Traced<C, D> {
    site: &'static Callsite,
    classify: C,
    describe: D,
}

/// How an async call's failed output is described on its node.
pub trait Describe<T> {
    /// Whether it records anything: `false` compiles the check away.
    const RECORDS: bool;
    /// Writes the text of `output`, a failure.
    fn describe(&mut self, output: &T, out: &mut ErrorText);
}

/// No error text (no `err` option).
pub struct NoDescribe;

impl<T> Describe<T> for NoDescribe {
    const RECORDS: bool = false;
    #[inline]
    fn describe(&mut self, _output: &T, _out: &mut ErrorText) {}
}

/// The error text `D` writes (`#[trace(err)]`).
pub struct WithErr<D>(pub D);

impl<T, D: FnMut(&T, &mut ErrorText)> Describe<T> for WithErr<D> {
    const RECORDS: bool = true;
    #[inline]
    fn describe(&mut self, output: &T, out: &mut ErrorText) {
        (self.0)(output, out);
    }
}

impl<T, C: FnMut(&T) -> Outcome, D: Describe<T>> Kind<T> for Traced<C, D> {
    #[inline]
    fn opening(&mut self) -> Opening {
        Opening::Traced(self.site)
    }

    #[inline]
    fn outcome(&mut self, output: &T, call: &ActiveCall) -> Outcome {
        let outcome = (self.classify)(output);
        if D::RECORDS && outcome == Outcome::Error && call.has_node() {
            describe_error(&mut self.describe, output, call);
        }
        outcome
    }
}

#[cold]
#[inline(never)]
fn describe_error<T, D: Describe<T>>(describe: &mut D, output: &T, call: &ActiveCall) {
    let mut text = ErrorText::default();
    describe.describe(output, &mut text);
    if let Some(text) = text.take() {
        call.annotate(&mut annotate::store_error(text));
    }
}

/// A root opened by name; completing is [`Outcome::Ok`].
struct Root {
    name: Cow<'static, str>,
}

impl<T> Kind<T> for Root {
    fn opening(&mut self) -> Opening {
        Opening::Root(RootInfo {
            name: RootName::Text(std::mem::take(&mut self.name)),
            ..RootInfo::default()
        })
    }

    fn outcome(&mut self, _output: &T, _call: &ActiveCall) -> Outcome {
        Outcome::Ok
    }
}

/// The call part of an async call's future: what it is, and where it is.
/// The future owns the body and hands it to [`poll`](AsyncCall::poll).
pub(crate) struct AsyncCall<K> {
    kind: K,
    phase: Phase,
}

enum Phase {
    /// Starts at the first poll if instrumentation is on then.
    NotStarted,
    /// Starts at the first poll: the caller has just checked the switch.
    Starting,
    Running(Running),
    /// Finished, or never started because instrumentation was off.
    Done,
}

struct Running {
    active: ActiveCall,
    busy_nanos: u64,
    polled: bool,
}

impl<F, C> Instrumented<F, C, NoDescribe>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
{
    /// Wraps `inner`; `classify` reads the outcome off its output. The call
    /// starts at the first poll, if instrumentation is on then.
    #[inline]
    pub fn new(site: &'static Callsite, inner: F, classify: C) -> Self {
        Self::with_phase(site, inner, classify, Phase::NotStarted)
    }

    /// Like [`Instrumented::new`], for a caller that has just found
    /// instrumentation on and polls right away (an `async fn`'s body), so
    /// the first poll does not read the switch again.
    #[inline]
    pub fn enabled(site: &'static Callsite, inner: F, classify: C) -> Self {
        Self::with_phase(site, inner, classify, Phase::Starting)
    }

    #[inline]
    fn with_phase(site: &'static Callsite, inner: F, classify: C, phase: Phase) -> Self {
        Instrumented::describing(site, inner, classify, NoDescribe, phase)
    }
}

impl<F, C, D> Instrumented<F, C, WithErr<D>>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
    D: FnMut(&F::Output, &mut ErrorText),
{
    /// [`Instrumented::new`] recording a failed call's error text as
    /// `describe` writes it (`#[trace(err)]`).
    #[inline]
    pub fn new_err(site: &'static Callsite, inner: F, classify: C, describe: D) -> Self {
        Instrumented::describing(site, inner, classify, WithErr(describe), Phase::NotStarted)
    }

    /// [`Instrumented::enabled`] recording a failed call's error text as
    /// `describe` writes it (`#[trace(err)]`).
    #[inline]
    pub fn enabled_err(site: &'static Callsite, inner: F, classify: C, describe: D) -> Self {
        Instrumented::describing(site, inner, classify, WithErr(describe), Phase::Starting)
    }
}

impl<F, C, D> Instrumented<F, C, D> {
    #[inline]
    fn describing(
        site: &'static Callsite,
        inner: F,
        classify: C,
        describe: D,
        phase: Phase,
    ) -> Self {
        Instrumented {
            inner,
            call: AsyncCall {
                kind: Traced {
                    site,
                    classify,
                    describe,
                },
                phase,
            },
        }
    }
}

impl<F> InRequest<F> {
    pub(crate) fn new(inner: F, name: Cow<'static, str>) -> Self {
        InRequest {
            inner,
            call: AsyncCall::new(Root { name }),
        }
    }
}

impl<F, C, D> Future for Instrumented<F, C, D>
where
    F: Future,
    C: FnMut(&F::Output) -> Outcome,
    D: Describe<F::Output>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.call.poll(this.inner, cx)
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.call.poll(this.inner, cx)
    }
}

impl<K> AsyncCall<K> {
    /// A call of `kind` that starts at its first poll, if instrumentation
    /// is on then.
    pub(crate) fn new(kind: K) -> Self {
        AsyncCall {
            kind,
            phase: Phase::NotStarted,
        }
    }

    /// A call of `kind` that starts at its first poll: its creator has
    /// just found instrumentation on.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn starting(kind: K) -> Self {
        AsyncCall {
            kind,
            phase: Phase::Starting,
        }
    }

    /// What the call is.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn kind_mut(&mut self) -> &mut K {
        &mut self.kind
    }

    /// Polls `inner`, the call's body, as this call.
    #[inline]
    pub(crate) fn poll<F>(&mut self, inner: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output>
    where
        F: Future,
        K: Kind<F::Output>,
    {
        match self.phase {
            Phase::Running(_) => self.poll_running(inner, cx),
            Phase::NotStarted if !config::is_enabled() => {
                self.phase = Phase::Done;
                inner.poll(cx)
            }
            Phase::NotStarted | Phase::Starting => {
                self.start::<F::Output>();
                self.poll_running(inner, cx)
            }
            Phase::Done => inner.poll(cx),
        }
    }

    /// Starts the call, written in place.
    #[inline(never)]
    fn start<T>(&mut self)
    where
        K: Kind<T>,
    {
        let active = ActiveCall::start_async(self.kind.opening());
        self.phase = Phase::Running(Running {
            active,
            busy_nanos: 0,
            polled: false,
        });
    }

    /// One poll of a running call, kept out of line so the switched-off
    /// path of `poll` stays small enough to inline into the caller.
    #[inline(never)]
    fn poll_running<F>(&mut self, inner: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output>
    where
        F: Future,
        K: Kind<F::Output>,
    {
        let Phase::Running(run) = &mut self.phase else {
            return inner.poll(cx);
        };
        let poll_start = if run.polled {
            Instant::now()
        } else {
            run.polled = true;
            run.active.start
        };
        let mut guard = PollGuard {
            previous: frame::replace(run.active.frame),
            phase: &mut self.phase,
            poll_start,
            unwound: true,
        };
        let result = inner.poll(cx);
        guard.unwound = false;
        drop(guard);
        let now = Instant::now();
        let Phase::Running(run) = &mut self.phase else {
            return result;
        };
        if run.active.in_tree() {
            run.busy_nanos += now.nanos_since(poll_start);
        }
        let Poll::Ready(output) = result else {
            return Poll::Pending;
        };
        let outcome = self.kind.outcome(&output, &run.active);
        run.active.end_async(now, run.busy_nanos, outcome);
        self.phase.finish();
        Poll::Ready(output)
    }
}

impl Phase {
    /// Ends a call that stops before its future completes: dropped
    /// ([`Outcome::Cancelled`]) or unwound by a panic in its poll
    /// ([`Outcome::Panic`]), `poll_start` being when that poll began.
    #[cold]
    #[inline(never)]
    fn end_early(&mut self, outcome: Outcome, poll_start: Option<Instant>) {
        if let Phase::Running(run) = self {
            let now = Instant::now();
            if let Some(poll_start) = poll_start.filter(|_| run.active.in_tree()) {
                run.busy_nanos += now.nanos_since(poll_start);
            }
            run.active.end_async(now, run.busy_nanos, outcome);
        }
        self.finish();
    }

    /// Lets go of the call's tree and marks the call done. A panic while
    /// ending the call leaves it running, so it is ended again (counted
    /// twice) when dropped.
    #[inline]
    fn finish(&mut self) {
        if let Phase::Running(run) = self {
            run.active.release();
        }
        *self = Phase::Done;
    }
}

/// Restores the frame after a poll; if the poll unwound, ends the call as
/// panicked right away (waiting for the drop would record it as cancelled
/// when the panic is caught around the future and the future dropped later).
struct PollGuard<'a> {
    previous: Frame,
    phase: &'a mut Phase,
    poll_start: Instant,
    /// Cleared once the inner poll has returned.
    unwound: bool,
}

impl Drop for PollGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        frame::restore(self.previous);
        if self.unwound {
            self.phase.end_early(Outcome::Panic, Some(self.poll_start));
        }
    }
}

impl<K> Drop for AsyncCall<K> {
    #[inline]
    fn drop(&mut self) {
        // Only a running call has anything to end; the check inlines, the
        // rest stays out of line.
        if let Phase::Running(_) = self.phase {
            self.phase.end_early(Outcome::Cancelled, None);
        }
    }
}
