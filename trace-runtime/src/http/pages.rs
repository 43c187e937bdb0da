//! The built-in pages in an axum router.

use std::sync::Arc;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::pages::{self, RecentTrees};

/// A router serving the pages over `recent` (`GET` and `HEAD`):
/// `/traces`, the slowest and failed recent requests, and with the cargo
/// feature `stats`, `/stats` and `/stats.json`. Merge it into your
/// app outside [`TraceLayer`](super::TraceLayer) (after `.layer(...)`), so
/// that looking at the page is not itself a traced request; or nest it
/// under a prefix: the pages link to each other relatively.
///
/// ```
/// use axum::Router;
/// use trace_runtime::pages::{RecentTrees, Retention};
///
/// # fn app() -> Result<Router, trace_runtime::pages::RetentionError> {
/// let recent = RecentTrees::install(Retention::default())?;
/// let app: Router = Router::new()
///     .layer(trace_runtime::http::TraceLayer::new())
///     .merge(trace_runtime::http::pages_router(recent));
/// # Ok(app) }
/// # app().unwrap();
/// ```
pub fn pages_router<S>(recent: Arc<RecentTrees>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let router = Router::new();
    #[cfg(feature = "stats")]
    let router = router
        .route(
            "/stats",
            get(|| async { respond(pages::stats_route("/stats")) }),
        )
        .route(
            "/stats.json",
            get(|| async { respond(pages::stats_route("/stats.json")) }),
        );
    router.route(
        "/traces",
        get(move || {
            let page = pages::route(&recent, "/traces");
            async move { respond(page) }
        }),
    )
}

/// A page with its headers, or `404`.
fn respond(page: Option<pages::Page>) -> Response {
    page.map_or_else(
        || StatusCode::NOT_FOUND.into_response(),
        |page| {
            let headers = [
                (CONTENT_TYPE, page.content_type),
                (CACHE_CONTROL, "no-store"),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ];
            (headers, page.body).into_response()
        },
    )
}
