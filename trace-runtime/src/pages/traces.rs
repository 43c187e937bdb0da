//! The `/traces` page: each kept request as a `<details>` element (it opens
//! without JavaScript) holding a waterfall, one row per call with a bar
//! from its start offset for its wall time, the share of it spent in `poll`
//! inside, and its marks (err, panic, cancelled, slow, aggregates).
//!
//! Bars are placed in thousandths of a percent of the root's wall time,
//! computed in integers, so a row's numbers are exact functions of the
//! tree's [`start`](crate::tree::CallNode::start) and
//! [`wall`](crate::tree::CallNode::wall).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::outcome::Outcome;
use crate::pages::escape::push_text;
use crate::pages::layout::{self, Current, MAX_PAGE_BYTES};
use crate::pages::ring::{KeptTree, RecentTrees};
use crate::tree::json::outcome as outcome_class;
use crate::tree::render::push_duration;
use crate::tree::CallNode;

/// Indentation per depth in pixels, and the deepest indented.
const INDENT_PX: usize = 14;
const MAX_INDENT_DEPTH: usize = 24;

/// The `/traces` page of `recent`, now.
pub(crate) fn page(recent: &RecentTrees) -> String {
    let now = Instant::now();
    let retention = recent.retention();
    let slowest = recent.slowest();
    let failed = recent.failed();
    let mut body = String::with_capacity(16 * 1024);
    let mut budget = Budget::default();
    let _ = write!(
        body,
        "<p class=\"note\">{} requests seen. The slowest are kept from the last ",
        recent.seen()
    );
    layout::push_span(&mut body, retention.window_kept());
    let _ = write!(
        body,
        " (at most {}), the failed whenever they happened (the last {}); at most {} calls of each. \
         <a href=\"#failed\">Failed requests: {}</a></p>",
        retention.slowest_kept(),
        retention.failed_kept(),
        retention.max_nodes_kept(),
        failed.len(),
    );
    body.push_str(LEGEND);
    for (id, title, trees, empty) in [
        (
            "slowest",
            "Slowest requests",
            &slowest,
            "No request has finished yet.",
        ),
        (
            "failed",
            "Failed requests",
            &failed,
            "No request has failed.",
        ),
    ] {
        let _ = write!(
            body,
            "<section id=\"{id}\"><h1>{title} <span class=\"meta\">{}</span></h1>",
            trees.len()
        );
        if trees.is_empty() {
            let _ = write!(body, "<p class=\"note empty\">{empty}</p>");
        }
        for (index, kept) in trees.iter().enumerate() {
            if body.len() >= MAX_PAGE_BYTES {
                budget.trees += 1;
                continue;
            }
            push_tree(&mut body, id, kept, index == 0, now, &mut budget);
        }
        body.push_str("</section>");
    }
    if budget.trees > 0 || budget.rows > 0 {
        let _ = write!(
            body,
            "<p class=\"note truncated\">Page size limit reached: {} requests and {} calls not shown.</p>",
            budget.trees, budget.rows
        );
    }
    layout::page("Traces", Current::Traces, None, &body)
}

/// What the page left out for its size.
#[derive(Default)]
struct Budget {
    trees: usize,
    rows: usize,
}

const LEGEND: &str =
    "<div class=\"legend\"><span><i style=\"background:var(--bar)\"></i>wall time</span>\
<span><i style=\"background:var(--busy)\"></i>busy (in poll; sync calls: all of it)</span>\
<span><i style=\"background:var(--err)\"></i>failed call</span>\
<span><i style=\"outline:2px solid var(--slow)\"></i>slower than its threshold</span></div>";

fn push_tree(
    out: &mut String,
    section: &str,
    kept: &KeptTree,
    open: bool,
    now: Instant,
    budget: &mut Budget,
) {
    let tree = kept.tree();
    let root = tree.root();
    let total = nanos(root.wall());
    let _ = write!(
        out,
        "<details class=\"tree{}\" id=\"{section}-{}\" data-wall-ns=\"{total}\"{}><summary><span class=\"req\">",
        if kept.failed() { " failed" } else { "" },
        kept.number(),
        if open { " open" } else { "" },
    );
    push_text(out, root.name());
    out.push_str("</span><span class=\"dur\">");
    push_duration(out, root.wall());
    out.push_str("</span>");
    if let Some(status) = tree.status() {
        let class = match status {
            500..=599 => " s5",
            400..=499 => " s4",
            _ => "",
        };
        let _ = write!(out, "<span class=\"status{class}\">{status}</span>");
    }
    if kept.failed() {
        out.push_str("<span class=\"mark failed\">failed</span>");
    }
    if tree.has_slow_call() {
        out.push_str("<span class=\"mark slow\">slow call</span>");
    }
    let _ = write!(
        out,
        "<span class=\"meta\">{} calls · request #{} · ",
        tree.call_count() + kept.dropped_calls(),
        kept.number()
    );
    push_duration(out, now.saturating_duration_since(kept.finished()));
    out.push_str(" ago</span></summary>");
    out.push_str(
        "<table class=\"waterfall\"><colgroup><col class=\"fn\"><col class=\"num\"><col class=\"num\">\
         <col class=\"marks\"><col></colgroup><thead><tr><th>call</th><th class=\"num\">wall</th>\
         <th class=\"num\">busy</th><th>marks</th><th class=\"axis\">",
    );
    for quarter in 0..=4_u64 {
        let _ = write!(
            out,
            "<span class=\"tick\" style=\"left:{}%\">",
            quarter * 25
        );
        push_duration(out, Duration::from_nanos(total / 4 * quarter));
        out.push_str("</span>");
    }
    out.push_str("</th></tr></thead><tbody>");
    for node in tree.iter() {
        if out.len() >= MAX_PAGE_BYTES {
            budget.rows += 1;
            continue;
        }
        push_row(out, node, total);
    }
    out.push_str("</tbody></table>");
    if kept.dropped_nodes() > 0 || tree.uncounted() > 0 {
        let _ = write!(
            out,
            "<p class=\"note dropped\">{} more nodes ({} calls) not kept; {} calls past the tree's caps.</p>",
            kept.dropped_nodes(),
            kept.dropped_calls(),
            tree.uncounted()
        );
    }
    out.push_str("</details>");
}

