//! The trace context, carried into spawned work.
//!
//! `tokio::spawn`, `spawn_blocking` and `std::thread::spawn` start with an
//! empty context, so work spawned without these helpers becomes a root of its
//! own and never joins a stranger's tree. With them, it nests under the call
//! that spawned it while that call's request runs. The request's tree is
//! delivered when the request's own work ends: spawned work still running
//! then shows as unfinished, and its later calls start trees of their own.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pub use crate::call::future::InRequest;
use crate::callsite::Callsite;
use crate::frame::{self, Enter, Frame};
pub use crate::traceparent::TraceParent;
use crate::tree::live::{NodeId, TreeRef};

/// The current call, captured so it can become the parent of work that runs
/// elsewhere (another task or thread). `Send + Sync`.
///
/// ```
/// #[trace_runtime::trace]
/// fn parent() -> std::thread::JoinHandle<u32> {
///     let ctx = trace_runtime::context::TraceContext::current();
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
    place: Option<(TreeRef, NodeId)>,
}

impl TraceContext {
    /// Captures the call running on this thread (or nothing, outside any call).
    #[must_use]
    pub fn current() -> TraceContext {
        frame::with_current(|frame, tree| TraceContext {
            site: frame.site,
            place: tree.map(|tree| (TreeRef::hold(tree, true), frame.node)),
        })
    }

    /// Runs `f` with this context as the current call.
    ///
    /// ```
    /// let ctx = trace_runtime::context::TraceContext::current();
    /// assert_eq!(ctx.run(|| 1 + 1), 2);
    /// ```
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _enter = Enter::new(self.frame());
        f()
    }

    /// The frame this context stands for; its tree is kept alive by `self`.
    fn frame(&self) -> Frame {
        match &self.place {
            Some((holder, node)) => Frame {
                site: self.site,
                tree: std::ptr::from_ref(holder.tree()),
                node: *node,
                detached: holder.is_detached(),
            },
            None => Frame {
                site: self.site,
                ..Frame::EMPTY
            },
        }
    }

    /// Wraps `future` so each of its polls runs in this context.
    fn attach<F: Future>(self, future: F) -> InTrace<F> {
        InTrace {
            inner: future,
            context: self,
        }
    }
}

pin_project! {
    /// A future polled inside a captured [`TraceContext`]; see
    /// [`TraceFutureExt::in_current_trace`].
    #[must_use = "futures do nothing unless polled"]
    pub struct InTrace<F> {
        #[pin]
        inner: F,
        // After `inner`: the calls inside end before the context lets go.
        context: TraceContext,
    }
}

impl<F: Future> Future for InTrace<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _enter = Enter::new(this.context.frame());
        this.inner.poll(cx)
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

/// The W3C `traceparent` of the call running now, for an outgoing request
/// to carry so the service it calls joins this request's distributed
/// trace, under this call: the tree's
/// [trace id](crate::tree::CallTree::trace_id) and this call's
/// [span id](crate::tree::CallNode::span_id) (an OTLP exporter of the
/// finished tree gives the call's span that id). The flags are the remote
/// parent's, else `01` (sampled: every tree is recorded; exporters sample
/// when it is delivered). `None` outside a request, or when trees are not
/// being collected.
///
/// Once per outgoing request: it takes the tree's lock, and makes the
/// tree's ids if this is the first time they are asked for.
///
/// ```
/// use trace_runtime::context::current_traceparent;
///
/// #[trace_runtime::trace]
/// fn fetch_profile() -> Option<String> {
///     let header = current_traceparent()?.to_string();
///     // e.g. request.header("traceparent", &header)
///     Some(header)
/// }
///
/// trace_runtime::tree::add_sink(|_: &trace_runtime::tree::CallTree| {});
/// let header = fetch_profile().unwrap();
/// assert_eq!(header.len(), 55);
/// assert!(header.starts_with("00-") && header.ends_with("-01"));
/// assert_eq!(current_traceparent(), None); // outside any call
/// # trace_runtime::tree::clear_sinks();
/// ```
#[must_use]
pub fn current_traceparent() -> Option<TraceParent> {
    frame::with_current(|frame, tree| tree?.traceparent(frame.node))
}

/// `tokio::spawn` that keeps the spawned task in the current call's tree.
///
/// ```
/// #[trace_runtime::trace]
/// async fn child() -> u8 { 4 }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(trace_runtime::context::spawn(child()).await.unwrap(), 4);
/// # });
/// ```
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
/// ```
/// #[trace_runtime::trace]
/// fn work() -> u8 { 5 }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(trace_runtime::context::spawn_blocking(work).await.unwrap(), 5);
/// # });
/// ```
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
/// assert_eq!(trace_runtime::context::spawn_thread(work).join().unwrap(), 3);
/// ```
pub fn spawn_thread<F, R>(f: F) -> std::thread::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let context = TraceContext::current();
    std::thread::spawn(move || context.run(f))
}
