//! Trace context into outgoing requests: the running call's W3C
//! `traceparent` header, so the service called joins this trace under this
//! call (its `http::TraceLayer` reads the header into the root of its tree,
//! whose exported span then has this call's span as parent).
//!
//! [`TraceparentLayer`] for tower clients (hyper-util's `Client`, tonic,
//! anything taking `http::Request`); [`inject`] for a `HeaderMap`;
//! [`traceparent_header`] for other clients (`reqwest`:
//! `request.header("traceparent", value)`).

use std::task::{Context, Poll};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

/// The W3C Trace Context header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The current call's `traceparent` header value, or `None` outside a
/// traced request; see `trace_runtime::context::current_traceparent`.
///
/// ```
/// #[trace_runtime::trace]
/// fn call_rooms_service() -> Option<http::HeaderValue> {
///     trace_otel::propagate::traceparent_header()
/// }
///
/// trace_runtime::tree::add_sink(|_: &trace_runtime::tree::CallTree| {});
/// let value = call_rooms_service().unwrap();
/// assert!(value.to_str().unwrap().starts_with("00-"));
/// assert_eq!(trace_otel::propagate::traceparent_header(), None);
/// # trace_runtime::tree::clear_sinks();
/// ```
#[must_use]
pub fn traceparent_header() -> Option<HeaderValue> {
    let parent = trace_runtime::context::current_traceparent()?;
    // Lowercase hex and dashes: always a valid header value.
    HeaderValue::from_str(&parent.to_string()).ok()
}

/// Sets `traceparent` in `headers` to the current call's, replacing one
/// already there (this call is the caller now); `false`, leaving `headers`
/// as they were, outside a traced request.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// assert!(!trace_otel::propagate::inject(&mut headers));
/// assert!(headers.is_empty());
/// ```
pub fn inject(headers: &mut HeaderMap) -> bool {
    match traceparent_header() {
        Some(value) => {
            headers.insert(TRACEPARENT, value);
            true
        }
        None => false,
    }
}

/// A tower [`Layer`] for HTTP clients: each request gets the `traceparent`
/// of the call that sends it ([`inject`]), taken when the request is
/// handed to the client (inside the traced call).
///
/// ```
/// use tower::{service_fn, Layer as _, ServiceExt as _};
/// use trace_otel::propagate::TraceparentLayer;
///
/// // Any client service; this one answers with the header it was sent.
/// let client = TraceparentLayer.layer(service_fn(|request: http::Request<()>| async move {
///     Ok::<_, std::convert::Infallible>(request.headers().get("traceparent").cloned())
/// }));
///
/// #[trace_runtime::trace]
/// async fn fetch<S>(client: S) -> Option<http::HeaderValue>
/// where
///     S: tower::Service<http::Request<()>, Response = Option<http::HeaderValue>>,
///     S::Error: std::fmt::Debug,
/// {
///     client.oneshot(http::Request::new(())).await.unwrap()
/// }
///
/// trace_runtime::tree::add_sink(|_: &trace_runtime::tree::CallTree| {});
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert!(fetch(client).await.is_some());
/// # });
/// # trace_runtime::tree::clear_sinks();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceparentLayer;

impl<S> Layer<S> for TraceparentLayer {
    type Service = TraceparentService<S>;

    fn layer(&self, inner: S) -> TraceparentService<S> {
        TraceparentService { inner }
    }
}

/// The service [`TraceparentLayer`] wraps around a client.
#[derive(Clone, Debug)]
pub struct TraceparentService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for TraceparentService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        inject(request.headers_mut());
        self.inner.call(request)
    }
}
