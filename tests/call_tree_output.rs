//! Finished trees as data: the JSON rendering (parsed back and compared with
//! the tree), and sinks that make traced calls themselves. The `tracing`
//! event is tested in `call_tree_log.rs`.
#![warn(clippy::pedantic)]

use std::sync::{Mutex, Once};

use insta::assert_snapshot;
use trace_runtime::{trace, tree::CallNode, tree::CallTree, Outcome};
use trace_suite::json::{self, Value};
use trace_suite::{capture_trees, json_normalised, one_tree, render_normalised, take_trees};

#[trace]
fn json_parent() -> Result<u32, String> {
    json_child(1);
    json_failing()
}

#[trace]
fn json_child(n: u32) -> u32 {
    n
}

#[trace]
fn json_failing() -> Result<u32, String> {
    Err("nope".into())
}

/// Checks that `value` (parsed JSON) says exactly what `node` says.
fn assert_same(value: &Value, node: CallNode<'_>) {
    let field = |key: &str| {
        value
            .get(key)
            .unwrap_or_else(|| panic!("no {key:?} in {value:?}"))
    };
    assert_eq!(field("name").as_str(), Some(node.name()));
    assert_eq!(field("module").as_str(), Some(node.module()));
    let wall = u64::try_from(node.wall().as_nanos()).unwrap();
    assert_eq!(field("wall_ns").as_u64(), Some(wall));
    let outcome = match node.outcome() {
        Some(Outcome::Ok) => "ok",
        Some(Outcome::Error) => "err",
        Some(Outcome::Panic) => "panic",
        Some(Outcome::Cancelled) => "cancelled",
        None => "unfinished",
    };
    assert_eq!(field("outcome").as_str(), Some(outcome));
    assert_eq!(field("calls").as_u64(), Some(node.calls()));
    assert_eq!(field("failures").as_u64(), Some(node.failures()));
    assert_eq!(field("slow"), &Value::Bool(node.is_slow()));
    let children = field("children").as_array().unwrap();
    assert_eq!(children.len(), node.children().count());
    for (value, child) in children.iter().zip(node.children()) {
        assert_same(value, child);
    }
}