fn push_row(out: &mut String, node: CallNode<'_>, total: u64) {
    let outcome = outcome_class(node.outcome());
    let _ = write!(out, "<tr class=\"call {outcome}");
    if node.busy().is_none() {
        out.push_str(" sync");
    }
    if node.is_slow() {
        out.push_str(" slow");
    }
    if node.is_aggregate() {
        out.push_str(" aggregate");
    }
    let wall = nanos(node.wall());
    let _ = write!(
        out,
        "\" data-depth=\"{}\" data-wall-ns=\"{wall}\"",
        node.depth()
    );
    if let Some(start) = node.start() {
        let _ = write!(out, " data-start-ns=\"{}\"", nanos(start));
    }
    let indent = node.depth().min(MAX_INDENT_DEPTH) * INDENT_PX + 8;
    let _ = write!(
        out,
        "><td class=\"fn\" style=\"padding-left:{indent}px\" title=\""
    );
    push_text(out, node.module());
    out.push_str("\"><span class=\"name\">");
    push_text(out, node.name());
    out.push_str("</span>");
    if node.is_aggregate() {
        let _ = write!(out, " <span class=\"mark agg\">×{}</span>", node.calls());
    }
    // What the code chose to record (`fields(...)`, `err`): nothing else.
    for (name, value) in node.fields() {
        out.push_str(" <span class=\"field\">");
        push_text(out, name);
        out.push('=');
        push_text(out, value);
        out.push_str("</span>");
    }
    if let Some(error) = node.error() {
        out.push_str(" <span class=\"errtext\">err: ");
        push_text(out, error);
        out.push_str("</span>");
    }
    out.push_str("</td><td class=\"num\">");
    push_duration(out, node.wall());
    out.push_str("</td><td class=\"num\">");
    match node.busy() {
        Some(busy) => push_duration(out, busy),
        None => out.push('–'),
    }
    out.push_str("</td><td class=\"marks\">");
    push_marks(out, node);
    out.push_str("</td><td class=\"axis\">");
    if let Some(start) = node.start() {
        let bar = Bar::new(nanos(start), wall, total);
        let busy = node.busy().map_or(100_000, |b| share(nanos(b), wall));
        out.push_str("<div class=\"bar\" style=\"left:");
        push_milli_percent(out, bar.left);
        out.push_str(";width:");
        push_milli_percent(out, bar.width);
        out.push_str("\" title=\"+");
        push_duration(out, start);
        out.push_str(", ");
        push_duration(out, node.wall());
        out.push_str("\"><div class=\"busy\" style=\"width:");
        push_milli_percent(out, busy);
        out.push_str("\"></div></div>");
    } else {
        let _ = write!(out, "<span class=\"agg\">{} calls, ", node.calls());
        push_duration(out, node.wall());
        out.push_str(" in all</span>");
    }
    out.push_str("</td></tr>");
}

fn push_marks(out: &mut String, node: CallNode<'_>) {
    if node.is_aggregate() {
        if node.failures() > 0 {
            let _ = write!(
                out,
                "<span class=\"mark err\">err ×{}</span>",
                node.failures()
            );
        }
    } else {
        match node.outcome() {
            Some(Outcome::Ok) => {}
            outcome => {
                let class = outcome_class(outcome);
                let _ = write!(out, "<span class=\"mark {class}\">{class}</span>");
            }
        }
    }
    if node.is_slow() {
        out.push_str("<span class=\"mark slow\">slow</span>");
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A bar on the time axis, in thousandths of a percent of the root's wall
/// time: it starts `left` from the axis' start and is `width` long, never
/// past the axis' end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bar {
    pub(crate) left: u64,
    pub(crate) width: u64,
}

impl Bar {
    /// The bar of a call starting `start` ns into a request of `total` ns
    /// and taking `wall` ns.
    pub(crate) fn new(start: u64, wall: u64, total: u64) -> Bar {
        let left = share(start, total);
        Bar {
            left,
            width: share(wall, total).min(100_000 - left),
        }
    }
}

/// `part` of `whole` in thousandths of a percent, rounded down, at most
/// 100 %; of a `whole` of 0, nothing is none of it and anything all.
fn share(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return if part == 0 { 0 } else { 100_000 };
    }
    let milli = u128::from(part) * 100_000 / u128::from(whole);
    u64::try_from(milli.min(100_000)).unwrap_or(100_000)
}

