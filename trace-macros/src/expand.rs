//! Code generation: wraps one function body so every call is timed, counted and
//! placed in the current call tree.
//!
//! The user's statements are quoted exactly once and keep their spans. Generated
//! code names the runtime only through `<crate>::__private` and absolute `::core`
//! paths, so a user's `mod trace_runtime`, `Option` or `Result` cannot break it.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Block, ReturnType, Signature};

use crate::args::{ErrArg, TraceArgs};
use crate::model::{contains_impl_trait, Kind};

/// Everything the expansion needs besides the body.
pub struct Target<'a> {
    pub sig: &'a Signature,
    /// The function label: `name = "..."`, `Type::method`, or the function's name.
    pub label: String,
    pub args: &'a TraceArgs,
    /// The function carries `#[track_caller]`: its body must not move into a
    /// closure, where `Location::caller()` and panics of `unwrap()` would
    /// report the closure instead of the function's caller.
    pub track_caller: bool,
}

/// Rejects options the function's shape cannot honour, at the option: a
/// shorthand field that names no argument, `fields` on a function returning
/// a hand-written future (its node opens when the future is first polled,
/// after the arguments are gone), `err` on a function that never returns.
pub fn check_options(target: &Target) -> syn::Result<()> {
    let kind = Kind::of(target.sig);
    if let Some(fields) = &target.args.fields {
        fields.check(target.sig)?;
        if matches!(kind, Kind::FutureImpl | Kind::FutureBoxed) {
            return Err(syn::Error::new(
                fields.span,
                "`fields` is not supported on a function that returns a future it builds \
                 itself: make it an `async fn`, or trace the `async fn` it calls",
            ));
        }
    }
    if let Some(err) = &target.args.err {
        if kind == Kind::Never && !err.inherited {
            return Err(syn::Error::new(
                err.span,
                "`err` on a function that never returns: it has no `Err` to record; remove `err`",
            ));
        }
    }
    Ok(())
}

