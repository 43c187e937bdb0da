//! Control flow through traced functions: early `return` and `?` with `From`
//! conversions, `-> !`, panics with their original payload, recursion (also
//! async, through `Box::pin`), handwritten futures, and `Send` futures
//! spawned on the multi-thread runtime.
//!
//! Each case returns exactly what it would without `#[trace]`, and its
//! `result` label says how it ended. Each test records its calls with a local
//! recorder of its own (async ones on a current-thread runtime, so every call
//! runs under it), except the multi-thread one, which uses the global one.
#![warn(clippy::pedantic)]

use std::future::Future;
use std::num::ParseIntError;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt as _;
use trace_runtime::trace;
use trace_suite::metrics::{capture, current_thread, global, install_global, ok, so_far};

#[derive(Debug, PartialEq)]
enum AppError {
    Parse(String),
    Empty,
}

impl From<ParseIntError> for AppError {
    fn from(err: ParseIntError) -> Self {
        AppError::Parse(err.to_string())
    }
}

/// An `anyhow::Result`-style alias with a defaulted error type.
type AppResult<T, E = AppError> = Result<T, E>;

fn counts(ok: u64, error: u64) -> Vec<(String, u64)> {
    vec![("error".to_owned(), error), ("ok".to_owned(), ok)]
}

#[trace]
fn early_return_sync(a: &str, b: &str) -> Result<u32, AppError> {
    if a.is_empty() {
        return Err(AppError::Empty);
    }
    if b.is_empty() {
        return Ok(0);
    }
    let sum = a.parse::<u32>()? + b.parse::<u32>()?;
    Ok(sum)
}

#[trace]
async fn early_return_async(a: &str, b: &str) -> Result<u32, AppError> {
    if a.is_empty() {
        return Err(AppError::Empty);
    }
    tokio::task::yield_now().await;
    if b.is_empty() {
        return Ok(0);
    }
    let sum = a.parse::<u32>()? + b.parse::<u32>()?;
    Ok(sum)
}

fn parse_error(text: &str) -> AppError {
    AppError::from(text.parse::<u32>().unwrap_err())
}

#[test]
fn early_return_and_question_mark_with_from() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(early_return_sync("", "1"), Err(AppError::Empty));
            assert_eq!(early_return_sync("1", ""), Ok(0));
            assert_eq!(early_return_sync("x", "1"), Err(parse_error("x")));
            assert_eq!(early_return_sync("2", "3"), Ok(5));
            assert_eq!(early_return_async("", "1").await, Err(AppError::Empty));
            assert_eq!(early_return_async("1", "").await, Ok(0));
            assert_eq!(early_return_async("1", "-").await, Err(parse_error("-")));
            assert_eq!(early_return_async("2", "3").await, Ok(5));
            assert_eq!(so_far().calls("early_return_sync"), counts(2, 2));
            assert_eq!(so_far().calls("early_return_async"), counts(2, 2));
        });
    });
}

#[trace]
fn alias_io(path: &str) -> std::io::Result<usize> {
    if path.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no path"));
    }
    Ok(path.len())
}

#[trace]
fn alias_app(port: &str) -> AppResult<u16> {
    let port: u16 = port.parse().map_err(|_| AppError::Parse(port.to_owned()))?;
    Ok(port)
}

#[trace]
async fn alias_async(port: &str) -> AppResult<u16, String> {
    tokio::task::yield_now().await;
    port.parse().map_err(|e: ParseIntError| e.to_string())
}

#[trace]
fn option_question(items: &[u32]) -> Option<u32> {
    let first = items.first()?;
    Some(first * 10)
}

#[trace]
async fn option_question_async(items: &[u32]) -> Option<u32> {
    tokio::task::yield_now().await;
    let last = items.last()?;
    Some(last * 10)
}

#[test]
fn result_aliases_and_option_returns() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(alias_io("abc").unwrap(), 3);
            assert_eq!(
                alias_io("").unwrap_err().kind(),
                std::io::ErrorKind::NotFound
            );
            assert_eq!(alias_app("8080"), Ok(8080));
            assert_eq!(alias_app("http"), Err(AppError::Parse("http".to_owned())));
            assert_eq!(alias_async("80").await, Ok(80));
            let empty = "".parse::<u16>().unwrap_err().to_string();
            assert_eq!(alias_async("").await, Err(empty));
            assert_eq!(option_question(&[]), None);
            assert_eq!(option_question(&[2, 3]), Some(20));
            assert_eq!(option_question_async(&[]).await, None);
            assert_eq!(option_question_async(&[2, 3]).await, Some(30));
            // `Err` through an alias is an error; `None` is not.
            assert_eq!(so_far().calls("alias_io"), counts(1, 1));
            assert_eq!(so_far().calls("alias_app"), counts(1, 1));
            assert_eq!(so_far().calls("alias_async"), counts(1, 1));
            assert_eq!(so_far().calls("option_question"), ok(2));
            assert_eq!(so_far().calls("option_question_async"), ok(2));
        });
    });
}

