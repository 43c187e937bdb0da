//! Tree renderings with durations replaced by `<t>` (and tree ids by
//! `<id>`), for snapshots.
//!
//! [`render_normalised`] starts from the runtime's own
//! [`render`](trace_runtime::tree::CallTree::render), so snapshots test the real
//! text, and checks on the way what a snapshot cannot see once durations are
//! gone: that every line's duration ends in the same column, and that the
//! lines follow the tree's structure as [`CallNode::children`] reports it.

use std::fmt::Write as _;

use trace_runtime::{tree::CallNode, tree::CallTree};

/// The placeholder for every duration.
const T: &str = "<t>";

/// `(depth, label)` of every node, depth first, found by walking
/// [`CallNode::children`] from the root; aggregates are labelled `name ×N`.
#[must_use]
pub fn outline(tree: &CallTree) -> Vec<(usize, String)> {
    fn walk(node: CallNode<'_>, depth: usize, out: &mut Vec<(usize, String)>) {
        out.push((depth, label(node)));
        for child in node.children() {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(tree.root(), 0, &mut out);
    out
}

/// The runtime's rendering limits (`tree/render.rs`): rows deeper than this
/// stop indenting and say their depth, `[31] name`...
const MAX_INDENT_DEPTH: usize = 24;
/// ... and names pad to at most this many columns.
const MAX_NAME_COLUMN: usize = 64;

fn label(node: CallNode<'_>) -> String {
    if node.is_aggregate() {
        format!("{} ×{}", node.name(), node.calls())
    } else {
        node.name().to_owned()
    }
}

/// Where a node of `depth` labelled `label` starts, and what it reads.
fn expected_row(depth: usize, label: &str) -> (usize, String) {
    if depth > MAX_INDENT_DEPTH {
        (MAX_INDENT_DEPTH * 2, format!("[{depth}] {label}"))
    } else {
        (depth * 2, label.to_owned())
    }
}

/// `tree.render()` with each duration replaced by `<t>` and the duration
/// column re-aligned (durations were right-aligned to the widest one).
///
/// # Panics
/// If the rendering is misaligned, or its lines disagree with the tree's
/// structure (names, depths, pre-order), or a duration is malformed.
#[must_use]
pub fn render_normalised(tree: &CallTree) -> String {
    let text = tree.render();
    let shape = outline(tree);
    let flat: Vec<(usize, String)> = tree.iter().map(|n| (n.depth(), label(n))).collect();
    assert_eq!(
        shape, flat,
        "children() and iter() disagree on the tree's shape"
    );

    let mut rows = Vec::new();
    let mut footer = Vec::new();
    for line in text.lines() {
        if line.starts_with('…') {
            footer.push(line);
        } else {
            rows.push(Row::parse(line));
        }
    }
    assert_eq!(rows.len(), shape.len(), "one line per node:\n{text}");
    for (row, (depth, label)) in rows.iter().zip(&shape) {
        assert_eq!(
            (row.indent, row.label.clone()),
            expected_row(*depth, label),
            "line for node:\n{text}"
        );
    }
    let name_width = rows
        .iter()
        .map(Row::name_width)
        .max()
        .unwrap_or(0)
        .min(MAX_NAME_COLUMN);
    let time_width = rows
        .iter()
        .map(|r| r.time.chars().count())
        .max()
        .unwrap_or(0);
    for row in &rows {
        assert_eq!(
            row.time_end,
            name_width.max(row.name_width()) + 2 + time_width,
            "durations are not right-aligned in one column:\n{text}"
        );
    }

    let mut out = String::new();
    for row in &rows {
        let name = format!("{:indent$}{}", "", row.label, indent = row.indent);
        let _ = write!(out, "{name:<name_width$}  {T}");
        for mark in &row.marks {
            out.push_str("  ");
            out.push_str(mark);
        }
        out.push('\n');
    }
    for line in footer {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// One parsed line of a rendering.
struct Row {
    indent: usize,
    label: String,
    time: String,
    /// Column (in chars) just past the duration.
    time_end: usize,
    /// Marks after the duration, with durations inside them normalised.
    marks: Vec<String>,
}

impl Row {
    fn parse(line: &str) -> Row {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let (label, rest) = body
            .split_once("  ")
            .unwrap_or_else(|| panic!("no duration column in {line:?}"));
        let after = rest.trim_start_matches(' ');
        let (time, marks) = after.split_at(after.find(' ').unwrap_or(after.len()));
        assert!(is_duration(time), "not a duration: {time:?} in {line:?}");
        let time_end = line.chars().count() - marks.chars().count();
        let marks = marks
            .strip_prefix("  ")
            .map(|m| m.split("  ").map(normalise_mark).collect())
            .unwrap_or_default();
        Row {
            indent,
            label: label.to_owned(),
            time: time.to_owned(),
            time_end,
            marks,
        }
    }

    fn name_width(&self) -> usize {
        self.indent + self.label.chars().count()
    }
}

fn normalise_mark(mark: &str) -> String {
    for prefix in ["busy ", "total, own "] {
        if let Some(time) = mark.strip_prefix(prefix) {
            assert!(is_duration(time), "not a duration: {time:?}");
            return format!("{prefix}{T}");
        }
    }
    // Tree ids depend on the order trees were made in: `<id>`.
    if let Some(id) = mark.strip_prefix("linked tree ") {
        assert!(id.parse::<u64>().is_ok(), "not a tree id: {id:?}");
        return "linked tree <id>".to_owned();
    }
    if let Some((id, outer)) = mark
        .strip_prefix("tree ")
        .and_then(|rest| rest.split_once(" inside tree "))
    {
        assert!(
            id.parse::<u64>().is_ok() && outer.parse::<u64>().is_ok(),
            "{mark:?}"
        );
        return "tree <id> inside tree <id>".to_owned();
    }
    mark.to_owned()
}

/// `850ns`, `12.34µs`, `20.40ms`, `1.500s`.
fn is_duration(text: &str) -> bool {
    let number = ["ns", "µs", "ms", "s"]
        .iter()
        .find_map(|unit| text.strip_suffix(unit));
    number.is_some_and(|n| {
        !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit() || c == '.')
            && n.chars().filter(|&c| c == '.').count() <= 1
    })
}

/// `tree.to_json()` with the values of `start_ns`, `wall_ns`, `own_ns`,
/// `busy_ns` and `total_ns` replaced by `<t>`, and the tree ids of `id`,
/// `outer` and `linked_tree` by `<id>` (a `null` stays `null`).
#[must_use]
pub fn json_normalised(tree: &CallTree) -> String {
    const KEYS: [(&str, &str); 8] = [
        ("\"start_ns\":", T),
        ("\"wall_ns\":", T),
        ("\"own_ns\":", T),
        ("\"busy_ns\":", T),
        ("\"total_ns\":", T),
        ("{\"id\":", "<id>"),
        ("\"outer\":", "<id>"),
        ("\"linked_tree\":", "<id>"),
    ];
    let json = tree.to_json();
    let mut out = String::with_capacity(json.len());
    let mut rest = json.as_str();
    while let Some((pos, placeholder)) = KEYS
        .iter()
        .filter_map(|(key, placeholder)| rest.find(key).map(|at| (at + key.len(), *placeholder)))
        .min()
    {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(placeholder);
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Any text with every duration (`12.34µs`, `12.34us`, `850ns`, `1.500s`)
/// replaced by `<t>` and runs of spaces collapsed to one: for text whose
/// column widths follow the durations (a request's summary, ASCII trees).
#[must_use]
pub fn words_normalised(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let words: Vec<&str> = line
            .split_whitespace()
            .map(|word| {
                let number = word.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == 'µ');
                let unit = &word[number.len()..];
                let is_time = ["ns", "µs", "us", "ms", "s"].contains(&unit)
                    && !number.is_empty()
                    && number.chars().all(|c| c.is_ascii_digit() || c == '.');
                if is_time {
                    T
                } else {
                    word
                }
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}