/// The new body for `target`, replacing `block`.
pub fn instrument_body(target: &Target, block: &Block) -> Block {
    let krate = runtime_path(target.args);
    let private = quote!(#krate::__private);
    let site = callsite(target, &private);
    let stmts = &block.stmts;
    let ret_span = match &target.sig.output {
        ReturnType::Default => target.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let outcome_of = |value: TokenStream| {
        quote! {{
            #[allow(unused_imports)]
            use #private::{ResultOutcome as _, AnyOutcome as _};
            (&#private::Classify(#value)).outcome()
        }}
    };
    let classify = {
        let outcome = outcome_of(quote!(__trace_ret));
        quote!(|__trace_ret| #outcome)
    };
    let err = target.args.err.as_ref();
    // `|__trace_ret, __trace_out| ...` for futures (the output borrowed).
    let describe_future = err.map(|err| {
        let write = describe(err, &private, quote!(__trace_ret), ret_span);
        quote!(|__trace_ret, __trace_out| #write)
    });
    let fields = target.args.fields.as_ref();
    let body = match Kind::of(target.sig) {
        Kind::Async => {
            let hint = return_hint(&target.sig.output, ret_span);
            let record = fields.map(|fields| {
                let count = fields.count();
                let recorder = fields.recorder();
                // The body's first poll runs as the call, its frame current.
                quote! {
                    if __trace_on {
                        #private::record_fields(&__TRACE_SITE, #count, #recorder);
                    }
                }
            });
            let start = match &describe_future {
                Some(describe) => quote! {
                    #private::Instrumented::enabled_err(&__TRACE_SITE, __trace_body, #classify, #describe)
                },
                None => quote! {
                    #private::Instrumented::enabled(&__TRACE_SITE, __trace_body, #classify)
                },
            };
            // The body runs at the outer future's first poll, the moment
            // the call would start, so the switch is read there: switched
            // off, the body is awaited bare, with no wrapper state to keep.
            // It is read before the body's future exists: a call between
            // building and moving that future would give it a drop flag.
            quote! {
                #site
                let __trace_on = #private::is_enabled();
                let __trace_body = async move {
                    #hint
                    #record
                    { #(#stmts)* }
                };
                if __trace_on {
                    #start.await
                } else {
                    __trace_body.await
                }
            }
        }
        Kind::Sync => {
            let sync_outcome = outcome_of(quote!(&__trace_ret));
            let run = run_body(target, stmts, quote!(__trace_ret));
            // A body run in place may leave early (`return`, `?`) without
            // finishing the guard, so the guard tells that from a panic.
            let enter = if target.track_caller {
                quote!(enter_in_place)
            } else {
                quote!(enter)
            };
            let record = record_sync(fields);
            let finish = match err {
                Some(err) => {
                    let write = describe(err, &private, quote!(&__trace_ret), ret_span);
                    quote!(__trace_call.finish_err(#sync_outcome, |__trace_out| #write);)
                }
                None => quote!(__trace_call.finish(#sync_outcome);),
            };
            quote! {
                #site
                let __trace_call = #private::CallGuard::#enter(&__TRACE_SITE);
                #record
                #run
                // Unreachable when the body diverges (ends in `loop`, `panic!`).
                #[allow(unreachable_code)]
                #finish
                __trace_ret
            }
        }
        Kind::Never => {
            let record = record_sync(fields);
            quote! {
                #site
                let __trace_call = #private::CallGuard::enter(&__TRACE_SITE);
                #record
                #(#stmts)*
            }
        }
        Kind::FutureImpl | Kind::FutureBoxed => {
            let run = run_body(target, stmts, quote!(__trace_future));
            let future = match &describe_future {
                Some(describe) => quote! {
                    #private::Instrumented::new_err(&__TRACE_SITE, __trace_future, #classify, #describe)
                },
                None => quote! {
                    #private::Instrumented::new(&__TRACE_SITE, __trace_future, #classify)
                },
            };
            let future = if Kind::of(target.sig) == Kind::FutureBoxed {
                quote!(::std::boxed::Box::pin(#future))
            } else {
                future
            };
            quote! {
                #site
                #run
                #future
            }
        }
    };
    let mut new_block: Block = syn::parse_quote_spanned!(block.brace_token.span.join()=> { #body });
    new_block.brace_token = block.brace_token;
    new_block
}

/// `__trace_call.fields(N, |__trace_fields| ...);` for a sync call, whose
/// guard knows whether the call has a node.
fn record_sync(fields: Option<&crate::fields::Fields>) -> Option<TokenStream> {
    fields.map(|fields| {
        let count = fields.count();
        let recorder = fields.recorder();
        quote!(__trace_call.fields(#count, #recorder);)
    })
}

/// Writes the error of `value` (a reference to the returned value) into
/// `__trace_out`. Given on the function, the return type must be a
/// `Result` with a `Display` (`Debug`) error, an error spanned at the
/// return type otherwise; inherited from `#[instrument_all]`, methods whose
/// return type does not fit record nothing.
fn describe(
    err: &ErrArg,
    private: &TokenStream,
    value: TokenStream,
    ret_span: Span,
) -> TokenStream {
    // At the return type: a type that does not fit is an error there.
    let value: TokenStream = value
        .into_iter()
        .map(|mut token| {
            token.set_span(ret_span);
            token
        })
        .collect();
    match (err.inherited, err.debug) {
        (false, false) => quote_spanned!(ret_span=> #private::err_display(#value, __trace_out)),
        (false, true) => quote_spanned!(ret_span=> #private::err_debug(#value, __trace_out)),
        (true, debug) => {
            let (chosen, method) = if debug {
                (quote!(InheritedDebug), quote!(err_debug))
            } else {
                (quote!(InheritedDisplay), quote!(err_display))
            };
            quote! {{
                #[allow(unused_imports)]
                use #private::{#chosen as _, NoErr as _};
                (&#private::ErrOf(#value)).#method(__trace_out)
            }}
        }
    }
}

/// `crate = path`, or `::trace_runtime`.
fn runtime_path(args: &TraceArgs) -> TokenStream {
    match &args.krate {
        Some(path) => quote!(#path),
        None => quote!(::trace_runtime),
    }
}

/// The per-call-site static: labels, slow threshold and cached metric handles.
fn callsite(target: &Target, private: &TokenStream) -> TokenStream {
    let label = &target.label;
    let slow = match target.args.slow {
        Some((nanos, _)) => quote!(::core::option::Option::Some(#nanos)),
        None => quote!(::core::option::Option::None),
    };
    // Spanned at the user's path: a path that is not an `Objective`
    // constant is an error there.
    let objective = target
        .args
        .objective
        .as_ref()
        .map(|path| quote_spanned!(path.span()=> .with_objective(&#path)));
    quote! {
        static __TRACE_SITE: #private::Callsite = #private::Callsite::new(
            #label,
            ::core::module_path!(),
            ::core::option_env!("CARGO_PKG_NAME"),
            #slow,
        )#objective;
    }
}

/// `let #binding = ...;` running the statements of a sync body (or of the
/// part of a handwritten-future function before its future).
///
/// Normally the body runs in a closure so an early `return` or `?` still
/// yields a value to classify. The closure is handed to a function taking
/// `FnOnce`, so it is inferred `FnOnce` and may return borrows of what it
/// captured (`fn get(&mut self) -> &mut T { &mut self.field }`); called in
/// place it would be `FnMut`, and such a borrow could not escape it.
///
/// Under `#[track_caller]` the body runs in place instead, so caller
/// locations stay exact; an early exit then ends the call through the
/// guard's drop and counts as `ok` (a panic still counts as an error).
fn run_body(target: &Target, stmts: &[syn::Stmt], binding: TokenStream) -> TokenStream {
    if target.track_caller {
        let annot = match declared_type(&target.sig.output) {
            Some(ty) => quote!(: #ty),
            None => TokenStream::new(),
        };
        quote! {
            #[allow(clippy::let_unit_value)]
            let #binding #annot = { #(#stmts)* };
        }
    } else {
        let annot = closure_annotation(&target.sig.output);
        quote! {
            let #binding = {
                #[inline]
                fn __trace_once<R>(body: impl ::core::ops::FnOnce() -> R) -> R {
                    body()
                }
                __trace_once(move || #annot { #(#stmts)* })
            };
        }
    }
}

/// `-> T` for the closure that runs a sync body, so `?`, `return` and unsizing
/// coercions see the declared type. Omitted when `T` mentions `impl Trait`.
fn closure_annotation(output: &ReturnType) -> TokenStream {
    match (output, declared_type(output)) {
        (ReturnType::Type(arrow, _), Some(ty)) => quote!(#arrow #ty),
        (ReturnType::Default, Some(ty)) => quote!(-> #ty),
        (_, None) => TokenStream::new(),
    }
}

/// The type a sync body evaluates to, when it can be written in a closure's
/// or a `let`'s annotation: `()` for no return type (so a diverging body,
/// `{ panic!() }`, is not inferred to be some other type), nothing when it
/// mentions `impl Trait`.
fn declared_type(output: &ReturnType) -> Option<TokenStream> {
    match output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => None,
        ReturnType::Type(_, ty) => Some(quote!(#ty)),
    }
}

/// Gives an async body's block the declared return type before the body is
/// checked, so `?` and `return` infer as in the original `async fn`. The type
/// is spanned at the user's return type so errors point there.
fn return_hint(output: &ReturnType, span: Span) -> TokenStream {
    let ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)) => {
            return TokenStream::new()
        }
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => quote!(_),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    quote_spanned! {span=>
        #[allow(
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __trace_hint: #ty = loop {};
            return __trace_hint;
        }
    }
}