#[test]
fn the_json_rendering_parses_back_to_the_same_tree() {
    capture_trees();
    let result = trace_runtime::in_request("GET /json \"quoted\"\tand\\escaped", json_parent);
    assert_eq!(result, Err("nope".into()));
    let tree = one_tree("GET /json \"quoted\"\tand\\escaped");
    let parsed = json::parse(&tree.to_json()).expect("valid JSON");
    assert_eq!(parsed.get("uncounted").and_then(Value::as_u64), Some(0));
    assert_same(parsed.get("root").unwrap(), tree.root());
    let json = json_normalised(&tree);
    // The summary's order depends on timing: checked in call_tree_summary.rs.
    let (nodes, summary) = json.split_once(r#","summary":"#).unwrap();
    assert_eq!(summary.matches(r#"{"name":"#).count(), 4, "{summary}");
    assert_snapshot!(nodes, @r#"{"id":<id>,"outer":null,"uncounted":0,"status":null,"method":null,"route":null,"remote_parent":null,"calls":3,"root":{"name":"GET /json \"quoted\"\tand\\escaped","module":"","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"ok","slow":false,"aggregate":false,"calls":1,"failures":0,"error":null,"fields":{},"linked_tree":null,"children":[{"name":"json_parent","module":"call_tree_output","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"err","slow":false,"aggregate":false,"calls":1,"failures":1,"error":null,"fields":{},"linked_tree":null,"children":[{"name":"json_child","module":"call_tree_output","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"ok","slow":false,"aggregate":false,"calls":1,"failures":0,"error":null,"fields":{},"linked_tree":null,"children":[]},{"name":"json_failing","module":"call_tree_output","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"err","slow":false,"aggregate":false,"calls":1,"failures":1,"error":null,"fields":{},"linked_tree":null,"children":[]}]}]}"#);
}

#[trace]
fn called_from_sink() -> u32 {
    json_child(3)
}

static REENTRANT_SINK: Once = Once::new();

#[test]
fn a_sink_that_makes_traced_calls_starts_new_roots_not_nodes_of_the_finished_tree() {
    capture_trees();
    REENTRANT_SINK.call_once(|| {
        trace_runtime::tree::add_sink(|tree: &CallTree| {
            if tree.root().name() == "GET /reentrant" {
                called_from_sink();
            }
        });
    });
    trace_runtime::in_request("GET /reentrant", || json_child(1));
    assert_snapshot!(render_normalised(&one_tree("GET /reentrant")), @r"
    GET /reentrant  <t>
      json_child    <t>
    ");
    assert_snapshot!(render_normalised(&one_tree("called_from_sink")), @r"
    called_from_sink  <t>
      json_child      <t>
    ");
    assert!(take_trees("GET /reentrant").is_empty());
}

static PANICKING_SINK: Once = Once::new();
static AFTER_PANICKING_SINK: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[trace]
fn panics_under_a_panicking_sink() {
    panic!("the request panics");
}

#[test]
fn a_panicking_sink_neither_fails_the_traced_code_nor_starves_other_sinks() {
    capture_trees();
    PANICKING_SINK.call_once(|| {
        trace_runtime::tree::add_sink(|tree: &CallTree| {
            assert!(
                !tree.root().name().starts_with("GET /sink-panics"),
                "this sink panics"
            );
        });
        // Added after the panicking one, so it is called after it.
        trace_runtime::tree::add_sink(|tree: &CallTree| {
            let name = tree.root().name();
            if name.starts_with("GET /sink-panics") {
                AFTER_PANICKING_SINK.lock().unwrap().push(name.to_owned());
            }
        });
    });
    // Delivered when the request returns, on the normal path.
    trace_runtime::in_request("GET /sink-panics", || json_child(1));
    // Delivered while the request itself unwinds: a second panic escaping a
    // destructor there would abort the process.
    let unwound = std::panic::catch_unwind(|| {
        trace_runtime::in_request("GET /sink-panics too", panics_under_a_panicking_sink);
    });
    assert!(unwound.is_err());
    assert_eq!(
        *AFTER_PANICKING_SINK.lock().unwrap(),
        ["GET /sink-panics", "GET /sink-panics too"]
    );
    assert_eq!(one_tree("GET /sink-panics").call_count(), 2);
    assert_eq!(one_tree("GET /sink-panics too").call_count(), 2);
}

#[trace]
fn chain(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        chain(n - 1) + 1
    }
}

#[test]
fn a_deep_tree_renders_in_text_linear_in_its_calls() {
    capture_trees();
    assert_eq!(chain(998), 998);
    let tree = one_tree("chain");
    assert_eq!(tree.iter().count(), 999);
    // Checks indentation, depth markers and alignment row by row.
    let text = render_normalised(&tree);
    let rendered = tree.render();
    let longest = rendered.lines().map(|l| l.chars().count()).max().unwrap();
    // Indentation stops at 24 levels, names pad to 64 columns: a row is at
    // most 64 columns, the gap and the duration wide.
    assert!(longest <= 64 + 2 + 9, "a {longest}-column row");
    assert!(rendered.len() < 999 * 80, "{} bytes", rendered.len());
    // Reserved in one go, never grown: a text that outgrows its reservation
    // doubles it. The slack is a byte per row whose duration has no `µ`,
    // and the room kept for marks (the root's).
    assert!(
        rendered.capacity() <= rendered.len() + 999 + 64 + 24,
        "{} bytes in {} reserved",
        rendered.len(),
        rendered.capacity()
    );
    assert!(
        text.contains("\n                                                [25] chain"),
        "{text}"
    );
    assert!(
        text.contains("\n                                                [998] chain"),
        "{text}"
    );
}

#[trace]
fn marked(n: u32) -> Result<u32, String> {
    if n == 0 {
        return Err("the last one".into());
    }
    marked_wide(n);
    marked(n - 1).map(|m| m + 1)
}

#[trace(name = "a_wider_name_éééééé")]
fn marked_wide(n: u32) -> u32 {
    n
}

#[test]
fn a_tree_with_marks_and_multi_byte_names_renders_into_the_room_reserved() {
    capture_trees();
    trace_runtime::in_request("marked", || {
        assert!(marked(120).is_err());
    });
    let tree = one_tree("marked");
    let rendered = tree.render();
    assert!(rendered.contains("a_wider_name_éééééé"), "{rendered}");
    assert!(rendered.contains("  err"), "{rendered}");
    // As above, plus the room kept for each marked row (every `marked`).
    let rows = rendered.lines().count();
    assert!(
        rendered.capacity() <= rendered.len() + rows * (1 + 24) + 64,
        "{} bytes in {} reserved over {rows} rows",
        rendered.len(),
        rendered.capacity()
    );
}
