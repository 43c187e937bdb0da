//! A real axum server on 127.0.0.1 and a real hyper client talking to it,
//! one fresh connection per request.

use std::net::SocketAddr;

use axum::Router;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// Serves `app` on a free port of 127.0.0.1 from a task of the current
/// runtime.
///
/// # Panics
/// If no port can be bound.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A response: its status, `Content-Type` and body.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, as text (lossy).
    pub body: String,
}

/// Sends one request on a fresh connection; `None` if the connection
/// failed before a whole response came (a panicking handler closes it).
///
/// # Panics
/// If the server cannot be reached or the request cannot be built.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<Response> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .ok()?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await.ok()?.to_bytes();
    drop(sender);
    let _ = connection.await;
    Some(Response {
        status,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Sends one request on a fresh connection; its status, or `None` if the
/// connection failed (see [`request`]).
///
/// # Panics
/// As [`request`].
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<u16> {
    request(addr, method, path, headers)
        .await
        .map(|response| response.status)
}
