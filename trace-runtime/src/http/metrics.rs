//! The HTTP metrics of a request, with their handles cached per route and
//! method.
//!
//! Handles are cached when they belong to a recorder that lives as long as
//! the cache: the layer's own recorder, or the process-global one (see
//! `metrics::recorder`). Under any other recorder (a test's local one) each
//! request registers its handles afresh, as traced calls do.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder};

use crate::clock::Instant;
use crate::http::labels::{CANCELLED_STATUS, METHODS};
use crate::metrics::labels::METADATA;
use crate::metrics::recorder::{self, RecorderId};
use crate::metrics::{names, service};
use crate::outcome::Outcome;

/// A recorder owned by a layer.
pub(crate) type SharedRecorder = Arc<dyn Recorder + Send + Sync>;

/// Routes cached per layer at most; requests on further routes register
/// their handles each time (a route template set is code, so this is only
/// reached by a `route_with` function that returns unbounded names).
const MAX_ROUTES: usize = 1024;

/// Where a layer's metrics go.
#[derive(Clone)]
pub(crate) enum Target {
    /// The `metrics` facade: the recorder current where the request starts.
    Facade,
    /// A recorder given to the layer.
    Own(SharedRecorder),
}

impl Target {
    fn register<T>(&self, register: impl FnOnce(&dyn Recorder) -> T) -> T {
        match self {
            Target::Facade => metrics::with_recorder(|r| register(r)),
            Target::Own(recorder) => register(&**recorder),
        }
    }
}

/// The statuses whose counters sit in a fixed slot, found without a lock.
const COMMON: [u16; 16] = [
    200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 409, 422, 429, 499, 500, 503,
];

/// The handles of one route and method.
pub(crate) struct RouteHandles {
    target: Target,
    /// The facade recorder they were registered with; `None` for a layer's
    /// own recorder.
    recorder: Option<RecorderId>,
    /// `METHOD route`, the name of the requests' trees.
    pub(crate) name: Arc<str>,
    labels: [Label; 3],
    in_flight: Gauge,
    duration: Histogram,
    /// By status: the [`COMMON`] ones, then the rest (at most the 900
    /// codes `http` accepts).
    common: [OnceLock<Counter>; COMMON.len()],
    requests: RwLock<Vec<(u16, Counter)>>,
    /// The route's live statistics, when they are on.
    #[cfg(feature = "stats")]
    stats: Option<&'static crate::stats::series::Series>,
}

impl RouteHandles {
    fn register(target: &Target, recorder: Option<RecorderId>, method: usize, route: &str) -> Self {
        let labels = [
            Label::from_static_parts("method", METHODS[method]),
            Label::new("route", route.to_owned()),
            Label::new("service_name", service::resolve(None)),
        ];
        let in_flight_key = Key::from_parts(names::HTTP_REQUESTS_IN_FLIGHT, labels.to_vec());
        let duration_key = Key::from_parts(names::HTTP_REQUEST_DURATION_SECONDS, labels.to_vec());
        let (in_flight, duration) = target.register(|r| {
            (
                r.register_gauge(&in_flight_key, &METADATA),
                r.register_histogram(&duration_key, &METADATA),
            )
        });
        let name: Arc<str> = format!("{} {route}", METHODS[method]).into();
        RouteHandles {
            target: target.clone(),
            recorder,
            #[cfg(feature = "stats")]
            stats: crate::stats::route(&name),
            name,
            labels,
            in_flight,
            duration,
            common: Default::default(),
            requests: RwLock::new(Vec::new()),
        }
    }

    /// Counts one request with `status` in `http_requests_total`.
    fn count(&self, status: u16) {
        match COMMON.iter().position(|s| *s == status) {
            Some(slot) => self.common[slot]
                .get_or_init(|| self.register_requests(status))
                .increment(1),
            None => self.requests(status).increment(1),
        }
    }

    fn register_requests(&self, status: u16) -> Counter {
        let mut labels = self.labels.to_vec();
        labels.insert(2, Label::new("status", status.to_string()));
        let key = Key::from_parts(names::HTTP_REQUESTS_TOTAL, labels);
        self.target
            .register(|r| r.register_counter(&key, &METADATA))
    }

    /// The `http_requests_total` counter for an uncommon `status`.
    fn requests(&self, status: u16) -> Counter {
        let find = |counters: &[(u16, Counter)]| {
            counters
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, c)| c.clone())
        };
        if let Some(counter) = find(&self.requests.read().unwrap_or_else(PoisonError::into_inner)) {
            return counter;
        }
        let mut counters = self
            .requests
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(counter) = find(&counters) {
            return counter;
        }
        let mut labels = self.labels.to_vec();
        labels.insert(2, Label::new("status", status.to_string()));
        let key = Key::from_parts(names::HTTP_REQUESTS_TOTAL, labels);
        let counter = self
            .target
            .register(|r| r.register_counter(&key, &METADATA));
        counters.push((status, counter.clone()));
        counter
    }
}

