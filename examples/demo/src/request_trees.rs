//! Temporary stand-in for `trace_runtime::http::TraceLayer`: makes every
//! request the root of its own call tree, named `METHOD /route`. The route
//! is the pattern axum matched (`/rooms/{name}`), never the path a client
//! sent, so tree names stay few.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use trace_runtime::TraceFutureExt as _;

/// `axum::middleware::from_fn(request_tree)`.
pub async fn request_tree(request: Request, next: Next) -> Response {
    let name = match request.extensions().get::<MatchedPath>() {
        Some(route) => format!("{} {}", request.method(), route.as_str()),
        None => format!("{} (no route)", request.method()),
    };
    next.run(request).in_request(name).await
}
