//! The pages served (`/traces`, `/stats`, `/stats.json`): by
//! `ExporterBuilder::serve()` next to `/metrics`
//! (over raw TCP, hostile requests included), and by
//! `http::pages_router` in axum behind the HTTP layer, where a 5xx request
//! shows with its status and marked failed. An invalid retention is a
//! typed error before anything is installed.
#![warn(clippy::pedantic)]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::Request;
use tower::ServiceExt as _;
use trace_runtime::exporter::ExportError;
use trace_runtime::http::{pages_router, TraceLayer};
use trace_runtime::pages::{RecentTrees, Retention, RetentionError};
use trace_runtime::{in_request, trace, ExporterBuilder};
use trace_suite::html::trees;
use trace_suite::json;
use trace_suite::raw_http::exchange;

fn served() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let exporter = ExporterBuilder::new()
            .listen("127.0.0.1:0")
            .trace_pages(Retention::default().slowest(5).failed(5))
            .stats(Duration::from_secs(30))
            .serve()
            .expect("serve on a free port");
        assert!(exporter.recent_trees().is_some());
        exporter.local_addr().unwrap()
    })
}

fn send(head: &str) -> (u16, Vec<String>, String) {
    exchange(served(), head)
}

#[trace]
fn served_lookup(fail: bool) -> Result<(), ()> {
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[test]
fn serve_answers_traces_next_to_metrics() {
    served();
    let _ = in_request("served <ok>", || served_lookup(false));
    let _ = in_request("served & failed", || served_lookup(true));
    let (status, headers, body) = send("GET /traces HTTP/1.1");
    assert_eq!(status, 200);
    for header in [
        "content-type: text/html; charset=utf-8",
        "cache-control: no-store",
        "x-content-type-options: nosniff",
    ] {
        assert!(headers.iter().any(|h| h == header), "{header}: {headers:?}");
    }
    let slowest = trees(&body, "slowest");
    assert!(slowest.iter().any(|t| t.request == "served &lt;ok&gt;"));
    let failed = trees(&body, "failed");
    let request = failed
        .iter()
        .find(|t| t.request == "served &amp; failed")
        .expect("the failed request is listed");
    assert!(request.has_class("failed"));
    assert!(request.rows[1].has_class("err"));

    let (status, _, body) = send("GET /metrics HTTP/1.1");
    assert_eq!(status, 200);
    assert!(body.contains("function=\"served_lookup\""), "{body}");

    let (status, headers, body) = send("GET /stats.json?x=%ff HTTP/1.1");
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|h| h == "content-type: application/json"));
    let snapshot = json::parse(&body).expect("well-formed JSON");
    let functions = snapshot
        .get("functions")
        .and_then(json::Value::as_array)
        .unwrap();
    let lookup = functions
        .iter()
        .find(|f| f.get("name").and_then(json::Value::as_str) == Some("served_lookup"))
        .expect("served_lookup has statistics");
    let lifetime = lookup.get("lifetime").unwrap();
    let count = |key: &str| lifetime.get(key).and_then(json::Value::as_u64);
    assert_eq!((count("count"), count("errors")), (Some(2), Some(1)));
    let (status, headers, body) = send("GET /stats HTTP/1.1");
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|h| h == "content-type: text/html; charset=utf-8"));
    assert!(
        body.contains("<td class=\"name\">served_lookup</td>"),
        "{body}"
    );
    let (status, headers, body) = send("HEAD /traces HTTP/1.1");
    assert_eq!((status, body.as_str()), (200, ""));
    assert!(headers
        .iter()
        .any(|h| h.starts_with("content-type: text/html")));
    let (status, _, body) = send("GET /nothing HTTP/1.1");
    assert_eq!(
        (status, body.as_str()),
        (404, "try /metrics, /traces, /stats, /stats.json\n")
    );
    let (status, _, _) = send("POST /traces HTTP/1.1\r\nContent-Length: 0");
    assert_eq!(status, 405);
}

