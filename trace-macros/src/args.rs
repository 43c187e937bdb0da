//! Parsing of the options accepted by `#[trace(...)]` and `#[instrument_all(...)]`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Path};

use crate::fields::Fields;

/// Options of one `#[trace]` attribute, each with the span of the user's token.
#[derive(Default, Clone)]
pub struct TraceArgs {
    /// `name = "..."`: the function label, validated.
    pub name: Option<LitStr>,
    /// `skip`: leave the function uninstrumented.
    pub skip: Option<Span>,
    /// `crate = path`: where `trace_runtime` lives, for re-exports.
    pub krate: Option<Path>,
    /// `slow = "50ms"`: calls slower than this are marked slow, in nanoseconds.
    pub slow: Option<(u64, Span)>,
    /// `objective = PATH`: a `trace_runtime::objective::Objective` constant.
    pub objective: Option<Path>,
    /// `err` / `err(Debug)`: record the error text of failed calls.
    pub err: Option<ErrArg>,
    /// `fields(...)`: values recorded on the call's node.
    pub fields: Option<Fields>,
}

/// The `err` option.
#[derive(Clone, Copy)]
pub struct ErrArg {
    /// `err(Debug)` rather than `err` / `err(Display)`.
    pub debug: bool,
    /// The `err` keyword.
    pub span: Span,
    /// Given on `#[instrument_all]`, not on the method: methods whose
    /// return type does not fit record nothing instead of failing to build.
    pub inherited: bool,
}

/// Which attribute is being parsed; decides the options allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `#[trace(...)]`.
    Trace,
    /// `#[instrument_all(...)]`: no `name` (each method has its own) and no `skip`.
    ImplBlock,
}

const TRACE_OPTIONS: &str = "`name = \"...\"`, `skip`, `slow = \"50ms\"`, `objective = CONST`, \
     `err`, `err(Debug)`, `fields(...)` or `crate = path`";
const IMPL_OPTIONS: &str =
    "`slow = \"50ms\"`, `objective = CONST`, `err`, `err(Debug)` or `crate = path`";

impl TraceArgs {
    /// Parses the tokens inside the attribute's parentheses.
    pub fn parse(tokens: proc_macro2::TokenStream, site: Site) -> syn::Result<Self> {
        let mut args = TraceArgs::default();
        let parser = syn::meta::parser(|meta| args.parse_one(&meta, site));
        syn::parse::Parser::parse2(parser, tokens)?;
        Ok(args)
    }

