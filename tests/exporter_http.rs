//! The exporter with the HTTP layer, as a service runs them: `TraceLayer`
//! on the facade, `/metrics` mounted in the same axum router with
//! `metrics_route`, global labels, a hook run before each render. Scraped
//! over real HTTP on 127.0.0.1; the text must pass `promtool check metrics`.
#![warn(clippy::pedantic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use trace_runtime::http::{metrics_route, TraceLayer};
use trace_runtime::{trace, ExporterBuilder};
use trace_suite::{http, prometheus};

static RENDERS: AtomicU64 = AtomicU64::new(0);

#[trace]
async fn load_room(id: u32) -> Result<String, String> {
    if id == 1 {
        Ok("lobby".to_owned())
    } else {
        Err(format!("no room {id}"))
    }
}

async fn room(Path(id): Path<u32>) -> Result<String, axum::http::StatusCode> {
    load_room(id)
        .await
        .map_err(|_| axum::http::StatusCode::NOT_FOUND)
}

async fn get_text(addr: SocketAddr, path: &str) -> (u16, Option<String>, String) {
    let response = http::request(addr, "GET", path, &[]).await.unwrap();
    (response.status, response.content_type, response.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_router_serves_traced_requests_and_their_metrics() {
    let exporter = ExporterBuilder::new()
        .service_name("rooms")
        .version("1.2.3")
        .global_label("deployment", "eu-1")
        .before_render(|| {
            let renders = RENDERS.fetch_add(1, Ordering::Relaxed) + 1;
            metrics::gauge!("test_renders").set(f64::from(u32::try_from(renders).unwrap()));
        })
        .install()
        .expect("the only recorder of this test binary");
    metrics::describe_gauge!("test_renders", "Renders so far, set before each render.");
    let app = Router::new()
        .route("/rooms/{id}", get(room))
        .layer(TraceLayer::new())
        .route("/metrics", metrics_route(exporter.clone()));
    let addr = http::serve(app).await;

    for path in ["/rooms/1", "/rooms/1", "/rooms/2"] {
        get_text(addr, path).await;
    }
    let (status, content_type, text) = get_text(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(
        content_type.as_deref(),
        Some(trace_runtime::exporter::CONTENT_TYPE)
    );

    let global = "deployment=\"eu-1\",service_name=\"rooms\"";
    let route = format!("{global},method=\"GET\",route=\"/rooms/{{id}}\"");
    let value = |name: &str, labels: &str| prometheus::value(&text, name, labels);
    assert_eq!(
        value("http_requests_total", &format!("{route},status=\"200\"")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value("http_requests_total", &format!("{route},status=\"404\"")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value("http_requests_in_flight", &route),
        Some(0.0),
        "{text}"
    );
    // A real histogram, with the call buckets, and every request in it.
    let buckets = prometheus::buckets(&text, "http_request_duration_seconds", &route);
    assert_eq!(
        buckets.len(),
        trace_runtime::metrics::DEFAULT_BUCKETS.len() + 1
    );
    assert_eq!(buckets.last(), Some(&("+Inf".to_owned(), 3)), "{text}");
    // `/metrics` itself is not counted.
    assert!(!text.contains("route=\"/metrics\""), "{text}");
    // Global labels on traced calls' series too, rendered by us or not.
    let function = format!("{global},function=\"load_room\",module=\"exporter_http\"");
    assert_eq!(
        value("function_calls_duration_seconds_count", &function),
        Some(3.0),
        "{text}"
    );
    assert!(text.contains(&format!(
        "function_calls_total{{{function},result=\"error\""
    )));
    // The hook ran before this render.
    assert_eq!(
        value("test_renders", global),
        Some(f64::from(
            u32::try_from(RENDERS.load(Ordering::Relaxed)).unwrap()
        ))
    );
    assert!(RENDERS.load(Ordering::Relaxed) >= 1);
    for family in [
        "http_requests_total counter",
        "http_request_duration_seconds histogram",
        "http_requests_in_flight gauge",
    ] {
        let name = family.split(' ').next().unwrap();
        assert!(text.contains(&format!("# TYPE {family}\n")), "{text}");
        assert!(text.contains(&format!("# HELP {name} ")), "{text}");
    }
    prometheus::promtool_check(&text);
}
