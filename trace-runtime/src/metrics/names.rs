//! Metric and label names, shared by the hot path and the exporter.

/// Counter of finished calls, by `result` and caller.
pub const CALLS_TOTAL: &str = "function_calls_total";
/// Histogram of call durations in seconds.
pub const DURATION_SECONDS: &str = "function_calls_duration_seconds";
/// Gauge of calls in flight.
pub const CONCURRENT: &str = "function_calls_concurrent";
/// Gauge set to 1, labelled with version and service name.
pub const BUILD_INFO: &str = "build_info";

/// Default histogram buckets, in seconds: 100 µs to 10 s. The autometrics
/// (and Prometheus client) defaults start at 5 ms, where every fast
/// function's p99 reads about 5 ms; these add five bounds below, so
/// sub-millisecond calls have a latency of their own.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The autometrics default buckets, 5 ms to 10 s, for dashboards or
/// recording rules that expect exactly those:
/// `ExporterBuilder::new().buckets(AUTOMETRICS_BUCKETS)`.
pub const AUTOMETRICS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Counter of HTTP requests served through the HTTP layer, by `method`,
/// `route`, `status` and `service_name`.
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram of HTTP request durations in seconds, by `method`, `route` and
/// `service_name`: from the request reaching the layer to its response head.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Gauge of HTTP requests in flight, by `method`, `route` and `service_name`.
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "http_requests_in_flight";
