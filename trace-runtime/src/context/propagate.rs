//! Carrying the current call into spawned work.
//!
//! `tokio::spawn`, `spawn_blocking` and `std::thread::spawn` start with an
//! empty context, so work spawned without these helpers becomes a root of its
//! own and never joins a stranger's tree. With them, it nests under the call
//! that spawned it, and that request's tree waits for it before it is
//! delivered.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::callsite::Callsite;
use crate::context::frame::{self, Frame, Restore};
use crate::context::request::{NodeId, Request};
use crate::context::root::InRequest;

/// The current call, captured so it can become the parent of work that runs
/// elsewhere (another task or thread). `Send + Sync`.
///
/// ```
/// #[trace_runtime::trace]
/// fn parent() -> std::thread::JoinHandle<u32> {
///     let ctx = trace_runtime::TraceContext::current();
///     std::thread::spawn(move || ctx.run(child))
/// }
///
/// #[trace_runtime::trace]
/// fn child() -> u32 { 1 }
///
/// assert_eq!(parent().join().unwrap(), 1);
/// ```
#[derive(Clone)]
pub struct TraceContext {
    site: Option<&'static Callsite>,
    place: Option<(Arc<Request>, NodeId)>,
}

impl TraceContext {
    /// Captures the call running on this thread (or nothing, outside any call).
    #[must_use]
    pub fn current() -> TraceContext {
        let frame = frame::current();
        let place = if frame.request.is_null() {
            None
        } else {
            // SAFETY: the current frame's request is kept alive by whoever set
            // the frame, so its strong count is at least one.
            let request = unsafe {
                Arc::increment_strong_count(frame.request);
                Arc::from_raw(frame.request)
            };
            Some((request, frame.node))
        };
        TraceContext {
            site: frame.site,
            place,
        }
    }

    /// Runs `f` with this context as the current call.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = Restore(frame::replace(self.frame()));
        f()
    }

    /// The frame this context stands for; its request is kept alive by
    /// `self`, so it stays valid as long as `self` does.
    fn frame(&self) -> Frame {
        match &self.place {
            Some((request, node)) => Frame {
                site: self.site,
                request: Arc::as_ptr(request),
                node: *node,
            },
            None => Frame {
                site: self.site,
                ..Frame::EMPTY
            },
        }
    }

    /// Wraps `future` so each of its polls runs in this context.
    pub fn attach<F: Future>(self, future: F) -> InTrace<F> {
        InTrace {
            inner: future,
            context: self,
        }
    }
}

/// A future polled inside a captured [`TraceContext`]; see
/// [`TraceFutureExt::in_current_trace`].
#[must_use = "futures do nothing unless polled"]
pub struct InTrace<F> {
    inner: F,
    context: TraceContext,
}

impl<F: Future> Future for InTrace<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is never moved; `context` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let _restore = Restore(frame::replace(this.context.frame()));
        // SAFETY: see above.
        unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
    }
}

/// Trace-context combinators for every future.
pub trait TraceFutureExt: Future + Sized {
    /// Runs this future as a child of the call running now, wherever it is
    /// polled: use it on futures handed to `tokio::spawn` or another task.
    ///
    /// ```
    /// use trace_runtime::TraceFutureExt as _;
    ///
    /// #[trace_runtime::trace]
    /// async fn parent() -> u32 {
    ///     tokio::spawn(child().in_current_trace()).await.unwrap()
    /// }
    ///
    /// #[trace_runtime::trace]
    /// async fn child() -> u32 { 2 }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// assert_eq!(parent().await, 2);
    /// # });
    /// ```
    fn in_current_trace(self) -> InTrace<Self> {
        TraceContext::current().attach(self)
    }

    /// Runs this future as the root of a new request named `name` (such as
    /// `GET /rooms`); its tree is delivered when the future completes or is
    /// dropped.
    ///
    /// ```
    /// use trace_runtime::TraceFutureExt as _;
    ///
    /// #[trace_runtime::trace]
    /// async fn list_rooms() -> Vec<u32> { vec![1, 2] }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let rooms = list_rooms().in_request("GET /rooms").await;
    /// assert_eq!(rooms.len(), 2);
    /// # });
    /// ```
    fn in_request(self, name: impl Into<Cow<'static, str>>) -> InRequest<Self> {
        InRequest::new(self, name.into())
    }
}

impl<F: Future> TraceFutureExt for F {}

/// `tokio::spawn` that keeps the spawned task in the current call's tree.
///
/// # Panics
/// Like `tokio::spawn`, when called outside a tokio runtime.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_trace())
}

/// `tokio::task::spawn_blocking` that keeps the closure in the current call's tree.
///
/// # Panics
/// Like `tokio::task::spawn_blocking`, when called outside a tokio runtime.
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let context = TraceContext::current();
    tokio::task::spawn_blocking(move || context.run(f))
}

/// `std::thread::spawn` that keeps the thread's calls in the current call's tree.
///
/// ```
/// #[trace_runtime::trace]
/// fn work() -> u8 { 3 }
/// assert_eq!(trace_runtime::spawn_thread(work).join().unwrap(), 3);
/// ```
pub fn spawn_thread<F, R>(f: F) -> std::thread::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let context = TraceContext::current();
    std::thread::spawn(move || context.run(f))
}