/// `12.345%` for 12 345.
fn push_milli_percent(out: &mut String, milli: u64) {
    let _ = write!(out, "{}.{:03}%", milli / 1000, milli % 1000);
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{push_milli_percent, push_row, share, Bar};
    use crate::outcome::Outcome;
    use crate::tree::{CallTree, NodeData, RootInfo, RootName, NO_EXTRA, NO_TIME};

    /// A root of 10 ms holding one aggregate of 5 calls, 2 of them failed.
    fn with_aggregate() -> CallTree {
        let node = |depth, subtree, aggregate: bool| NodeData {
            name: "fold",
            module: "m",
            depth,
            subtree,
            start_ticks: if aggregate { NO_TIME } else { 0 },
            wall_nanos: if aggregate { 4_000_000 } else { 10_000_000 },
            own_nanos: 0,
            busy_nanos: NO_TIME,
            outcome: Some(Outcome::Ok),
            slow: false,
            aggregate,
            calls: if aggregate { 5 } else { 1 },
            failures: if aggregate { 2 } else { 0 },
            extra: NO_EXTRA,
        };
        let root = RootInfo {
            name: RootName::Text(Cow::Borrowed("r")),
            ..RootInfo::default()
        };
        CallTree::from_parts(
            root,
            vec![node(0, 2, false), node(1, 1, true)],
            0,
            Vec::new(),
        )
    }

    #[test]
    fn an_aggregate_row_has_its_count_and_total_and_no_bar() {
        let tree = with_aggregate();
        let aggregate = tree.iter().nth(1).unwrap();
        let mut row = String::new();
        push_row(&mut row, aggregate, 10_000_000);
        assert!(
            row.starts_with(
                "<tr class=\"call ok sync aggregate\" data-depth=\"1\" data-wall-ns=\"4000000\">"
            ),
            "{row}"
        );
        assert!(row.contains("<span class=\"mark agg\">×5</span>"), "{row}");
        assert!(
            row.contains("<span class=\"mark err\">err ×2</span>"),
            "{row}"
        );
        assert!(
            row.contains("<span class=\"agg\">5 calls, 4.00ms in all</span>"),
            "{row}"
        );
        assert!(!row.contains("class=\"bar\""), "{row}");
        let mut root = String::new();
        push_row(&mut root, tree.root(), 10_000_000);
        assert!(
            root.contains("style=\"left:0.000%;width:100.000%\""),
            "{root}"
        );
        assert!(
            root.contains("<div class=\"busy\" style=\"width:100.000%\">"),
            "{root}"
        );
    }

    #[test]
    fn bars_are_start_and_wall_over_the_root_wall() {
        // A 200 ms request: a call from 50 ms for 30 ms.
        assert_eq!(
            Bar::new(50_000_000, 30_000_000, 200_000_000),
            Bar {
                left: 25_000,
                width: 15_000
            }
        );
        assert_eq!(
            Bar::new(0, 7, 7),
            Bar {
                left: 0,
                width: 100_000
            }
        );
        // Thirds round down to the thousandth of a percent.
        assert_eq!(
            Bar::new(1, 1, 3),
            Bar {
                left: 33_333,
                width: 33_333
            }
        );
    }

    #[test]
    fn bars_never_run_past_the_axis() {
        // Spawned work that ended after its request's root.
        assert_eq!(
            Bar::new(150, 100, 200),
            Bar {
                left: 75_000,
                width: 25_000
            }
        );
        assert_eq!(
            Bar::new(300, 100, 200),
            Bar {
                left: 100_000,
                width: 0
            }
        );
        assert_eq!(
            Bar::new(0, 10, 0),
            Bar {
                left: 0,
                width: 100_000
            }
        );
        assert_eq!(Bar::new(0, 0, 0), Bar { left: 0, width: 0 });
        assert_eq!(share(u64::MAX, 1), 100_000);
        assert_eq!(share(u64::MAX, u64::MAX), 100_000);
    }

    #[test]
    fn percentages_print_with_three_decimals() {
        let mut out = String::new();
        for milli in [0, 5, 12_345, 100_000] {
            push_milli_percent(&mut out, milli);
            out.push(' ');
        }
        assert_eq!(out, "0.000% 0.005% 12.345% 100.000% ");
    }
}