#[test]
fn hostile_requests_get_an_answer_and_the_page_stays_up() {
    served();
    let long_query = format!("GET /traces?{} HTTP/1.1", "a=%3Cscript%3E&".repeat(700));
    for (head, expected) in [
        ("GET /traces?%00%ff%zz HTTP/1.1", 200),
        ("GET /stats?sort=%3C%2Fscript%3E HTTP/1.1", 200),
        ("GET /stats.json?%zz HTTP/1.1", 200),
        ("GET /stats.json/ HTTP/1.1", 404),
        ("GET /traces?<script>alert(1)</script> HTTP/1.1", 400),
        ("GET /traces?q=\"'><svg/onload=alert(1)> HTTP/1.1", 400),
        (long_query.as_str(), 200),
        ("GET /traces/../metrics HTTP/1.1", 404),
        ("GET //traces HTTP/1.1", 404),
        ("GET /TRACES HTTP/1.1", 404),
        ("GET /traces%00 HTTP/1.1", 404),
        ("GET http://localhost/traces HTTP/1.1", 200),
        ("GET * HTTP/1.1", 404),
        ("BREW /traces HTTP/1.1", 405),
        ("GET /traces HTTP/9.9", 400),
    ] {
        let (status, _, body) = send(head);
        assert_eq!(status, expected, "{head}: {body}");
        if status == 200 {
            for echo in ["%zz", "%3C", "%00", "a=%3Cscript"] {
                assert!(!body.contains(echo), "{head}: the query is not echoed");
            }
        }
    }
    let huge_head = format!("GET /traces?{} HTTP/1.1", "x".repeat(20 * 1024));
    assert_eq!(send(&huge_head).0, 431, "a head past 16 KiB");
    assert_eq!(send("GET /traces HTTP/1.1").0, 200, "still serving");
}

#[test]
fn an_invalid_retention_is_a_typed_error_before_anything_is_installed() {
    for (retention, expected) in [
        (
            Retention::default().max_nodes(0),
            RetentionError::MaxNodes(0),
        ),
        (
            Retention::default().window(Duration::ZERO),
            RetentionError::Window(Duration::ZERO),
        ),
        (
            Retention::default().slowest(0).failed(0),
            RetentionError::NothingKept,
        ),
    ] {
        let err = ExporterBuilder::new()
            .listen("127.0.0.1:0")
            .trace_pages(retention)
            .serve()
            .unwrap_err();
        assert!(
            matches!(err, ExportError::InvalidRetention(e) if e == expected),
            "{err}"
        );
        assert!(err
            .to_string()
            .starts_with("invalid trace page retention: "));
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[trace]
async fn pages_boom() -> Result<(), &'static str> {
    Err("storage down")
}

async fn boom() -> StatusCode {
    let _ = pages_boom().await;
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn get_page(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .uri(uri)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_router_shows_a_5xx_request_with_its_status() {
    let recent = RecentTrees::install(Retention::default()).unwrap();
    let app = Router::new()
        .route("/pages/boom", get(boom))
        .layer(TraceLayer::new())
        .merge(pages_router(recent));
    assert_eq!(
        get_page(&app, "/pages/boom").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let (status, content_type, body) = get_page(&app, "/traces?sort=%3C&x").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/html; charset=utf-8");
    let failed = trees(&body, "failed");
    let request = failed
        .iter()
        .find(|t| t.request == "GET /pages/boom")
        .expect("the 5xx request is listed as failed");
    assert!(request
        .html
        .contains("<span class=\"status s5\">500</span>"));
    assert!(request.rows[0].has_class("err"), "the layer marks the root");
    assert!(request.rows[1].has_class("err") && request.rows[1].name == "pages_boom");
    // The page itself is outside the layer: it is no traced request.
    assert!(!body.contains("GET /traces"));
    assert_eq!(get_page(&app, "/elsewhere").await.0, StatusCode::NOT_FOUND);
    let (status, content_type, body) = get_page(&app, "/stats?sort=%3C").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    assert!(body.contains("<section id=\"routes\">"), "{body}");
    let (status, content_type, body) = get_page(&app, "/stats.json").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/json")
    );
    assert!(json::parse(&body).is_ok(), "{body}");
}
