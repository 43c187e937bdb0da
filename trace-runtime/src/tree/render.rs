//! The indented text form of a [`CallTree`].
//!
//! ```text
//! GET /rooms                         20.40ms
//!   GameService::create_room         15.10ms  busy 1.20ms
//!     GameService::validate_room      5.00ms
//!     GameService::save_room         10.00ms  err
//!   AuditLog::record                  2.10ms
//! ```
//!
//! Names are indented two spaces per level and padded to one column; durations
//! are right-aligned in the next; marks (`status 200` on an HTTP request's
//! root, `err`, `panic`, `cancelled`, `slow`, `unfinished`, `×N`) follow.

use std::fmt::Write as _;
use std::time::Duration;

use crate::outcome::Outcome;
use crate::tree::{CallNode, CallTree};

impl CallTree {
    /// Renders the tree as aligned, indented text, one call per line.
    ///
    /// ```
    /// # use trace_runtime::tree::CallTree;
    /// fn print(tree: &CallTree) {
    ///     println!("{}", tree.render());
    /// }
    /// ```
    #[must_use]
    pub fn render(&self) -> String {
        let rows: Vec<(usize, CallNode<'_>, String)> = self
            .iter()
            .map(|node| (node.depth(), node, format_duration(node.wall())))
            .collect();
        let name_width = rows
            .iter()
            .map(|(depth, node, _)| depth * 2 + label(*node).chars().count())
            .max()
            .unwrap_or(0);
        // In chars, as `{:>width$}` pads: `µs` is two bytes but one column.
        let time_width = rows
            .iter()
            .map(|(_, _, t)| t.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (depth, node, time) in &rows {
            let name = label(*node);
            let pad = name_width - depth * 2 - name.chars().count();
            let _ = write!(
                out,
                "{:indent$}{name}{:pad$}  {time:>time_width$}",
                "",
                "",
                indent = depth * 2,
            );
            for mark in marks(*node) {
                out.push_str("  ");
                out.push_str(&mark);
            }
            out.push('\n');
        }
        if self.uncounted > 0 {
            let _ = writeln!(
                out,
                "… {} more calls not shown (node cap reached)",
                self.uncounted
            );
        }
        out
    }
}

impl std::fmt::Display for CallTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

fn label(node: CallNode<'_>) -> String {
    if node.calls() > 1 {
        format!("{} ×{}", node.name(), node.calls())
    } else {
        node.name().to_owned()
    }
}

fn marks(node: CallNode<'_>) -> Vec<String> {
    let mut marks = Vec::new();
    if let Some(status) = node.depth().eq(&0).then(|| node.tree.status()).flatten() {
        marks.push(format!("status {status}"));
    }
    if node.calls() > 1 {
        marks.push("total".to_owned());
        if node.failures() > 0 {
            marks.push(format!("err ×{}", node.failures()));
        }
        return marks;
    }
    if let Some(busy) = node.busy() {
        if busy < node.wall() {
            marks.push(format!("busy {}", format_duration(busy)));
        }
    }
    match node.outcome() {
        Some(Outcome::Ok) => {}
        Some(Outcome::Error) => marks.push("err".to_owned()),
        Some(Outcome::Panic) => marks.push("panic".to_owned()),
        Some(Outcome::Cancelled) => marks.push("cancelled".to_owned()),
        None => marks.push("unfinished".to_owned()),
    }
    if node.is_slow() {
        marks.push("slow".to_owned());
    }
    marks
}

/// `850ns`, `12.34µs`, `20.40ms`, `1.500s`.
pub(crate) fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos}ns")
    } else if nanos < 1_000_000 {
        format!("{:.2}µs", d.as_secs_f64() * 1e6)
    } else if nanos < 1_000_000_000 {
        format!("{:.2}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}
