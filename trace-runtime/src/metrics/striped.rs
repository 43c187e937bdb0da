//! Per-thread counter cells, summed when metrics are published.
//!
//! Every counter the exporter publishes at scrape time (calls per result and
//! caller, calls in flight) is a *cell id*. Each thread owns one block of
//! cells and is the only writer of it, so a count is a relaxed load and a
//! relaxed store on memory no other thread writes: no locked instruction and
//! no cache line shared between threads calling the same function. The
//! publisher sums a cell over all blocks (plus what exited threads left) with
//! relaxed loads. Values are wrapping `u64`s, so a cell may go "negative" on
//! one thread (an async call that started here and ended elsewhere) while the
//! sum stays right.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::segments::{locate, Segmented};

/// A cell id: an index into every thread's block, with its segment and
/// offset worked out once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CellId {
    index: u32,
    segment: u32,
    offset: u32,
}

static NEXT_CELL: AtomicU32 = AtomicU32::new(0);

impl CellId {
    fn new(index: u32) -> CellId {
        let (segment, offset) = locate(index as usize);
        CellId {
            index,
            // Both fit: segment < SEGMENTS, offset < segment_len(segment) <= u32::MAX.
            segment: u32::try_from(segment).unwrap_or(u32::MAX),
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        }
    }

    /// `count` consecutive fresh cell ids, starting at the returned one.
    pub(crate) fn allocate(count: u32) -> CellId {
        CellId::new(NEXT_CELL.fetch_add(count, Ordering::Relaxed))
    }

    /// The id `offset` places after this one (for ids allocated together).
    #[must_use]
    pub(crate) fn offset(self, offset: u32) -> CellId {
        CellId::new(self.index + offset)
    }
}

/// One thread's cells, in doubling segments that never move.
#[derive(Default)]
struct Block {
    cells: Segmented<AtomicU64>,
}

impl Block {
    fn new() -> Block {
        Block::default()
    }

    /// The cell, allocating its segment; `None` only for an id past every
    /// segment, which `CellId::allocate` never hands out.
    #[inline]
    fn cell(&self, id: CellId) -> Option<&AtomicU64> {
        self.cells
            .get_or_grow_at(id.segment as usize, id.offset as usize)
    }

    /// The value of a cell, 0 if its segment was never allocated.
    fn get(&self, id: CellId) -> u64 {
        self.cells
            .get_at(id.segment as usize, id.offset as usize)
            .map_or(0, |cell| cell.load(Ordering::Relaxed))
    }
}

/// The blocks of live threads, and what exited threads left behind.
struct Registry {
    live: Vec<Arc<Block>>,
    retired: Block,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn with_registry<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut guard = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    let registry = guard.get_or_insert_with(|| Registry {
        live: Vec::new(),
        retired: Block::new(),
    });
    f(registry)
}

/// This thread's block; folds its counts into the retired block on exit.
struct Owner(Arc<Block>);

impl Drop for Owner {
    fn drop(&mut self) {
        // From here on, counts made by this thread (in later TLS destructors)
        // go to the retired block.
        FAST.with(|fast| fast.set(std::ptr::null()));
        let block = Arc::clone(&self.0);
        with_registry(|registry| {
            registry.live.retain(|b| !Arc::ptr_eq(b, &block));
            let cells = NEXT_CELL.load(Ordering::Relaxed);
            for index in 0..cells {
                let id = CellId::new(index);
                let value = block.get(id);
                if let Some(cell) = registry.retired.cell(id).filter(|_| value != 0) {
                    cell.fetch_add(value, Ordering::Relaxed);
                }
            }
        });
    }
}

thread_local! {
    static OWNER: Owner = {
        let block = Arc::new(Block::new());
        with_registry(|registry| registry.live.push(Arc::clone(&block)));
        Owner(block)
    };
    /// `OWNER`'s block, cached for the hot path; null until first use.
    static FAST: Cell<*const Block> = const { Cell::new(std::ptr::null()) };
}

/// Adds each `(cell, delta)` (wrapping), finding this thread's block once.
#[inline]
pub(crate) fn add_all<const N: usize>(updates: [(CellId, u64); N]) {
    let block = FAST.with(Cell::get);
    // SAFETY: `FAST` is set from `OWNER`'s block while `OWNER` is alive and
    // cleared at the start of `OWNER`'s destructor, so a non-null pointer
    // points to a live block owned by this thread.
    if let Some(block) = unsafe { block.as_ref() } {
        for (id, delta) in updates {
            if let Some(cell) = block.cell(id) {
                bump(cell, delta);
            }
        }
    } else {
        for (id, delta) in updates {
            add_slow(id, delta);
        }
    }
}

/// Adds `delta` to a cell only this thread writes: a load and a store, no
/// read-modify-write.
#[inline]
fn bump(cell: &AtomicU64, delta: u64) {
    cell.store(
        cell.load(Ordering::Relaxed).wrapping_add(delta),
        Ordering::Relaxed,
    );
}

/// Adds `delta` (wrapping) to cell `id` of this thread.
#[inline]
pub(crate) fn add(id: CellId, delta: u64) {
    add_all([(id, delta)]);
}

#[cold]
fn add_slow(id: CellId, delta: u64) {
    let registered = OWNER.try_with(|owner| {
        let block = Arc::as_ptr(&owner.0);
        FAST.with(|fast| fast.set(block));
        if let Some(cell) = owner.0.cell(id) {
            bump(cell, delta);
        }
    });
    if registered.is_err() {
        // This thread's block is gone (we run inside a TLS destructor):
        // count into the shared retired block instead.
        FAST.with(|fast| fast.set(std::ptr::null()));
        with_registry(|registry| {
            if let Some(cell) = registry.retired.cell(id) {
                cell.fetch_add(delta, Ordering::Relaxed);
            }
        });
    }
}

/// The sum of cell `id` over all threads, live and exited.
pub(crate) fn sum(id: CellId) -> u64 {
    with_registry(|registry| {
        registry
            .live
            .iter()
            .fold(registry.retired.get(id), |acc, b| {
                acc.wrapping_add(b.get(id))
            })
    })
}

/// The sums of the `len` cells from `first` on, over all threads, live and
/// exited, appended to `out` (one lock for all of them).
#[cfg_attr(not(feature = "stats"), allow(dead_code))]
pub(crate) fn sum_range(first: CellId, len: u32, out: &mut Vec<u64>) {
    with_registry(|registry| {
        out.extend((0..len).map(|offset| {
            let id = first.offset(offset);
            registry
                .live
                .iter()
                .fold(registry.retired.get(id), |acc, b| {
                    acc.wrapping_add(b.get(id))
                })
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::{add, sum, CellId};

    #[test]
    fn sums_cover_live_and_exited_threads() {
        let id = CellId::allocate(2);
        add(id, 1);
        add(id.offset(1), 5);
        std::thread::spawn(move || {
            add(id, 2);
            add(id.offset(1), 0_u64.wrapping_sub(5));
        })
        .join()
        .unwrap();
        let live = std::thread::spawn(move || add(id, 4));
        live.join().unwrap();
        assert_eq!(sum(id), 7);
        assert_eq!(sum(id.offset(1)), 0);
    }
}
