//! Name resolution in expansions: a user's `mod trace_runtime`, prelude
//! names (`Option`, `Result`, `Some`, `Ok`, `Box`, ...) shadowed in the
//! user's scope, the `crate = path` escape hatch for re-exports, and
//! `#[trace_runtime::trace]` next to `tracing::trace!`.
#![warn(clippy::pedantic)]

use trace_suite::metrics::{capture, current_thread, ok, so_far};

/// Everything the expansion must not pick up from the user's scope.
mod shadowed {
    use ::trace_runtime::{instrument_all, trace};

    /// A user module named like the runtime crate.
    #[allow(dead_code)]
    mod trace_runtime {
        pub mod __private {}
    }
    /// User modules named like `core` and `std`.
    #[allow(dead_code)]
    mod core {}
    #[allow(dead_code)]
    mod std {}

    #[derive(Debug, PartialEq)]
    pub struct Option;
    #[derive(Debug, PartialEq)]
    pub struct Result;
    #[allow(dead_code)]
    pub struct Some;
    #[allow(dead_code)]
    pub struct None;
    #[allow(dead_code)]
    pub struct Ok;
    #[allow(dead_code)]
    pub struct Err;
    #[allow(dead_code)]
    pub struct Box;
    #[allow(dead_code)]
    pub struct Pin;
    #[allow(dead_code)]
    pub trait Future {}
    #[allow(dead_code)]
    pub trait FnOnce {}
    #[allow(dead_code)]
    pub trait Drop {}

    type Real<T, E> = ::core::result::Result<T, E>;

    #[trace]
    pub fn hygiene_sync(fail: bool) -> Real<Option, Result> {
        if fail {
            ::core::result::Result::Err(Result)
        } else {
            ::core::result::Result::Ok(Option)
        }
    }

    #[trace]
    pub async fn hygiene_async(fail: bool) -> Real<Option, Result> {
        ::tokio::task::yield_now().await;
        hygiene_sync(fail)
    }

    #[trace]
    pub fn hygiene_boxed(
        n: u32,
    ) -> ::std::pin::Pin<::std::boxed::Box<dyn ::std::future::Future<Output = u32> + Send>> {
        ::std::boxed::Box::pin(async move { n })
    }

    #[trace]
    pub fn hygiene_never() -> ! {
        ::std::panic::panic_any(Option)
    }

    pub struct Shadowed(pub u8);

    #[instrument_all]
    impl Shadowed {
        pub fn method(&self, fail: bool) -> Real<u8, Result> {
            if fail {
                ::core::result::Result::Err(Result)
            } else {
                ::core::result::Result::Ok(self.0)
            }
        }
    }
}

#[test]
fn user_items_named_like_runtime_and_prelude_items() {
    capture(|| {
        current_thread().block_on(async {
            use shadowed::{Option, Result};
            assert_eq!(shadowed::hygiene_sync(false), Ok(Option));
            assert_eq!(shadowed::hygiene_sync(true), Err(Result));
            assert_eq!(shadowed::hygiene_async(true).await, Err(Result));
            assert_eq!(shadowed::hygiene_boxed(3).await, 3);
            let payload = std::panic::catch_unwind(|| shadowed::hygiene_never()).unwrap_err();
            assert_eq!(payload.downcast_ref::<Option>(), Some(&Option));
            assert_eq!(shadowed::Shadowed(1).method(true), Err(Result));
            // Two direct calls and one through `hygiene_async`.
            assert_eq!(
                so_far().calls("hygiene_sync"),
                [("error".to_owned(), 2), ("ok".to_owned(), 1)]
            );
            assert_eq!(so_far().calls("hygiene_async"), [("error".to_owned(), 1)]);
            assert_eq!(so_far().calls("hygiene_boxed"), ok(1));
            assert_eq!(so_far().calls("hygiene_never"), [("error".to_owned(), 1)]);
            assert_eq!(
                so_far().calls("Shadowed::method"),
                [("error".to_owned(), 1)]
            );
        });
    });
}

/// A facade that re-exports the runtime under another name, as a framework
/// built on `trace-runtime` would.
pub mod facade {
    pub use ::trace_runtime as instrumentation;
}

mod through_facade {
    use crate::facade::instrumentation;

    #[instrumentation::trace(crate = crate::facade::instrumentation)]
    pub fn facade_sync(n: u32) -> u32 {
        n + 1
    }

    #[instrumentation::trace(crate = crate::facade::instrumentation, name = "facade_renamed")]
    pub async fn facade_async(n: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        n.checked_sub(1).ok_or_else(|| "underflow".to_owned())
    }

    pub struct FacadeService(pub u32);

    #[instrumentation::instrument_all(crate = crate::facade::instrumentation)]
    impl FacadeService {
        pub fn call(&self) -> u32 {
            facade_sync(self.0)
        }
    }
}

#[test]
fn crate_path_escape_hatch_for_re_exports() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(through_facade::facade_sync(1), 2);
            assert_eq!(through_facade::facade_async(1).await, Ok(0));
            assert_eq!(
                through_facade::facade_async(0).await,
                Err("underflow".to_owned())
            );
            assert_eq!(through_facade::FacadeService(1).call(), 2);
            assert_eq!(so_far().calls("facade_sync"), ok(2));
            assert_eq!(
                so_far().calls("facade_renamed"),
                [("error".to_owned(), 1), ("ok".to_owned(), 1)]
            );
            assert_eq!(so_far().calls("FacadeService::call"), ok(1));
        });
    });
}

mod with_tracing {
    // `tracing::trace` is imported here, so the attribute is written with
    // its path, as the README advises.
    use tracing::trace;

    #[trace_runtime::trace]
    pub fn alongside_tracing(n: u32) -> u32 {
        trace!(n, "traced and logged");
        n * 3
    }
}

#[test]
fn path_attribute_alongside_tracing_trace() {
    capture(|| {
        assert_eq!(with_tracing::alongside_tracing(2), 6);
        assert_eq!(so_far().calls("alongside_tracing"), ok(1));
    });
}
