//! `/metrics` over HTTP/1.1: hyper on a thread of its own, with a
//! single-threaded tokio runtime, one task per connection; and the
//! built-in pages (`/traces`, cargo feature `pages`) when they are on.
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
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
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

/// What the server answers `GET` and `HEAD` with: `/metrics`, and the
/// pages when they are on.
pub(crate) struct Routes {
    metrics_text: Box<dyn Fn() -> String + Send + Sync>,
    #[cfg(feature = "pages")]
    recent: Option<Arc<crate::pages::RecentTrees>>,
}

impl Routes {
    /// `/metrics` with the text `metrics_text` returns.
    pub(crate) fn new(metrics_text: impl Fn() -> String + Send + Sync + 'static) -> Routes {
        Routes {
            metrics_text: Box::new(metrics_text),
            #[cfg(feature = "pages")]
            recent: None,
        }
    }

    /// The pages too, over `recent`.
    #[cfg(feature = "pages")]
    pub(crate) fn pages(mut self, recent: Option<Arc<crate::pages::RecentTrees>>) -> Routes {
        self.recent = recent;
        self
    }

    /// The content type and body at `path`, if it is served.
    fn answer(&self, path: &str) -> Option<(&'static str, String)> {
        if path == "/metrics" {
            return Some((super::CONTENT_TYPE, (self.metrics_text)()));
        }
        #[cfg(feature = "pages")]
        if let Some(page) = (self.recent.as_deref()).and_then(|r| crate::pages::route(r, path)) {
            return Some((page.content_type, page.body));
        }
        None
    }

    /// The `404` body: the paths served.
    #[cfg_attr(not(feature = "pages"), allow(clippy::unused_self))]
    fn hint(&self) -> String {
        let mut hint = String::from("try /metrics");
        #[cfg(feature = "pages")]
        if self.recent.is_some() {
            for path in crate::pages::PATHS {
                hint.push_str(", ");
                hint.push_str(path);
            }
        }
        hint.push('\n');
        hint
    }
}

/// Serves `routes` on `listener` until the process exits.
pub(crate) fn serve(listener: std::net::TcpListener, routes: Routes) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let routes = Arc::new(routes);
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
            let routes = Arc::clone(&routes);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let routes = Arc::clone(&routes);
                    async move { Ok::<_, Infallible>(respond(&request, &routes)) }
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
fn respond(request: &Request<Incoming>, routes: &Routes) -> Response<Full<Bytes>> {
    const TEXT: &str = "text/plain; charset=utf-8";
    let (status, content_type, body) = match *request.method() {
        Method::GET | Method::HEAD => match routes.answer(request.uri().path()) {
            Some((content_type, body)) => (StatusCode::OK, content_type, body),
            None => (StatusCode::NOT_FOUND, TEXT, routes.hint()),
        },
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            TEXT,
            "GET or HEAD only\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type.starts_with("text/html") {
        // The pages are of the moment, and are HTML only as declared.
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}
