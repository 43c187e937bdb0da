//! Built-in pages (cargo feature `pages`): `/traces`, the slowest and the
//! failed recent requests as expandable call-tree waterfalls; with the
//! cargo feature `stats` too, `/stats`, the live statistics of
//! [`stats::snapshot`](crate::stats::snapshot) as sortable tables, and
//! `/stats.json`, the same as JSON.
//!
//! [`RecentTrees`] keeps the trees, as a [tree sink](crate::tree::add_sink),
//! in bounded memory ([`Retention`]); [`traces_html`] renders the page
//! (and `stats_html` the statistics).
//! Served for you by [`ExporterBuilder::trace_pages`](crate::ExporterBuilder::trace_pages)
//! next to `/metrics`, or mounted in axum with
//! [`http::pages_router`](crate::http::pages_router) (cargo feature
//! `axum`), or returned by any server of yours.
//!
//! Each page is one self-contained HTML document: inline style, no script
//! it does not carry, nothing fetched from anywhere. It shows what the
//! code names (functions, modules, request names, durations, outcomes,
//! HTTP statuses), never arguments or values, and every name is
//! HTML-escaped. A page is at most about 4 MiB: past it, trees and rows
//! are left out and the page says how many.
//!
//! ```
//! use trace_runtime::pages::{traces_html, RecentTrees, Retention};
//!
//! #[trace_runtime::trace]
//! fn work() {}
//!
//! let recent = RecentTrees::install(Retention::default())?;
//! trace_runtime::in_request("<nightly & weekly>", work);
//! let html = traces_html(&recent);
//! assert!(html.contains("&lt;nightly &amp; weekly&gt;"));
//! assert!(html.contains("<span class=\"name\">work</span>"));
//! # trace_runtime::tree::clear_sinks();
//! # Ok::<(), trace_runtime::pages::RetentionError>(())
//! ```

mod escape;
mod layout;
mod retention;
mod ring;
#[cfg(feature = "stats")]
mod stats;
mod traces;

pub use layout::MAX_PAGE_BYTES;
pub use retention::{Retention, RetentionError, MAX_KEPT, MAX_KEPT_NODES, MAX_WINDOW, MIN_WINDOW};
pub use ring::{KeptTree, RecentTrees, MAX_KEPT_NAME};

/// The content type of the HTML pages.
pub const HTML_CONTENT_TYPE: &str = layout::HTML;

/// The `/traces` page of `recent` as it is now: the slowest and the
/// failed kept requests, each a `<details>` element with its calls on a
/// time axis.
///
/// ```
/// use trace_runtime::pages::{traces_html, RecentTrees, Retention};
///
/// let recent = RecentTrees::new(Retention::default())?;
/// assert!(traces_html(&recent).contains("No request has finished yet."));
/// # Ok::<(), trace_runtime::pages::RetentionError>(())
/// ```
#[must_use]
pub fn traces_html(recent: &RecentTrees) -> String {
    traces::page(recent)
}

/// The `/stats` page as it is now (cargo feature `stats`): a table of the
/// traced functions and one of the HTTP routes, each row the recent and
/// the lifetime [`Summary`](crate::stats::Summary), slowest recent p99
/// first, sortable by any column with a click (inline script; the
/// fragment `#sort=KEY` or `#sort=KEY:asc` sorts on load).
///
/// ```
/// let html = trace_runtime::pages::stats_html();
/// assert!(html.contains("<section id=\"functions\">"));
/// ```
#[cfg(feature = "stats")]
#[must_use]
pub fn stats_html() -> String {
    stats::page()
}

/// The content type of `/stats.json`.
#[cfg(feature = "stats")]
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// One page's answer: its content type and body.
#[cfg_attr(not(any(feature = "serve", feature = "axum")), allow(dead_code))]
pub(crate) struct Page {
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

/// The page at `path`, if it is one of these pages (the query string is
/// not part of `path`, and is ignored).
#[cfg_attr(not(any(feature = "serve", feature = "axum")), allow(dead_code))]
pub(crate) fn route(recent: &RecentTrees, path: &str) -> Option<Page> {
    match path {
        "/traces" => Some(Page {
            content_type: HTML_CONTENT_TYPE,
            body: traces_html(recent),
        }),
        #[cfg(feature = "stats")]
        _ => stats_route(path),
        #[cfg(not(feature = "stats"))]
        _ => None,
    }
}

/// The statistics page at `path`, if it is `/stats` or `/stats.json`.
#[cfg(feature = "stats")]
#[cfg_attr(not(any(feature = "serve", feature = "axum")), allow(dead_code))]
pub(crate) fn stats_route(path: &str) -> Option<Page> {
    match path {
        "/stats" => Some(Page {
            content_type: HTML_CONTENT_TYPE,
            body: stats::page(),
        }),
        "/stats.json" => Some(Page {
            content_type: JSON_CONTENT_TYPE,
            body: stats::json(),
        }),
        _ => None,
    }
}

/// The paths [`route`] answers, for a `404`'s hint.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
pub(crate) const PATHS: &[&str] = &[
    "/traces",
    #[cfg(feature = "stats")]
    "/stats",
    #[cfg(feature = "stats")]
    "/stats.json",
];
