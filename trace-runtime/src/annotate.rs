//! What `#[trace(err)]` and `#[trace(fields(...))]` expand to: the error
//! text of a failed call and the chosen values, recorded on the call's node
//! only when the call has one of its own (instrumentation on, trees
//! collected, someone listening, the call below the node cap). Otherwise
//! nothing is evaluated, formatted or allocated.
//!
//! Not public API: reached by expansions through `__private`.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::callsite::Callsite;
use crate::frame;
use crate::tree::extra::{Bounded, NodeExtra};
use crate::tree::{MAX_ERROR_BYTES, MAX_FIELD_BYTES};

/// The text of a failed call's error, written by the expansion of `err`.
#[derive(Default)]
pub struct ErrorText(Option<Box<str>>);

impl ErrorText {
    pub(crate) fn take(self) -> Option<Box<str>> {
        self.0
    }
}

/// A `Result` whose `Err` can be recorded with `Display` (`#[trace(err)]`).
#[diagnostic::on_unimplemented(
    message = "`#[trace(err)]` records the `Display` of the `Err` a function returns: `{Self}` is not a `Result` whose error implements `Display`",
    label = "the function's return type",
    note = "use `err(Debug)` for an error type without `Display`; leave `err` out for a function that does not return a `Result`"
)]
pub trait ErrDisplay {
    /// Writes the error, if `self` is one.
    fn write_err(&self, out: &mut ErrorText);
}

impl<T, E: fmt::Display> ErrDisplay for Result<T, E> {
    fn write_err(&self, out: &mut ErrorText) {
        if let Err(err) = self {
            out.0 = Some(Bounded::display(MAX_ERROR_BYTES, err));
        }
    }
}

/// A `Result` whose `Err` can be recorded with `Debug` (`#[trace(err(Debug))]`).
#[diagnostic::on_unimplemented(
    message = "`#[trace(err(Debug))]` records the `Debug` of the `Err` a function returns: `{Self}` is not a `Result` whose error implements `Debug`",
    label = "the function's return type",
    note = "leave `err` out for a function that does not return a `Result`"
)]
pub trait ErrDebug {
    /// Writes the error, if `self` is one.
    fn write_err(&self, out: &mut ErrorText);
}

impl<T, E: fmt::Debug> ErrDebug for Result<T, E> {
    fn write_err(&self, out: &mut ErrorText) {
        if let Err(err) = self {
            out.0 = Some(Bounded::debug(MAX_ERROR_BYTES, err));
        }
    }
}

/// `err` written on the function: its return type must fit.
#[inline]
pub fn err_display<R: ErrDisplay>(result: &R, out: &mut ErrorText) {
    result.write_err(out);
}

/// `err(Debug)` written on the function: its return type must fit.
#[inline]
pub fn err_debug<R: ErrDebug>(result: &R, out: &mut ErrorText) {
    result.write_err(out);
}

/// `err` inherited from `#[instrument_all(err)]`: methods returning a
/// `Result` whose error has `Display` (with `err(Debug)`: `Debug`) record
/// it, the others nothing. Method resolution picks [`InheritedDisplay`] or
/// [`InheritedDebug`] when it applies and falls back to [`NoErr`] (through
/// one more reference) otherwise, after type checking, so it works through
/// aliases such as `io::Result<T>`.
pub struct ErrOf<'a, T: ?Sized>(pub &'a T);

/// Chosen for a `Result` whose error has `Display`.
pub trait InheritedDisplay {
    /// Writes the `Display` of the error.
    fn err_display(&self, out: &mut ErrorText);
}

impl<T, E: fmt::Display> InheritedDisplay for ErrOf<'_, Result<T, E>> {
    fn err_display(&self, out: &mut ErrorText) {
        ErrDisplay::write_err(self.0, out);
    }
}

/// Chosen for a `Result` whose error has `Debug`.
pub trait InheritedDebug {
    /// Writes the `Debug` of the error.
    fn err_debug(&self, out: &mut ErrorText);
}

