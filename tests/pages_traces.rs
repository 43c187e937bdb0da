//! The trace page from real traced requests: `RecentTrees` keeps exactly
//! the slowest and the last failed, bounded in nodes; each call's bar sits
//! where its start and wall put it on the root's time axis; names are
//! escaped; err, panic, cancelled and slow calls are marked; the page stays
//! under its size limit.
//!
//! Each test records the trees of its own requests (captured by root name)
//! into a ring of its own, so parallel tests do not see each other's.
#![warn(clippy::pedantic)]

use std::time::Duration;

use trace_runtime::pages::{traces_html, RecentTrees, Retention, MAX_PAGE_BYTES};
use trace_runtime::tree::CallTree;
use trace_runtime::{in_request, trace, TraceFutureExt as _};
use trace_suite::html::{trees, Row};
use trace_suite::{capture_trees, one_tree};

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap()
}

/// `part` of `whole` in thousandths of a percent, rounded down.
fn milli_percent(part: u64, whole: u64) -> u64 {
    u64::try_from(u128::from(part) * 100_000 / u128::from(whole)).unwrap()
}

/// A ring holding `trees`, recorded in order.
fn ring(retention: Retention, trees: &[CallTree]) -> RecentTrees {
    let recent = RecentTrees::new(retention).unwrap();
    for tree in trees {
        recent.record(tree);
    }
    recent
}

