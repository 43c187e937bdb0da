//! The logged event in each `TreeFormat`: the ASCII text with its tree id
//! (and the summary under it when asked), and the JSON object on one line
//! with the structured fields (`request`, `tree_id`, `status`, `method`,
//! `route`, `wall_us`, `calls`, `failed`, `slow`).
//!
//! One test in its own binary: a global subscriber, and the format is global.
#![warn(clippy::pedantic)]

use trace_runtime::trace;
use trace_runtime::tree::{TextOptions, TreeConfig, TreeFormat, TREE_TARGET};
use trace_suite::json::{self, Value};
use trace_suite::log::LogBuffer;
use trace_suite::{capture_trees, one_tree};

#[trace(err)]
fn format_step(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("no rooms left".into())
    } else {
        Ok(n)
    }
}

#[test]
fn each_format_writes_its_message_and_the_same_structured_fields() {
    let buffer = LogBuffer::install_global();
    capture_trees();

    TreeConfig::current()
        .format(TreeFormat::Ascii)
        .summary(true)
        .apply();
    let _ = trace_runtime::in_request("GET /ascii", || (format_step(1), format_step(0)));
    let logged = buffer.take();
    let tree = one_tree("GET /ascii");
    let text = tree.render_with(TextOptions::default().ascii(true).summary(true));
    let head = format!(
        " WARN {TREE_TARGET}: call tree tree_id={} snapshot=",
        tree.id()
    );
    assert!(logged.starts_with(&head), "{logged:?} lacks {head:?}");
    let expected = format!(" tree=\n{text}");
    assert!(logged.ends_with(&expected), "{logged:?} lacks {expected:?}");
    // The text's fields are the id and the snapshot only.
    assert!(!logged.contains(" request="), "{logged}");
    assert!(logged.is_ascii(), "{logged}");
    assert!(text.contains("summary, by own time"), "{text}");
    assert!(text.contains("err: no rooms left"), "{text}");

    TreeConfig::current().format(TreeFormat::Json).apply();
    let _ = trace_runtime::in_request("GET /json-line", || format_step(2));
    let logged = buffer.take();
    let tree = one_tree("GET /json-line");
    let (head, rest) = logged.split_once(": ").unwrap();
    assert_eq!(head, format!(" INFO {TREE_TARGET}"));
    let json_line = tree.to_json();
    assert!(!json_line.contains('\n'));
    assert_eq!(logged.lines().count(), 1, "one line per tree: {logged}");
    let (message, fields) = rest.split_at(json_line.len());
    assert_eq!(message, json_line);
    let parsed = json::parse(message).expect("the message is JSON");
    assert_eq!(parsed.get("id").and_then(Value::as_u64), Some(tree.id()));
    assert_eq!(parsed.get("calls").and_then(Value::as_u64), Some(1));
    assert!(
        fields.starts_with(&format!(
            " request=\"GET /json-line\" tree_id={} wall_us=",
            tree.id()
        )),
        "{fields}"
    );
    assert!(
        fields.contains(" calls=1 failed=false slow=false"),
        "{fields}"
    );
    TreeConfig::default().apply();
}
