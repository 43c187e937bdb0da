//! The thread-local current frame.

use std::cell::Cell;

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

thread_local! {
    static CURRENT: Cell<Frame> = const { Cell::new(Frame::EMPTY) };
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

/// Restores a saved frame when dropped, also while unwinding.
pub(crate) struct Restore(pub(crate) Frame);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        replace(self.0);
    }
}
