//! Which trees are collected and where finished ones go: one value, applied
//! at once.

use crate::config;
use crate::tree::sink::{self, Output, TreeFilter};

pub use crate::config::DEFAULT_MAX_NODES;

/// The call-tree settings: whether trees are collected, how big one may
/// grow, which finished ones are delivered, whether each is logged as a
/// `tracing` event, in which [format](TreeFormat), and with or without its
/// [summary](crate::tree::CallTree::summary). Receivers are added separately, with
/// [`add_sink`](crate::tree::add_sink).
///
/// Start from [`TreeConfig::current`] to change one setting and keep the
/// others, or from [`TreeConfig::default`] to start over.
///
/// ```
/// use std::time::Duration;
/// use trace_runtime::tree::{TreeConfig, TreeFilter};
///
/// // Keep trees small, and deliver only slow or failed requests.
/// TreeConfig::current()
///     .max_nodes(500)
///     .filter(TreeFilter {
///         slower_than: Some(Duration::from_millis(200)),
///         failed: true,
///         slow_calls: true,
///     })
///     .apply();
/// # TreeConfig::default().apply();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeConfig {
    collect: bool,
    max_nodes: usize,
    filter: TreeFilter,
    log: bool,
    output: Output,
}

/// How a logged tree reads. The text formats are for people: the event
/// `call tree` with the `tree_id` field and the tree's text in the `tree`
/// field, on the lines below (its root line says the request, status, wall
/// time and marks). [`Json`](Self::Json) is for log pipelines: the tree's
/// JSON as the message, and the structured fields `request`, `tree_id`,
/// `status`, `method`, `route`, `wall_us`, `calls`, `failed` and `slow`,
/// which a JSON formatter such as `tracing-subscriber`'s `.json()` passes
/// on. A request that failed or was slow logs at `WARN`, with a `snapshot`
/// field, in every format.
///
/// ```
/// use trace_runtime::tree::{TreeConfig, TreeFormat};
///
/// // One JSON object per tree, on one line, for a log pipeline.
/// TreeConfig::current().format(TreeFormat::Json).apply();
/// # TreeConfig::default().apply();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TreeFormat {
    /// `call tree` and the indented text of
    /// [`render`](crate::tree::CallTree::render) on the lines below.
    #[default]
    Text,
    /// As [`Text`](Self::Text), in ASCII only: `x3` for `×3`, `...` for
    /// `…`, `us` for `µs` ([`render_ascii`](crate::tree::CallTree::render_ascii)).
    Ascii,
    /// The tree's [`to_json`](crate::tree::CallTree::to_json): one object,
    /// on one line.
    Json,
}

impl Default for TreeConfig {
    /// Trees collected, [`DEFAULT_MAX_NODES`], every tree delivered, each
    /// logged as [`TreeFormat::Text`] without its summary.
    fn default() -> Self {
        TreeConfig {
            collect: true,
            max_nodes: DEFAULT_MAX_NODES,
            filter: TreeFilter::default(),
            log: true,
            output: Output::default(),
        }
    }
}

impl TreeConfig {
    /// The settings in force now.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// assert_eq!(TreeConfig::current(), TreeConfig::default());
    /// ```
    #[must_use]
    pub fn current() -> TreeConfig {
        let (filter, log, output) = sink::settings();
        TreeConfig {
            collect: config::trees_enabled(),
            max_nodes: config::max_nodes(),
            filter,
            log,
            output,
        }
    }

    /// Collect call trees (the default), or not: then calls still feed the
    /// metrics, caller labels included, and no tree is built.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// let metrics_only = TreeConfig::current().collect(false);
    /// assert_ne!(metrics_only, TreeConfig::default());
    /// ```
    #[must_use]
    pub fn collect(mut self, collect: bool) -> Self {
        self.collect = collect;
        self
    }

    /// Caps the nodes one request keeps (at least 1). Calls past the cap are
    /// aggregated per function under their nearest kept ancestor and
    /// rendered as `name ×N total …`.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// let small = TreeConfig::current().max_nodes(0);
    /// assert_eq!(small, TreeConfig::current().max_nodes(1));
    /// ```
    #[must_use]
    pub fn max_nodes(mut self, max: usize) -> Self {
        self.max_nodes = max.max(1);
        self
    }

    /// Which finished trees are delivered, to the log and to sinks.
    ///
    /// ```
    /// use trace_runtime::tree::{TreeConfig, TreeFilter};
    /// let failed_only = TreeConfig::current().filter(TreeFilter {
    ///     failed: true,
    ///     ..TreeFilter::default()
    /// });
    /// # let _ = failed_only;
    /// ```
    #[must_use]
    pub fn filter(mut self, filter: TreeFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Log each delivered tree as a `tracing` event with target
    /// [`TREE_TARGET`](crate::tree::TREE_TARGET) (the default), or not.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// let sinks_only = TreeConfig::current().log(false);
    /// # let _ = sinks_only;
    /// ```
    #[must_use]
    pub fn log(mut self, log: bool) -> Self {
        self.log = log;
        self
    }

    /// The format of the logged event's message; see [`TreeFormat`].
    ///
    /// ```
    /// use trace_runtime::tree::{TreeConfig, TreeFormat};
    /// let ascii = TreeConfig::current().format(TreeFormat::Ascii);
    /// assert_ne!(ascii, TreeConfig::default());
    /// ```
    #[must_use]
    pub fn format(mut self, format: TreeFormat) -> Self {
        self.output.format = format;
        self
    }

    /// Write the request's [summary](crate::tree::CallTree::summary) under
    /// the logged text tree (per function: calls, total, own time and
    /// errors, by own time); off by default. The JSON format always has it.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// let with_summary = TreeConfig::current().summary(true);
    /// assert_ne!(with_summary, TreeConfig::default());
    /// ```
    #[must_use]
    pub fn summary(mut self, summary: bool) -> Self {
        self.output.summary = summary;
        self
    }

    /// Puts these settings in force, for requests that start from now on.
    ///
    /// ```
    /// use trace_runtime::tree::TreeConfig;
    /// TreeConfig::current().log(false).apply();
    /// assert!(TreeConfig::current() != TreeConfig::default());
    /// TreeConfig::default().apply();
    /// ```
    pub fn apply(self) {
        config::set_trees(self.collect, self.max_nodes);
        sink::set_settings(self.filter, self.log, self.output);
    }
}
