//! Regression tests of the runtime, one module per defect they pin.
#![warn(clippy::pedantic)]

use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

/// A traced call that runs inside a `Drop` during an unrelated unwind (a
/// flush-on-drop that blocks on a future) returned normally: it must count
/// as `ok`, not as a panic.
mod calls_made_while_an_unrelated_panic_unwinds {
    use std::panic::catch_unwind;

    use insta::assert_snapshot;
    use tokio::task::yield_now;
    use trace_runtime::{trace, Outcome, TraceFutureExt as _};

    use super::{capture_trees, one_tree, render_normalised};

    #[trace]
    async fn flush_buffer() -> Result<u32, String> {
        yield_now().await;
        Ok(flush_early(None).unwrap_or(3))
    }

    /// Runs in place (`#[track_caller]`) and leaves early through `?`.
    #[trace]
    #[track_caller]
    fn flush_early(pending: Option<u32>) -> Option<u32> {
        let pending = pending?;
        Some(pending + 1)
    }

    struct FlushOnDrop;

    impl Drop for FlushOnDrop {
        fn drop(&mut self) {
            let flushed = futures::executor::block_on(flush_buffer().in_request("flush on drop"));
            assert_eq!(flushed, Ok(3));
        }
    }

    #[test]
    fn count_as_ok() {
        capture_trees();
        let unwound = catch_unwind(|| {
            let _flush = FlushOnDrop;
            panic!("an unrelated panic");
        });
        assert!(unwound.is_err());
        let tree = one_tree("flush on drop");
        assert!(!tree.has_failure(), "{}", tree.render());
        assert!(tree.iter().all(|node| node.outcome() == Some(Outcome::Ok)));
        assert_snapshot!(render_normalised(&tree), @r"
        flush on drop    <t>  busy <t>
          flush_buffer   <t>  busy <t>
            flush_early  <t>
        ");
    }
}

/// A request root opened inside a traced async fn and alive across its
/// `.await`s, while unrelated tasks run on the same thread. (Sync roots are
/// scopes, `in_request(name, || ..)`, so they cannot be held across an
/// `.await`; async code opens them with `future.in_request(name)`.)
mod a_request_root_alive_across_await {
    use insta::assert_snapshot;
    use tokio::task::yield_now;
    use trace_runtime::{trace, TraceFutureExt as _};

    use super::{capture_trees, one_tree, render_normalised, take_trees};

    #[trace]
    async fn outer_handler() -> (u32, Vec<trace_runtime::tree::CallTree>) {
        let before = inner_step(1).await;
        let inner = async {
            let a = inner_step(2).await;
            yield_now().await;
            a + inner_step(3).await
        }
        .in_request("GET /inner")
        .await;
        // Delivered as soon as its future completed, not at thread exit.
        let delivered = take_trees("GET /inner");
        (before + inner + inner_step(4).await, delivered)
    }

    #[trace]
    async fn inner_step(n: u32) -> u32 {
        yield_now().await;
        n
    }

    #[trace]
    async fn unrelated_task() -> u32 {
        yield_now().await;
        inner_step(10).await
    }

    #[test]
    fn keeps_each_call_in_its_own_tree() {
        capture_trees();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (total, inner) = runtime.block_on(async {
            let unrelated: Vec<_> = (0..3).map(|_| tokio::spawn(unrelated_task())).collect();
            let handled = outer_handler().await;
            for task in unrelated {
                assert_eq!(task.await.unwrap(), 10);
            }
            handled
        });
        assert_eq!(total, 10);
        assert_eq!(
            inner.len(),
            1,
            "the inner tree arrived while its caller ran"
        );
        assert_snapshot!(render_normalised(&inner[0]), @r"
            GET /inner    <t>  tree <id> inside tree <id>  busy <t>
              inner_step  <t>  busy <t>
              inner_step  <t>  busy <t>
            ");
        // The inner request is one node of its caller's tree, linked to its own.
        assert_snapshot!(render_normalised(&one_tree("outer_handler")), @r"
            outer_handler  <t>  busy <t>
              inner_step   <t>  busy <t>
              GET /inner   <t>  busy <t>  linked tree <id>
              inner_step   <t>  busy <t>
            ");
        let unrelated = trace_suite::wait_for_trees("unrelated_task", 3);
        assert_eq!(unrelated.len(), 3);
        for tree in &unrelated {
            insta::allow_duplicates! {
                assert_snapshot!(render_normalised(tree), @r"
                unrelated_task  <t>  busy <t>
                  inner_step    <t>  busy <t>
                ");
            }
        }
    }
}