impl<T, E: fmt::Debug> InheritedDebug for ErrOf<'_, Result<T, E>> {
    fn err_debug(&self, out: &mut ErrorText) {
        ErrDebug::write_err(self.0, out);
    }
}

/// The fallback: nothing to record.
pub trait NoErr {
    /// Records nothing.
    fn err_display(&self, _out: &mut ErrorText) {}
    /// Records nothing.
    fn err_debug(&self, _out: &mut ErrorText) {}
}

impl<T: ?Sized> NoErr for &ErrOf<'_, T> {}

/// The values of one call's `fields(...)`, in the attribute's order.
pub struct FieldSet(Vec<(&'static str, Box<str>)>);

impl FieldSet {
    /// `name = value`: a number, `bool`, `char` or string, as it reads.
    pub fn value<T: FieldValue + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.0
            .push((name, Bounded::display(MAX_FIELD_BYTES, &AsValue(value))));
    }

    /// `name = %value`: its `Display`.
    pub fn display<T: fmt::Display + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.0
            .push((name, Bounded::display(MAX_FIELD_BYTES, value)));
    }

    /// `name = ?value`: its `Debug`.
    pub fn debug<T: fmt::Debug + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.0.push((name, Bounded::debug(MAX_FIELD_BYTES, value)));
    }
}

/// A value `fields(name = value)` records as it is: numbers, `bool`,
/// `char` and strings (and references and smart pointers to them).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded as a field as it is",
    label = "record it with `%` (its `Display`) or `?` (its `Debug`): `name = %value`",
    note = "`fields(name = value)` takes numbers, `bool`, `char` and strings"
)]
pub trait FieldValue {
    /// Writes the value's text.
    ///
    /// # Errors
    /// When the formatter does.
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A [`FieldValue`] as `Display`.
struct AsValue<'a, T: ?Sized>(&'a T);

impl<T: FieldValue + ?Sized> fmt::Display for AsValue<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_value(f)
    }
}

macro_rules! field_values {
    ($($ty:ty),*) => {$(
        impl FieldValue for $ty {
            fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}

field_values!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char, str,
    String
);

impl FieldValue for Cow<'_, str> {
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

macro_rules! field_value_pointers {
    ($($ptr:ident),*) => {$(
        impl<T: FieldValue + ?Sized> FieldValue for $ptr<T> {
            fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt_value(f)
            }
        }
    )*};
}

field_value_pointers!(Box, Arc, Rc);

impl<T: FieldValue + ?Sized> FieldValue for &T {
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_value(f)
    }
}

impl<T: FieldValue + ?Sized> FieldValue for &mut T {
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_value(f)
    }
}

/// Evaluates `record` into a new field set, with room for `count` values.
pub(crate) fn evaluate(count: usize, record: impl FnOnce(&mut FieldSet)) -> FieldSet {
    let mut fields = FieldSet(Vec::with_capacity(count));
    record(&mut fields);
    fields
}

/// Moves `fields` into a node's annotations.
pub(crate) fn store(fields: FieldSet) -> impl FnMut(&mut NodeExtra) {
    let mut fields = Some(fields.0);
    move |extra: &mut NodeExtra| {
        if let Some(fields) = fields.take() {
            extra.fields = fields;
        }
    }
}

/// Moves an error text into a node's annotations.
pub(crate) fn store_error(text: Box<str>) -> impl FnMut(&mut NodeExtra) {
    let mut text = Some(text);
    move |extra: &mut NodeExtra| {
        if let Some(text) = text.take() {
            extra.error = Some(text);
        }
    }
}

/// Records the `count` fields `record` writes on the node of the current
/// call of `site`, an `async fn` whose body has just started (its frame is
/// current), if it has a node; otherwise `record` does not run.
#[inline]
pub fn record_fields(site: &'static Callsite, count: usize, record: impl FnOnce(&mut FieldSet)) {
    frame::with_current(|current, tree| {
        let Some(tree) = tree else {
            return;
        };
        if current.node.is_kept() && current.site.is_some_and(|s| std::ptr::eq(s, site)) {
            let fields = evaluate(count, record);
            tree.annotate(current.node, store(fields));
        }
    });
}
