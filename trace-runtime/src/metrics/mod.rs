//! The Prometheus metrics every traced call feeds, through the `metrics` facade.
//!
//! Under [`ExporterBuilder`](crate::ExporterBuilder) calls count in per-thread
//! cells instead (see `striped`), published into the facade's counters and
//! gauges at each render; the duration histogram is rendered from its cells
//! by the exporter (see `histogram`). Handles are cached for the global
//! recorder only (see `handles`); calls under a local recorder register
//! theirs per call (see `local`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `function_calls_total` | counter | `function`, `module`, `service_name`, `result`, `caller_function`, `caller_module` |
//! | `function_calls_duration_seconds` | histogram | `function`, `module`, `service_name` |
//! | `function_calls_concurrent` | gauge | `function`, `module`, `service_name` |
//! | `build_info` | gauge (always 1) | `version`, `commit`, `branch`, `service_name`, `trace_runtime_version` |
//! | `http_requests_total` | counter | `method`, `route`, `status`, `service_name` |
//! | `http_request_duration_seconds` | histogram | `method`, `route`, `service_name` |
//! | `http_requests_in_flight` | gauge | `method`, `route`, `service_name` |
//!
//! `result` is `ok`, `error` (an `Err` return or a panic) or `cancelled` (an
//! async call whose future was dropped before it completed). The `http_*`
//! families come from the HTTP layer (`http::TraceLayer`, cargo feature
//! `tower`). The names follow
//! the OpenTelemetry / autometrics convention, so dashboards and alert rules
//! written for it work unchanged.

pub(crate) mod call;
pub(crate) mod handles;
pub(crate) mod histogram;
pub(crate) mod labels;
pub(crate) mod leaked_list;
pub(crate) mod local;
pub(crate) mod names;
pub(crate) mod recorder;
pub(crate) mod service;
pub(crate) mod site;
pub(crate) mod striped;

pub use names::{
    AUTOMETRICS_BUCKETS, BUILD_INFO, CALLS_TOTAL, CONCURRENT, DEFAULT_BUCKETS, DURATION_SECONDS,
    HTTP_REQUESTS_IN_FLIGHT, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION_SECONDS,
};
