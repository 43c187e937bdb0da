//! The HTTP layer over real HTTP: an axum server on 127.0.0.1 with
//! `TraceLayer`, a hyper client, and a known mix of requests (found, not
//! found, created, server errors, a panicking handler, a client that hangs
//! up, unmatched paths, an unknown method, `/metrics`). Metrics go to the
//! layer's own recorder: no global recorder is installed.
#![warn(clippy::pedantic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use insta::assert_snapshot;
use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
use tokio::net::TcpStream;
use trace_runtime::context::TraceParent;
use trace_runtime::http::TraceLayer;
use trace_runtime::instrument_all;
use trace_suite::http::{send, serve};
use trace_suite::snapshot::Snapshot;
use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

#[derive(Debug)]
struct NotFound;

struct Rooms;

#[instrument_all]
impl Rooms {
    async fn find(id: u32) -> Result<&'static str, NotFound> {
        tokio::task::yield_now().await;
        if id == 1 {
            Ok("lobby")
        } else {
            Err(NotFound)
        }
    }

    fn audit(id: u32) -> u32 {
        id
    }

    async fn wait_forever() {
        std::future::pending::<()>().await;
    }

    fn explode() {
        panic!("the handler panicked, as this test wants");
    }
}

async fn room(Path(id): Path<u32>) -> Result<&'static str, StatusCode> {
    Rooms::audit(id);
    Rooms::find(id)
        .await
        .map_err(|NotFound| StatusCode::NOT_FOUND)
}

async fn create() -> StatusCode {
    StatusCode::CREATED
}

async fn boom() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

async fn explode() -> StatusCode {
    Rooms::explode();
    StatusCode::OK
}

async fn slow() -> StatusCode {
    Rooms::wait_forever().await;
    StatusCode::OK
}

/// The test service under `prefix`, each test its own, so their trees have
/// different names.
fn app(prefix: &str, layer: TraceLayer) -> Router {
    Router::new()
        .route(&format!("{prefix}/rooms/{{id}}"), get(room))
        .route(&format!("{prefix}/rooms"), post(create))
        .route(&format!("{prefix}/boom"), get(boom))
        .route(&format!("{prefix}/panic"), get(explode))
        .route(&format!("{prefix}/slow"), get(slow))
        .route("/metrics", get(|| async { "# nothing here\n" }))
        .layer(layer)
}

