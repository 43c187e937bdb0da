//! `#[trace]` on free functions of every signature shape issue 2 lists.
//!
//! Each function compiles under `clippy::pedantic` without a warning (CI runs
//! clippy with `-D warnings`, so a lint caused by the expansion fails it),
//! returns what it would without the attribute, and is counted under its name.
//! Control flow (`?`, `!`, panics, recursion, handwritten futures) is in
//! `macro_control_flow.rs`, impl blocks in `macro_impl_blocks.rs`, name
//! resolution in `macro_hygiene.rs`.
#![warn(clippy::pedantic)]

use std::fmt::{Debug, Display};
use std::sync::atomic::{AtomicU32, Ordering};

use trace_runtime::trace;
use trace_suite::metrics::{capture, current_thread, ok, so_far};

#[trace]
#[must_use]
pub fn visibility_pub(a: u32, b: u32) -> u32 {
    a + b
}

#[trace]
pub(crate) fn visibility_crate() -> &'static str {
    "crate"
}

#[trace]
fn no_arguments() -> u32 {
    7
}

#[trace]
fn unit_return(hits: &AtomicU32) {
    hits.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn sync_functions_of_any_visibility_and_arity() {
    capture(|| {
        let hits = AtomicU32::new(0);
        assert_eq!(visibility_pub(2, 3), 5);
        assert_eq!(visibility_crate(), "crate");
        assert_eq!(no_arguments(), 7);
        unit_return(&hits);
        unit_return(&hits);
        assert_eq!(hits.load(Ordering::Relaxed), 2);
        assert_eq!(so_far().calls("visibility_pub"), ok(1));
        assert_eq!(so_far().calls("visibility_crate"), ok(1));
        assert_eq!(so_far().calls("no_arguments"), ok(1));
        assert_eq!(so_far().calls("unit_return"), ok(2));
    });
}

#[trace]
pub async fn async_pub(a: u32) -> u32 {
    tokio::task::yield_now().await;
    a * 2
}

#[trace]
pub(crate) async fn async_no_arguments() -> String {
    "async".to_owned()
}

#[trace]
async fn async_unit(hits: &AtomicU32) {
    tokio::task::yield_now().await;
    hits.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn async_functions_of_any_visibility_and_arity() {
    capture(|| {
        current_thread().block_on(async {
            let hits = AtomicU32::new(0);
            assert_eq!(async_pub(21).await, 42);
            assert_eq!(async_no_arguments().await, "async");
            async_unit(&hits).await;
            assert_eq!(hits.load(Ordering::Relaxed), 1);
            assert_eq!(so_far().calls("async_pub"), ok(1));
            assert_eq!(so_far().calls("async_no_arguments"), ok(1));
            assert_eq!(so_far().calls("async_unit"), ok(1));
        });
    });
}

#[trace]
fn generic_largest<T: PartialOrd + Copy, Tag>(items: &[T], tag: &mut Vec<Tag>) -> Option<T>
where
    Tag: Debug + Default,
{
    tag.push(Tag::default());
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[trace]
async fn generic_async<T, const N: usize>(items: [T; N]) -> String
where
    T: Display + Send,
{
    tokio::task::yield_now().await;
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[trace]
fn lifetimes_longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if b.len() > a.len() {
        b
    } else {
        a
    }
}

#[trace]
fn lifetimes_elided(text: &str) -> &str {
    text.split(' ').next().unwrap_or(text)
}

#[trace]
fn lifetimes_mut<'a>(a: &'a mut [u8], b: &'a mut [u8]) -> &'a mut u8 {
    if a.len() >= b.len() {
        &mut a[0]
    } else {
        &mut b[0]
    }
}

#[trace]
fn lifetimes_mut_elided(items: &mut Vec<u8>) -> &mut u8 {
    items.push(0);
    items.last_mut().unwrap_or_else(|| unreachable!())
}

#[trace]
async fn lifetimes_async<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    tokio::task::yield_now().await;
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[test]
fn generics_where_clauses_and_borrowed_returns() {
    capture(|| {
        current_thread().block_on(async {
            let mut tags: Vec<u8> = Vec::new();
            assert_eq!(generic_largest(&[3, 9, 4], &mut tags), Some(9));
            assert_eq!(generic_largest::<f64, _>(&[], &mut tags), None);
            assert_eq!(tags, [0, 0]);
            assert_eq!(generic_async([1, 2, 3]).await, "1,2,3");
            let (short, long) = (String::from("ab"), String::from("abc"));
            assert!(std::ptr::eq(
                lifetimes_longest(&short, &long),
                long.as_str()
            ));
            let sentence = String::from("first word");
            let word = lifetimes_elided(&sentence);
            assert_eq!((word, word.as_ptr()), ("first", sentence.as_ptr()));
            let (a, b) = (vec![1_u8], vec![2_u8, 3]);
            assert!(std::ptr::eq(lifetimes_async(&a, &b).await, b.as_slice()));
            let (mut a, mut b) = (vec![1_u8], vec![2_u8, 3]);
            *lifetimes_mut(&mut a, &mut b) = 9;
            *lifetimes_mut_elided(&mut a) = 8;
            assert_eq!((a, b), (vec![1, 8], vec![9, 3]));
            assert_eq!(so_far().calls("generic_largest"), ok(2));
            assert_eq!(so_far().calls("generic_async"), ok(1));
            assert_eq!(so_far().calls("lifetimes_longest"), ok(1));
            assert_eq!(so_far().calls("lifetimes_elided"), ok(1));
            assert_eq!(so_far().calls("lifetimes_async"), ok(1));
            assert_eq!(so_far().calls("lifetimes_mut"), ok(1));
            assert_eq!(so_far().calls("lifetimes_mut_elided"), ok(1));
        });
    });
}

#[trace]
fn impl_trait_argument(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[trace]
fn impl_trait_return(limit: u32) -> impl Iterator<Item = u32> + Clone {
    (0..limit).filter(|n| n % 2 == 0)
}

#[trace]
fn impl_trait_both(value: impl Display) -> impl Display {
    format!("<{value}>")
}

#[trace]
async fn impl_trait_async(items: impl IntoIterator<Item = u32> + Send) -> impl Fn(u32) -> u32 {
    tokio::task::yield_now().await;
    let total: u32 = items.into_iter().sum();
    move |x| x + total
}

#[trace]
fn unsizing_box(n: u32) -> Box<dyn Display> {
    if n == 0 {
        return Box::new("zero");
    }
    Box::new(n)
}

#[trace]
fn unsizing_closure(k: u32) -> Box<dyn Fn(u32) -> u32 + Send> {
    Box::new(move |x| x * k)
}

#[trace]
async fn unsizing_async(n: u32) -> Box<dyn Display + Send> {
    tokio::task::yield_now().await;
    if n == 0 {
        return Box::new("zero");
    }
    Box::new(n)
}

#[test]
fn impl_trait_and_unsizing_coercions() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(impl_trait_argument(vec![1, 2, 3]), 6);
            assert_eq!(impl_trait_argument([4]), 4);
            let evens = impl_trait_return(7);
            assert_eq!(evens.clone().collect::<Vec<_>>(), [0, 2, 4, 6]);
            assert_eq!(evens.count(), 4);
            assert_eq!(impl_trait_both(5).to_string(), "<5>");
            assert_eq!(impl_trait_async([1, 2]).await(10), 13);
            assert_eq!(unsizing_box(0).to_string(), "zero");
            assert_eq!(unsizing_box(8).to_string(), "8");
            assert_eq!(unsizing_closure(3)(4), 12);
            assert_eq!(unsizing_async(0).await.to_string(), "zero");
            assert_eq!(unsizing_async(9).await.to_string(), "9");
            assert_eq!(so_far().calls("impl_trait_argument"), ok(2));
            assert_eq!(so_far().calls("impl_trait_return"), ok(1));
            assert_eq!(so_far().calls("impl_trait_both"), ok(1));
            assert_eq!(so_far().calls("impl_trait_async"), ok(1));
            assert_eq!(so_far().calls("unsizing_box"), ok(2));
            assert_eq!(so_far().calls("unsizing_closure"), ok(1));
            assert_eq!(so_far().calls("unsizing_async"), ok(2));
        });
    });
}

