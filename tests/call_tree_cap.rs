//! Memory per request is bounded: past the node cap, calls are folded into one
//! aggregate per (kept ancestor, function) rendered as `name ×N … total`, and
//! past the aggregate cap they are only counted.
//!
//! Its own binary: the cap (`set_max_nodes`) is global.
#![warn(clippy::pedantic)]

use std::sync::Once;

use futures::future::join_all;
use insta::assert_snapshot;
use tokio::task::yield_now;
use trace_runtime::trace;
use trace_runtime::tree::CallNode;
use trace_suite::{capture_trees, one_tree, render_normalised, words_normalised};

/// Nodes kept per request in this binary, the root included.
const CAP: usize = 8;

fn set_up() {
    static CAPPED: Once = Once::new();
    CAPPED.call_once(|| trace_runtime::TreeConfig::current().max_nodes(CAP).apply());
    capture_trees();
}

#[trace]
fn cap_root() {
    for _ in 0..3 {
        cap_branch();
    }
    for i in 0..1000 {
        let _ = cap_leaf(i);
    }
}

#[trace]
fn cap_branch() {
    let _ = cap_leaf(1);
    let _ = cap_leaf(2);
}

#[trace]
fn cap_leaf(i: u32) -> Result<u32, u32> {
    if i.is_multiple_of(10) {
        Err(i)
    } else {
        Ok(i)
    }
}

#[test]
fn calls_past_the_cap_fold_into_aggregates_under_their_nearest_kept_ancestor() {
    set_up();
    cap_root();
    let tree = one_tree("cap_root");
    assert_eq!(tree.call_count(), 1 + 3 * 3 + 1000);
    assert_eq!(tree.uncounted(), 0);
    // Eight nodes kept, plus one aggregate under the third branch and one
    // under the root.
    assert_eq!(tree.iter().count(), CAP + 2);
    assert_snapshot!(render_normalised(&tree), @r"
        cap_root          <t>
          cap_branch      <t>
            cap_leaf      <t>
            cap_leaf      <t>
          cap_branch      <t>
            cap_leaf      <t>
            cap_leaf      <t>
          cap_branch      <t>
            cap_leaf ×2   <t>  total, own <t>
          cap_leaf ×1000  <t>  total, own <t>  err ×100
        ");
}

#[trace]
fn deep(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        deep(n - 1) + 1
    }
}