    /// Parses the options of an attribute found on a method (`#[trace(...)]`).
    pub fn parse_attr(attr: &syn::Attribute) -> syn::Result<Self> {
        match &attr.meta {
            syn::Meta::Path(_) => Ok(TraceArgs::default()),
            syn::Meta::List(list) => Self::parse(list.tokens.clone(), Site::Trace),
            syn::Meta::NameValue(nv) => Err(syn::Error::new_spanned(
                nv.eq_token,
                "expected `#[trace]` or `#[trace(...)]`",
            )),
        }
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta, site: Site) -> syn::Result<()> {
        let path = &meta.path;
        if path.is_ident("name") && site == Site::Trace {
            let lit: LitStr = meta.value()?.parse()?;
            validate_name(&lit)?;
            set_once(&mut self.name, lit, meta)
        } else if path.is_ident("skip") && site == Site::Trace {
            set_once(&mut self.skip, path_span(path), meta)
        } else if path.is_ident("crate") {
            let krate: Path = meta.value()?.call(Path::parse_mod_style)?;
            set_once(&mut self.krate, krate, meta)
        } else if path.is_ident("objective") {
            let objective: Path = meta.value()?.parse()?;
            set_once(&mut self.objective, objective, meta)
        } else if path.is_ident("slow") {
            let lit: LitStr = meta.value()?.parse()?;
            let nanos = parse_duration(&lit)?;
            set_once(&mut self.slow, (nanos, lit.span()), meta)
        } else if path.is_ident("err") {
            let debug = parse_err_style(meta)?;
            let err = ErrArg {
                debug,
                span: path_span(path),
                inherited: false,
            };
            set_once(&mut self.err, err, meta)
        } else if path.is_ident("fields") && site == Site::Trace {
            let fields = Fields::parse(meta.input, path_span(path))?;
            set_once(&mut self.fields, fields, meta)
        } else if site == Site::ImplBlock && path.is_ident("fields") {
            Err(meta.error(
                "`fields` is not allowed on #[instrument_all]: each method has arguments of its \
                 own; put #[trace(fields(...))] on the method",
            ))
        } else if site == Site::ImplBlock && (path.is_ident("name") || path.is_ident("skip")) {
            Err(meta.error(if path.is_ident("name") {
                "`name` is not allowed on #[instrument_all]: each method is labelled `Type::method`; \
                 to rename one method, put #[trace(name = \"...\")] on it"
            } else {
                "`skip` is not allowed on #[instrument_all]: to skip one method, put #[trace(skip)] \
                 on it; to trace none, remove #[instrument_all]"
            }))
        } else {
            let shown = quote::quote!(#path).to_string().replace(' ', "");
            let expected = if site == Site::Trace {
                TRACE_OPTIONS
            } else {
                IMPL_OPTIONS
            };
            Err(meta.error(format!("unknown option `{shown}`; expected {expected}")))
        }
    }

    /// `self`'s options, with `outer` filling those `self` leaves unset.
    pub fn or(mut self, outer: &TraceArgs) -> TraceArgs {
        if self.krate.is_none() {
            self.krate.clone_from(&outer.krate);
        }
        if self.slow.is_none() {
            self.slow = outer.slow;
        }
        if self.objective.is_none() {
            self.objective.clone_from(&outer.objective);
        }
        if self.err.is_none() {
            self.err = outer.err.map(|err| ErrArg {
                inherited: true,
                ..err
            });
        }
        self
    }
}

/// `err` (false), `err(Display)` (false) or `err(Debug)` (true).
fn parse_err_style(meta: &ParseNestedMeta) -> syn::Result<bool> {
    if meta.input.peek(syn::Token![=]) {
        return Err(meta.error("expected `err`, `err(Display)` or `err(Debug)`"));
    }
    if !meta.input.peek(syn::token::Paren) {
        return Ok(false);
    }
    let mut debug = None;
    meta.parse_nested_meta(|inner| {
        let style = if inner.path.is_ident("Debug") {
            true
        } else if inner.path.is_ident("Display") {
            false
        } else {
            return Err(inner.error("expected `Display` or `Debug`: `err(Debug)`"));
        };
        if debug.is_some() {
            return Err(inner.error("give one of `Display` or `Debug`"));
        }
        debug = Some(style);
        Ok(())
    })?;
    Ok(debug.unwrap_or(false))
}

fn path_span(path: &Path) -> Span {
    path.segments
        .first()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta) -> syn::Result<()> {
    if slot.is_some() {
        let path = &meta.path;
        let shown = quote::quote!(#path).to_string();
        return Err(meta.error(format!(
            "duplicate option `{shown}`: each option may be given once; remove this one"
        )));
    }
    *slot = Some(value);
    Ok(())
}

/// A name becomes a Prometheus label value and a line of a call tree: it must be
/// non-empty, at most 128 bytes, and free of whitespace and control characters.
fn validate_name(lit: &LitStr) -> syn::Result<()> {
    let name = lit.value();
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.len() > 128 {
        Some("is longer than 128 bytes")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains whitespace or a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(syn::Error::new(
            lit.span(),
            format!(
                "invalid trace name {:?}: it {problem}; use a short identifier such as \"GameService::create_room\"",
                name
            ),
        )),
        None => Ok(()),
    }
}

/// Parses `"250us"`, `"50ms"`, `"2s"`, `"100ns"` into nanoseconds.
fn parse_duration(lit: &LitStr) -> syn::Result<u64> {
    let text = lit.value();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let scale: Option<u64> = match unit {
        "ns" => Some(1),
        "us" | "µs" => Some(1_000),
        "ms" => Some(1_000_000),
        "s" => Some(1_000_000_000),
        _ => None,
    };
    let value = digits.parse::<u64>().ok();
    match (value, scale) {
        (Some(v), Some(s)) if v > 0 => v.checked_mul(s).ok_or_else(|| {
            syn::Error::new(lit.span(), format!("slow threshold {text:?} is too large"))
        }),
        _ => Err(syn::Error::new(
            lit.span(),
            format!(
                "invalid slow threshold {text:?}: write a positive whole number followed by `ns`, `us`, `ms` or `s`, e.g. \"50ms\""
            ),
        )),
    }
}
