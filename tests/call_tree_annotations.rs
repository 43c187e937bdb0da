//! What `err` and `fields(...)` record on a call's node: the error text of
//! a failed call (bounded, control characters escaped when rendered), the
//! chosen values, in the text rendering, the JSON and the `CallNode` API;
//! `err` inherited from `#[instrument_all(err)]`; async calls on the
//! multi-thread runtime.
#![warn(clippy::pedantic)]

use std::fmt;

use insta::assert_snapshot;
use trace_runtime::tree::{CallTree, MAX_ERROR_BYTES};
use trace_runtime::{instrument_all, trace, TraceFutureExt as _};
use trace_suite::{capture_trees, json_normalised, one_tree, render_normalised, wait_for_trees};

#[derive(Debug)]
enum JoinError {
    Full { room: String },
    Unknown(u32),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Full { room } => write!(f, "room {room:?} is full"),
            JoinError::Unknown(id) => write!(f, "no room {id}"),
        }
    }
}

/// An error type without `Display`.
#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug")]
struct Opaque {
    code: u16,
}

#[trace(err, fields(room = %name, seats))]
fn join(name: &str, seats: u32) -> Result<u32, JoinError> {
    if seats == 0 {
        Err(JoinError::Full {
            room: name.to_owned(),
        })
    } else {
        Ok(seats - 1)
    }
}

#[trace(err(Debug))]
fn opaque(fail: bool) -> Result<(), Opaque> {
    if fail {
        Err(Opaque { code: 7 })
    } else {
        Ok(())
    }
}

/// Without the option, nothing is recorded even when the call fails.
#[trace]
fn silent() -> Result<(), JoinError> {
    Err(JoinError::Unknown(1))
}

#[trace(err)]
fn long_error(len: usize) -> Result<(), String> {
    Err(format!("line one\nline two {}", "x".repeat(len)))
}

