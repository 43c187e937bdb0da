//! The HTTP layer without axum's routing: around a plain tower service,
//! around a whole axum router (before routing), and over a service that
//! fails. Driven in process with `ServiceExt::oneshot`.
#![warn(clippy::pedantic)]

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::{Request, Response};
use insta::assert_snapshot;
use metrics_util::debugging::DebuggingRecorder;
use tower::{service_fn, Layer as _, ServiceExt as _};
use trace_runtime::http::TraceLayer;
use trace_runtime::trace;
use trace_suite::snapshot::Snapshot;
use trace_suite::{capture_trees, one_tree, render_normalised};

#[trace]
async fn fetch_item(path: &str) -> usize {
    path.len()
}

fn request(method: &str, path: &str) -> Request<Empty<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Empty::new())
        .unwrap()
}

/// `http_requests_total` lines of `snapshot`, as `METHOD route status ×n`.
fn counts(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    for ((name, labels), n) in &snapshot.counters {
        if name == "http_requests_total" {
            let _ = writeln!(
                out,
                "{} {} {} ×{n}",
                labels["method"], labels["route"], labels["status"]
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_tower_service_is_named_by_its_route_function() {
    capture_trees();
    let recorder = Arc::new(DebuggingRecorder::new());
    let snapshotter = recorder.snapshotter();
    let layer = TraceLayer::new()
        .recorder(recorder)
        .route_with(|_, uri| uri.path().starts_with("/items/").then_some("/items/{id}"));
    let service = layer.layer(service_fn(|request: Request<Empty<Bytes>>| async move {
        let len = fetch_item(request.uri().path()).await;
        Ok::<_, Infallible>(Response::new(len.to_string()))
    }));
    for path in ["/items/1", "/items/22", "/other"] {
        let response = service.clone().oneshot(request("PUT", path)).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let mut trees = trace_suite::wait_for_trees("PUT /items/{id}", 2);
    assert_snapshot!(render_normalised(&trees.pop().unwrap()), @r"
        PUT /items/{id}  <t>  status 200
          fetch_item     <t>
        ");
    assert_snapshot!(render_normalised(&one_tree("PUT unmatched")), @r"
        PUT unmatched  <t>  status 200
          fetch_item   <t>
        ");
    let mut snapshot = Snapshot::default();
    snapshot.fold(&snapshotter);
    assert_snapshot!(counts(&snapshot), @r"
        PUT /items/{id} 200 ×2
        PUT unmatched 200 ×1
        ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn around_a_whole_router_requests_are_unmatched_unless_named() {
    capture_trees();
    let router = || Router::new().route("/rooms/{id}", get(|| async { "room" }));
    let outside = TraceLayer::new().recorder(Arc::new(DebuggingRecorder::new()));
    let response = outside
        .layer(router())
        .oneshot(request("DELETE", "/rooms/7"))
        .await
        .unwrap();
    // Routed and answered (405), but the layer ran before routing.
    assert_eq!(response.status(), 405);
    assert_snapshot!(render_normalised(&one_tree("DELETE unmatched")), @r"DELETE unmatched  <t>  status 405");

    let named = TraceLayer::new()
        .recorder(Arc::new(DebuggingRecorder::new()))
        .route_with(|_, uri| uri.path().starts_with("/rooms/").then_some("/rooms/{id}"));
    let response = named
        .layer(router())
        .oneshot(request("PATCH", "/rooms/7"))
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(one_tree("PATCH /rooms/{id}").status(), Some(405));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_error_is_a_failed_request_with_status_500() {
    capture_trees();
    let recorder = Arc::new(DebuggingRecorder::new());
    let snapshotter = recorder.snapshotter();
    let service = TraceLayer::new()
        .recorder(recorder)
        .route_with(|_, _| Some("/failing"))
        .layer(service_fn(|_: Request<Empty<Bytes>>| async {
            Err::<Response<String>, _>("backend down")
        }));
    assert_eq!(
        service.oneshot(request("POST", "/x")).await.unwrap_err(),
        "backend down"
    );
    assert_snapshot!(render_normalised(&one_tree("POST /failing")), @r"POST /failing  <t>  err");
    let mut snapshot = Snapshot::default();
    snapshot.fold(&snapshotter);
    assert_snapshot!(counts(&snapshot), @r"POST /failing 500 ×1");
}

#[trace(err, fields(path))]
async fn load_room(path: &str) -> Result<usize, String> {
    if path.ends_with("/full") {
        Err(format!("room {path:?} is full"))
    } else {
        Ok(path.len())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_of_an_http_request_carries_its_method_route_and_status() {
    capture_trees();
    let layer = TraceLayer::new()
        .recorder(Arc::new(DebuggingRecorder::new()))
        .route_with(|_, uri| uri.path().starts_with("/rooms/").then_some("/rooms/{name}"));
    let service = layer.layer(service_fn(|request: Request<Empty<Bytes>>| async move {
        let status = match load_room(request.uri().path()).await {
            Ok(_) => 200,
            Err(_) => 409,
        };
        let response = Response::builder().status(status).body(String::new());
        Ok::<_, Infallible>(response.unwrap())
    }));
    let response = service
        .oneshot(request("POST", "/rooms/full"))
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let tree = one_tree("POST /rooms/{name}");
    assert_eq!(tree.method(), Some("POST"));
    assert_eq!(tree.route(), Some("/rooms/{name}"));
    assert_eq!(tree.status(), Some(409));
    assert_snapshot!(render_normalised(&tree), @r#"
        POST /rooms/{name}  <t>  status 409
          load_room         <t>  path=/rooms/full  err: room "/rooms/full" is full
        "#);
    let json = trace_suite::json_normalised(&tree);
    let head = &json[..json.find(r#","root":"#).unwrap()];
    assert_snapshot!(head, @r#"{"id":<id>,"outer":null,"uncounted":0,"status":409,"method":"POST","route":"/rooms/{name}","remote_parent":null,"calls":1"#);
}
