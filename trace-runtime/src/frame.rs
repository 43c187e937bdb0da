//! The thread-local current frame: which call is running on this thread, and
//! where in which tree its children go.
//!
//! Like `AsyncLocalStorage`, but explicit: sync calls set the thread's
//! current frame for their duration; async calls set it for the duration of
//! each poll, so interleaved `join!`/`select!` siblings and futures that move
//! between worker threads always see their own parent.

use std::cell::Cell;

use crate::callsite::Callsite;
use crate::tree::live::{LiveTree, NodeId};

/// The call running on this thread: the caller of any call that starts now.
///
/// `tree` is either null or points to a tree kept alive by whoever made this
/// frame current (a root, an async call during its poll, a captured context
/// while it runs) for as long as the frame is current.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    /// The running traced function; `None` for a user-opened root or no call.
    pub(crate) site: Option<&'static Callsite>,
    pub(crate) tree: *const LiveTree,
    pub(crate) node: NodeId,
    /// The frame belongs to a detached holder of `tree` (spawned work), so
    /// calls under it close their nodes under the tree's lock.
    pub(crate) detached: bool,
}

// SAFETY: a frame is an address and labels: moving or sharing one between
// threads dereferences nothing. The tree is only reached through
// `with_current`, on the thread where the frame is current. Async calls keep
// their frame across polls on any thread.
unsafe impl Send for Frame {}
// SAFETY: as above; `Frame` has no interior mutability.
unsafe impl Sync for Frame {}

impl Frame {
    /// No call running: the next call is a request root.
    pub(crate) const EMPTY: Frame = Frame {
        site: None,
        tree: std::ptr::null(),
        node: NodeId::ROOT,
        detached: false,
    };
}

thread_local! {
    static CURRENT: Cell<Frame> = const { Cell::new(Frame::EMPTY) };
}

/// Runs `f` with the current frame and the tree its calls go in (if trees
/// are being collected). The reference cannot outlive `f`, which runs
/// inside the scope of whoever made the frame current.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Frame, Option<&LiveTree>) -> R) -> R {
    let frame = current();
    // SAFETY: `frame` is current, and the reference lives only as long as
    // `f`, during which this thread's frame stays current.
    f(frame, unsafe { tree_of_current(&frame) })
}

/// The tree of `frame`, the current frame (if trees are being collected):
/// what [`with_current`] hands its closure, for the one caller on the hot
/// path that cannot afford a closure LLVM might leave out of line.
///
/// # Safety
/// `frame` is this thread's current frame, and the reference is not used
/// after another frame is made current on this thread: whoever made `frame`
/// current (a root, an async call during its poll, a captured context
/// while it runs) holds its tree until then.
#[inline(always)]
pub(crate) unsafe fn tree_of_current(frame: &Frame) -> Option<&LiveTree> {
    // SAFETY: non-null frame trees point to a live tree while the frame is
    // current (the caller's contract).
    unsafe { frame.tree.as_ref() }
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
    CURRENT.with(|c| c.set(saved));
}

/// Makes a frame current for its lifetime and restores the previous one when
/// dropped, also while unwinding.
pub(crate) struct Enter(Frame);

impl Enter {
    #[inline]
    pub(crate) fn new(frame: Frame) -> Enter {
        Enter(replace(frame))
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        restore(self.0);
    }
}
