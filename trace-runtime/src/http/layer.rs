//! [`TraceLayer`] and the service it wraps around another.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderName;
use http::{Method, Request, Response, Uri};
use tower_layer::Layer;
use tower_service::Service;

use crate::config;
use crate::http::future::{ResponseFuture, Traced};
use crate::http::labels::{self, UNMATCHED};
use crate::http::metrics::{Cache, RequestMetrics, RouteSlot, SharedRecorder, Target};
use crate::traceparent::TraceParent;

/// The W3C Trace Context header.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// A route-naming function for services without axum's routing.
type RouteFn = dyn Fn(&Method, &Uri) -> Option<&'static str> + Send + Sync;

/// A tower [`Layer`] that makes every HTTP request the root of its own call
/// tree and counts it in the [HTTP metrics](crate::http#metrics).
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use axum::{extract::Path, routing::get, Router};
/// use trace_runtime::http::TraceLayer;
///
/// #[trace_runtime::trace]
/// async fn find_room(id: u32) -> Option<String> {
///     (id == 1).then(|| "lobby".to_owned())
/// }
///
/// async fn room(Path(id): Path<u32>) -> String {
///     find_room(id).await.unwrap_or_default()
/// }
///
/// let app: Router = Router::new()
///     .route("/rooms/{id}", get(room))
///     // After the routes it wraps: one tree per request, named `GET /rooms/{id}`.
///     .layer(TraceLayer::new());
/// # let _ = app;
/// # }
/// ```
#[derive(Clone)]
pub struct TraceLayer {
    shared: Arc<Shared>,
}

/// What every service of a layer shares.
struct Shared {
    settings: Settings,
    cache: Cache,
}

#[derive(Clone)]
struct Settings {
    excluded: Vec<Box<str>>,
    failure: fn(u16) -> bool,
    route: Option<Arc<RouteFn>>,
    target: Target,
}

impl Default for TraceLayer {
    fn default() -> Self {
        TraceLayer::new()
    }
}

impl fmt::Debug for TraceLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.shared.settings;
        f.debug_struct("TraceLayer")
            .field("excluded", &settings.excluded)
            .field("route_with", &settings.route.is_some())
            .field("own_recorder", &matches!(settings.target, Target::Own(_)))
            .finish_non_exhaustive()
    }
}

/// The default failure classifier: server errors (5xx).
fn server_error(status: u16) -> bool {
    (500..600).contains(&status)
}

impl TraceLayer {
    /// A layer with the defaults: `/metrics` excluded, 5xx responses mark
    /// the request failed, metrics through the `metrics` facade.
    #[must_use]
    pub fn new() -> Self {
        TraceLayer::with_settings(Settings {
            excluded: vec!["/metrics".into()],
            failure: server_error,
            route: None,
            target: Target::Facade,
        })
    }

    fn with_settings(settings: Settings) -> Self {
        let cache = Cache::new(settings.target.clone());
        TraceLayer {
            shared: Arc::new(Shared { settings, cache }),
        }
    }

    fn change(self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = self.shared.settings.clone();
        change(&mut settings);
        TraceLayer::with_settings(settings)
    }

    /// Serves requests for `path` (exact match) untraced and uncounted,
    /// besides `/metrics`: health checks, say.
    ///
    /// ```
    /// let layer = trace_runtime::http::TraceLayer::new().exclude("/healthz");
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn exclude(self, path: impl Into<String>) -> Self {
        let path = path.into().into_boxed_str();
        self.change(|s| s.excluded.push(path))
    }

    /// Traces and counts `/metrics` (and every path) too: excludes nothing
    /// but what [`exclude`](Self::exclude) adds afterwards.
    #[must_use]
    pub fn exclude_nothing(self) -> Self {
        self.change(|s| s.excluded.clear())
    }

