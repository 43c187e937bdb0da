//! Error output: one diagnostic, followed by the user's item exactly as written,
//! so a mistake in the attribute never cascades into errors in the item's body.

use proc_macro2::TokenStream;

/// The compile error for `err` followed by `item` unchanged.
pub fn error_with_item(err: &syn::Error, item: TokenStream) -> TokenStream {
    let mut out = err.to_compile_error();
    out.extend(item);
    out
}
