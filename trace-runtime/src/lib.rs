#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![warn(clippy::undocumented_unsafe_blocks)]
// The switched-off path must inline into every traced function; measured.
#![allow(clippy::inline_always)]

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
/// `objective = CONST` and `crate = path`, which every method inherits. The per-method
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
    pub use crate::call::future::Instrumented;
    pub use crate::call::guard::CallGuard;
    pub use crate::callsite::Callsite;
    pub use crate::config::is_enabled;
    pub use crate::outcome::{AnyOutcome, Classify, ResultOutcome};
}
