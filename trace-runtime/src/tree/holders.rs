//! Who keeps a tree under construction alive, and who delivers it.
//!
//! A request's tree has two kinds of holders. *Attached* holders run inside
//! the request: its root, and the async calls started in it. *Detached*
//! holders carry the request into work that may outlive it: contexts captured
//! for spawned tasks and threads, and async calls started under one. The tree
//! is delivered when the last attached holder lets go, that is when the
//! request's own work has ended, whatever detached holders still run; the
//! tree's memory is freed when the last holder of either kind lets go.
//!
//! One word counts both kinds: attached holders in the low half, detached
//! ones in the high half, which also counts one *token* for the undelivered
//! tree, so the memory outlives the delivery even if the last detached
//! holder lets go meanwhile.
//!
//! Holders are added only by someone who holds one (or runs inside a call of
//! someone who does), so a count never comes back from zero.

use crate::sync::atomic::{AtomicUsize, Ordering};

const ATTACHED: usize = 1;
const DETACHED: usize = 1 << (usize::BITS / 2);
const ATTACHED_MASK: usize = DETACHED - 1;

/// The holder counts of one tree.
pub(crate) struct Holders(AtomicUsize);

/// What the holder that just let go must do next.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Release {
    /// Nothing: other holders remain.
    Kept,
    /// Deliver the tree, then call [`Holders::release_token`].
    Deliver,
    /// Deliver the tree, then free it: nobody else holds it.
    DeliverAndFree,
    /// Free the tree, which was delivered already.
    Free,
}

impl Holders {
    /// One attached holder (the root), and the token.
    pub(crate) fn new() -> Holders {
        Holders(AtomicUsize::new(ATTACHED + DETACHED))
    }

    /// Adds an attached holder.
    #[inline]
    pub(crate) fn attach(&self) {
        self.0.fetch_add(ATTACHED, Ordering::Relaxed);
    }

    /// Adds a detached holder.
    #[inline]
    pub(crate) fn detach(&self) {
        self.0.fetch_add(DETACHED, Ordering::Relaxed);
    }

    /// An attached holder lets go.
    #[inline]
    pub(crate) fn release_attached(&self) -> Release {
        // Alone with the token: nobody else can become a holder, so no
        // read-modify-write is needed. Acquire: the writes of every holder
        // that let go before are visible.
        if self.0.load(Ordering::Acquire) == ATTACHED + DETACHED {
            return Release::DeliverAndFree;
        }
        let before = self.0.fetch_sub(ATTACHED, Ordering::AcqRel);
        if before & ATTACHED_MASK == ATTACHED {
            Release::Deliver
        } else {
            Release::Kept
        }
    }

    /// A detached holder lets go.
    #[inline]
    pub(crate) fn release_detached(&self) -> Release {
        self.release_high()
    }

    /// The tree has been delivered: the token lets go.
    pub(crate) fn release_token(&self) -> Release {
        self.release_high()
    }

    fn release_high(&self) -> Release {
        if self.0.fetch_sub(DETACHED, Ordering::AcqRel) == DETACHED {
            Release::Free
        } else {
            Release::Kept
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Holders, Release};

    #[test]
    fn a_lone_root_delivers_and_frees() {
        assert_eq!(Holders::new().release_attached(), Release::DeliverAndFree);
    }

    #[test]
    fn the_last_attached_holder_delivers_and_the_last_holder_frees() {
        let holders = Holders::new();
        holders.attach();
        holders.detach();
        assert_eq!(holders.release_attached(), Release::Kept);
        assert_eq!(holders.release_attached(), Release::Deliver);
        assert_eq!(holders.release_token(), Release::Kept);
        assert_eq!(holders.release_detached(), Release::Free);
    }

    #[test]
    fn a_detached_holder_leaving_before_delivery_frees_nothing() {
        let holders = Holders::new();
        holders.detach();
        assert_eq!(holders.release_detached(), Release::Kept);
        assert_eq!(holders.release_attached(), Release::DeliverAndFree);
    }
}
