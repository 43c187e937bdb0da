//! The JSON form of a [`CallTree`], written by hand to keep the runtime free of
//! a serialisation dependency.

use std::fmt::Write as _;

use crate::outcome::Outcome;
use crate::tree::{CallNode, CallTree};

impl CallTree {
    /// Serialises the tree as one JSON object: durations in nanoseconds
    /// (`own_ns` is [`own`](crate::tree::CallNode::own) time),
    /// `outcome` as `ok`/`err`/`panic`/`cancelled`/`unfinished`, `status`
    /// the HTTP status (or `null`), `remote_parent` the `traceparent` the
    /// request came with (or `null`).
    ///
    /// ```json
    /// {"uncounted":0,"status":200,"remote_parent":null,"root":{"name":"GET /rooms","module":"","start_ns":0,
    ///  "wall_ns":20400000,"own_ns":20400000,"busy_ns":null,"outcome":"ok","slow":false,
    ///  "aggregate":false,"calls":1,"failures":0,"children":[]}}
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"uncounted\":{},\"status\":{},\"remote_parent\":",
            self.uncounted(),
            opt(self.status().map(u128::from)),
        );
        match self.remote_parent() {
            Some(parent) => write_str(&mut out, &parent.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(",\"root\":");
        write_node(&mut out, self.root());
        out.push('}');
        out
    }
}

fn write_node(out: &mut String, node: CallNode<'_>) {
    out.push_str("{\"name\":");
    write_str(out, node.name());
    out.push_str(",\"module\":");
    write_str(out, node.module());
    let _ = write!(
        out,
        ",\"start_ns\":{},\"wall_ns\":{},\"own_ns\":{},\"busy_ns\":{},\"outcome\":\"{}\",\"slow\":{},\"aggregate\":{},\"calls\":{},\"failures\":{},\"children\":[",
        opt(node.start().map(|d| d.as_nanos())),
        node.wall().as_nanos(),
        node.own().as_nanos(),
        opt(node.busy().map(|d| d.as_nanos())),
        outcome(node.outcome()),
        node.is_slow(),
        node.is_aggregate(),
        node.calls(),
        node.failures(),
    );
    for (i, child) in node.children().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_node(out, child);
    }
    out.push_str("]}");
}

fn opt(value: Option<u128>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// `ok`, `err`, `panic`, `cancelled` or `unfinished`.
pub(crate) fn outcome(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        Some(Outcome::Ok) => "ok",
        Some(Outcome::Error) => "err",
        Some(Outcome::Panic) => "panic",
        Some(Outcome::Cancelled) => "cancelled",
        None => "unfinished",
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
