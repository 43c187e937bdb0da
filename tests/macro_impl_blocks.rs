//! `#[instrument_all]` on `impl` blocks: inherent and trait impls, generic
//! impls with `where` clauses, native `async fn` in traits, `#[async_trait]`
//! in both attribute orders, every receiver, `const fn`s left alone, and
//! per-method `#[trace(skip)]` / `#[trace(name = ...)]`.
//!
//! Methods are counted as `Type::method`; each test checks the return values
//! and that exactly the expected methods were counted.
#![warn(clippy::pedantic)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use trace_suite::metrics::{capture, current_thread, ok, so_far};
// `#[trace(...)]` on a method is consumed by `#[instrument_all]`: it needs
// no import.
use trace_runtime::instrument_all;

struct Counter {
    count: u32,
}

#[instrument_all]
impl Counter {
    /// An associated constant: not a method, kept as is.
    const STEP: u32 = 1;

    fn new(count: u32) -> Self {
        Self { count }
    }

    async fn open(count: u32) -> Self {
        tokio::task::yield_now().await;
        Self::new(count + Self::STEP)
    }

    fn get(&self) -> u32 {
        self.count
    }

    fn bump(&mut self) -> u32 {
        self.count += Self::STEP;
        self.count
    }

    fn into_count(self) -> u32 {
        self.count
    }

    fn doubled(mut self) -> Self {
        self.count *= 2;
        self
    }

    fn shared(self: Arc<Self>) -> u32 {
        self.count + u32::try_from(Arc::strong_count(&self)).unwrap_or(u32::MAX)
    }

    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.get_mut().count += 10;
        0
    }

    fn count_mut(&mut self) -> &mut u32 {
        &mut self.count
    }

    async fn count_mut_async(&mut self) -> &mut u32 {
        tokio::task::yield_now().await;
        &mut self.count
    }

    fn bump_later(&mut self) -> impl Future<Output = u32> + '_ {
        self.count += 1;
        async move {
            self.count += 1;
            self.count
        }
    }

    fn bump_boxed(&mut self) -> Pin<Box<dyn Future<Output = u32> + Send + '_>> {
        self.count += 1;
        Box::pin(async move {
            self.count += 1;
            self.count
        })
    }
}

#[test]
fn every_receiver_and_associated_functions_returning_self() {
    capture(|| {
        current_thread().block_on(async {
            let mut counter = Counter::new(1);
            assert_eq!(counter.get(), 1);
            assert_eq!(counter.bump(), 2);
            let mut pinned = Counter::new(0);
            assert_eq!(Pin::new(&mut pinned).pinned(), 0);
            assert_eq!(pinned.count, 10);
            // Borrows of the receiver returned directly, from an async body, and
            // held by a handwritten future.
            *pinned.count_mut() += 1;
            *pinned.count_mut_async().await += 1;
            let later = pinned.bump_later();
            assert_eq!(later.await, 14);
            assert_eq!(pinned.bump_boxed().await, 16);
            assert_eq!(counter.doubled().into_count(), 4);
            assert_eq!(Arc::new(Counter::new(5)).shared(), 6);
            assert_eq!(Counter::open(1).await.count, 2);
            for method in [
                "get",
                "bump",
                "into_count",
                "doubled",
                "shared",
                "pinned",
                "count_mut",
                "count_mut_async",
                "bump_later",
                "bump_boxed",
                "open",
            ] {
                assert_eq!(
                    so_far().calls(&format!("Counter::{method}")),
                    ok(1),
                    "{method}"
                );
            }
            assert_eq!(so_far().calls("Counter::new"), ok(4));
            assert_eq!(
                so_far().call_labels("Counter::new")[0]["module"],
                "macro_impl_blocks"
            );
        });
    });
}

struct Inventory {
    items: Vec<String>,
}

#[instrument_all]
impl Inventory {
    const fn capacity() -> usize {
        4
    }

    #[trace(skip)]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[trace(name = "inventory_add_override")]
    fn add(&mut self, item: &str) -> Result<usize, String> {
        if self.items.len() == Self::capacity() {
            return Err(format!("full: {item}"));
        }
        self.items.push(item.to_owned());
        Ok(self.len())
    }

    // The path form is recognised as well.
    #[trace_runtime::trace(name = "inventory_path_form")]
    fn first(&self) -> Option<&str> {
        self.items.first().map(String::as_str)
    }

    async fn restock(&mut self, items: &[&str]) -> usize {
        for item in items {
            tokio::task::yield_now().await;
            // `Self::` inside an async body.
            if Self::add(self, item).is_err() {
                break;
            }
        }
        Self::capacity() - self.len()
    }
}

/// `Inventory::capacity` is still a `const fn`: usable in constants and
/// array lengths.
const CAPACITY: usize = Inventory::capacity();

