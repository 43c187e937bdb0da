//! `#[instrument_all]`: applies the `#[trace]` expansion to every method of an
//! `impl` block, labelled `Type::method`.
//!
//! `const fn`s are left untouched (an explicit `#[trace]` on one is an error);
//! a method opts out with `#[trace(skip)]` and overrides options with its own
//! `#[trace(...)]`, which is consumed here.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, ImplItemFn, ItemImpl, Type};

use crate::args::{Site, TraceArgs};
use crate::expand::{check_options, instrument_body, Target};
use crate::item::check_traceable;
use crate::model::has_track_caller;

/// Expands `#[instrument_all(attr)] item`.
///
/// Once `item` is known to be an `impl` block, a mistake (in the block's or
/// a method's options) gives its one error followed by the block with the
/// methods' `#[trace(...)]` attributes removed: left in place, they would
/// add "cannot find attribute `trace`" errors where `trace` is not imported.
pub fn expand_impl(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let Ok(mut imp) = syn::parse2::<ItemImpl>(item.clone()) else {
        // The block's options are checked first, as for an `impl`.
        TraceArgs::parse(attr, Site::ImplBlock)?;
        let span =
            syn::parse2::<syn::Item>(item).map_or_else(|e| e.span(), |it| first_token_span(&it));
        return Err(syn::Error::new(
            span,
            "#[instrument_all] goes on `impl` blocks; use #[trace] on a single function",
        ));
    };
    let mut plain = imp.clone();
    match instrument_methods(attr, &mut imp) {
        Ok(()) => Ok(quote!(#imp)),
        Err(err) => {
            for method in methods(&mut plain) {
                method.attrs.retain(|attr| !is_trace_attr(attr));
            }
            Ok(crate::fallback::error_with_item(&err, quote!(#plain)))
        }
    }
}

/// Instruments every method of `imp` in place, as its options say.
fn instrument_methods(attr: TokenStream, imp: &mut ItemImpl) -> syn::Result<()> {
    let outer = TraceArgs::parse(attr, Site::ImplBlock)?;
    let type_name = type_label(&imp.self_ty);
    for method in methods(imp) {
        let own = take_trace_attrs(&mut method.attrs)?;
        if own.explicit && own.args.skip.is_none() {
            check_traceable(&method.sig)?;
        }
        let args = own.args.or(&outer);
        if args.skip.is_some() || method.sig.constness.is_some() {
            continue;
        }
        let label = args.name.as_ref().map_or_else(
            || format!("{type_name}::{}", method.sig.ident),
            syn::LitStr::value,
        );
        let target = Target {
            sig: &method.sig,
            label,
            args: &args,
            track_caller: has_track_caller(&method.attrs),
        };
        check_options(&target)?;
        if cfg!(feature = "off") {
            continue;
        }
        method.block = instrument_body(&target, &method.block);
    }
    Ok(())
}

fn methods(imp: &mut ItemImpl) -> impl Iterator<Item = &mut ImplItemFn> {
    imp.items.iter_mut().filter_map(|item| match item {
        ImplItem::Fn(method) => Some(method),
        _ => None,
    })
}

/// `#[trace]`, `#[trace(...)]` or a path ending in `trace`.
fn is_trace_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "trace")
}

/// A method's own options, and whether it had a `#[trace]` attribute at all.
struct OwnArgs {
    args: TraceArgs,
    explicit: bool,
}

/// Removes every `#[trace]` / `#[...::trace]` attribute from a method and
/// returns its options; two such attributes on one method are an error.
fn take_trace_attrs(attrs: &mut Vec<syn::Attribute>) -> syn::Result<OwnArgs> {
    let mut found: Option<TraceArgs> = None;
    let mut result = Ok(());
    attrs.retain(|attr| {
        if !is_trace_attr(attr) || result.is_err() {
            return true;
        }
        if found.is_some() {
            result = Err(syn::Error::new_spanned(
                attr,
                "duplicate #[trace] attribute on this method; merge the options into one",
            ));
            return true;
        }
        match TraceArgs::parse_attr(attr) {
            Ok(args) => found = Some(args),
            Err(err) => result = Err(err),
        }
        false
    });
    result.map(|()| OwnArgs {
        explicit: found.is_some(),
        args: found.unwrap_or_default(),
    })
}

/// `Type` for `impl Type`, `impl<T> Type<T>`, `impl Trait for path::Type<T>`.
fn type_label(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| quote!(#ty).to_string(), |s| s.ident.to_string()),
        Type::Reference(r) => type_label(&r.elem),
        Type::Paren(p) => type_label(&p.elem),
        Type::Group(g) => type_label(&g.elem),
        other => quote!(#other).to_string().replace(' ', ""),
    }
}

fn first_token_span(item: &syn::Item) -> proc_macro2::Span {
    let tokens = quote!(#item);
    let span = tokens
        .into_iter()
        .find(|tt| !matches!(tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#'))
        .map(|tt| tt.span());
    span.unwrap_or_else(proc_macro2::Span::call_site)
}
