//! `#[trace]` on a single item: accepts functions with a body, rejects the rest
//! with one error pointing at the offending token.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;

use crate::args::{Site, TraceArgs};
use crate::expand::{check_options, instrument_body, Target};
use crate::model::has_track_caller;

const ONLY_FUNCTIONS: &str = "#[trace] can only be applied to functions and methods";

/// Expands `#[trace(attr)] item`.
pub fn expand_trace(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = TraceArgs::parse(attr, Site::Trace)?;
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(parsed) => parsed,
        Err(err) => return Err(not_a_function(&item, err)),
    };
    let mut func = match parsed {
        syn::Item::Fn(func) => func,
        syn::Item::Impl(imp) => {
            return Err(syn::Error::new_spanned(
                imp.impl_token,
                "#[trace] goes on functions; to trace every method of an impl block use #[instrument_all]",
            ))
        }
        syn::Item::Verbatim(tokens) => {
            let err = syn::Error::new_spanned(&tokens, ONLY_FUNCTIONS);
            return Err(not_a_function(&tokens, err));
        }
        other => {
            return Err(syn::Error::new(
                item_keyword_span(&other),
                ONLY_FUNCTIONS,
            ))
        }
    };
    check_traceable(&func.sig)?;
    if args.skip.is_some() {
        return Ok(quote::quote!(#func));
    }
    let target = Target {
        label: args
            .name
            .as_ref()
            .map_or_else(|| func.sig.ident.to_string(), syn::LitStr::value),
        sig: &func.sig,
        args: &args,
        track_caller: has_track_caller(&func.attrs),
    };
    // Checked under `off` too, so a build with it accepts no more.
    check_options(&target)?;
    if cfg!(feature = "off") {
        return Ok(quote::quote!(#func));
    }
    let block = instrument_body(&target, &func.block);
    *func.block = block;
    Ok(quote::quote!(#func))
}

/// Rejects signatures the expansion cannot time: `const fn`.
pub fn check_traceable(sig: &syn::Signature) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[trace] cannot instrument a `const fn`: timing and metrics run at run time; remove `const` or the attribute",
        ));
    }
    Ok(())
}

/// A function without a body (a trait method declaration) or something that
/// is not an item at all.
fn not_a_function(tokens: &TokenStream, fallback: syn::Error) -> syn::Error {
    if let Ok(method) = syn::parse2::<syn::TraitItemFn>(tokens.clone()) {
        if method.default.is_none() {
            return syn::Error::new_spanned(
                method.semi_token,
                "#[trace] needs a function body: put it on the method in each `impl`, or give this trait method a default body",
            );
        }
    }
    if let Ok(method) = syn::parse2::<syn::ForeignItemFn>(tokens.clone()) {
        return syn::Error::new_spanned(
            method.semi_token,
            "#[trace] needs a function body; foreign functions cannot be traced",
        );
    }
    fallback
}

fn item_keyword_span(item: &syn::Item) -> proc_macro2::Span {
    use syn::Item;
    match item {
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Union(u) => u.union_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Mod(m) => m.mod_token.span,
        Item::Static(s) => s.static_token.span,
        Item::Const(c) => c.const_token.span,
        Item::Type(t) => t.type_token.span,
        Item::Use(u) => u.use_token.span,
        Item::Macro(m) => m.mac.path.span(),
        other => other.span(),
    }
}
