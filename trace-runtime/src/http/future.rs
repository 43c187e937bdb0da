//! The response future of [`TraceService`](super::TraceService): the
//! request's root call around the inner service's future, and its metrics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::call::active::{ActiveCall, Opening};
use crate::call::future::{AsyncCall, Kind};
use crate::http::labels::FAILED_STATUS;
use crate::http::metrics::RequestMetrics;
use crate::outcome::Outcome;
use crate::traceparent::TraceParent;
use crate::tree::{RootInfo, RootName};

pin_project! {
    /// The future of a request through [`TraceLayer`](super::TraceLayer):
    /// the inner service's future, run as the root of the request's call
    /// tree. Dropping it before the response counts the request as
    /// cancelled (status `499`); a panic in the inner future counts it as
    /// `500` and keeps unwinding.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // `None`: an excluded path, or instrumentation switched off.
        request: Option<Traced>,
    }
}

/// A traced request: its root call and its metrics.
pub(crate) struct Traced {
    call: AsyncCall<HttpRoot>,
}

/// The root of an HTTP request's tree.
struct HttpRoot {
    remote: Option<TraceParent>,
    failure: fn(u16) -> bool,
    metrics: RequestMetrics,
}

impl Traced {
    pub(crate) fn new(
        remote: Option<TraceParent>,
        failure: fn(u16) -> bool,
        metrics: RequestMetrics,
    ) -> Self {
        Traced {
            call: AsyncCall::starting(HttpRoot {
                remote,
                failure,
                metrics,
            }),
        }
    }
}

impl<B, E> Kind<Result<Response<B>, E>> for HttpRoot {
    fn opening(&mut self) -> Opening {
        Opening::Root(RootInfo {
            name: RootName::Shared(Arc::clone(&self.metrics.handles.name)),
            remote_parent: self.remote.take(),
            http: true,
            ..RootInfo::default()
        })
    }

    fn outcome(&mut self, output: &Result<Response<B>, E>, call: &ActiveCall) -> Outcome {
        let Ok(response) = output else {
            self.metrics.finish(FAILED_STATUS, Outcome::Error);
            return Outcome::Error;
        };
        let status = response.status().as_u16();
        call.set_status(status);
        let outcome = if (self.failure)(status) {
            Outcome::Error
        } else {
            Outcome::Ok
        };
        self.metrics.finish(status, outcome);
        outcome
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, request: Option<Traced>) -> Self {
        ResponseFuture { inner, request }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(request) = this.request else {
            return this.inner.poll(cx);
        };
        let mut guard = Unwinding {
            request,
            returned: false,
        };
        let result = guard.request.call.poll(this.inner, cx);
        guard.returned = true;
        result
    }
}

/// Counts the request as failed (500) if a poll unwinds; the call itself
/// marks the tree's root `panic`.
struct Unwinding<'a> {
    request: &'a mut Traced,
    returned: bool,
}

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if !self.returned {
            self.request
                .call
                .kind_mut()
                .metrics
                .finish(FAILED_STATUS, Outcome::Panic);
        }
    }
}
