//! One call: what the macro expansion creates ([`guard`] for sync
//! functions, [`future`] for async ones and for async roots), the sync
//! roots users open ([`root`]), and what every call does when it starts and
//! ends ([`active`]).

pub(crate) mod active;
pub(crate) mod future;
pub(crate) mod guard;
pub(crate) mod root;