#[test]
fn const_fn_untouched_skip_and_name_override() {
    capture(|| {
        current_thread().block_on(async {
            let slots = [0_u8; Inventory::capacity()];
            assert_eq!((CAPACITY, slots.len()), (4, 4));
            let mut inventory = Inventory { items: Vec::new() };
            assert_eq!(inventory.first(), None);
            assert_eq!(inventory.add("a"), Ok(1));
            assert_eq!(inventory.restock(&["b", "c", "d", "e"]).await, 0);
            assert_eq!(inventory.len(), 4);
            assert_eq!(inventory.first(), Some("a"));
            assert_eq!(Inventory::capacity(), 4);
            // Called at run time too, yet not counted: `const fn` and `skip`.
            assert_eq!(so_far().calls("Inventory::capacity"), []);
            assert_eq!(so_far().calls("Inventory::len"), []);
            // One direct add and four from `restock`, the last one failing.
            assert_eq!(
                so_far().calls("inventory_add_override"),
                [("error".to_owned(), 1), ("ok".to_owned(), 4)]
            );
            assert_eq!(so_far().calls("Inventory::add"), []);
            assert_eq!(so_far().calls("inventory_path_form"), ok(2));
            assert_eq!(so_far().calls("Inventory::first"), []);
            assert_eq!(so_far().calls("Inventory::restock"), ok(1));
        });
    });
}

struct Celsius(f64);

#[instrument_all]
impl fmt::Display for Celsius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}°C", self.0)
    }
}

struct Countdown(u32);

#[instrument_all]
impl Iterator for Countdown {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let current = self.0.checked_sub(1)?;
        self.0 = current;
        Some(current)
    }
}

#[test]
fn trait_impls_with_associated_types_and_result_aliases() {
    capture(|| {
        assert_eq!(Celsius(21.46).to_string(), "21.5°C");
        assert_eq!(Countdown(3).collect::<Vec<_>>(), [2, 1, 0]);
        assert_eq!(so_far().calls("Celsius::fmt"), ok(1));
        // Three items, then the `None` that ends the loop: not an error.
        assert_eq!(so_far().calls("Countdown::next"), ok(4));
    });
}

struct Stack<T> {
    items: Vec<T>,
}

#[instrument_all]
impl<T> Stack<T>
where
    T: Clone + fmt::Debug,
{
    fn with(items: Vec<T>) -> Self {
        Self { items }
    }

    fn peek(&self) -> Option<T> {
        self.items.last().cloned()
    }

    fn map_all<U, F>(&self, f: F) -> Stack<U>
    where
        F: Fn(&T) -> U,
    {
        Stack {
            items: self.items.iter().map(f).collect(),
        }
    }

    async fn pop_later(&mut self) -> Option<T>
    where
        T: Send,
    {
        tokio::task::yield_now().await;
        self.items.pop()
    }
}

trait Describe {
    fn describe(&self) -> String;
}

struct Labelled<T>(T);

#[instrument_all]
impl<T> Describe for Labelled<T>
where
    T: fmt::Display + Send + Sync,
{
    fn describe(&self) -> String {
        format!("[{}]", self.0)
    }
}

#[test]
fn generic_impls_with_where_clauses() {
    capture(|| {
        current_thread().block_on(async {
            let mut stack = Stack::with(vec![1, 2]);
            assert_eq!(stack.peek(), Some(2));
            assert_eq!(stack.map_all(|n| n * 10).items, [10, 20]);
            let popped = tokio::spawn(async move { (stack.pop_later().await, stack.items) });
            assert_eq!(popped.await.unwrap(), (Some(2), vec![1]));
            assert_eq!(Labelled("x").describe(), "[x]");
            assert_eq!(Labelled(3).describe(), "[3]");
            assert_eq!(so_far().calls("Stack::with"), ok(1));
            assert_eq!(so_far().calls("Stack::peek"), ok(1));
            assert_eq!(so_far().calls("Stack::map_all"), ok(1));
            assert_eq!(so_far().calls("Stack::pop_later"), ok(1));
            assert_eq!(so_far().calls("Labelled::describe"), ok(2));
        });
    });
}

trait Repository {
    async fn load(&self, id: u32) -> Result<String, String>;
    fn load_send(&self, id: u32) -> impl Future<Output = u32> + Send;
    fn name(&self) -> &'static str {
        "repository"
    }
}

struct Native {
    prefix: &'static str,
}

#[instrument_all]
impl Repository for Native {
    async fn load(&self, id: u32) -> Result<String, String> {
        tokio::task::yield_now().await;
        if id == 0 {
            return Err(Self::missing());
        }
        Ok(format!("{}{id}", self.prefix))
    }

    async fn load_send(&self, id: u32) -> u32 {
        tokio::task::yield_now().await;
        id + u32::try_from(self.prefix.len()).unwrap_or(0)
    }
}

#[instrument_all]
impl Native {
    fn missing() -> String {
        "missing".to_owned()
    }
}

fn spawn_load<R: Repository + Send + Sync + 'static>(repo: Arc<R>) -> tokio::task::JoinHandle<u32> {
    tokio::spawn(async move { repo.load_send(1).await })
}