#[test]
fn err_records_the_display_of_the_err_and_fields_the_chosen_values() {
    capture_trees();
    let results = trace_runtime::in_request("POST /join", || {
        (
            join("lobby", 2),
            join("lobby", 0),
            opaque(false),
            opaque(true),
            silent(),
        )
    });
    assert!(results.0.is_ok() && results.1.is_err() && results.4.is_err());
    let tree = one_tree("POST /join");
    assert_snapshot!(render_normalised(&tree), @r#"
        POST /join  <t>
          join      <t>  room=lobby seats=2
          join      <t>  room=lobby seats=0  err: room "lobby" is full
          opaque    <t>
          opaque    <t>  err: Opaque { code: 7 }
          silent    <t>  err
        "#);
    let nodes: Vec<_> = tree.root().children().collect();
    assert_eq!(nodes[0].error(), None, "an Ok records no error text");
    assert_eq!(nodes[1].error(), Some(r#"room "lobby" is full"#));
    assert_eq!(nodes[2].error(), None);
    assert_eq!(nodes[3].error(), Some("Opaque { code: 7 }"));
    assert_eq!(nodes[4].error(), None, "no `err`, no text");
    let fields: Vec<_> = nodes[1].fields().collect();
    assert_eq!(fields, [("room", "lobby"), ("seats", "0")]);
    assert_eq!(nodes[2].fields().count(), 0);
}

#[test]
fn error_texts_are_bounded_and_rendered_on_one_line() {
    capture_trees();
    let _ = trace_runtime::in_request("GET /long-error", || (long_error(10), long_error(10_000)));
    let tree = one_tree("GET /long-error");
    let nodes: Vec<_> = tree.root().children().collect();
    assert_eq!(nodes[0].error(), Some("line one\nline two xxxxxxxxxx"));
    let cut = nodes[1].error().unwrap();
    assert_eq!(cut.len(), MAX_ERROR_BYTES);
    assert!(cut.ends_with("x..."), "{cut}");
    let text = tree.render();
    assert_eq!(text.lines().count(), 3, "one line per node:\n{text}");
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .ends_with(r"  err: line one\nline two xxxxxxxxxx"),
        "{text}"
    );
}

#[test]
fn the_json_carries_error_texts_and_fields() {
    capture_trees();
    let _ = trace_runtime::in_request("POST /join-json", || join("a \"quoted\" room", 0));
    let tree = one_tree("POST /join-json");
    let json = json_normalised(&tree);
    // The summary's order depends on timing: checked in call_tree_summary.rs.
    let (nodes, summary) = json.split_once(r#","summary":"#).unwrap();
    assert!(summary.contains(r#"{"name":"join","module":"call_tree_annotations","calls":1,"total_ns":<t>,"own_ns":<t>,"errors":1}"#), "{summary}");
    assert_snapshot!(nodes, @r#"{"id":<id>,"outer":null,"uncounted":0,"status":null,"method":null,"route":null,"remote_parent":null,"calls":1,"root":{"name":"POST /join-json","module":"","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"ok","slow":false,"aggregate":false,"calls":1,"failures":0,"error":null,"fields":{},"linked_tree":null,"children":[{"name":"join","module":"call_tree_annotations","start_ns":<t>,"wall_ns":<t>,"own_ns":<t>,"busy_ns":null,"outcome":"err","slow":false,"aggregate":false,"calls":1,"failures":1,"error":"room \"a \\\"quoted\\\" room\" is full","fields":{"room":"a \"quoted\" room","seats":"0"},"linked_tree":null,"children":[]}]}"#);
}

struct Rooms {
    names: Vec<String>,
}

#[instrument_all(err)]
impl Rooms {
    fn count(&self) -> usize {
        self.names.len()
    }

    fn find(&self, name: &str) -> Result<usize, JoinError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or(JoinError::Unknown(u32::try_from(name.len()).unwrap_or(0)))
    }

    /// The error has no `Display`: the inherited `err` records nothing.
    fn check(&self) -> Result<(), Opaque> {
        Err(Opaque {
            code: u16::try_from(self.names.len()).unwrap_or(0),
        })
    }

    #[trace(err(Debug), fields(name, rooms = self.names.len()))]
    fn remove(&mut self, name: &str) -> Result<(), JoinError> {
        let at = self.find(name)?;
        self.names.remove(at);
        Ok(())
    }
}

#[test]
fn instrument_all_err_is_inherited_by_the_methods_it_fits() {
    capture_trees();
    let mut rooms = Rooms {
        names: vec!["lobby".into()],
    };
    trace_runtime::in_request("DELETE /rooms", || {
        assert_eq!(rooms.count(), 1);
        assert!(rooms.check().is_err());
        assert!(rooms.remove("attic").is_err());
        assert!(rooms.remove("lobby").is_ok());
    });
    let tree = one_tree("DELETE /rooms");
    assert_snapshot!(render_normalised(&tree), @r"
        DELETE /rooms    <t>
          Rooms::count   <t>
          Rooms::check   <t>  err
          Rooms::remove  <t>  name=attic rooms=1  err: Unknown(5)
            Rooms::find  <t>  err: no room 5
          Rooms::remove  <t>  name=lobby rooms=1
            Rooms::find  <t>
        ");
}

#[trace(err, fields(id, user = ?name))]
async fn load(id: u32, name: String) -> Result<String, JoinError> {
    tokio::task::yield_now().await;
    if id == 0 {
        Err(JoinError::Unknown(id))
    } else {
        Ok(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_record_fields_and_errors_across_threads() {
    capture_trees();
    let requests: Vec<_> = (0..16_u32)
        .map(|i| {
            tokio::spawn(
                async move {
                    let a = load(i % 2, format!("user{i}")).await;
                    let b = load(i + 1, "ann".into()).await;
                    (a.is_ok(), b.is_ok())
                }
                .in_request("GET /load"),
            )
        })
        .collect();
    for request in requests {
        request.await.unwrap();
    }
    let trees = wait_for_trees("GET /load", 16);
    assert_eq!(trees.len(), 16);
    let mut failed = 0;
    for tree in &trees {
        let nodes: Vec<_> = tree.root().children().collect();
        let first_id: u32 = nodes[0].fields().next().unwrap().1.parse().unwrap();
        if first_id == 0 {
            failed += 1;
            assert_eq!(nodes[0].error(), Some("no room 0"));
        } else {
            assert_eq!(nodes[0].error(), None);
        }
        assert_eq!(nodes[1].error(), None);
        let user = nodes[1].fields().nth(1).unwrap();
        assert_eq!(user, ("user", "\"ann\""));
    }
    assert_eq!(failed, 8);
    // Request 0: `load(0, "user0")` failed, then `load(1, "ann")`.
    let one_failed = trees
        .iter()
        .find(|t| t.root().children().nth(1).unwrap().fields().next() == Some(("id", "1")))
        .unwrap();
    assert_snapshot!(render_fields_normalised(one_failed), @r#"
        GET /load  <t>  busy <t>
          load     <t>  busy <t>  id=0 user="user<n>"  err: no room 0
          load     <t>  busy <t>  id=1 user="ann"
        "#);
}

/// The rendering with the number of each `userN` replaced by `<n>`.
fn render_fields_normalised(tree: &CallTree) -> String {
    let text = render_normalised(tree);
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("user") {
        out.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("<n>");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}