    /// Which response statuses mark a request failed (its root `err`);
    /// default: 500 to 599.
    ///
    /// ```
    /// // Count 429 (rate limited) as a failure too.
    /// let layer = trace_runtime::http::TraceLayer::new()
    ///     .failure_if(|status| status == 429 || status >= 500);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn failure_if(self, failure: fn(u16) -> bool) -> Self {
        self.change(|s| s.failure = failure)
    }

    /// Names a request's route when no router has matched one (plain
    /// tower or hyper services, or a layer placed before axum's routing):
    /// `route` gets the method and URI and returns a template such as
    /// `/rooms/{id}`; `None` (and the default) is `unmatched`. Return only
    /// templates, never raw paths: each distinct value is a new series.
    ///
    /// ```
    /// let layer = trace_runtime::http::TraceLayer::new().route_with(|_method, uri| {
    ///     match uri.path() {
    ///         "/rooms" => Some("/rooms"),
    ///         path if path.starts_with("/rooms/") => Some("/rooms/{id}"),
    ///         _ => None,
    ///     }
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn route_with(
        self,
        route: impl Fn(&Method, &Uri) -> Option<&'static str> + Send + Sync + 'static,
    ) -> Self {
        let route: Arc<RouteFn> = Arc::new(route);
        self.change(|s| s.route = Some(route))
    }

    /// Records this layer's HTTP metrics into `recorder` instead of the
    /// `metrics` facade's: a test can read them without installing a global
    /// recorder. Traced calls inside requests still record into the
    /// facade's.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let recorder = Arc::new(metrics_util::debugging::DebuggingRecorder::new());
    /// let snapshotter = recorder.snapshotter();
    /// let layer = trace_runtime::http::TraceLayer::new().recorder(recorder);
    /// # let _ = (layer, snapshotter);
    /// ```
    #[must_use]
    pub fn recorder<R: metrics::Recorder + Send + Sync + 'static>(self, recorder: Arc<R>) -> Self {
        let recorder: SharedRecorder = recorder;
        self.change(|s| s.target = Target::Own(recorder))
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService {
            inner,
            shared: Arc::clone(&self.shared),
            slot: Arc::default(),
        }
    }
}

/// The service [`TraceLayer`] wraps around `S`.
#[derive(Clone)]
pub struct TraceService<S> {
    inner: S,
    shared: Arc<Shared>,
    /// Shared by this service's clones: axum clones a route's service for
    /// each request.
    slot: Arc<RouteSlot>,
}

impl<S: fmt::Debug> fmt::Debug for TraceService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for TraceService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let traced = self.shared.begin(&self.slot, &request);
        ResponseFuture::new(self.inner.call(request), traced)
    }
}

impl Shared {
    /// Starts a request's metrics and prepares its root, unless its path
    /// is excluded or instrumentation is off.
    fn begin<B>(&self, slot: &RouteSlot, request: &Request<B>) -> Option<Traced> {
        if !config::is_enabled() {
            return None;
        }
        let path = request.uri().path();
        if self.settings.excluded.iter().any(|p| **p == *path) {
            return None;
        }
        let method = labels::method_index(request.method());
        let route = self.route(request);
        let remote = request
            .headers()
            .get(&TRACEPARENT)
            .and_then(|value| value.to_str().ok())
            .and_then(TraceParent::parse);
        let metrics = RequestMetrics::start(&self.cache, slot, method, route);
        Some(Traced::new(remote, self.settings.failure, metrics))
    }

    /// The route template: axum's matched route, else the layer's route
    /// function's, else [`UNMATCHED`].
    fn route<'r, B>(&self, request: &'r Request<B>) -> &'r str {
        #[cfg(feature = "axum")]
        if let Some(matched) = request.extensions().get::<axum::extract::MatchedPath>() {
            return matched.as_str();
        }
        self.settings
            .route
            .as_ref()
            .and_then(|route| route(request.method(), request.uri()))
            .unwrap_or(UNMATCHED)
    }
}