/// Sends a request and hangs up before the response.
async fn send_and_hang_up(addr: SocketAddr, path: &str) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let request = Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let pending = tokio::spawn(async move { sender.send_request(request).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Dropping the connection closes the socket.
    connection.abort();
    pending.abort();
    let _ = connection.await;
}

/// `http_requests_total` as `METHOD route status` lines with their counts,
/// after every request has ended (no request in flight); also checks each
/// series' other labels and that the histogram counted the same requests.
fn request_counts(snapshotter: &Snapshotter) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut snapshot = Snapshot::default();
    loop {
        snapshot.fold(snapshotter);
        let in_flight: f64 = series(&snapshot.gauges, "http_requests_in_flight")
            .values()
            .sum();
        let cancelled = series(&snapshot.counters, "http_requests_total")
            .keys()
            .any(|k| k.ends_with(" 499"));
        if (in_flight == 0.0 && cancelled) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let counts = series(&snapshot.counters, "http_requests_total");
    // The histogram has no status label: its counts per method and route
    // are the counter's, summed over statuses.
    let mut by_route: BTreeMap<String, u64> = BTreeMap::new();
    for (line, n) in &counts {
        let (route, _status) = line.rsplit_once(' ').unwrap();
        *by_route.entry(route.to_owned()).or_default() += n;
    }
    let durations: BTreeMap<String, u64> =
        series(&snapshot.histograms, "http_request_duration_seconds")
            .into_iter()
            .map(|(k, v)| (k, v.len() as u64))
            .collect();
    assert_eq!(by_route, durations);
    let in_flight = series(&snapshot.gauges, "http_requests_in_flight");
    assert!(in_flight.values().all(|v| *v == 0.0), "{in_flight:?}");
    counts.iter().fold(String::new(), |mut out, (line, n)| {
        let _ = writeln!(out, "{line} ×{n}");
        out
    })
}

/// One family's series, keyed `METHOD route[ status]`, with the other
/// labels checked: `service_name` and nothing else.
fn series<V: Clone>(
    all: &BTreeMap<trace_suite::snapshot::Series, V>,
    family: &str,
) -> BTreeMap<String, V> {
    all.iter()
        .filter(|((name, _), _)| name == family)
        .map(|((_, labels), value)| {
            let mut labels = labels.clone();
            let method = labels.remove("method").unwrap();
            let route = labels.remove("route").unwrap();
            let status = labels.remove("status").map(|s| format!(" {s}"));
            assert!(labels.remove("service_name").is_some_and(|s| !s.is_empty()));
            assert!(labels.is_empty(), "unexpected labels {labels:?}");
            (
                format!("{method} {route}{}", status.unwrap_or_default()),
                value.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_method_route_template_and_status() {
    let recorder = Arc::new(DebuggingRecorder::new());
    let snapshotter = recorder.snapshotter();
    let addr = serve(app("/c", TraceLayer::new().recorder(recorder))).await;

    for path in [
        "/c/rooms/1",
        "/c/rooms/1",
        "/c/rooms/1",
        "/c/rooms/2",
        "/c/rooms/3",
    ] {
        assert!(send(addr, "GET", path, &[]).await.is_some());
    }
    assert_eq!(send(addr, "POST", "/c/rooms", &[]).await, Some(201));
    assert_eq!(send(addr, "GET", "/c/boom", &[]).await, Some(503));
    assert_eq!(send(addr, "GET", "/c/boom", &[]).await, Some(503));
    assert_eq!(send(addr, "GET", "/c/panic", &[]).await, None);
    assert_eq!(send(addr, "GET", "/c/nope/1", &[]).await, Some(404));
    assert_eq!(send(addr, "GET", "/c/nope/2", &[]).await, Some(404));
    assert_eq!(send(addr, "DELETE", "/c/rooms", &[]).await, Some(405));
    assert_eq!(send(addr, "PROPFIND", "/c/rooms/1", &[]).await, Some(405));
    assert_eq!(send(addr, "GET", "/metrics", &[]).await, Some(200));
    send_and_hang_up(addr, "/c/slow").await;

    assert_snapshot!(request_counts(&snapshotter), @r"
        DELETE /c/rooms 405 ×1
        GET /c/boom 503 ×2
        GET /c/panic 500 ×1
        GET /c/rooms/{id} 200 ×3
        GET /c/rooms/{id} 404 ×2
        GET /c/slow 499 ×1
        GET unmatched 404 ×2
        OTHER /c/rooms/{id} 405 ×1
        POST /c/rooms 201 ×1
        ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_one_tree_with_its_status_and_remote_parent() {
    capture_trees();
    let recorder = Arc::new(DebuggingRecorder::new());
    let addr = serve(app("/t", TraceLayer::new().recorder(recorder))).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    let headers = [("traceparent", traceparent)];
    assert_eq!(send(addr, "GET", "/t/rooms/1", &headers).await, Some(200));
    let tree = one_tree("GET /t/rooms/{id}");
    assert_eq!(tree.status(), Some(200));
    assert_eq!(tree.remote_parent(), TraceParent::parse(traceparent));
    assert_snapshot!(render_normalised(&tree), @r"
        GET /t/rooms/{id}  <t>  status 200  busy <t>
          Rooms::audit     <t>
          Rooms::find      <t>  busy <t>
        ");

    // An invalid traceparent is ignored.
    let headers = [("traceparent", "00-not-a-trace-01")];
    assert_eq!(send(addr, "GET", "/t/rooms/2", &headers).await, Some(404));
    let tree = one_tree("GET /t/rooms/{id}");
    assert_eq!(tree.remote_parent(), None);
    assert_snapshot!(render_normalised(&tree), @r"
        GET /t/rooms/{id}  <t>  status 404  busy <t>
          Rooms::audit     <t>
          Rooms::find      <t>  busy <t>  err
        ");

    assert_eq!(send(addr, "GET", "/t/boom", &[]).await, Some(503));
    assert_snapshot!(render_normalised(&one_tree("GET /t/boom")), @r"GET /t/boom  <t>  status 503  err");

    assert_eq!(send(addr, "GET", "/t/panic", &[]).await, None);
    assert_snapshot!(render_normalised(&one_tree("GET /t/panic")), @r"
        GET /t/panic      <t>  panic
          Rooms::explode  <t>  panic
        ");

    send_and_hang_up(addr, "/t/slow").await;
    assert_snapshot!(render_normalised(&one_tree("GET /t/slow")), @r"
        GET /t/slow            <t>  busy <t>  cancelled
          Rooms::wait_forever  <t>  busy <t>  cancelled
        ");

    assert_eq!(send(addr, "POST", "/t/nope", &[]).await, Some(404));
    assert_snapshot!(render_normalised(&one_tree("POST unmatched")), @r"POST unmatched  <t>  status 404");

    assert_eq!(send(addr, "GET", "/metrics", &[]).await, Some(200));
    assert_eq!(send(addr, "GET", "/t/rooms/1", &[]).await, Some(200));
    assert_eq!(one_tree("GET /t/rooms/{id}").status(), Some(200));
    assert!(take_trees("GET /metrics").is_empty());
}
