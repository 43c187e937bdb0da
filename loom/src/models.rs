//! The models. Each runs every interleaving loom finds of a few threads
//! acting on the protocol, and fails on a wrong result or on a data race:
//! memory that the protocol frees is stood in for by a `loom` cell that the
//! freeing thread writes, so an access not ordered before the free is a
//! race loom reports.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

use crate::holders::{Holders, Release};
use crate::segments::Segmented;

/// A tree in miniature, as `tree/live.rs` uses `Holders`: two nodes closed
/// without the lock by attached holders, one closed under the lock by a
/// detached holder, delivered by the last attached holder.
struct Tree {
    holders: Holders,
    /// Closed lock-free by the root and by an async child.
    lock_free: [UnsafeCell<Option<u32>>; 2],
    /// `(delivered, node closed by the detached holder)`.
    locked: Mutex<(bool, Option<u32>)>,
    /// Written (false) when the tree is freed.
    alive: UnsafeCell<bool>,
    deliveries: AtomicUsize,
    frees: AtomicUsize,
}

impl Tree {
    fn touch(&self) {
        self.alive.with(|alive| {
            // SAFETY: loom checks this read against the write in `free`.
            let alive = unsafe { *alive };
            assert!(alive, "used after free");
        });
    }

    /// What the holder that let go does next, as `TreeRef::drop` does.
    fn after(&self, release: Release) {
        match release {
            Release::Kept => {}
            Release::Free => self.free(),
            Release::DeliverAndFree => {
                self.deliver();
                self.free();
            }
            Release::Deliver => {
                self.deliver();
                let after_token = self.holders.release_token();
                self.after(after_token);
            }
        }
    }

    fn deliver(&self) {
        self.touch();
        let mut locked = self.locked.lock().unwrap();
        locked.0 = true;
        // Every attached holder has let go: their lock-free writes are
        // visible, and reading them races with nothing.
        for node in &self.lock_free {
            // SAFETY: loom checks this read against the closes' writes.
            node.with(|n| assert!(unsafe { *n }.is_some(), "an attached close is missing"));
        }
        self.deliveries.fetch_add(1, Ordering::Relaxed);
    }

    fn free(&self) {
        // SAFETY: loom checks this write against every other access.
        self.alive.with_mut(|alive| unsafe { *alive = false });
        self.frees.fetch_add(1, Ordering::Relaxed);
    }

    fn close_lock_free(&self, node: usize, value: u32) {
        self.touch();
        // SAFETY: loom checks this write against the delivery's read.
        self.lock_free[node].with_mut(|n| unsafe { *n = Some(value) });
    }

    fn close_detached(&self, value: u32) {
        self.touch();
        let mut locked = self.locked.lock().unwrap();
        if !locked.0 {
            locked.1 = Some(value);
        }
    }
}

/// The root and an attached async child close their nodes lock-free and let
/// go; a detached holder (spawned work) closes its node under the lock and
/// lets go, before or after the delivery. The tree is delivered exactly once,
/// with both attached closes in it, and freed exactly once, after every
/// access.
pub fn holders_deliver_once_and_free_after_every_access() {
    loom::model(|| {
        let tree = Arc::new(Tree {
            holders: Holders::new(),
            lock_free: [UnsafeCell::new(None), UnsafeCell::new(None)],
            locked: Mutex::new((false, None)),
            alive: UnsafeCell::new(true),
            deliveries: AtomicUsize::new(0),
            frees: AtomicUsize::new(0),
        });
        // The root (attached, counted by `new`) starts an async child and
        // captures a context for spawned work before either runs.
        tree.holders.attach();
        tree.holders.detach();
        let child = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || {
                tree.close_lock_free(1, 1);
                let release = tree.holders.release_attached();
                tree.after(release);
            })
        };
        let spawned = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || {
                tree.close_detached(2);
                let release = tree.holders.release_detached();
                tree.after(release);
            })
        };
        tree.close_lock_free(0, 0);
        let release = tree.holders.release_attached();
        tree.after(release);
        child.join().unwrap();
        spawned.join().unwrap();
        assert_eq!(tree.deliveries.load(Ordering::Relaxed), 1);
        assert_eq!(tree.frees.load(Ordering::Relaxed), 1);
    });
}

/// Two threads reach the same unallocated segment at once: one allocation
/// wins, both get the same element, and a value stored through one is read
/// through the other.
pub fn segments_grow_once_under_races() {
    loom::model(|| {
        let array: Arc<Segmented<loom::sync::atomic::AtomicU64>> = Arc::new(Segmented::new());
        let other = {
            let array = Arc::clone(&array);
            thread::spawn(move || {
                let element = array.get_or_grow(70).expect("within the array");
                element.fetch_add(1, Ordering::Relaxed);
                std::ptr::from_ref(element) as usize
            })
        };
        let element = array.get_or_grow(70).expect("within the array");
        element.fetch_add(2, Ordering::Relaxed);
        let mine = std::ptr::from_ref(element) as usize;
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs, "both threads use one segment");
        assert_eq!(array.get(70).unwrap().load(Ordering::Relaxed), 3);
        assert!(
            array.get(0).is_none(),
            "only the segment asked for is allocated"
        );
    });
}
