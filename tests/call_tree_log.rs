//! Finished trees and slow calls as `tracing` events: one event per tree with
//! target `trace_runtime::tree` (`INFO`, or `WARN` if a call failed or was
//! slow) carrying the rendered tree, and one `WARN` event per slow call with
//! target `trace_runtime::slow`.
//!
//! One test in its own binary, with a global subscriber: `tracing` caches
//! per-callsite interest, which scoped subscribers in parallel tests race on.
#![warn(clippy::pedantic)]

use trace_runtime::{trace, tree::TREE_TARGET, SLOW_TARGET};
use trace_suite::log::LogBuffer as Buffer;
use trace_suite::{capture_trees, one_tree};

#[trace]
fn log_child(n: u32) -> u32 {
    n
}

#[trace]
fn log_failing() -> Result<(), String> {
    Err("nope".into())
}

#[trace(slow = "1ms")]
fn log_slow() {
    std::thread::sleep(std::time::Duration::from_millis(3));
}

#[test]
fn finished_trees_and_slow_calls_are_logged_as_tracing_events() {
    let buffer = Buffer::install_global();
    capture_trees();

    trace_runtime::in_request("GET /logged", || log_child(1));
    let logged = buffer.take();
    let tree = one_tree("GET /logged");
    // The message, the tree id, and the tree last, on the lines below the
    // event's: nothing the tree's text already says.
    assert_eq!(
        logged,
        format!(
            " INFO {TREE_TARGET}: call tree tree_id={} tree=\n{}",
            tree.id(),
            tree.render()
        )
    );

    let _ = trace_runtime::in_request("GET /logged-failed", log_failing);
    let logged = buffer.take();
    let tree = one_tree("GET /logged-failed");
    // A failed request's event carries a snapshot of the process as well.
    let head = format!(
        " WARN {TREE_TARGET}: call tree tree_id={} snapshot=",
        tree.id()
    );
    assert!(logged.starts_with(&head), "{logged:?} lacks {head:?}");
    let expected = format!(" tree=\n{}", tree.render());
    assert!(logged.ends_with(&expected), "{logged:?} lacks {expected:?}");
    assert_eq!(
        logged.matches(TREE_TARGET).count(),
        1,
        "one event: {logged}"
    );

    trace_runtime::in_request("GET /logged-slow", log_slow);
    let logged = buffer.take();
    let tree = one_tree("GET /logged-slow");
    let (slow, rest) = logged.split_once('\n').unwrap();
    assert!(
        slow.starts_with(&format!(" WARN {SLOW_TARGET}: slow call")),
        "{slow}"
    );
    assert!(slow.contains("function=\"log_slow\""), "{slow}");
    assert!(slow.contains("request=\"GET /logged-slow\""), "{slow}");
    assert!(slow.contains(&format!("tree_id={}", tree.id())), "{slow}");
    assert!(slow.contains("threshold_us=1000"), "{slow}");
    let head = format!(
        " WARN {TREE_TARGET}: call tree tree_id={} snapshot=",
        tree.id()
    );
    assert!(rest.starts_with(&head), "{rest:?} lacks {head:?}");
    let expected = format!(" tree=\n{}", tree.render());
    assert!(rest.ends_with(&expected), "{rest:?} lacks {expected:?}");
    assert!(tree.render().lines().nth(1).unwrap().ends_with("  slow"));

    // A name made at run time (a root, a request opened inside another) is
    // escaped like recorded text: a control character in a request's name
    // cannot forge a log line or move the terminal's cursor.
    let hostile = "GET /a\u{1b}[2J\nINFO forged";
    trace_runtime::in_request(hostile, || {
        trace_runtime::in_request("inner\r\u{7f}", || log_child(2))
    });
    let logged = buffer.take();
    let tree = one_tree(hostile);
    assert!(
        !logged.contains('\u{1b}') && !logged.contains('\r'),
        "{logged:?}"
    );
    assert!(!logged.contains('\u{7f}'), "{logged:?}");
    assert!(!logged.contains("\nINFO forged"), "{logged:?}");
    let text = tree.render();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(r"GET /a\u{1b}[2J\nINFO forged"),
        "{text}"
    );
    assert!(lines.next().unwrap().contains(r"inner\r\u{7f}"), "{text}");
}
