//! Leaked, lock-free links: a slot holding a `&'static T`, and a push-only
//! list built on it.
//!
//! Metric handles registered for the process-global recorder are kept until
//! the process exits, so they are leaked once and shared as `&'static`
//! references: readers follow plain references, with no lock and no
//! reference count, and nothing is ever freed or unlinked. The one `unsafe`
//! operation, turning the slot's pointer back into a reference, lives in
//! [`LeakedRef::load`].

use std::marker::PhantomData;
use std::sync::atomic::{AtomicPtr, Ordering};

/// An atomic `Option<&'static T>`.
pub(crate) struct LeakedRef<T: 'static> {
    ptr: AtomicPtr<T>,
    /// Shared across threads exactly when `&'static T` is.
    _shares: PhantomData<&'static T>,
}

impl<T: Sync + 'static> LeakedRef<T> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        LeakedRef {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
            _shares: PhantomData,
        }
    }

    /// The reference stored last, if any.
    #[inline]
    pub(crate) fn load(&self) -> Option<&'static T> {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: the slot only ever holds null or a pointer that is valid
        // and shared for the rest of the process: made from a `&'static T`
        // by `store`, or a leaked node that `push` no longer writes once
        // `compare_exchange` published it.
        unsafe { ptr.as_ref() }
    }

    /// Stores `value`, replacing what the slot held.
    pub(crate) fn store(&self, value: &'static T) {
        self.ptr
            .store(std::ptr::from_ref(value).cast_mut(), Ordering::Release);
    }

    /// Stores `new`, which must be valid and shared (never written through)
    /// for the rest of the process from then on, if the slot still holds
    /// `current`; `false` otherwise.
    fn compare_exchange(&self, current: Option<&'static T>, new: *mut T) -> bool {
        let current = current.map_or(std::ptr::null_mut(), |c| std::ptr::from_ref(c).cast_mut());
        self.ptr
            .compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A push-only list of leaked values, newest first. Pushing is lock-free;
/// iterating sees every value pushed before it started, and possibly some
/// pushed meanwhile.
pub(crate) struct LeakedList<T: 'static> {
    head: LeakedRef<Node<T>>,
}

struct Node<T: 'static> {
    value: T,
    next: Option<&'static Node<T>>,
}

impl<T: Sync + 'static> LeakedList<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        LeakedList {
            head: LeakedRef::new(),
        }
    }

    /// Leaks `value`, links it in front of the list and returns it.
    pub(crate) fn push(&self, value: T) -> &'static T {
        let node: &'static mut Node<T> = Box::leak(Box::new(Node {
            value,
            next: self.head.load(),
        }));
        // Not shared with anyone until the exchange succeeds, so `next` can
        // still be corrected after a lost race.
        while !self
            .head
            .compare_exchange(node.next, std::ptr::from_mut(node))
        {
            node.next = self.head.load();
        }
        let node: &'static Node<T> = node;
        &node.value
    }

    /// Every value, newest first.
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'static T> {
        std::iter::successors(self.head.load(), |node| node.next).map(|node| &node.value)
    }
}

#[cfg(test)]
mod tests {
    use super::{LeakedList, LeakedRef};

    #[test]
    fn a_slot_holds_the_reference_stored_last() {
        static SLOT: LeakedRef<u32> = LeakedRef::new();
        assert_eq!(SLOT.load(), None);
        let one: &'static u32 = Box::leak(Box::new(1));
        let two: &'static u32 = Box::leak(Box::new(2));
        SLOT.store(one);
        assert!(std::ptr::eq(SLOT.load().unwrap(), one));
        SLOT.store(two);
        assert!(std::ptr::eq(SLOT.load().unwrap(), two));
    }

    #[test]
    fn pushes_from_many_threads_are_all_kept_and_returned_in_place() {
        static LIST: LeakedList<(usize, usize)> = LeakedList::new();
        assert_eq!(LIST.iter().count(), 0);
        let mine = LIST.push((99, 0));
        assert!(std::ptr::eq(LIST.iter().next().unwrap(), mine));
        std::thread::scope(|scope| {
            for thread in 0..4 {
                scope.spawn(move || {
                    for i in 0..500 {
                        let pushed = LIST.push((thread, i));
                        assert_eq!(*pushed, (thread, i));
                        assert!(LIST.iter().any(|v| std::ptr::eq(v, pushed)));
                    }
                });
            }
        });
        let mut all: Vec<_> = LIST.iter().copied().collect();
        assert_eq!(all.len(), 2001);
        // Newest first: the first push is last.
        assert_eq!(all.last(), Some(&(99, 0)));
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 2001, "no value lost or linked twice");
        // Each thread's values appear newest first.
        let order: Vec<_> = LIST.iter().filter(|v| v.0 == 2).map(|v| v.1).collect();
        assert_eq!(order, (0..500).rev().collect::<Vec<_>>());
    }
}