struct Point {
    x: u32,
    y: u32,
}

#[trace]
fn destructured((a, b): (u32, u32), Point { x, y }: Point, mut acc: Vec<u32>, _: u8) -> Vec<u32> {
    acc.extend([a, b, x, y]);
    acc
}

#[trace]
async fn destructured_async([first, .., last]: [u32; 4], mut total: u32) -> u32 {
    total += first;
    tokio::task::yield_now().await;
    total += last;
    total
}

#[trace]
async fn mut_borrow_across_await(buf: &mut Vec<u32>, n: u32) -> usize {
    buf.push(n);
    tokio::task::yield_now().await;
    buf.push(n + 1);
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    buf.push(n + 2);
    buf.len()
}

#[test]
fn destructured_and_mut_parameters() {
    capture(|| {
        current_thread().block_on(async {
            let point = Point { x: 3, y: 4 };
            assert_eq!(destructured((1, 2), point, vec![0], 9), [0, 1, 2, 3, 4]);
            assert_eq!(destructured_async([1, 2, 3, 4], 10).await, 15);
            let mut buf = vec![0];
            let len = tokio::spawn(async move {
                let len = mut_borrow_across_await(&mut buf, 5).await;
                (len, buf)
            })
            .await
            .unwrap();
            assert_eq!(len, (4, vec![0, 5, 6, 7]));
            assert_eq!(so_far().calls("destructured"), ok(1));
            assert_eq!(so_far().calls("destructured_async"), ok(1));
            assert_eq!(so_far().calls("mut_borrow_across_await"), ok(1));
        });
    });
}

