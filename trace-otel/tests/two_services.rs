//! Two axum services on 127.0.0.1, `front` calling `users` through a hyper
//! client with `TraceparentLayer`, both traced with `TraceLayer` and
//! exported by one OTLP/HTTP exporter to a receiver in this test, which
//! decodes the protobuf. Every received span is checked against the call
//! trees the process delivered: names, ids, parents, one trace id across
//! both services, the incoming `traceparent` as the remote parent, error
//! status, and timestamps ordered and nested.
#![warn(clippy::pedantic)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as OtlpStatus;
use opentelemetry_proto::tonic::trace::v1::Span;
use support::{int_attribute, string_attribute, Receiver};
use tower::{Layer as _, ServiceExt as _};
use trace_otel::propagate::{TraceparentLayer, TraceparentService};
use trace_runtime::context::TraceParent;
use trace_runtime::http::TraceLayer;
use trace_runtime::instrument_all;
use trace_runtime::tree::CallTree;

type HttpClient = TraceparentService<Client<HttpConnector, Empty<Bytes>>>;

#[derive(Debug)]
struct NotFound;

/// The `users` service's storage.
struct Users;

#[instrument_all]
impl Users {
    async fn find(id: String) -> Result<String, NotFound> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Self::check(&id)?;
        Ok(format!("user {id}"))
    }

    fn check(id: &str) -> Result<(), NotFound> {
        if id == "ghost" {
            Err(NotFound)
        } else {
            Ok(())
        }
    }
}

async fn user(Path(id): Path<String>) -> Result<String, StatusCode> {
    Users::find(id)
        .await
        .map_err(|NotFound| StatusCode::INTERNAL_SERVER_ERROR)
}

/// The `front` service: asks `users`, then renders.
struct Profiles;

#[instrument_all]
impl Profiles {
    async fn fetch(
        client: HttpClient,
        users: SocketAddr,
        id: String,
    ) -> Result<String, StatusCode> {
        let request = hyper::Request::get(format!("http://{users}/users/{id}"))
            .body(Empty::new())
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        let response = client
            .oneshot(request)
            .await
            .map_err(|_| StatusCode::BAD_GATEWAY)?;
        if !response.status().is_success() {
            return Err(StatusCode::BAD_GATEWAY);
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| StatusCode::BAD_GATEWAY)?;
        Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
    }

    fn render(user: &str) -> String {
        format!("<h1>{user}</h1>")
    }
}