/// One route's handles, by method index.
type ByMethod = [Option<Arc<RouteHandles>>; METHODS.len()];

/// A layer's handles, by route and method.
pub(crate) struct Cache {
    target: Target,
    routes: RwLock<HashMap<Box<str>, ByMethod>>,
}

impl Cache {
    pub(crate) fn new(target: Target) -> Self {
        Cache {
            target,
            routes: RwLock::new(HashMap::new()),
        }
    }

    /// The handles for a request, cached if their recorder outlives the
    /// cache; `slot` is the calling service's, which sees one route (an
    /// axum route's service), so usually holds them already.
    fn handles(&self, slot: &RouteSlot, method: usize, route: &str) -> Arc<RouteHandles> {
        let recorder = match self.target {
            Target::Facade => Some(recorder::current()),
            Target::Own(_) => None,
        };
        let slotted = slot.route.get().filter(|r| ***r == *route).and_then(|_| {
            slot.methods[method]
                .get()
                .filter(|h| h.recorder == recorder)
        });
        if let Some(handles) = slotted {
            return Arc::clone(handles);
        }
        let handles = self.lookup(method, route, recorder);
        if handles.cached && **slot.route.get_or_init(|| route.into()) == *route {
            let _ = slot.methods[method].set(Arc::clone(&handles.handles));
        }
        handles.handles
    }

    /// The handles in the shared map, registered if absent or stale.
    fn lookup(&self, method: usize, route: &str, recorder: Option<RecorderId>) -> Lookup {
        let cached = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
            .and_then(|methods| methods[method].clone());
        if let Some(handles) = cached.filter(|h| h.recorder == recorder) {
            return Lookup {
                handles,
                cached: true,
            };
        }
        let handles = Arc::new(RouteHandles::register(
            &self.target,
            recorder,
            method,
            route,
        ));
        // Under a recorder that may not outlive the cache, nothing is kept.
        if recorder.is_some_and(|id| !recorder::is_global(id)) {
            return Lookup {
                handles,
                cached: false,
            };
        }
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(methods) = routes.get_mut(route) {
            methods[method] = Some(Arc::clone(&handles));
        } else if routes.len() < MAX_ROUTES {
            let mut methods = ByMethod::default();
            methods[method] = Some(Arc::clone(&handles));
            routes.insert(route.into(), methods);
        }
        Lookup {
            handles,
            cached: true,
        }
    }
}

/// Handles found in (or added to) the shared map, or registered uncached.
struct Lookup {
    handles: Arc<RouteHandles>,
    cached: bool,
}

/// One service's cached handles: the first route it saw, by method. An
/// axum route's service only ever sees its own route; a service that sees
/// several (a route function's) uses the shared map for the others. Once
/// set, a slot stays: requests whose recorder changed since (a global one
/// installed late) use the shared map.
#[derive(Default)]
pub(crate) struct RouteSlot {
    route: OnceLock<Box<str>>,
    methods: [OnceLock<Arc<RouteHandles>>; METHODS.len()],
}

/// One request's metrics: in flight from [`start`](Self::start) until
/// [`finish`](Self::finish), or until dropped unfinished, which counts it as
/// cancelled (status 499).
pub(crate) struct RequestMetrics {
    pub(crate) handles: Arc<RouteHandles>,
    start: Instant,
    done: bool,
}

impl RequestMetrics {
    pub(crate) fn start(cache: &Cache, slot: &RouteSlot, method: usize, route: &str) -> Self {
        let handles = cache.handles(slot, method, route);
        handles.in_flight.increment(1.0);
        RequestMetrics {
            handles,
            start: Instant::now(),
            done: false,
        }
    }

    /// Counts the request with `status` and its duration until now; only
    /// the first call counts. `outcome` is the request's for the live
    /// statistics (the counters label by status).
    pub(crate) fn finish(&mut self, status: u16, outcome: Outcome) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let nanos = Instant::now().nanos_since(self.start);
        #[cfg(feature = "stats")]
        if let Some(stats) = self.handles.stats {
            stats.record(nanos, crate::metrics::labels::result_index(outcome));
        }
        #[cfg(not(feature = "stats"))]
        let _ = outcome;
        #[allow(clippy::cast_precision_loss)] // exact below 2^53 ns (104 days)
        self.handles.duration.record(nanos as f64 / 1e9);
        self.handles.count(status);
        self.handles.in_flight.decrement(1.0);
    }
}

impl Drop for RequestMetrics {
    fn drop(&mut self) {
        self.finish(CANCELLED_STATUS, Outcome::Cancelled);
    }
}
