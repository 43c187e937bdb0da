//! `#[instrument_all]`: applies the `#[trace]` expansion to every method of an
//! `impl` block, labelled `Type::method`.
//!
//! `const fn`s are left untouched; a method opts out with `#[trace(skip)]` and
//! overrides options with its own `#[trace(...)]`, which is consumed here.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, ItemImpl, Type};

use crate::args::{Site, TraceArgs};
use crate::expand::{instrument_body, Target};
use crate::model::has_track_caller;

/// Expands `#[instrument_all(attr)] item`.
pub fn expand_impl(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let outer = TraceArgs::parse(attr, Site::ImplBlock)?;
    let mut imp: ItemImpl = match syn::parse2(item.clone()) {
        Ok(imp) => imp,
        Err(_) => {
            let span = syn::parse2::<syn::Item>(item)
                .map_or_else(|e| e.span(), |it| first_token_span(&it));
            return Err(syn::Error::new(
                span,
                "#[instrument_all] goes on `impl` blocks; use #[trace] on a single function",
            ));
        }
    };
    let type_name = type_label(&imp.self_ty);
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else { continue };
        let own = take_trace_attrs(&mut method.attrs)?;
        let args = own.or(&outer);
        if args.skip.is_some() || method.sig.constness.is_some() || cfg!(feature = "off") {
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
        method.block = instrument_body(&target, &method.block);
    }
    Ok(quote!(#imp))
}

/// Removes every `#[trace]` / `#[...::trace]` attribute from a method and
/// returns its options; two such attributes on one method are an error.
fn take_trace_attrs(attrs: &mut Vec<syn::Attribute>) -> syn::Result<TraceArgs> {
    let mut found: Option<TraceArgs> = None;
    let mut result = Ok(());
    attrs.retain(|attr| {
        let is_trace = attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "trace");
        if !is_trace || result.is_err() {
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
    result.map(|()| found.unwrap_or_default())
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