#[test]
fn native_async_fn_in_trait_impls() {
    capture(|| {
        current_thread().block_on(async {
            let native = Native { prefix: "n" };
            assert_eq!(native.load(7).await, Ok("n7".to_owned()));
            assert_eq!(native.load(0).await, Err("missing".to_owned()));
            assert_eq!(native.name(), "repository");
            // The trait demands a `Send` future; the traced method still gives one.
            assert_eq!(spawn_load(Arc::new(native)).await.unwrap(), 2);
            assert_eq!(
                so_far().calls("Native::load"),
                [("error".to_owned(), 1), ("ok".to_owned(), 1)]
            );
            assert_eq!(so_far().calls("Native::load_send"), ok(1));
            assert_eq!(so_far().calls("Native::missing"), ok(1));
            // A default method is not part of the impl block: not traced.
            assert_eq!(so_far().calls("Native::name"), []);
        });
    });
}

#[async_trait::async_trait]
trait Handler: Send + Sync {
    async fn handle(&self, input: u32) -> Result<u32, String>;
    async fn consume(self: Box<Self>) -> u32;
}

/// `#[instrument_all]` above `#[async_trait]`: sees the `async fn`s first.
struct TraceFirst {
    offset: u32,
}

#[instrument_all]
#[async_trait::async_trait]
impl Handler for TraceFirst {
    async fn handle(&self, input: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        Self::check(input)?;
        Ok(input + self.offset)
    }

    async fn consume(self: Box<Self>) -> u32 {
        self.offset
    }
}

/// `#[async_trait]` above `#[instrument_all]`: sees the boxed futures
/// `async_trait` produced.
struct TraceSecond {
    offset: u32,
}

#[async_trait::async_trait]
#[instrument_all]
impl Handler for TraceSecond {
    async fn handle(&self, input: u32) -> Result<u32, String> {
        tokio::task::yield_now().await;
        TraceFirst::check(input)?;
        Ok(input * self.offset)
    }

    #[trace(name = "trace_second_consume")]
    async fn consume(self: Box<Self>) -> u32 {
        Self::unboxed(*self)
    }
}

impl TraceFirst {
    fn check(input: u32) -> Result<(), String> {
        if input == 0 {
            Err("zero".to_owned())
        } else {
            Ok(())
        }
    }
}

impl TraceSecond {
    fn unboxed(self) -> u32 {
        self.offset
    }
}

#[test]
fn async_trait_impls_in_either_attribute_order() {
    capture(|| {
        current_thread().block_on(async {
            let handlers: Vec<Arc<dyn Handler>> = vec![
                Arc::new(TraceFirst { offset: 10 }),
                Arc::new(TraceSecond { offset: 3 }),
            ];
            let mut results = Vec::new();
            for handler in &handlers {
                for input in [0, 2] {
                    let handler = Arc::clone(handler);
                    results.push(
                        tokio::spawn(async move { handler.handle(input).await })
                            .await
                            .unwrap(),
                    );
                }
            }
            let zero = Err("zero".to_owned());
            assert_eq!(results, [zero.clone(), Ok(12), zero, Ok(6)]);
            assert_eq!(Box::new(TraceFirst { offset: 1 }).consume().await, 1);
            assert_eq!(Box::new(TraceSecond { offset: 2 }).consume().await, 2);
            let one_each = [("error".to_owned(), 1), ("ok".to_owned(), 1)];
            assert_eq!(so_far().calls("TraceFirst::handle"), one_each);
            assert_eq!(so_far().calls("TraceSecond::handle"), one_each);
            assert_eq!(so_far().calls("TraceFirst::consume"), ok(1));
            assert_eq!(so_far().calls("trace_second_consume"), ok(1));
        });
    });
}

/// `#[trace]` on trait methods with a default body (sync and async).
trait WithDefaults {
    fn base(&self) -> u32;

    #[trace_runtime::trace]
    fn default_sync(&self) -> u32 {
        self.base() + 1
    }

    #[trace_runtime::trace(name = "with_defaults_async")]
    async fn default_async(&self) -> u32 {
        tokio::task::yield_now().await;
        self.base() + 2
    }
}

struct Base(u32);

impl WithDefaults for Base {
    fn base(&self) -> u32 {
        self.0
    }
}

#[test]
fn trace_on_trait_default_methods() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(Base(10).default_sync(), 11);
            assert_eq!(Base(10).default_async().await, 12);
            assert_eq!(so_far().calls("default_sync"), ok(1));
            assert_eq!(so_far().calls("with_defaults_async"), ok(1));
        });
    });
}

/// `missing_docs` is denied here: the expansion must keep method docs.
#[deny(missing_docs)]
pub mod documented {
    use trace_runtime::instrument_all;

    /// A documented type.
    pub struct Documented;

    #[instrument_all]
    impl Documented {
        /// Documented; `#[must_use]` must be kept too (`must_use_candidate`).
        #[must_use]
        pub fn value(&self) -> u8 {
            9
        }
    }
}

#[test]
fn method_docs_and_attributes_are_kept() {
    capture(|| {
        assert_eq!(documented::Documented.value(), 9);
        assert_eq!(so_far().calls("Documented::value"), ok(1));
    });
}