#[derive(Debug, PartialEq)]
struct Fatal(u32);

#[trace]
fn never_returns(code: u32) -> ! {
    std::panic::panic_any(Fatal(code))
}

#[trace]
fn never_loops(limit: u32) -> ! {
    let mut n = 0;
    loop {
        n += 1;
        assert!(n < limit, "gave up after {n}");
    }
}

fn pick(n: u32) -> u32 {
    // `never_returns` still has type `!`: it unifies with `u32` here.
    if n > 0 {
        n
    } else {
        never_returns(n)
    }
}

#[test]
fn never_returning_functions() {
    capture(|| {
        assert_eq!(pick(3), 3);
        let payload = std::panic::catch_unwind(|| pick(0)).unwrap_err();
        assert_eq!(payload.downcast_ref::<Fatal>(), Some(&Fatal(0)));
        let payload = std::panic::catch_unwind(|| never_loops(3)).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("gave up after 3")
        );
        assert_eq!(
            so_far().calls("never_returns"),
            vec![("error".to_owned(), 1)]
        );
        assert_eq!(so_far().calls("never_loops"), vec![("error".to_owned(), 1)]);
    });
}

#[trace]
fn panics_sync(code: u32) -> u32 {
    if code > 0 {
        std::panic::panic_any(Fatal(code));
    }
    code
}

#[trace]
fn panics_with_message(name: &str) -> usize {
    assert!(!name.is_empty(), "empty name, {} bytes", name.len());
    name.len()
}

#[trace]
fn panics_unit_diverging() {
    std::panic::panic_any(Fatal(1))
}

#[trace]
async fn panics_async(code: u32) -> u32 {
    tokio::task::yield_now().await;
    if code > 0 {
        std::panic::panic_any(Fatal(code));
    }
    code
}

#[test]
fn panics_propagate_with_their_payload() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(panics_sync(0), 0);
            let payload = std::panic::catch_unwind(|| panics_sync(7)).unwrap_err();
            assert_eq!(payload.downcast_ref::<Fatal>(), Some(&Fatal(7)));
            let payload = std::panic::catch_unwind(|| panics_with_message("")).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("empty name, 0 bytes")
            );
            assert_eq!(panics_with_message("ab"), 2);
            let payload = std::panic::catch_unwind(panics_unit_diverging).unwrap_err();
            assert_eq!(payload.downcast_ref::<Fatal>(), Some(&Fatal(1)));

            assert_eq!(panics_async(0).await, 0);
            let join = tokio::spawn(panics_async(8)).await.unwrap_err();
            assert_eq!(join.into_panic().downcast_ref::<Fatal>(), Some(&Fatal(8)));
            let caught = std::panic::AssertUnwindSafe(panics_async(9))
                .catch_unwind()
                .await
                .unwrap_err();
            assert_eq!(caught.downcast_ref::<Fatal>(), Some(&Fatal(9)));

            assert_eq!(so_far().calls("panics_sync"), counts(1, 1));
            assert_eq!(so_far().calls("panics_with_message"), counts(1, 1));
            assert_eq!(
                so_far().calls("panics_unit_diverging"),
                [("error".to_owned(), 1)]
            );
            assert_eq!(so_far().calls("panics_async"), counts(1, 2));
        });
    });
}

#[trace]
fn recursion_factorial(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        n * recursion_factorial(n - 1)
    }
}

#[trace]
async fn recursion_async(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    tokio::task::yield_now().await;
    n + Box::pin(recursion_async(n - 1)).await
}

#[trace]
fn recursion_boxed(n: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if n < 2 {
            n
        } else {
            recursion_boxed(n - 1).await + recursion_boxed(n - 2).await
        }
    })
}

#[test]
fn recursion_sync_and_async() {
    capture(|| {
        current_thread().block_on(async {
            assert_eq!(recursion_factorial(5), 120);
            assert_eq!(recursion_async(4).await, 10);
            assert_eq!(tokio::spawn(recursion_boxed(10)).await.unwrap(), 55);
            // Every level is a call of its own.
            assert_eq!(so_far().calls("recursion_factorial"), ok(6));
            assert_eq!(so_far().calls("recursion_async"), ok(5));
            assert_eq!(so_far().calls("recursion_boxed"), ok(177));
        });
    });
}

#[trace]
fn handwritten_impl(prepared: &AtomicU32, wait: Duration) -> impl Future<Output = u32> + Send {
    let ticket = prepared.fetch_add(1, Ordering::SeqCst) + 1;
    async move {
        tokio::time::sleep(wait).await;
        ticket * 100
    }
}

struct Store {
    prepared: AtomicU32,
    value: u32,
}

impl Store {
    #[trace]
    fn handwritten_boxed(&self, wait: Duration) -> Pin<Box<dyn Future<Output = u32> + Send + '_>> {
        if wait.is_zero() {
            // An early return of a future whose type differs from the
            // final one: it must still coerce to the declared trait object.
            return Box::pin(std::future::ready(self.value));
        }
        self.prepared.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(wait).await;
            self.value + 1
        })
    }
}

