//! Call trees of sync code: nesting, `Err` marks, recursion, panics (and the
//! context left behind by them), and roots opened with `in_request(...)`.
#![warn(clippy::pedantic)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use insta::assert_snapshot;
use trace_runtime::{instrument_all, trace};
use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

struct GameService {
    max_name: usize,
    disk_full: bool,
}

#[instrument_all]
impl GameService {
    fn create_room(&self, name: &str) -> Result<u32, String> {
        self.validate_room(name)?;
        self.save_room(name)
    }

    fn validate_room(&self, name: &str) -> Result<(), String> {
        if name.is_empty() || name.len() > self.max_name {
            Err("bad name".into())
        } else {
            Ok(())
        }
    }

    fn save_room(&self, name: &str) -> Result<u32, String> {
        if self.disk_full {
            Err(format!("disk full, {name} not saved"))
        } else {
            Ok(1)
        }
    }
}

struct AuditLog {
    prefix: &'static str,
}

#[instrument_all]
impl AuditLog {
    fn record(&self, what: &str) -> usize {
        self.prefix.len() + what.len()
    }
}

#[test]
fn the_issue_example_renders_as_an_aligned_tree() {
    capture_trees();
    trace_runtime::in_request("GET /rooms", || {
        let service = GameService {
            max_name: 16,
            disk_full: true,
        };
        let audit = AuditLog { prefix: "audit: " };
        assert_eq!(
            service.create_room("lobby"),
            Err("disk full, lobby not saved".into())
        );
        assert_eq!(audit.record("create_room"), 18);
    });
    assert_snapshot!(render_normalised(&one_tree("GET /rooms")), @r"
    GET /rooms                      <t>
      GameService::create_room      <t>  err
        GameService::validate_room  <t>
        GameService::save_room      <t>  err
      AuditLog::record              <t>
    ");
}

#[trace]
fn order_total(id: u32) -> u32 {
    load_order(id) + price_order(id)
}

#[trace]
fn load_order(id: u32) -> u32 {
    query_order(id)
}

#[trace]
fn query_order(id: u32) -> u32 {
    id
}

#[trace]
fn price_order(id: u32) -> u32 {
    id * 2
}

#[test]
fn the_outermost_traced_call_is_the_root_and_calls_nest_under_their_caller() {
    capture_trees();
    assert_eq!(order_total(5), 15);
    assert_snapshot!(render_normalised(&one_tree("order_total")), @r"
    order_total      <t>
      load_order     <t>
        query_order  <t>
      price_order    <t>
    ");
    // Each traced call on its own is a root of its own.
    assert_eq!(query_order(1), 1);
    assert_snapshot!(render_normalised(&one_tree("query_order")), @"query_order  <t>");
}

#[trace]
fn countdown(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        countdown(n - 1) + 1
    }
}

#[trace]
fn is_even(n: u32) -> bool {
    n == 0 || is_odd(n - 1)
}

#[trace]
fn is_odd(n: u32) -> bool {
    n != 0 && is_even(n - 1)
}

#[test]
fn recursion_nests_one_level_per_call() {
    capture_trees();
    assert_eq!(countdown(4), 4);
    assert_snapshot!(render_normalised(&one_tree("countdown")), @r"
    countdown          <t>
      countdown        <t>
        countdown      <t>
          countdown    <t>
            countdown  <t>
    ");
    assert!(is_even(3).eq(&false));
    assert_snapshot!(render_normalised(&one_tree("is_even")), @r"
    is_even       <t>
      is_odd      <t>
        is_even   <t>
          is_odd  <t>
    ");
}

#[trace]
fn panic_outer() -> u32 {
    panic_middle() + 1
}

#[trace]
fn panic_middle() -> u32 {
    panic_step();
    panic_inner()
}

#[trace]
fn panic_step() {}

#[trace]
fn panic_inner() -> u32 {
    panic!("boom in panic_inner")
}

#[trace]
fn after_panic() -> u32 {
    panic_step();
    7
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<not a string>")
}

#[test]
fn a_panic_marks_every_call_it_unwinds_and_still_delivers_the_tree() {
    capture_trees();
    let payload = catch_unwind(panic_outer).expect_err("panic_outer panics");
    assert_eq!(panic_message(&payload), "boom in panic_inner");
    assert_snapshot!(render_normalised(&one_tree("panic_outer")), @r"
    panic_outer      <t>  panic
      panic_middle   <t>  panic
        panic_step   <t>
        panic_inner  <t>  panic
    ");
    // Nothing of the unwound calls is left current on this thread: the next
    // call is a fresh root, and its children are its own.
    assert_eq!(after_panic(), 7);
    assert_snapshot!(render_normalised(&one_tree("after_panic")), @r"
    after_panic   <t>
      panic_step  <t>
    ");
    assert!(take_trees("panic_outer").is_empty(), "no second tree");
}

#[trace]
fn survives_a_child_panic() -> bool {
    let caught = catch_unwind(panic_inner).is_err();
    panic_step();
    caught
}

#[test]
fn a_caught_panic_restores_the_caller_as_the_current_call() {
    capture_trees();
    assert!(survives_a_child_panic());
    assert_snapshot!(render_normalised(&one_tree("survives_a_child_panic")), @r"
    survives_a_child_panic  <t>
      panic_inner           <t>  panic
      panic_step            <t>
    ");
}

#[test]
fn a_panic_through_a_request_root_marks_the_root_and_clears_the_context() {
    capture_trees();
    let result = catch_unwind(AssertUnwindSafe(|| {
        trace_runtime::in_request("POST /panicking", || {
            panic_step();
            panic_outer()
        })
    }));
    assert!(result.is_err());
    assert_snapshot!(render_normalised(&one_tree("POST /panicking")), @r"
    POST /panicking    <t>  panic
      panic_step       <t>
      panic_outer      <t>  panic
        panic_middle   <t>  panic
          panic_step   <t>
          panic_inner  <t>  panic
    ");
    assert_eq!(
        trace_runtime::in_request("POST /after-panic", after_panic),
        7
    );
    assert_snapshot!(render_normalised(&one_tree("POST /after-panic")), @r"
    POST /after-panic  <t>
      after_panic      <t>
        panic_step     <t>
    ");
}

#[test]
fn request_roots_open_trees_and_nested_roots_open_separate_ones_linked_from_their_caller() {
    capture_trees();
    trace_runtime::in_request("nightly job", || {
        assert_eq!(query_order(1), 1);
        let price =
            trace_runtime::in_request(String::from("nightly job: cleanup"), || price_order(1));
        assert_eq!(price, 2);
        assert_eq!(order_total(2), 6);
    });
    let outer = one_tree("nightly job");
    let inner = one_tree("nightly job: cleanup");
    let link = outer.root().children().nth(1).unwrap();
    assert_eq!(link.linked_tree(), Some(inner.id()));
    assert_eq!(inner.outer_tree(), Some(outer.id()));
    assert_eq!(outer.outer_tree(), None);
    assert!(link.wall() >= inner.root().wall());
    assert!(
        link.children().next().is_none(),
        "its calls are in its own tree"
    );
    assert_snapshot!(render_normalised(&outer), @r"
        nightly job             <t>
          query_order           <t>
          nightly job: cleanup  <t>  linked tree <id>
          order_total           <t>
            load_order          <t>
              query_order       <t>
            price_order         <t>
        ");
    assert_snapshot!(render_normalised(&inner), @r"
        nightly job: cleanup  <t>  tree <id> inside tree <id>
          price_order         <t>
        ");
}

#[trace]
fn maybe_first(items: &[u32]) -> Option<u32> {
    let first = *items.first()?;
    Some(first + u32::from(check_first(first).is_err()))
}

#[trace]
fn check_first(first: u32) -> Result<(), String> {
    if first == 0 {
        Err("zero".into())
    } else {
        Ok(())
    }
}

#[test]
fn err_is_marked_and_none_is_not() {
    capture_trees();
    trace_runtime::in_request("GET /first", || {
        assert_eq!(maybe_first(&[]), None);
        assert_eq!(maybe_first(&[0]), Some(1));
    });
    let tree = one_tree("GET /first");
    assert!(tree.has_failure());
    assert_eq!(tree.call_count(), 4);
    assert_snapshot!(render_normalised(&tree), @r"
    GET /first       <t>
      maybe_first    <t>
      maybe_first    <t>
        check_first  <t>  err
    ");
}
