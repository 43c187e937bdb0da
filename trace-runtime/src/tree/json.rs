//! The JSON form of a [`CallTree`], written by hand to keep the runtime free of
//! a serialisation dependency.

use std::fmt::Write as _;

use crate::outcome::Outcome;
use crate::tree::{CallNode, CallTree};

impl CallTree {
    /// Serialises the tree as one JSON object, on one line: `id` the
    /// tree's [id](CallTree::id), `outer` the [tree it was opened
    /// in](CallTree::outer_tree) (or `null`), `status`, `method` and
    /// `route` from the HTTP layer (or `null`), `remote_parent` the
    /// `traceparent` the request came with (or `null`), `calls` the
    /// [traced calls](CallTree::traced_calls), the nodes from `root`, and
    /// the request's [`summary`](CallTree::summary). Durations are in
    /// nanoseconds (`own_ns` is [`own`](crate::tree::CallNode::own) time);
    /// a node's `outcome` is `ok`/`err`/`panic`/`cancelled`/`unfinished`,
    /// `error` its [error text](crate::tree::CallNode::error) (or `null`),
    /// `fields` its [fields](crate::tree::CallNode::fields) as strings, and
    /// `linked_tree` the tree of a request opened inside this one (or
    /// `null`).
    ///
    /// ```json
    /// {"id":7,"outer":null,"uncounted":0,"status":200,"method":"GET","route":"/rooms",
    ///  "remote_parent":null,"calls":0,"root":{"name":"GET /rooms","module":"","start_ns":0,
    ///  "wall_ns":20400000,"own_ns":20400000,"busy_ns":null,"outcome":"ok","slow":false,
    ///  "aggregate":false,"calls":1,"failures":0,"error":null,"fields":{},"linked_tree":null,
    ///  "children":[]},"summary":[{"name":"GET /rooms","module":"","calls":1,
    ///  "total_ns":20400000,"own_ns":20400000,"errors":0}]}
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"id\":{},\"outer\":{},\"uncounted\":{},\"status\":{},\"method\":",
            self.id(),
            opt(self.outer_tree().map(u128::from)),
            self.uncounted(),
            opt(self.status().map(u128::from)),
        );
        write_opt_str(&mut out, self.method());
        out.push_str(",\"route\":");
        write_opt_str(&mut out, self.route());
        out.push_str(",\"remote_parent\":");
        match self.remote_parent() {
            Some(parent) => write_str(&mut out, &parent.to_string()),
            None => out.push_str("null"),
        }
        let _ = write!(out, ",\"calls\":{},\"root\":", self.traced_calls());
        write_node(&mut out, self.root());
        out.push_str(",\"summary\":[");
        for (i, line) in self.summary().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            write_str(&mut out, &line.name);
            out.push_str(",\"module\":");
            write_str(&mut out, line.module);
            let _ = write!(
                out,
                ",\"calls\":{},\"total_ns\":{},\"own_ns\":{},\"errors\":{}}}",
                line.calls,
                line.total.as_nanos(),
                line.own.as_nanos(),
                line.errors,
            );
        }
        out.push_str("]}");
        out
    }
}

fn write_opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => write_str(out, value),
        None => out.push_str("null"),
    }
}

fn write_node(out: &mut String, node: CallNode<'_>) {
    out.push_str("{\"name\":");
    write_str(out, node.name());
    out.push_str(",\"module\":");
    write_str(out, node.module());
    let _ = write!(
        out,
        ",\"start_ns\":{},\"wall_ns\":{},\"own_ns\":{},\"busy_ns\":{},\"outcome\":\"{}\",\"slow\":{},\"aggregate\":{},\"calls\":{},\"failures\":{},\"error\":",
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
    write_opt_str(out, node.error());
    out.push_str(",\"fields\":{");
    for (i, (name, value)) in node.fields().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, name);
        out.push(':');
        write_str(out, value);
    }
    let _ = write!(
        out,
        "}},\"linked_tree\":{},\"children\":[",
        opt(node.linked_tree().map(u128::from))
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
