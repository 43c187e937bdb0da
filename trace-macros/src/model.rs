//! What kind of function is being traced, read off its signature.

use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

/// How a traced function's body is wrapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `async fn`: the body becomes an instrumented future awaited in place.
    Async,
    /// A plain function: the body runs in a closure so its result can be inspected.
    Sync,
    /// `-> !`: the body runs in place under a guard that records the panic.
    Never,
    /// `-> impl Future`: the body runs at call time; the future it returns is timed.
    FutureImpl,
    /// `-> Pin<Box<dyn Future>>` or `BoxFuture`: as `FutureImpl`, boxed again.
    FutureBoxed,
}

impl Kind {
    /// Classifies `sig`.
    pub fn of(sig: &Signature) -> Kind {
        if sig.asyncness.is_some() {
            return Kind::Async;
        }
        let ReturnType::Type(_, ty) = &sig.output else {
            return Kind::Sync;
        };
        match &**ty {
            Type::Never(_) => Kind::Never,
            Type::ImplTrait(imp) if bounds_name_future(imp.bounds.iter()) => Kind::FutureImpl,
            Type::Path(path) if is_boxed_future(path) => Kind::FutureBoxed,
            _ => Kind::Sync,
        }
    }
}

fn bounds_name_future<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> bool {
    bounds.any(|b| match b {
        TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Future"),
        _ => false,
    })
}

/// `Pin<Box<dyn Future<..> + ..>>`, `BoxFuture<..>` or `LocalBoxFuture<..>`.
fn is_boxed_future(path: &syn::TypePath) -> bool {
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
        return true;
    }
    if last.ident != "Pin" {
        return false;
    }
    let Some(Type::Path(boxed)) = single_type_arg(&last.arguments) else {
        return false;
    };
    let Some(box_seg) = boxed.path.segments.last() else {
        return false;
    };
    box_seg.ident == "Box"
        && matches!(
            single_type_arg(&box_seg.arguments),
            Some(Type::TraitObject(obj)) if bounds_name_future(obj.bounds.iter())
        )
}

fn single_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Whether the function carries `#[track_caller]`.
pub fn has_track_caller(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("track_caller"))
}

/// Whether `ty` mentions `impl Trait` anywhere, which cannot be written in a
/// closure's or a `let`'s type annotation.
pub fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::Kind;

    fn kind(src: &str) -> Kind {
        let f: syn::ItemFn = syn::parse_str(src).unwrap();
        Kind::of(&f.sig)
    }

    #[test]
    fn classifies_signatures() {
        assert_eq!(kind("async fn f() {}"), Kind::Async);
        assert_eq!(kind("fn f() -> u8 { 0 }"), Kind::Sync);
        assert_eq!(kind("fn f() -> ! { loop {} }"), Kind::Never);
        assert_eq!(
            kind("fn f() -> impl std::future::Future<Output = u8> { async { 0 } }"),
            Kind::FutureImpl
        );
        assert_eq!(
            kind("fn f<'a>() -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> { todo!() }"),
            Kind::FutureBoxed
        );
        assert_eq!(
            kind("fn f() -> BoxFuture<'static, u8> { todo!() }"),
            Kind::FutureBoxed
        );
        assert_eq!(kind("fn f() -> Pin<Box<u8>> { todo!() }"), Kind::Sync);
        assert_eq!(
            kind("fn f() -> impl Iterator<Item = u8> { None.into_iter() }"),
            Kind::Sync
        );
    }
}
