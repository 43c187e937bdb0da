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
    assert!(
        logged.starts_with(&format!(" INFO {TREE_TARGET}: call tree request=")),
        "{logged:?}"
    );
    // The tree last, on the lines below the event's.
    let expected = format!(" tree=\n{}", tree.render());
    assert!(logged.ends_with(&expected), "{logged:?} lacks {expected:?}");
    assert!(logged.contains("request=\"GET /logged\""), "{logged}");
    // Traced calls: `log_child`; the root opened by `in_request` is not one.
    assert!(
        logged.contains("calls=1 failed=false slow=false"),
        "{logged}"
    );
    assert!(
        logged.contains(&format!("tree_id={}", tree.id())),
        "{logged}"
    );
    assert_eq!(
        logged.matches(TREE_TARGET).count(),
        1,
        "one event: {logged}"
    );

    let _ = trace_runtime::in_request("GET /logged-failed", log_failing);
    let logged = buffer.take();
    let tree = one_tree("GET /logged-failed");
    assert!(
        logged.starts_with(&format!(" WARN {TREE_TARGET}: call tree request=")),
        "{logged:?}"
    );
    // The tree last, on the lines below the event's.
    let expected = format!(" tree=\n{}", tree.render());
    assert!(logged.ends_with(&expected), "{logged:?} lacks {expected:?}");
    assert!(
        logged.contains("calls=1 failed=true slow=false"),
        "{logged}"
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
    assert!(
        rest.starts_with(&format!(" WARN {TREE_TARGET}: call tree request=")),
        "{rest:?}"
    );
    let expected = format!(" tree=\n{}", tree.render());
    assert!(rest.ends_with(&expected), "{rest:?} lacks {expected:?}");
    assert!(rest.contains("calls=1 failed=false slow=true"), "{rest}");
    assert!(tree.render().lines().nth(1).unwrap().ends_with("  slow"));
}
