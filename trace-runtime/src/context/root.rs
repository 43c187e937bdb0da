//! Request roots opened by the user: a guard for sync code and a future
//! combinator for async code, e.g. one per HTTP request named `GET /rooms`.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::call::outcome::Outcome;
use crate::clock::Instant;
use crate::config;
use crate::context::frame::{self, Frame};
use crate::context::membership;
use crate::context::request::{Closing, NodeId, Request};

/// A user-opened request, or `None` when instrumentation or trees are off or
/// nobody would receive its tree.
fn new_request(name: Cow<'static, str>, start: Instant) -> Option<Arc<Request>> {
    if config::is_enabled() {
        membership::new_request(name, "", start)
    } else {
        None
    }
}

fn root_frame(request: Option<&Arc<Request>>) -> Frame {
    Frame {
        site: None,
        request: request.map_or(std::ptr::null(), Arc::as_ptr),
        node: NodeId::ROOT,
    }
}

fn close_root(request: &Request, wall: Duration, busy: Option<Duration>, outcome: Outcome) {
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let closing = Closing {
        wall_nanos: nanos(wall),
        busy_nanos: busy.map(nanos),
        outcome,
    };
    request.close(NodeId::ROOT, None, &closing);
}

/// Opens a request root on this thread: traced calls made until the guard is
/// dropped form one tree named `name`, delivered when the guard drops.
///
/// The guard is not `Send`; in async code use
/// [`in_request`](crate::TraceFutureExt::in_request) instead.
///
/// ```
/// #[trace_runtime::trace]
/// fn load() -> u32 { 7 }
///
/// let _root = trace_runtime::request("nightly job");
/// assert_eq!(load(), 7);
/// ```
pub fn request(name: impl Into<Cow<'static, str>>) -> RequestGuard {
    let start = Instant::now();
    let request = new_request(name.into(), start);
    let previous = frame::replace(root_frame(request.as_ref()));
    RequestGuard {
        request,
        start,
        previous,
        _not_send: PhantomData,
    }
}

/// The guard returned by [`request`].
#[must_use = "the request ends when the guard is dropped"]
pub struct RequestGuard {
    request: Option<Arc<Request>>,
    start: Instant,
    /// The caller's frame, current again once the guard drops.
    previous: Frame,
    _not_send: PhantomData<*const ()>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let Some(request) = self.request.take() else {
            frame::restore(self.previous);
            return;
        };
        let outcome = if std::thread::panicking() {
            Outcome::Panic
        } else {
            Outcome::Ok
        };
        close_root(&request, self.start.elapsed(), None, outcome);
        // Normally the root's frame is current. If the guard was moved into a
        // call of its request and dropped there, that call still points at
        // the request: it stays alive until the call ends and makes the
        // caller's frame current instead of the root's.
        if !frame::orphan_unless_current(root_frame(Some(&request)), &request, self.previous) {
            frame::restore(self.previous);
        }
        // Last, with the caller's frame current: releasing the request may
        // deliver its tree, and a sink that makes traced calls then starts
        // its own root instead of adding nodes to the request being dropped.
        drop(request);
    }
}

/// A future that is the root of its own request; see
/// [`TraceFutureExt::in_request`](crate::TraceFutureExt::in_request).
#[must_use = "futures do nothing unless polled"]
pub struct InRequest<F> {
    inner: F,
    name: Option<Cow<'static, str>>,
    running: Option<RootCall>,
}

struct RootCall {
    request: Option<Arc<Request>>,
    start: Instant,
    busy: Duration,
}

impl<F> InRequest<F> {
    pub(crate) fn new(inner: F, name: Cow<'static, str>) -> Self {
        InRequest {
            inner,
            name: Some(name),
            running: None,
        }
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is never moved; other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        // The first poll starts the request; like a traced async call, a
        // request that completes in one poll has `busy` equal to its wall time.
        let mut first_poll = None;
        if let Some(name) = this.name.take() {
            let start = Instant::now();
            this.running = Some(RootCall {
                request: new_request(name, start),
                start,
                busy: Duration::ZERO,
            });
            first_poll = Some(start);
        }
        let Some(root) = &this.running else {
            return inner.poll(cx);
        };
        let poll_start = first_poll.unwrap_or_else(Instant::now);
        let guard = RootPoll {
            previous: frame::replace(root_frame(root.request.as_ref())),
            running: &mut this.running,
            poll_start,
        };
        let result = inner.poll(cx);
        drop(guard);
        let now = Instant::now();
        if let Some(root) = &mut this.running {
            root.busy += now.saturating_duration_since(poll_start);
        }
        if result.is_ready() {
            if let Some(root) = this.running.take() {
                if let Some(request) = &root.request {
                    let wall = now.saturating_duration_since(root.start);
                    close_root(request, wall, Some(root.busy), Outcome::Ok);
                }
            }
        }
        result
    }
}

/// Restores the caller's frame after a poll of a root; if the poll panicked,
/// ends the request as panicked right away. Waiting for the drop would record
/// it as cancelled when the panic is caught around the future
/// (`FutureExt::catch_unwind`) and the future dropped afterwards.
struct RootPoll<'a> {
    previous: Frame,
    running: &'a mut Option<RootCall>,
    poll_start: Instant,
}

impl Drop for RootPoll<'_> {
    fn drop(&mut self) {
        frame::restore(self.previous);
        if std::thread::panicking() {
            if let Some(mut root) = self.running.take() {
                root.busy += self.poll_start.elapsed();
                if let Some(request) = &root.request {
                    close_root(
                        request,
                        root.start.elapsed(),
                        Some(root.busy),
                        Outcome::Panic,
                    );
                }
            }
        }
    }
}

impl<F> Drop for InRequest<F> {
    fn drop(&mut self) {
        if let Some(root) = self.running.take() {
            if let Some(request) = &root.request {
                let outcome = if std::thread::panicking() {
                    Outcome::Panic
                } else {
                    Outcome::Cancelled
                };
                close_root(request, root.start.elapsed(), Some(root.busy), outcome);
            }
        }
    }
}