/// # Safety
/// `p` must point to a live `u32`.
#[trace]
unsafe fn unsafe_read(p: *const u32) -> u32 {
    unsafe { *p }
}

/// # Safety
/// `p` must point to a live `u32` for the whole call.
#[trace]
async unsafe fn unsafe_async_read(p: *const u32) -> u32 {
    tokio::task::yield_now().await;
    unsafe { *p }
}

#[trace]
extern "C" fn extern_c_add(a: i32, b: i32) -> i32 {
    a + b
}

#[test]
fn unsafe_and_extern_functions() {
    capture(|| {
        current_thread().block_on(async {
            let value = 41_u32;
            // SAFETY: `value` lives on this stack frame for both calls.
            assert_eq!(unsafe { unsafe_read(&raw const value) }, 41);
            // SAFETY: as above; the future is awaited before `value` goes away.
            assert_eq!(unsafe { unsafe_async_read(&raw const value) }.await, 41);
            // The ABI is kept: the function still coerces to an `extern "C"` pointer.
            let pointer: extern "C" fn(i32, i32) -> i32 = extern_c_add;
            assert_eq!(pointer(40, 2), 42);
            assert_eq!(so_far().calls("unsafe_read"), ok(1));
            assert_eq!(so_far().calls("unsafe_async_read"), ok(1));
            assert_eq!(so_far().calls("extern_c_add"), ok(1));
        });
    });
}

#[trace]
fn inner_attribute(big: u64) -> u32 {
    // Without this allow, `clippy::pedantic` flags the cast: the test
    // proves the inner attribute still covers the body after expansion.
    #![allow(clippy::cast_possible_truncation)]
    big as u32
}

#[trace]
async fn inner_attribute_async(big: u64) -> u32 {
    #![allow(clippy::cast_possible_truncation)]
    tokio::task::yield_now().await;
    big as u32
}

mod shadowing {
    /// A type named like the prelude's, glob-imported into bodies below.
    #[derive(Debug, PartialEq)]
    pub struct Result(pub u8);
    /// As above, for `Option`.
    #[derive(Debug, PartialEq)]
    pub struct Option(pub u8);
}

#[trace]
fn glob_shadow(n: u8) -> Result<u8, String> {
    use shadowing::*;
    let local = Result(n);
    let one = Option(1);
    Ok(local.0 + one.0)
}

#[trace]
async fn glob_shadow_async(n: u8) -> Option<u8> {
    use shadowing::*;
    tokio::task::yield_now().await;
    let local = Result(n);
    Some(local.0 + 2)
}

#[test]
fn inner_attributes_and_glob_imports_in_the_body() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(inner_attribute(u64::from(u32::MAX) + 2), 1);
            assert_eq!(inner_attribute_async(u64::from(u32::MAX) + 3).await, 2);
            assert_eq!(glob_shadow(1), Ok(2));
            assert_eq!(glob_shadow_async(1).await, Some(3));
            assert_eq!(so_far().calls("inner_attribute"), ok(1));
            assert_eq!(so_far().calls("inner_attribute_async"), ok(1));
            assert_eq!(so_far().calls("glob_shadow"), ok(1));
            assert_eq!(so_far().calls("glob_shadow_async"), ok(1));
        });
    });
}

// Attributes after `#[trace]` reach the compiler: were this `cfg` dropped,
// the two definitions below would clash.
#[trace]
#[cfg(not(test))]
fn kept_cfg() -> u8 {
    1
}