async fn profile(
    State((client, users)): State<(HttpClient, SocketAddr)>,
    Path(id): Path<String>,
) -> Result<String, StatusCode> {
    let user = Profiles::fetch(client, users, id).await?;
    Ok(Profiles::render(&user))
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends `GET path` to `addr`, with `traceparent` if given; the status.
async fn get_status(addr: SocketAddr, path: &str, traceparent: Option<&str>) -> u16 {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::get(format!("http://{addr}{path}"));
    if let Some(value) = traceparent {
        request = request.header("traceparent", value);
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    response.status().as_u16()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The expected shape of one exported span, from its tree.
#[derive(Debug)]
struct Expected {
    name: String,
    parent: Vec<u8>,
    trace_id: Vec<u8>,
}

/// Every node of `trees` by span id: name, parent span id, trace id.
fn expected(trees: &[CallTree]) -> HashMap<Vec<u8>, Expected> {
    let mut all = HashMap::new();
    for tree in trees {
        let mut stack: Vec<[u8; 8]> = Vec::new();
        for node in tree.iter() {
            stack.truncate(node.depth());
            let parent = match stack.last() {
                Some(id) => id.to_vec(),
                None => tree
                    .remote_parent()
                    .map(|p| p.parent_id.to_vec())
                    .unwrap_or_default(),
            };
            let previous = all.insert(
                node.span_id().to_vec(),
                Expected {
                    name: node.name().to_owned(),
                    parent,
                    trace_id: tree.trace_id().to_vec(),
                },
            );
            assert!(previous.is_none(), "span id of {} repeats", node.name());
            stack.push(node.span_id());
        }
    }
    all
}

fn by_id(spans: &[Span]) -> HashMap<Vec<u8>, &Span> {
    spans.iter().map(|s| (s.span_id.clone(), s)).collect()
}

/// Children start at or after their parent and end at or before it; every
/// span ends at or after its start; siblings are in start order.
fn assert_nested(spans: &[Span]) {
    let ids = by_id(spans);
    let mut children: BTreeMap<Vec<u8>, Vec<&Span>> = BTreeMap::new();
    for span in spans {
        assert!(
            span.end_time_unix_nano >= span.start_time_unix_nano,
            "{} ends before it starts",
            span.name
        );
        assert!(
            span.start_time_unix_nano > 1_600_000_000_000_000_000,
            "{} has no wall-clock start",
            span.name
        );
        if let Some(parent) = ids.get(&span.parent_span_id) {
            // A remote parent (flags: has-is-remote, is-remote) is in another
            // tree, whose clock anchor was read separately: allow a millisecond.
            let slack = if span.flags & 0x300 == 0x300 {
                1_000_000
            } else {
                0
            };
            assert!(
                span.start_time_unix_nano + slack >= parent.start_time_unix_nano,
                "{} starts before its parent {}",
                span.name,
                parent.name
            );
            assert!(
                span.end_time_unix_nano <= parent.end_time_unix_nano + slack,
                "{} ends after its parent {}",
                span.name,
                parent.name
            );
            children
                .entry(span.parent_span_id.clone())
                .or_default()
                .push(span);
        }
    }
    for siblings in children.values() {
        let starts: Vec<u64> = siblings.iter().map(|s| s.start_time_unix_nano).collect();
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        assert_eq!(starts, sorted, "siblings out of start order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_across_two_services() {
    let (receiver, otlp_addr) = Receiver::start().await;
    let otlp = trace_otel::OtlpBuilder::new()
        .endpoint(format!("http://{otlp_addr}"))
        .service_name("profiles-test")
        .scheduled_delay(Duration::from_millis(50))
        .install()
        .unwrap();
    let trees: Arc<Mutex<Vec<CallTree>>> = Arc::default();
    let sink = Arc::clone(&trees);
    trace_runtime::tree::add_sink(move |tree: &CallTree| sink.lock().unwrap().push(tree.clone()));

    let users = serve(
        Router::new()
            .route("/users/{id}", get(user))
            .layer(TraceLayer::new()),
    )
    .await;
    let client = TraceparentLayer.layer(Client::builder(TokioExecutor::new()).build_http());
    let front = serve(
        Router::new()
            .route("/profile/{id}", get(profile))
            .layer(TraceLayer::new())
            .with_state((client, users)),
    )
    .await;

    // A caller in another service sent this request, sampled.
    let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    assert_eq!(get_status(front, "/profile/ann", Some(incoming)).await, 200);
    // No caller: a new trace; `users` fails, so `front` does.
    assert_eq!(get_status(front, "/profile/ghost", None).await, 502);

    // Four trees: two per service; 3 + 3 + 2 + 3 spans.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while trees.lock().unwrap().len() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(tokio::task::spawn_blocking(move || otlp.flush())
        .await
        .unwrap());
    let arrived = receiver.wait_for(11).await;
    let trees = trees.lock().unwrap().clone();
    assert_eq!(trees.len(), 4, "trees delivered");
    assert_eq!(arrived.len(), 11, "spans received: {arrived:#?}");
    assert!(arrived.iter().all(|r| r.service == "profiles-test"));
    let spans: Vec<Span> = arrived.into_iter().map(|r| r.span).collect();
    assert_matches_trees(&spans, &trees);
    assert_trace_context(&spans, incoming);
    assert_status(&spans);
    assert_nested(&spans);
    trace_runtime::tree::clear_sinks();
}

/// Every span is a node of a tree, with its name, parent and trace.
fn assert_matches_trees(spans: &[Span], trees: &[CallTree]) {
    let expected = expected(trees);
    assert_eq!(expected.len(), spans.len());
    for span in spans {
        let node = expected
            .get(&span.span_id)
            .unwrap_or_else(|| panic!("no node for {}", span.name));
        assert_eq!(span.name, node.name);
        assert_eq!(
            hex(&span.parent_span_id),
            hex(&node.parent),
            "parent of {}",
            span.name
        );
        assert_eq!(
            hex(&span.trace_id),
            hex(&node.trace_id),
            "trace of {}",
            span.name
        );
    }

    let mut sorted: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "GET /profile/{id}",
            "GET /profile/{id}",
            "GET /users/{id}",
            "GET /users/{id}",
            "Profiles::fetch",
            "Profiles::fetch",
            "Profiles::render",
            "Users::check",
            "Users::check",
            "Users::find",
            "Users::find",
        ]
    );
}

fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The incoming traceparent is the front root's parent, its trace id the
/// first request's, across both services; each users root is under the
/// front call that sent its request; the second request is a new trace.
fn assert_trace_context(spans: &[Span], incoming: &str) {
    let front_roots = named(spans, "GET /profile/{id}");
    let user_roots = named(spans, "GET /users/{id}");
    let fetches = named(spans, "Profiles::fetch");
    assert_eq!(
        (front_roots.len(), user_roots.len(), fetches.len()),
        (2, 2, 2)
    );
    // The first request: the incoming traceparent is the front root's
    // parent, its trace id the whole trace's, across both services.
    let remote = TraceParent::parse(incoming).unwrap();
    let first_front = front_roots
        .iter()
        .find(|s| s.trace_id == remote.trace_id)
        .expect("front root in the caller's trace");
    assert_eq!(first_front.parent_span_id, remote.parent_id);
    let in_first: Vec<&Span> = spans
        .iter()
        .filter(|s| s.trace_id == remote.trace_id)
        .collect();
    assert_eq!(
        in_first.len(),
        6,
        "both services' spans of the first request share its trace id"
    );
    // The users root's parent is the front call that sent the request.
    for (user_root, fetch) in user_roots.iter().map(|u| {
        (
            u,
            fetches.iter().find(|f| f.trace_id == u.trace_id).unwrap(),
        )
    }) {
        assert_eq!(
            user_root.parent_span_id, fetch.span_id,
            "users root under Profiles::fetch"
        );
        assert_eq!(user_root.kind, 2, "server span"); // SPAN_KIND_SERVER
        assert_eq!(user_root.flags & 0x300, 0x300, "the parent is remote");
        assert!(int_attribute(&user_root.attributes, "http.response.status_code").is_some());
        assert_eq!(
            string_attribute(&user_root.attributes, "http.route").as_deref(),
            Some("/users/{id}")
        );
        assert_eq!(
            string_attribute(&user_root.attributes, "http.request.method").as_deref(),
            Some("GET")
        );
    }
    // The second request: a trace of its own, not the first one's.
    let second_front = front_roots
        .iter()
        .find(|s| s.trace_id != remote.trace_id)
        .unwrap();
    assert!(
        second_front.parent_span_id.is_empty(),
        "a new trace has no parent"
    );
    assert_eq!(
        named(spans, "Profiles::render").len(),
        1,
        "the failed request rendered nothing"
    );
}

/// Error status on the failed check, the 500 of users and the 502 of
/// front, none elsewhere; the code attributes and busy time.
fn assert_status(spans: &[Span]) {
    let status_of = |span: &Span| {
        let status = span.status.clone().unwrap_or_default();
        (status.code, status.message)
    };
    let fronts = named(spans, "GET /profile/{id}");
    let first_front = fronts
        .iter()
        .find(|s| !s.parent_span_id.is_empty())
        .unwrap();
    let second_front = fronts.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    let in_second = |s: &&Span| s.trace_id == second_front.trace_id;
    let error = OtlpStatus::Error as i32;
    let failed_check = named(spans, "Users::check")
        .into_iter()
        .find(in_second)
        .unwrap();
    assert_eq!(status_of(failed_check), (error, "err".to_owned()));
    let failed_user_root = named(spans, "GET /users/{id}")
        .into_iter()
        .find(in_second)
        .unwrap();
    assert_eq!(status_of(failed_user_root), (error, "HTTP 500".to_owned()));
    assert_eq!(status_of(second_front), (error, "HTTP 502".to_owned()));
    let failed_find = named(spans, "Users::find")
        .into_iter()
        .find(in_second)
        .unwrap();
    let failed_fetch = named(spans, "Profiles::fetch")
        .into_iter()
        .find(in_second)
        .unwrap();
    assert_eq!(status_of(failed_find).0, error);
    assert_eq!(status_of(failed_fetch).0, error);
    let ok = spans.iter().filter(|s| s.trace_id == first_front.trace_id);
    for span in ok {
        assert_eq!(
            status_of(span).0,
            OtlpStatus::Unset as i32,
            "{} failed",
            span.name
        );
    }
    let check = named(spans, "Users::check")[0];
    assert_eq!(
        string_attribute(&check.attributes, "code.function").as_deref(),
        Some("Users::check")
    );
    assert_eq!(
        string_attribute(&check.attributes, "code.namespace").as_deref(),
        Some(module_path!())
    );
    let find = named(spans, "Users::find")[0];
    assert!(
        int_attribute(&find.attributes, "trace_runtime.busy_ns").is_some_and(|busy| busy > 0),
        "async busy time"
    );
    assert!(
        find.end_time_unix_nano - find.start_time_unix_nano >= 2_000_000,
        "find slept 2 ms"
    );
}
