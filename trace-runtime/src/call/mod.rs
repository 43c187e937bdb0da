//! One traced call: what the macro expansion creates, how it starts, and how it
//! ends. A call starts by reading the current [`frame`](crate::context::frame),
//! bumps its metrics, opens a node in the request's tree, and becomes the
//! current frame while its body runs; it ends by recording its duration and
//! [`Outcome`](outcome::Outcome) and restoring the frame it replaced.

pub(crate) mod guard;
pub(crate) mod instrumented;
pub(crate) mod outcome;
pub(crate) mod timing;
