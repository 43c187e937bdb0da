#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![warn(clippy::undocumented_unsafe_blocks)]
// The switched-off path must inline into every traced function; measured.
#![allow(clippy::inline_always)]

mod annotate;
mod call;
mod callsite;
mod clock;
mod config;
pub mod context;
pub mod exporter;
mod frame;
#[cfg(feature = "tower")]
pub mod http;
pub mod metrics;
pub mod objective;
mod outcome;
#[cfg(feature = "pages")]
pub mod pages;
mod segments;
#[cfg(feature = "stats")]
pub mod stats;
mod sync;
mod traceparent;
pub mod tree;

/// Times, counts and traces every call of a function.
///
/// Works on sync and `async` functions, methods, `unsafe` and `extern "C"`
/// functions, functions returning `!`, and functions that return a future
/// written by hand (`-> impl Future`, `-> Pin<Box<dyn Future + Send + '_>>`,
/// `BoxFuture`): then statements before the future run at call time and the
/// returned future is what gets timed. The function behaves exactly as
/// without the attribute; panics keep their payload, futures stay `Send`.
///
/// Each call updates the [metrics](crate#metrics) and becomes a node of the
/// current request's [`CallTree`](crate::tree::CallTree). A call returning `Err(_)` (also through a
/// type alias such as `io::Result`) or panicking counts as an error.
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `name = "label"` | the `function` label and tree name (default: the function's name; `Type::method` under [`macro@instrument_all`]); non-empty, at most 128 bytes, no whitespace |
/// | `slow = "50ms"` | mark calls at least this slow in the tree and log them to [`SLOW_TARGET`] (`ns`, `us`, `ms`, `s`) |
/// | `objective = CONST` | label the function's series with an [`Objective`](crate::objective::Objective) for SLO rules and dashboards |
/// | `err` | on a call that returns `Err(e)`, record `e`'s `Display` on its node ([`CallNode::error`](crate::tree::CallNode::error); at most [`MAX_ERROR_BYTES`](crate::tree::MAX_ERROR_BYTES), cut ones end in `...`); the function must return a `Result` whose error has `Display` |
/// | `err(Debug)` | the same with `e`'s `Debug`, for errors without `Display` |
/// | `fields(room = id, user = %name, req = ?r, seats)` | record chosen values on the node ([`CallNode::fields`](crate::tree::CallNode::fields)): `name = value` for numbers, `bool`, `char` and strings, `%` for `Display`, `?` for `Debug`; `seats` alone records the argument `seats` (a name that is no argument is a compile error); each value at most [`MAX_FIELD_BYTES`](crate::tree::MAX_FIELD_BYTES) |
/// | `skip` | leave the function untouched (useful inside [`macro@instrument_all`]) |
/// | `crate = path` | where `trace_runtime` is, when it is re-exported under another path |
///
/// ```
/// use trace_runtime::trace;
///
/// #[derive(Debug, PartialEq)]
/// struct NotFound;
///
/// #[trace(name = "rooms::find", slow = "50ms")]
/// fn find(id: u32) -> Result<&'static str, NotFound> {
///     if id == 1 { Ok("lobby") } else { Err(NotFound) }
/// }
///
/// #[trace]
/// async fn load(id: u32) -> Option<&'static str> {
///     find(id).ok()
/// }
///
/// assert_eq!(find(1), Ok("lobby"));
/// assert_eq!(find(2), Err(NotFound));
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(load(1).await, Some("lobby"));
/// # });
/// ```
///
/// Nothing is recorded without `err` or `fields`, so no argument or error
/// text reaches a log unless named. Both are evaluated only for a call that
/// has a node of its own (instrumentation on, trees collected and wanted,
/// the call below the node cap), after the call starts: field expressions
/// with side effects run only then. An `Ok` costs `err` one comparison.
/// `fields` is not accepted on functions returning a hand-written future.
///
/// ```
/// use trace_runtime::trace;
///
/// #[derive(Debug)]
/// enum JoinError { Full }
///
/// impl std::fmt::Display for JoinError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("room is full")
///     }
/// }
///
/// #[trace(err, fields(room, player = %name))]
/// fn join(room: u32, name: &str) -> Result<(), JoinError> {
///     Err(JoinError::Full)
/// }
///
/// // In the request's tree: `join  12.00µs  room=7 player=ann  err: room is full`
/// assert!(trace_runtime::in_request("POST /join", || join(7, "ann")).is_err());
/// ```
///
/// Under `#[track_caller]` the body runs in place so caller locations stay
/// exact; an early `return` or `?` then counts as `ok` (panics still count as
/// errors).
///
/// `use trace_runtime::trace;` clashes with `tracing::trace!` when both are
/// imported; write `#[trace_runtime::trace]` there instead.
pub use trace_macros::trace;

/// Applies [`macro@trace`] to every method with a body in an `impl` block.
///
/// Inherent and trait impls, generic impls, native `async fn` in traits and
/// `#[async_trait]` impls (with the attributes in either order) are
/// supported. Methods are labelled `Type::method`. `const fn`s are left
/// untouched; a method opts out with `#[trace(skip)]` and overrides options
/// with its own `#[trace(...)]`. The block itself accepts `slow = "..."`,
/// `objective = CONST`, `err` / `err(Debug)` and `crate = path`, which every
/// method inherits; an inherited `err` records the errors of the methods
/// returning a `Result` whose error fits and nothing for the others.
/// `fields(...)` goes on a method's own `#[trace(...)]`. The per-method
/// `#[trace(...)]` attributes are consumed by `#[instrument_all]`, so they
/// need no `use trace_runtime::trace;`.
///
/// ```
/// use trace_runtime::instrument_all;
///
/// struct GameService { rooms: Vec<String> }
///
/// #[instrument_all]
/// impl GameService {
///     fn new() -> Self { GameService { rooms: Vec::new() } }
///
///     async fn create_room(&mut self, name: &str) -> Result<usize, String> {
///         Self::validate_room(name)?;
///         self.rooms.push(name.to_owned());
///         Ok(self.rooms.len())
///     }
///
///     #[trace(name = "GameService::validate")]
///     fn validate_room(name: &str) -> Result<(), String> {
///         if name.is_empty() { Err("empty name".to_owned()) } else { Ok(()) }
///     }
///
///     #[trace(skip)]
///     fn room_count(&self) -> usize { self.rooms.len() }
///
///     const fn max_rooms() -> usize { 64 }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut game = GameService::new();
/// assert_eq!(game.create_room("lobby").await, Ok(1));
/// assert!(game.create_room("").await.is_err());
/// assert_eq!(game.room_count(), 1);
/// const MAX: usize = GameService::max_rooms();
/// assert_eq!(MAX, 64);
/// # });
/// ```
pub use trace_macros::instrument_all;

pub use call::active::SLOW_TARGET;
pub use call::root::in_request;
pub use config::{is_enabled, set_enabled};
pub use context::TraceFutureExt;
pub use exporter::ExporterBuilder;
pub use outcome::Outcome;
pub use tree::TreeConfig;

/// An [`ExporterBuilder`] for the package that calls it: its name is the
/// service name (unless [`service_name`](ExporterBuilder::service_name) or
/// `OTEL_SERVICE_NAME` says otherwise), its version the `version` label of
/// `build_info`, and `GIT_COMMIT` / `GIT_BRANCH`, if set when the calling
/// package is built (see
/// [`commit_and_branch`](ExporterBuilder::commit_and_branch)), its `commit`
/// and `branch`. Shorthand for
/// `ExporterBuilder::new().package(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))`
/// plus those.
///
/// ```no_run
/// let exporter = trace_runtime::exporter_builder!().serve()?;
/// # Ok::<(), trace_runtime::exporter::ExportError>(())
/// ```
#[macro_export]
macro_rules! exporter_builder {
    () => {
        $crate::ExporterBuilder::new()
            .package(
                ::core::env!("CARGO_PKG_NAME"),
                ::core::env!("CARGO_PKG_VERSION"),
            )
            .commit_and_branch(
                ::core::option_env!("GIT_COMMIT").unwrap_or(""),
                ::core::option_env!("GIT_BRANCH").unwrap_or(""),
            )
    };
}

/// What macro expansions use. Not public API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::annotate::{
        err_debug, err_display, record_fields, ErrOf, ErrorText, FieldSet, FieldValue,
        InheritedDebug, InheritedDisplay, NoErr,
    };
    pub use crate::call::future::{Describe, Instrumented, NoDescribe, WithErr};
    pub use crate::call::guard::CallGuard;
    pub use crate::callsite::Callsite;
    pub use crate::config::is_enabled;
    pub use crate::outcome::{AnyOutcome, Classify, ResultOutcome};
}
