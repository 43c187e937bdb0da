//! Procedural macros behind [`trace-runtime`](https://docs.rs/trace-runtime).
//!
//! Do not depend on this crate directly: `trace-runtime` re-exports
//! `trace` and `instrument_all` and documents them. The crate is
//! split by phase: `args` parses attribute options (`fields` those of
//! `fields(...)`), `model` classifies the
//! annotated function, `expand` generates code, `impl_block` applies it to
//! every method of an `impl`, and `fallback` turns an error into one
//! diagnostic plus the user's item unchanged.

mod args;
mod expand;
mod fallback;
mod fields;
mod impl_block;
mod item;
mod model;

use proc_macro::TokenStream;

/// Implementation of `trace_runtime::trace`; documented there.
#[proc_macro_attribute]
pub fn trace(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item.clone());
    item::expand_trace(attr.into(), item2.clone())
        .unwrap_or_else(|err| fallback::error_with_item(&err, item2))
        .into()
}

/// Implementation of `trace_runtime::instrument_all`; documented there.
#[proc_macro_attribute]
pub fn instrument_all(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item);
    impl_block::expand_impl(attr.into(), item2.clone())
        .unwrap_or_else(|err| fallback::error_with_item(&err, item2))
        .into()
}
