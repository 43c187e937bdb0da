//! HTTP requests as call-tree roots, with Prometheus request metrics: a
//! tower [`TraceLayer`] for axum, hyper or any tower service (cargo feature
//! `tower`; `axum` adds matched routes and [`metrics_route`]).
//!
//! Each request through the layer is the root of its own
//! [`CallTree`](crate::tree::CallTree), named `METHOD /route/{template}`
//! (`GET unmatched` when no route matched), with the response status on
//! the root. A 5xx response (or whatever [`TraceLayer::failure_if`] says)
//! marks the root `err`, a panic `panic`, and a client that goes away
//! before the response `cancelled`. A valid W3C `traceparent` header is
//! kept on the tree ([`CallTree::remote_parent`](crate::tree::CallTree::remote_parent)).
//!
//! # Where to put the layer
//!
//! In axum, with `Router::layer` after the routes it should cover (it wraps
//! each of them and the fallback, after routing, so it sees the matched
//! route). Placed outside the router (`ServiceBuilder` around it, or a
//! hyper service), it runs before routing: give it
//! [`route_with`](TraceLayer::route_with), or every request is `unmatched`.
//!
//! # Metrics
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route`, `status`, `service_name` |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `service_name` |
//! | `http_requests_in_flight` | gauge | `method`, `route`, `service_name` |
//!
//! `method` is one of `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`,
//! `OPTIONS`, `TRACE`, `PATCH` or `OTHER`; `route` is the template, never
//! the raw path; `status` the numeric code, `499` for a client that went
//! away before the response and `500` for a panic or a service error. The
//! duration runs from the request reaching the layer to its response head
//! (a streamed body is not waited for), and leaves `status` out so latency
//! objectives select on the route alone, with a tenth of the series; the
//! counter has it for error ratios. [`ExporterBuilder`](crate::ExporterBuilder)
//! renders the histogram with its buckets and describes every family.
//!
//! `/metrics` is left out of both by default ([`TraceLayer::exclude`],
//! [`TraceLayer::exclude_nothing`]). [`set_enabled(false)`](crate::set_enabled)
//! switches the layer off too.

#[cfg(feature = "axum")]
mod axum;
mod future;
mod labels;
mod layer;
mod metrics;
#[cfg(all(feature = "axum", feature = "pages"))]
mod pages;

#[cfg(feature = "axum")]
pub use self::axum::metrics_route;
#[cfg(all(feature = "axum", feature = "pages"))]
pub use self::pages::pages_router;
pub use crate::metrics::{
    HTTP_REQUESTS_IN_FLIGHT, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION_SECONDS,
};
pub use future::ResponseFuture;
pub use labels::UNMATCHED;
pub use layer::{TraceLayer, TraceService};
