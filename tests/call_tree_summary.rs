//! A request's summary: per function, calls, total time (recursion not
//! counted twice), own time and errors, by own time; through the API, under
//! the text tree and in the JSON.
#![warn(clippy::pedantic)]

use std::time::Duration;

use insta::assert_snapshot;
use trace_runtime::trace;
use trace_runtime::tree::{FunctionSummary, TextOptions};
use trace_suite::json::{self, Value};
use trace_suite::{capture_trees, one_tree, words_normalised};

#[trace]
fn slow_step(fail: bool) -> Result<(), String> {
    std::thread::sleep(Duration::from_millis(60));
    if fail {
        Err("late".into())
    } else {
        Ok(())
    }
}

#[trace]
fn countdown(n: u32) -> u32 {
    if n == 0 {
        std::thread::sleep(Duration::from_millis(30));
        0
    } else {
        countdown(n - 1) + 1
    }
}

fn request() {
    let _ = slow_step(false);
    let _ = slow_step(true);
    assert_eq!(countdown(3), 3);
    // Own time well below countdown's 30 ms, even on a loaded machine.
    std::thread::sleep(Duration::from_millis(1));
}

#[test]
fn the_summary_counts_each_function_once_sorted_by_own_time() {
    capture_trees();
    trace_runtime::in_request("GET /summary", request);
    let tree = one_tree("GET /summary");
    let lines = tree.summary();
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["slow_step", "countdown", "GET /summary"]);
    for pair in lines.windows(2) {
        assert!(pair[0].own >= pair[1].own, "{lines:?}");
    }
    let line = |name: &str| -> &FunctionSummary { lines.iter().find(|l| l.name == name).unwrap() };
    assert_eq!((line("slow_step").calls, line("slow_step").errors), (2, 1));
    // Recursion: four calls, and the total is the outermost call's wall time.
    let countdown = line("countdown");
    let outermost = tree.root().children().nth(2).unwrap();
    assert_eq!(countdown.calls, 4);
    assert_eq!(countdown.total, outermost.wall());
    assert_eq!(countdown.module, "call_tree_summary");
    // Own times add up to the root's wall time.
    let own: Duration = lines.iter().map(|l| l.own).sum();
    assert_eq!(own, tree.root().wall());
    assert_eq!(line("GET /summary").total, tree.root().wall());

    let text = tree.render_with(TextOptions::default().summary(true));
    assert!(
        text.starts_with(&tree.render()),
        "the tree, then the summary"
    );
    let summary = &text[tree.render().len()..];
    assert_snapshot!(words_normalised(summary), @r"
        summary, by own time calls total own errors
        slow_step 2 <t> <t> 1
        countdown 4 <t> <t> 0
        GET /summary 1 <t> <t> 0
        ");
}

#[test]
fn the_json_carries_the_summary_in_the_same_order() {
    capture_trees();
    trace_runtime::in_request("GET /summary-json", request);
    let tree = one_tree("GET /summary-json");
    let parsed = json::parse(&tree.to_json()).expect("valid JSON");
    let Some(Value::Array(lines)) = parsed.get("summary") else {
        panic!("no summary in {parsed:?}");
    };
    assert_eq!(lines.len(), 3);
    for (value, line) in lines.iter().zip(tree.summary()) {
        assert_eq!(value.get("name").and_then(Value::as_str), Some(&*line.name));
        assert_eq!(
            value.get("module").and_then(Value::as_str),
            Some(line.module)
        );
        assert_eq!(value.get("calls").and_then(Value::as_u64), Some(line.calls));
        assert_eq!(
            value.get("errors").and_then(Value::as_u64),
            Some(line.errors)
        );
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap();
        assert_eq!(
            value.get("total_ns").and_then(Value::as_u64),
            Some(nanos(line.total))
        );
        assert_eq!(
            value.get("own_ns").and_then(Value::as_u64),
            Some(nanos(line.own))
        );
    }
}