fn names(kept: &[std::sync::Arc<trace_runtime::pages::KeptTree>]) -> Vec<String> {
    kept.iter()
        .map(|k| k.tree().root().name().to_owned())
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[trace]
fn wf_first() {
    std::thread::sleep(Duration::from_millis(20));
}

#[trace]
fn wf_second() {
    std::thread::sleep(Duration::from_millis(40));
}

/// Every row says what its node says, and its bar is the node's start and
/// wall over the root's wall.
fn assert_rows_match(rows: &[Row], tree: &CallTree) {
    let total = nanos(tree.root().wall());
    assert_eq!(rows.len(), tree.iter().count());
    for (row, node) in rows.iter().zip(tree.iter()) {
        assert_eq!(row.name, node.name());
        assert_eq!(row.depth, node.depth());
        assert_eq!(row.wall_ns, nanos(node.wall()));
        assert_eq!(row.start_ns, node.start().map(nanos));
        let start = nanos(node.start().unwrap());
        let left = milli_percent(start, total).min(100_000);
        let width = milli_percent(nanos(node.wall()), total).min(100_000 - left);
        assert_eq!(row.bar, Some((left, width)), "{}", node.name());
        let busy = node
            .busy()
            .map_or(100_000, |b| milli_percent(nanos(b), nanos(node.wall())));
        assert_eq!(row.busy, Some(busy.min(100_000)), "{}", node.name());
    }
}

#[test]
fn bars_are_placed_by_the_calls_start_and_wall() {
    capture_trees();
    in_request("waterfall", || {
        wf_first();
        wf_second();
    });
    let tree = one_tree("waterfall");
    let html = traces_html(&ring(Retention::default(), std::slice::from_ref(&tree)));
    let shown = trees(&html, "slowest");
    assert_eq!(shown.len(), 1);
    let request = &shown[0];
    assert_eq!(request.request, "waterfall");
    assert_eq!(request.wall_ns, nanos(tree.root().wall()));
    assert!(!request.has_class("failed"));
    assert_rows_match(&request.rows, &tree);
    let [root, first, second] = &request.rows[..] else {
        panic!("three rows: {:?}", request.rows);
    };
    assert!(root.has_class("sync") && first.has_class("sync"));
    assert_eq!(root.bar, Some((0, 100_000)));
    // A sleep never ends early.
    assert!(first.wall_ns >= 20_000_000 && second.wall_ns >= 40_000_000);
    // Timing-dependent (the machine may be busy), so with a tolerance of
    // 12 points of the axis, 5 where one bar follows another: the first call
    // starts at once and takes about a third of the request, the second
    // starts where it ended and takes the rest.
    let (first_left, first_width) = first.bar.unwrap();
    let (second_left, second_width) = second.bar.unwrap();
    assert!(first_left < 12_000, "{first:?}");
    assert!(first_width.abs_diff(33_333) < 12_000, "{first:?}");
    assert!(
        second_left.abs_diff(first_left + first_width) < 5_000,
        "{second:?}"
    );
    assert!(second_width.abs_diff(66_667) < 12_000, "{second:?}");
    assert!((88_000..=100_000).contains(&(second_left + second_width)));
}

#[trace]
async fn wf_wait() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

#[trace]
async fn wf_spin() {
    std::thread::sleep(Duration::from_millis(15));
}

#[test]
fn async_bars_show_the_busy_share_of_their_wall_time() {
    capture_trees();
    runtime().block_on(
        async {
            wf_wait().await;
            wf_spin().await;
        }
        .in_request("async waterfall"),
    );
    let tree = one_tree("async waterfall");
    let html = traces_html(&ring(Retention::default(), std::slice::from_ref(&tree)));
    let shown = trees(&html, "slowest");
    assert_rows_match(&shown[0].rows, &tree);
    let [_, wait, spin] = &shown[0].rows[..] else {
        panic!("three rows: {:?}", shown[0].rows);
    };
    assert!(!wait.has_class("sync") && !spin.has_class("sync"));
    // Waiting on a timer is hardly busy; spinning in poll is all busy.
    assert!(wait.busy.unwrap() < 30_000, "{wait:?}");
    assert!(spin.busy.unwrap() > 70_000, "{spin:?}");
}

#[trace(name = "<em>&\"x\"</em>")]
fn wf_markup() {}

#[test]
fn names_with_markup_are_shown_as_text() {
    capture_trees();
    let name = "<script>alert('x & y')</script>";
    in_request(name, wf_markup);
    let html = traces_html(&ring(Retention::default(), &[one_tree(name)]));
    let request = &trees(&html, "slowest")[0];
    assert_eq!(
        request.request,
        "&lt;script&gt;alert(&#39;x &amp; y&#39;)&lt;/script&gt;"
    );
    assert_eq!(
        request.rows[1].name,
        "&lt;em&gt;&amp;&quot;x&quot;&lt;/em&gt;"
    );
    assert!(!html.contains("<script"), "the page has no script at all");
    assert!(!html.contains("<em>") && !html.contains("alert('x"));
}

#[trace(err, fields(room = %room))]
fn wf_reserve(room: &str) -> Result<(), String> {
    Err(format!("room <{room}> is full"))
}

#[trace]
fn wf_unrecorded(secret: &str) -> Result<(), String> {
    Err(format!("{secret} leaked"))
}

#[test]
fn recorded_error_texts_and_fields_are_shown_escaped_and_nothing_else() {
    capture_trees();
    in_request("POST /wf-reserve", || {
        let _ = wf_reserve("<b>lobby</b>");
        let _ = wf_unrecorded("hunter2");
    });
    let html = traces_html(&ring(Retention::default(), &[one_tree("POST /wf-reserve")]));
    assert!(
        html.contains("<span class=\"field\">room=&lt;b&gt;lobby&lt;/b&gt;</span>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<span class=\"errtext\">err: room &lt;&lt;b&gt;lobby&lt;/b&gt;&gt; is full</span>"
        ),
        "{html}"
    );
    // Without `err`, the error text is not recorded, so not shown.
    assert!(!html.contains("hunter2"), "{html}");
    // One error text per row of `wf_reserve` (the tree is listed among
    // the slowest and among the failed), none for `wf_unrecorded`.
    let rows = html.matches(">wf_reserve</span>").count();
    assert!(rows >= 1);
    assert_eq!(html.matches("class=\"errtext\"").count(), rows, "{html}");
}

#[trace]
fn wf_fails() -> Result<(), String> {
    Err("declined".to_owned())
}

#[trace]
fn wf_panics() {
    panic!("on purpose");
}

#[trace(slow = "1ms")]
fn wf_slow() {
    std::thread::sleep(Duration::from_millis(5));
}

#[trace]
async fn wf_forever() {
    std::future::pending::<()>().await;
}

#[test]
fn failed_requests_and_their_calls_are_marked() {
    capture_trees();
    runtime().block_on(
        async {
            let _ = wf_fails();
            let _ = std::panic::catch_unwind(wf_panics);
            wf_slow();
            let _ = tokio::time::timeout(Duration::from_millis(1), wf_forever()).await;
        }
        .in_request("marked"),
    );
    let tree = one_tree("marked");
    let html = traces_html(&ring(Retention::default(), std::slice::from_ref(&tree)));
    for section in ["slowest", "failed"] {
        let shown = trees(&html, section);
        assert_eq!(shown.len(), 1, "{section}");
        let request = &shown[0];
        assert!(request.has_class("failed"), "{section}");
        assert_eq!(request.marks, ["failed", "slow call"]);
        assert_rows_match(&request.rows, &tree);
        let row = |name: &str| request.rows.iter().find(|r| r.name == name).unwrap();
        for (name, class) in [
            ("wf_fails", "err"),
            ("wf_panics", "panic"),
            ("wf_forever", "cancelled"),
        ] {
            assert!(row(name).has_class(class), "{:?}", row(name));
            assert_eq!(row(name).marks, [class]);
        }
        assert!(row("wf_slow").has_class("slow") && row("wf_slow").has_class("ok"));
        assert_eq!(row("wf_slow").marks, ["slow"]);
    }
}

#[trace]
fn wf_step(ms: u64, fail: bool) -> Result<(), ()> {
    std::thread::sleep(Duration::from_millis(ms));
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[test]
fn the_ring_keeps_exactly_the_slowest_and_the_last_failed() {
    capture_trees();
    let mut captured = Vec::new();
    for i in 0..8_u64 {
        let name = format!("ring-{i}");
        let _ = in_request(name.clone(), || wf_step((i * 7) % 5 + 1, i % 3 == 0));
        captured.push(one_tree(&name));
    }
    let recent = ring(Retention::default().slowest(3).failed(2), &captured);
    // The expected order comes from the trees' own walls, so it holds
    // however long each sleep really took.
    let mut by_wall: Vec<&CallTree> = captured.iter().collect();
    by_wall.sort_by_key(|t| std::cmp::Reverse(t.root().wall()));
    let slowest: Vec<&str> = by_wall[..3].iter().map(|t| t.root().name()).collect();
    assert_eq!(names(&recent.slowest()), slowest);
    assert_eq!(names(&recent.failed()), ["ring-6", "ring-3"]);
    assert_eq!(recent.seen(), 8);
    let html = traces_html(&recent);
    assert_eq!(trees(&html, "slowest").len(), 3);
    let failed = trees(&html, "failed");
    let ids: Vec<&str> = failed.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["failed-7", "failed-4"],
        "request numbers, newest first"
    );
    assert!(failed.iter().all(|t| t.has_class("failed")));
}

#[trace]
fn wf_leaf() {}

#[test]
fn kept_trees_are_cut_to_max_nodes_and_say_so() {
    capture_trees();
    in_request("wide", || (0..50).for_each(|_| wf_leaf()));

    let tree = one_tree("wide");
    let recent = ring(
        Retention::default().max_nodes(10),
        std::slice::from_ref(&tree),
    );
    let kept = &recent.slowest()[0];
    assert_eq!(kept.tree().iter().count(), 10);
    assert_eq!((kept.dropped_nodes(), kept.dropped_calls()), (41, 41));
    let html = traces_html(&recent);
    let request = &trees(&html, "slowest")[0];
    assert_eq!(request.rows.len(), 10);
    assert!(request.html.contains("51 calls"), "{}", request.html);
    assert!(
        request.html.contains("41 more nodes (41 calls) not kept"),
        "{}",
        request.html
    );
}

#[test]
fn the_page_stays_under_its_size_limit() {
    capture_trees();
    in_request("huge", || (0..999).for_each(|_| wf_leaf()));
    let tree = one_tree("huge");
    let recent = ring(
        Retention::default().slowest(300).max_nodes(1000),
        &vec![tree; 300],
    );
    let html = traces_html(&recent);
    assert!(
        html.len() <= MAX_PAGE_BYTES + 16 * 1024,
        "{} bytes",
        html.len()
    );
    let shown = trees(&html, "slowest");
    let note = html
        .split("Page size limit reached: ")
        .nth(1)
        .expect("the page says what it left out");
    let numbers: Vec<usize> = note
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(2)
        .map(|s| s.parse().unwrap())
        .collect();
    let shown_rows: usize = shown.iter().map(|t| t.rows.len()).sum();
    assert_eq!(
        shown.len() + numbers[0],
        300,
        "every request is shown or counted"
    );
    assert_eq!(shown_rows + numbers[1], shown.len() * 1000, "and every row");
    assert!(numbers[0] > 0);
}
