//! A request's summary: per function, how often it was called, how long it
//! took in all and by itself, and how often it failed, the functions that
//! kept the request busiest first.

use std::time::Duration;

use crate::tree::CallTree;

/// One line of a request's [summary](CallTree::summary): the calls of one
/// function (or of one root or [linked](crate::tree::CallNode::linked_tree) request
/// name) in the tree.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use trace_runtime::tree::{add_sink, CallTree, FunctionSummary};
///
/// #[trace_runtime::trace]
/// fn step(n: u32) -> Result<u32, String> {
///     if n == 0 { Err("zero".into()) } else { Ok(n) }
/// }
///
/// let lines: Arc<Mutex<Vec<FunctionSummary>>> = Arc::default();
/// let sink = Arc::clone(&lines);
/// add_sink(move |tree: &CallTree| sink.lock().unwrap().extend(tree.summary()));
/// trace_runtime::in_request("job", || (step(0), step(1)));
/// let lines = lines.lock().unwrap();
/// let step = lines.iter().find(|l| l.name == "step").unwrap();
/// assert_eq!((step.calls, step.errors), (2, 1));
/// assert!(step.own <= step.total);
/// # trace_runtime::tree::clear_sinks();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSummary {
    /// The function label, as on its nodes.
    pub name: String,
    /// Its module path; empty for roots opened by name and linked requests.
    pub module: &'static str,
    /// Calls, aggregated ones included.
    pub calls: u64,
    /// Wall time of its outermost calls: a call of the function inside
    /// another (recursion) is not added again.
    pub total: Duration,
    /// Own time summed over all its calls: what the function spent outside
    /// the traced calls it made ([`CallNode::own`](crate::tree::CallNode::own)).
    pub own: Duration,
    /// Calls that failed (`Err` or panic).
    pub errors: u64,
}

impl CallTree {
    /// The request's summary: one [`FunctionSummary`] per function (and
    /// per root and linked request name), by own time, longest first (then
    /// by name). The root is a line of its own: its own time is what the
    /// request spent outside traced calls. Rendered under the tree with
    /// [`TreeConfig::summary`](crate::tree::TreeConfig::summary), and part
    /// of [`to_json`](Self::to_json).
    #[must_use]
    pub fn summary(&self) -> Vec<FunctionSummary> {
        let mut lines: Vec<FunctionSummary> = Vec::new();
        // Names of the nodes on the path to the current one, to tell
        // outermost calls from recursive ones.
        let mut path: Vec<(usize, &str)> = Vec::new();
        for node in self.iter() {
            while path.last().is_some_and(|&(depth, _)| depth >= node.depth()) {
                path.pop();
            }
            let name = node.name();
            let module = node.module();
            let nested = path.iter().any(|&(_, outer)| outer == name);
            let found = lines
                .iter()
                .position(|l| l.name == name && l.module == module);
            let at = if let Some(at) = found {
                at
            } else {
                lines.push(FunctionSummary {
                    name: name.to_owned(),
                    module,
                    calls: 0,
                    total: Duration::ZERO,
                    own: Duration::ZERO,
                    errors: 0,
                });
                lines.len() - 1
            };
            let line = &mut lines[at];
            line.calls += node.calls();
            line.errors += node.failures();
            line.own = line.own.saturating_add(node.own());
            if !nested {
                line.total = line.total.saturating_add(node.wall());
            }
            path.push((node.depth(), name));
        }
        lines.sort_by(|a, b| b.own.cmp(&a.own).then_with(|| a.name.cmp(&b.name)));
        lines
    }
}
