//! `fields(...)`: values recorded on a call's node, parsed, checked against
//! the function's arguments, and expanded to a closure the runtime runs only
//! when the call has a node.
//!
//! Each field is `name = value` (a number, `bool`, `char` or string),
//! `name = %value` (its `Display`), `name = ?value` (its `Debug`), or the
//! shorthand `arg`, `%arg`, `?arg` for an argument of the function.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, Pat, Signature, Token};

/// How a field's value is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As it is: `FieldValue` (numbers, `bool`, `char`, strings).
    Value,
    /// `%`: `Display`.
    Display,
    /// `?`: `Debug`.
    Debug,
}

/// What a field records.
#[derive(Clone)]
pub enum Source {
    /// `name = expr`.
    Expr(Box<Expr>),
    /// The shorthand `name`: the argument of that name.
    Argument,
}

/// One field, with the user's tokens.
#[derive(Clone)]
pub struct Field {
    pub name: Ident,
    pub style: Style,
    pub source: Source,
}

/// The fields of one `fields(...)` option.
#[derive(Clone)]
pub struct Fields {
    pub list: Vec<Field>,
    /// The `fields` keyword.
    pub span: Span,
}

fn parse_style(input: ParseStream) -> syn::Result<(Style, Option<Span>)> {
    if input.peek(Token![%]) {
        let sigil: Token![%] = input.parse()?;
        Ok((Style::Display, Some(sigil.span)))
    } else if input.peek(Token![?]) {
        let sigil: Token![?] = input.parse()?;
        Ok((Style::Debug, Some(sigil.span)))
    } else {
        Ok((Style::Value, None))
    }
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (style, sigil) = parse_style(input)?;
        let name = input.call(Ident::parse_any).map_err(|err| {
            syn::Error::new(
                err.span(),
                "expected a field: `name = value`, `name = %value`, `name = ?value`, or an argument's name",
            )
        })?;
        if !input.peek(Token![=]) {
            return Ok(Field {
                name,
                style,
                source: Source::Argument,
            });
        }
        if let Some(sigil) = sigil {
            return Err(syn::Error::new(
                sigil,
                "put `%` or `?` after the `=`: `name = %value`",
            ));
        }
        input.parse::<Token![=]>()?;
        let (style, _) = parse_style(input)?;
        let expr: Expr = input.parse()?;
        Ok(Field {
            name,
            style,
            source: Source::Expr(Box::new(expr)),
        })
    }
}

impl Fields {
    /// Parses the parenthesised list after `fields`; duplicate names are an
    /// error at the second one.
    pub fn parse(input: ParseStream, span: Span) -> syn::Result<Fields> {
        let content;
        syn::parenthesized!(content in input);
        let list = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;
        let list: Vec<Field> = list.into_iter().collect();
        for (i, field) in list.iter().enumerate() {
            if list[..i].iter().any(|f| f.name == field.name) {
                return Err(syn::Error::new_spanned(
                    &field.name,
                    format!(
                        "duplicate field `{}`: each field may be given once",
                        field.name
                    ),
                ));
            }
        }
        Ok(Fields { list, span })
    }

    /// Every shorthand names an argument of `sig`.
    pub fn check(&self, sig: &Signature) -> syn::Result<()> {
        let arguments = argument_names(sig);
        for field in &self.list {
            if matches!(field.source, Source::Argument) && !arguments.contains(&field.name) {
                return Err(syn::Error::new_spanned(
                    &field.name,
                    format!(
                        "`{name}` is not an argument of `{function}`: name one of its arguments, \
                         or write `{name} = <expression>`",
                        name = field.name,
                        function = sig.ident
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `|__trace_fields| { __trace_fields.value("name", &value); ... }`:
    /// each value borrowed, each call spanned at the user's value so a
    /// value of the wrong kind is an error there.
    pub fn recorder(&self) -> TokenStream {
        let records = self.list.iter().map(|field| {
            let name = field.name.unraw().to_string();
            let value = match &field.source {
                Source::Expr(expr) => expr.to_token_stream(),
                Source::Argument => field.name.to_token_stream(),
            };
            let span = value.span();
            // An invisible group keeps the value's precedence under `&`
            // without parentheses a lint could flag.
            let value = Group::new(Delimiter::None, value);
            let method = match field.style {
                Style::Value => quote_spanned!(span=> value),
                Style::Display => quote_spanned!(span=> display),
                Style::Debug => quote_spanned!(span=> debug),
            };
            quote_spanned!(span=> __trace_fields.#method(#name, &#value);)
        });
        quote!(|__trace_fields| { #(#records)* })
    }

    /// How many values the recorder writes.
    pub fn count(&self) -> usize {
        self.list.len()
    }
}

/// The names a shorthand may use: `self` and the identifier arguments.
fn argument_names(sig: &Signature) -> Vec<Ident> {
    sig.inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Receiver(receiver) => Some(Ident::new("self", receiver.self_token.span)),
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) => Some(pat.ident.clone()),
                _ => None,
            },
        })
        .collect()
}