#[trace]
#[cfg(test)]
fn kept_cfg() -> u8 {
    2
}

/// `missing_docs` is denied here, so a doc comment dropped by the expansion
/// fails the build; `must_use_candidate` (pedantic) would fire without the
/// kept `#[must_use]`.
#[deny(missing_docs)]
pub mod documented {
    use trace_runtime::trace;

    /// Documented; the doc must survive the expansion.
    #[trace]
    #[must_use]
    pub fn kept_doc() -> u8 {
        3
    }

    /// As above, for an async function.
    #[trace]
    #[inline]
    pub async fn kept_doc_async() -> u8 {
        4
    }
}

#[trace]
#[track_caller]
fn kept_track_caller() -> u32 {
    std::panic::Location::caller().line()
}

// Under `#[track_caller]` the body runs in place (not in a closure): early
// exits and a diverging tail must still compile without warnings.
#[trace]
#[track_caller]
fn track_caller_early_exit(v: Option<u32>) -> Option<(u32, u32)> {
    let v = v?;
    if v == 0 {
        return Some((0, std::panic::Location::caller().line()));
    }
    Some((v, std::panic::Location::caller().line()))
}

#[trace]
#[track_caller]
fn track_caller_diverging(fail: bool) -> u32 {
    if !fail {
        return std::panic::Location::caller().line();
    }
    panic!("diverged")
}

#[trace]
#[cfg_attr(test, track_caller)]
fn track_caller_through_cfg_attr() -> u32 {
    std::panic::Location::caller().line()
}

#[test]
fn track_caller_sees_the_caller_through_early_exits() {
    capture(|| {
        let line = line!() + 1;
        let zero = track_caller_early_exit(Some(0));
        assert_eq!(zero, Some((0, line)), "early `return`");
        let line = line!() + 1;
        let five = track_caller_early_exit(Some(5));
        assert_eq!(five, Some((5, line)), "after `?`");
        assert_eq!(track_caller_early_exit(None), None);
        let line = line!() + 1;
        assert_eq!(track_caller_diverging(false), line);
        let line = line!() + 1;
        assert_eq!(track_caller_through_cfg_attr(), line);
        let payload = std::panic::catch_unwind(|| track_caller_diverging(true)).unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"diverged"));
        assert_eq!(so_far().calls("track_caller_early_exit"), ok(3));
        assert_eq!(so_far().calls("track_caller_through_cfg_attr"), ok(1));
        assert_eq!(
            so_far().calls("track_caller_diverging"),
            [("error".to_owned(), 1), ("ok".to_owned(), 1)]
        );
    });
}

#[test]
fn doc_comments_and_other_attributes_are_kept() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(kept_cfg(), 2);
            assert_eq!(documented::kept_doc(), 3);
            assert_eq!(documented::kept_doc_async().await, 4);
            let line = line!() + 1;
            let reported = kept_track_caller();
            assert_eq!(
                reported, line,
                "#[track_caller] must report the caller's line"
            );
            assert_eq!(so_far().calls("kept_cfg"), ok(1));
            assert_eq!(so_far().calls("kept_doc"), ok(1));
            assert_eq!(so_far().calls("kept_doc_async"), ok(1));
            assert_eq!(so_far().calls("kept_track_caller"), ok(1));
        });
    });
}

macro_rules! traced_constants {
    ($($name:ident => $value:expr),* $(,)?) => {
        $(
            #[trace]
            fn $name() -> u32 {
                $value
            }
        )*
    };
}

traced_constants!(from_macro_one => 1, from_macro_two => 2);

macro_rules! traced_async_with_attrs {
    ($(#[$meta:meta])* $name:ident($arg:ident: $ty:ty) -> $ret:ty $body:block) => {
        $(#[$meta])*
        async fn $name($arg: $ty) -> $ret $body
    };
}

traced_async_with_attrs! {
    #[trace(name = "from_macro_async")]
    generated_async(n: u32) -> u32 {
        tokio::task::yield_now().await;
        n + 1
    }
}

#[test]
fn functions_generated_by_macro_rules() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(from_macro_one() + from_macro_two(), 3);
            assert_eq!(generated_async(4).await, 5);
            assert_eq!(so_far().calls("from_macro_one"), ok(1));
            assert_eq!(so_far().calls("from_macro_two"), ok(1));
            assert_eq!(so_far().calls("from_macro_async"), ok(1));
        });
    });
}
