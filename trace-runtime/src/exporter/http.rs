//! `/metrics` over HTTP/1.1: hyper on a thread of its own, with a
//! single-threaded tokio runtime, one task per connection.
//!
//! Limits, so that no client can hold a scrape back or grow the process:
//! a connection has [`HEAD_TIMEOUT`] to send each request head and
//! [`CONNECTION_TIMEOUT`] in all; a head is at most [`MAX_HEAD`] bytes
//! (hyper answers `431` past it); at most [`MAX_CONNECTIONS`] are served at
//! once (more wait in the listen backlog); a failing `accept` (out of file
//! descriptors, say) backs off up to a second instead of spinning.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long a client may take to send one request head.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection may stay open, whatever it does.
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest request head read, in bytes.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// Connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// Serves `GET /metrics` (and `HEAD`) on `listener`, with the text
/// `metrics_text` returns, until the process exits.
pub(crate) fn serve(
    listener: std::net::TcpListener,
    metrics_text: impl Fn() -> String + Send + Sync + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let metrics_text = Arc::new(metrics_text);
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut backoff = Duration::from_millis(5);
        loop {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return Ok(());
            };
            let Ok((stream, _)) = listener.accept().await else {
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait, then try again.
                drop(permit);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            };
            backoff = Duration::from_millis(5);
            let metrics_text = Arc::clone(&metrics_text);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let metrics_text = Arc::clone(&metrics_text);
                    async move { Ok::<_, Infallible>(respond(&request, &*metrics_text)) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_buf_size(MAX_HEAD)
                    .serve_connection(TokioIo::new(stream), service);
                // A failed or timed-out exchange concerns only that client.
                let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
                drop(permit);
            });
        }
    })
}

/// The response to one request.
fn respond(
    request: &Request<Incoming>,
    metrics_text: &dyn Fn() -> String,
) -> Response<Full<Bytes>> {
    let is_metrics = request.uri().path() == "/metrics";
    let (status, body) = match *request.method() {
        Method::GET | Method::HEAD if is_metrics => (StatusCode::OK, metrics_text()),
        Method::GET | Method::HEAD => (StatusCode::NOT_FOUND, "try /metrics\n".to_owned()),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "GET or HEAD only\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = if status == StatusCode::OK {
        super::CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}
