//! `err` and `fields(...)` record nothing, evaluate nothing and allocate
//! nothing for a call without a node of its own: instrumentation switched
//! off, trees not collected, nobody listening for trees, or a call folded
//! past the node cap. Counted with a counting global allocator, per thread.
//!
//! One test in its own binary: the allocator, the switches and the cap are
//! global.
#![warn(clippy::pedantic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use trace_runtime::trace;
use trace_runtime::tree::{add_sink, clear_sinks, CallTree, TreeConfig};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to `System`; counting touches only a
// `const` thread-local `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as the caller promised for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as the caller promised for `ptr`, `layout` and `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How often a field or an error was formatted.
static FORMATTED: AtomicU64 = AtomicU64::new(0);

/// A value that counts its formatting.
struct Watched(u32);

impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::Relaxed);
        write!(f, "watched {}", self.0)
    }
}

#[trace(err, fields(watched = %Watched(n), n))]
fn annotated(n: u32) -> Result<u32, Watched> {
    Err(Watched(n))
}

#[trace]
fn plain(n: u32) -> Result<u32, Watched> {
    Err(Watched(n))
}

/// Allocations on this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A request of 50 calls of `call`, as the switches stand.
fn request(call: fn(u32) -> Result<u32, Watched>) {
    request_of(50, call);
}

/// A request of `calls` calls of `call`.
fn request_of(calls: u32, call: fn(u32) -> Result<u32, Watched>) {
    trace_runtime::in_request("cost", || {
        for n in 0..calls {
            assert!(call(n).is_err());
        }
    });
}

#[test]
fn calls_without_a_node_record_evaluate_and_allocate_nothing() {
    // Warm up: call sites register their (no-op) metric handles once.
    request(annotated);
    request(plain);

    // Nobody listening for trees: no tree is built.
    assert_eq!(allocations(|| request(annotated)), 0);
    assert_eq!(FORMATTED.load(Ordering::Relaxed), 0);

    // Room for every tree below, so the sink's own pushes do not allocate.
    let delivered: Arc<Mutex<Vec<CallTree>>> = Arc::new(Mutex::new(Vec::with_capacity(64)));
    let sink = Arc::clone(&delivered);
    add_sink(move |tree: &CallTree| sink.lock().unwrap().push(tree.clone()));

    // Trees not collected.
    TreeConfig::current().collect(false).apply();
    assert_eq!(allocations(|| request(annotated)), 0);
    // Instrumentation switched off.
    TreeConfig::current().collect(true).apply();
    trace_runtime::set_enabled(false);
    assert_eq!(allocations(|| request(annotated)), 0);
    trace_runtime::set_enabled(true);
    assert_eq!(FORMATTED.load(Ordering::Relaxed), 0);
    assert!(delivered.lock().unwrap().is_empty());

    // Past the node cap (root + 1 node): 50 more folded calls cost as
    // many allocations as 50 more folded calls without the options, and
    // only the kept call is formatted.
    TreeConfig::current().max_nodes(2).apply();
    let folded =
        |call| allocations(|| request_of(100, call)) - allocations(|| request_of(50, call));
    assert_eq!(folded(annotated), folded(plain));
    // The kept call of each of the two requests: its field and its error.
    assert_eq!(FORMATTED.swap(0, Ordering::Relaxed), 2 * 2);
    let trees: Vec<CallTree> = delivered.lock().unwrap().drain(..).collect();
    assert_eq!(trees.len(), 4);
    let kept = trees[0].root().children().next().unwrap();
    assert_eq!(kept.error(), Some("watched 0"));
    assert_eq!(
        kept.fields().collect::<Vec<_>>(),
        [("watched", "watched 0"), ("n", "0")]
    );
    let folded = trees[0].root().children().nth(1).unwrap();
    assert!(folded.is_aggregate());
    assert_eq!((folded.error(), folded.fields().count()), (None, 0));

    // With a node each, every call is formatted: the counts above can fail.
    TreeConfig::current().max_nodes(1000).apply();
    assert!(allocations(|| request(annotated)) > allocations(|| request(plain)));
    assert_eq!(FORMATTED.load(Ordering::Relaxed), 100);
    clear_sinks();
}