#[trace]
fn handwritten_box_future(prepared: Arc<AtomicU32>) -> BoxFuture<'static, Result<u32, String>> {
    prepared.fetch_add(1, Ordering::SeqCst);
    async move { Err(format!("prepared {}", prepared.load(Ordering::SeqCst))) }.boxed()
}

/// Checks that the last duration recorded for `function` covers the future
/// sleeping `wait`, but not the `idle` time between the call and the first
/// poll: it fits in `polled`, measured around the `.await`.
fn assert_timed_from_first_poll(function: &str, wait: Duration, idle: Duration, polled: Duration) {
    let recorded = so_far().durations(function);
    let recorded = Duration::from_secs_f64(*recorded.last().expect("a recorded duration"));
    // A millisecond of slack each way for the two clocks' readings.
    let slack = Duration::from_millis(1);
    assert!(
        recorded + slack >= wait,
        "{function}: {recorded:?} < {wait:?}"
    );
    assert!(
        recorded <= polled + slack,
        "{function}: {recorded:?} includes the {idle:?} before the first poll"
    );
}

#[test]
fn handwritten_futures_run_statements_at_call_time_and_time_the_future() {
    capture(|| {
        current_thread().block_on(async {
            let wait = Duration::from_millis(20);
            let idle = Duration::from_millis(150);

            let prepared = AtomicU32::new(0);
            let future = handwritten_impl(&prepared, wait);
            assert_eq!(prepared.load(Ordering::SeqCst), 1, "ran at call time");
            assert_eq!(so_far().calls("handwritten_impl"), []);
            tokio::time::sleep(idle).await;
            let polled = Instant::now();
            assert_eq!(tokio::spawn(future).await.unwrap(), 100);
            let polled = polled.elapsed();
            assert_eq!(so_far().calls("handwritten_impl"), ok(1));
            assert_timed_from_first_poll("handwritten_impl", wait, idle, polled);

            let store = Store {
                prepared: AtomicU32::new(0),
                value: 4,
            };
            assert_eq!(store.handwritten_boxed(Duration::ZERO).await, 4);
            assert_eq!(store.prepared.load(Ordering::SeqCst), 0);
            let future = store.handwritten_boxed(wait);
            assert_eq!(store.prepared.load(Ordering::SeqCst), 1, "ran at call time");
            tokio::time::sleep(idle).await;
            let polled = Instant::now();
            assert_eq!(future.await, 5);
            let polled = polled.elapsed();
            assert_eq!(so_far().calls("handwritten_boxed"), ok(2));
            assert_timed_from_first_poll("handwritten_boxed", wait, idle, polled);

            let prepared = Arc::new(AtomicU32::new(0));
            let future = handwritten_box_future(Arc::clone(&prepared));
            assert_eq!(prepared.load(Ordering::SeqCst), 1, "ran at call time");
            assert_eq!(so_far().calls("handwritten_box_future"), []);
            assert_eq!(future.await, Err("prepared 1".to_owned()));
            assert_eq!(
                so_far().calls("handwritten_box_future"),
                vec![("error".to_owned(), 1)]
            );
        });
    });
}

#[trace]
async fn send_owned(values: Vec<u32>) -> u32 {
    tokio::task::yield_now().await;
    values.iter().sum()
}

#[trace]
async fn send_generic<T>(value: T, copies: usize) -> Vec<T>
where
    T: Clone + Send + Sync,
{
    tokio::task::yield_now().await;
    vec![value; copies]
}

#[trace]
async fn send_across_await(shared: Arc<tokio::sync::Mutex<Vec<u32>>>, n: u32) -> usize {
    let mut guard = shared.lock().await;
    guard.push(n);
    tokio::task::yield_now().await;
    guard.len()
}

/// Counted by the global recorder: the tasks run on the runtime's worker
/// threads, and a local recorder sees only the calls on its own thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_futures_spawn_on_the_multi_thread_runtime() {
    install_global();
    assert_eq!(tokio::spawn(send_owned(vec![1, 2, 3])).await.unwrap(), 6);
    assert_eq!(
        tokio::spawn(send_generic("x", 2)).await.unwrap(),
        ["x", "x"]
    );
    let shared = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..8)
        .map(|n| tokio::spawn(send_across_await(Arc::clone(&shared), n)))
        .collect();
    let mut lens = Vec::new();
    for task in tasks {
        lens.push(task.await.unwrap());
    }
    lens.sort_unstable();
    assert_eq!(lens, (1..=8).collect::<Vec<_>>());
    let mut seen = shared.lock().await.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
    let m = global();
    assert_eq!(m.calls("send_owned"), ok(1));
    assert_eq!(m.calls("send_generic"), ok(1));
    assert_eq!(m.calls("send_across_await"), ok(8));
}
