//! How a call ended, and how the expansion reads that off a return value.

/// How a traced call ended.
///
/// ```
/// use trace_runtime::Outcome;
/// assert_eq!(Outcome::Error.as_label(), "error");
/// assert_eq!(Outcome::Panic.as_label(), "error");
/// assert_eq!(Outcome::Cancelled.as_label(), "cancelled");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Returned normally; `Ok(_)`, `None` and any non-`Result` value.
    Ok,
    /// Returned `Err(_)`.
    Error,
    /// Panicked; the panic continued unwinding with its original payload.
    Panic,
    /// An async call whose future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// The `result` label value of `function_calls_total`: `ok`, `error`
    /// (for `Err` and panics) or `cancelled`.
    #[must_use]
    pub fn as_label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error | Outcome::Panic => "error",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Whether the call failed (`Err` or panic).
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Error | Outcome::Panic)
    }
}

/// Wraps a reference to a return value so method resolution can pick
/// [`ResultOutcome`] for `Result`s and fall back to [`AnyOutcome`] otherwise.
/// Works through type aliases (`io::Result<T>`) because it is resolved after
/// type checking, not by reading the written return type.
pub struct Classify<'a, T: ?Sized>(pub &'a T);

/// Chosen for `Classify<Result<T, E>>`: `Err` is an error.
pub trait ResultOutcome {
    /// The outcome of a `Result`.
    fn outcome(&self) -> Outcome;
}

impl<T, E> ResultOutcome for Classify<'_, Result<T, E>> {
    #[inline]
    fn outcome(&self) -> Outcome {
        if self.0.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error
        }
    }
}

/// The fallback for every other type: the call succeeded.
pub trait AnyOutcome {
    /// Always [`Outcome::Ok`].
    fn outcome(&self) -> Outcome;
}

impl<T: ?Sized> AnyOutcome for &Classify<'_, T> {
    #[inline]
    fn outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::{AnyOutcome as _, Classify, Outcome, ResultOutcome as _};

    #[test]
    // The borrow selects the fallback impl for non-`Result` types, as in the expansion.
    #[allow(clippy::needless_borrow)]
    fn results_are_classified_through_aliases() {
        let ok: std::io::Result<u8> = Ok(1);
        let err: std::io::Result<u8> = Err(std::io::Error::other("x"));
        assert_eq!((&Classify(&ok)).outcome(), Outcome::Ok);
        assert_eq!((&Classify(&err)).outcome(), Outcome::Error);
        assert_eq!((&Classify(&None::<u8>)).outcome(), Outcome::Ok);
        assert_eq!((&Classify(&5_u32)).outcome(), Outcome::Ok);
    }
}