#[test]
fn deep_recursion_past_the_cap_folds_into_the_last_kept_level() {
    set_up();
    assert_eq!(deep(50), 50);
    let tree = one_tree("deep");
    assert_eq!(tree.call_count(), 51);
    assert_snapshot!(render_normalised(&tree), @r"
        deep                      <t>
          deep                    <t>
            deep                  <t>
              deep                <t>
                deep              <t>
                  deep            <t>
                    deep          <t>
                      deep        <t>
                        deep ×43  <t>  total, own <t>
        ");
}

#[trace]
fn million_root(calls: u32) -> u32 {
    (0..calls).map(million_leaf).fold(0, u32::wrapping_add)
}

#[trace]
fn million_leaf(i: u32) -> u32 {
    i & 1
}

#[test]
fn a_million_calls_keep_a_bounded_tree_and_count_every_call() {
    set_up();
    assert_eq!(million_root(1_000_000), 500_000);
    let tree = one_tree("million_root");
    assert_eq!(tree.call_count(), 1_000_001);
    assert_eq!(tree.iter().count(), CAP + 1);
    assert_snapshot!(render_normalised(&tree), @r"
        million_root            <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf          <t>
          million_leaf ×999993  <t>  total, own <t>
        ");
}

/// Forty distinct traced functions, so aggregates can outnumber their cap.
macro_rules! traced_leaves {
    ($($name:ident)*) => {
        $(
            #[trace]
            fn $name() {}
        )*
        const LEAVES: &[fn()] = &[$($name),*];
    };
}

traced_leaves! {
    f00 f01 f02 f03 f04 f05 f06 f07 f08 f09 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19
    f20 f21 f22 f23 f24 f25 f26 f27 f28 f29 f30 f31 f32 f33 f34 f35 f36 f37 f38 f39
}

#[trace]
async fn fold_root() {
    join_all((0..7).map(|_| fold_parent())).await;
}

#[trace]
async fn fold_parent() {
    // All seven parents open (and are kept) before any calls a leaf.
    yield_now().await;
    for leaf in LEAVES {
        leaf();
    }
}

#[test]
fn aggregates_are_capped_too_and_calls_past_them_are_counted() {
    set_up();
    futures::executor::block_on(fold_root());
    let tree = one_tree("fold_root");
    // 7 parents × 40 functions = 280 (parent, function) pairs; 256 are kept.
    assert_eq!(tree.iter().count(), CAP + 256);
    assert_eq!(tree.uncounted(), 280 - 256);
    assert_eq!(tree.call_count(), 1 + 7 + 280);
    let text = render_normalised(&tree);
    assert!(
        text.ends_with("\n… 24 more calls not shown (node cap reached)\n"),
        "{text}"
    );
    let last_parent = tree.root().children().last().unwrap();
    assert_eq!(last_parent.children().count(), 256 - 6 * 40);
}

#[trace]
fn nest_root() {
    for _ in 0..100 {
        nest_mid();
    }
}

#[trace]
fn nest_mid() {
    for _ in 0..10 {
        nest_leaf();
    }
}

#[trace]
fn nest_leaf() -> u64 {
    std::hint::black_box(7)
}

/// The sum of every node's own time is the root's wall time: each call's
/// time is counted once, in its own node or its aggregate.
fn own_times_add_up(tree: &trace_runtime::tree::CallTree) {
    let own: std::time::Duration = tree.iter().map(|n| n.own()).sum();
    assert_eq!(own, tree.root().wall(), "{}", tree.render());
}

#[test]
fn folded_calls_keep_their_nesting() {
    set_up();
    nest_root();
    let tree = one_tree("nest_root");
    assert_eq!(tree.call_count(), 1 + 100 + 1000);
    assert_eq!(tree.uncounted(), 0);
    // The first mid and six of its leaves are kept; the rest of that mid's
    // leaves fold under it, and the other 99 mids fold under the root with
    // their 990 leaves under them, not beside them.
    assert_snapshot!(render_normalised(&tree), @r"
        nest_root           <t>
          nest_mid          <t>
            nest_leaf       <t>
            nest_leaf       <t>
            nest_leaf       <t>
            nest_leaf       <t>
            nest_leaf       <t>
            nest_leaf       <t>
            nest_leaf ×4    <t>  total, own <t>
          nest_mid ×99      <t>  total, own <t>
            nest_leaf ×990  <t>  total, own <t>
        ");
    own_times_add_up(&tree);
}

#[test]
fn recursion_past_the_cap_is_one_aggregate_whose_total_is_not_counted_twice() {
    set_up();
    assert_eq!(deeper(200), 200);
    let tree = one_tree("deeper");
    let aggregate = tree.iter().find(CallNode::is_aggregate).unwrap();
    assert_eq!(aggregate.calls(), 201 - 8);
    // Inclusive time: the outermost folded call's, which holds the others.
    let parent_wall = tree
        .iter()
        .nth(aggregate_parent_index(&tree))
        .unwrap()
        .wall();
    assert!(aggregate.wall() <= parent_wall, "{}", tree.render());
    own_times_add_up(&tree);
}

#[trace]
fn deeper(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        deeper(n - 1) + 1
    }
}

/// The position (in `iter()` order) of the aggregate's parent.
fn aggregate_parent_index(tree: &trace_runtime::tree::CallTree) -> usize {
    let nodes: Vec<_> = tree.iter().collect();
    let at = nodes.iter().position(CallNode::is_aggregate).unwrap();
    let depth = nodes[at].depth();
    (0..at)
        .rev()
        .find(|&i| nodes[i].depth() == depth - 1)
        .unwrap()
}

#[trace]
fn ascii_root() {
    for i in 0..20 {
        let _ = cap_leaf(i);
    }
}

#[test]
fn the_ascii_rendering_spells_aggregates_and_units_in_ascii() {
    set_up();
    ascii_root();
    let tree = one_tree("ascii_root");
    let ascii = tree.render_ascii();
    assert!(ascii.is_ascii(), "{ascii}");
    // The same text, symbol for symbol.
    let unicode = tree
        .render()
        .replace('×', "x")
        .replace('…', "...")
        .replace("µs", "us");
    assert_eq!(ascii, unicode);
    assert_snapshot!(words_normalised(&ascii), @r"
        ascii_root <t>
        cap_leaf <t> err
        cap_leaf <t>
        cap_leaf <t>
        cap_leaf <t>
        cap_leaf <t>
        cap_leaf <t>
        cap_leaf <t>
        cap_leaf x13 <t> total, own <t> err x1
        ");
}
