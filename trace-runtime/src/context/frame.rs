//! The thread-local current frame.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::callsite::Callsite;
use crate::context::request::{NodeId, Request};

/// The call running on this thread: the caller of any call that starts now.
///
/// `request` is either null or points into an `Arc<Request>` kept alive by
/// whoever set this frame (a root guard, or an async call during its poll) for
/// as long as the frame is current.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) site: Option<&'static Callsite>,
    pub(crate) request: *const Request,
    pub(crate) node: NodeId,
}

impl Frame {
    /// No call running: the next call is a request root.
    pub(crate) const EMPTY: Frame = Frame {
        site: None,
        request: std::ptr::null(),
        node: NodeId::ROOT,
    };

    /// The request this frame belongs to, if trees are being collected.
    ///
    /// # Safety
    /// The frame must be current (or have been current in a scope that is
    /// still running), which keeps the request alive.
    pub(crate) unsafe fn request<'a>(self) -> Option<&'a Request> {
        // SAFETY: upheld by the caller, see the type's docs.
        unsafe { self.request.as_ref() }
    }
}

/// A request root whose guard was dropped while a call of that request was
/// still running on this thread (the guard was moved into it). That call
/// will make the root's frame current again when it ends; until then the
/// request is kept alive here, and restoring its frame restores `previous`.
struct Orphan {
    request: Arc<Request>,
    previous: Frame,
}

thread_local! {
    static CURRENT: Cell<Frame> = const { Cell::new(Frame::EMPTY) };
    static ORPHANS: RefCell<Vec<Orphan>> = const { RefCell::new(Vec::new()) };
}

/// The current frame of this thread.
#[inline]
pub(crate) fn current() -> Frame {
    CURRENT.with(Cell::get)
}

/// Makes `frame` current and returns the frame it replaced.
#[inline]
pub(crate) fn replace(frame: Frame) -> Frame {
    CURRENT.with(|c| c.replace(frame))
}

/// Makes a saved frame current again, at the end of the call or poll that
/// replaced it.
#[inline]
pub(crate) fn restore(saved: Frame) {
    if saved.site.is_none() && !saved.request.is_null() {
        restore_root(saved);
    } else {
        replace(saved);
    }
}

/// Restores the frame of a request root, unless its guard has been dropped
/// meanwhile: then the frame before the root is restored, and the request
/// released.
#[cold]
fn restore_root(mut saved: Frame) {
    let mut released = Vec::new();
    // Fails only while the thread's locals are being destroyed.
    let _ = ORPHANS.try_with(|orphans| {
        let mut orphans = orphans.borrow_mut();
        while saved.site.is_none() && saved.node == NodeId::ROOT {
            let Some(i) = orphans
                .iter()
                .position(|o| std::ptr::eq(Arc::as_ptr(&o.request), saved.request))
            else {
                break;
            };
            let orphan = orphans.swap_remove(i);
            saved = orphan.previous;
            released.push(orphan.request);
        }
    });
    replace(saved);
    // Last: releasing a request may deliver its tree, and the right frame is
    // current by now.
    drop(released);
}

/// Keeps `request`, the request of the root frame `root`, alive until `root`
/// is restored, and restores `previous` instead then. For a root guard
/// dropped while a call of its request still runs on this thread: returns
/// `false` (and does nothing) if `root` is current, so no call of it runs.
pub(crate) fn orphan_unless_current(root: Frame, request: &Arc<Request>, previous: Frame) -> bool {
    let current = current();
    let is_current = std::ptr::eq(current.request, root.request)
        && current.node == root.node
        && current.site.is_none() == root.site.is_none();
    if !is_current {
        let orphan = Orphan {
            request: Arc::clone(request),
            previous,
        };
        // While the thread's locals are being destroyed, leak the request
        // rather than free it under a running call.
        if ORPHANS.try_with(|o| o.borrow_mut().push(orphan)).is_err() {
            std::mem::forget(Arc::clone(request));
        }
    }
    !is_current
}

/// Restores a saved frame when dropped, also while unwinding.
pub(crate) struct Restore(pub(crate) Frame);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        restore(self.0);
    }
}
