//! One traced call: what the macro expansion creates ([`guard`] for sync
//! functions, [`future`] for async ones), and what every call does when it
//! starts and ends ([`active`]).

pub(crate) mod active;
pub(crate) mod future;
pub(crate) mod guard;
