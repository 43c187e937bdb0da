//! Prints the results as Markdown tables, and checks them against the goals
//! of the performance issue.

use crate::compile_time::{CompileTime, ATTRIBUTES};
use crate::http::{app, HttpPeer};
use crate::peer::Peer;
use crate::render::{CHAIN_NODES, HALF_CHAIN_NODES, TREE_NODES};
use crate::runner::{Contention, HttpOverheads, Overhead, Overheads, RenderScaling, Sites};

/// Compile-time results, dev then release profile.
pub type CompileTimes = [Result<CompileTime, String>; 2];

const PROFILES: [&str; 2] = ["dev", "release"];

fn find<P: PartialEq, T: Copy>(rows: &[(P, T)], peer: P) -> Option<T> {
    rows.iter().find(|(p, _)| *p == peer).map(|(_, v)| *v)
}

fn ratio(peer: f64, ours: f64) -> String {
    if ours > 0.0 {
        format!("{:.1}×", peer / ours)
    } else {
        "n/a".to_owned()
    }
}

/// The per-call overhead table, with ratios against this project's
/// default path.
pub fn overheads(results: &Overheads) {
    let ours = find(&results.peers, Peer::OursLogged).unwrap_or_default();
    println!("### Per-call overhead (ns per traced call above an uninstrumented call)\n");
    println!(
        "| peer | sync wall | sync CPU (all-in) | async wall | async CPU (all-in) | \
         ÷ trace-runtime default path (sync wall / CPU, async wall / CPU) |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    for (peer, [sync, asynch]) in &results.peers {
        if *peer == Peer::None {
            continue;
        }
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {} / {}, {} / {} |",
            peer.label(),
            sync.wall,
            sync.cpu,
            asynch.wall,
            asynch.cpu,
            ratio(sync.wall, ours[0].wall),
            ratio(sync.cpu, ours[0].cpu),
            ratio(asynch.wall, ours[1].wall),
            ratio(asynch.cpu, ours[1].cpu),
        );
    }
    let [sync, asynch] = results.baseline;
    println!(
        "\nUninstrumented request (111 calls): sync {:.0} ns wall / {:.0} ns CPU, \
         async {:.0} ns wall / {:.0} ns CPU.\n",
        sync.wall, sync.cpu, asynch.wall, asynch.cpu
    );
}

/// The distinct-call-sites table: per-call overhead on one site and on
/// [`SITES`](crate::peer::sites::SITES) sites, and the ratio.
pub fn sites(rows: &[(Peer, Sites)]) {
    println!(
        "### Distinct call sites: per-call overhead, the 111-call workload on 3 functions \
         vs on {} functions (10 trees of 111, round-robin)\n",
        crate::peer::sites::SITES
    );
    println!(
        "| peer | sync CPU, 3 sites | sync CPU, {n} sites | ratio | \
         async CPU, 3 sites | async CPU, {n} sites | ratio |",
        n = crate::peer::sites::SITES
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (peer, figures) in rows {
        if *peer == Peer::None {
            continue;
        }
        let [[sync_one, sync_many], [async_one, async_many]] = figures.overhead;
        println!(
            "| {} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} |",
            peer.label(),
            sync_one.cpu,
            sync_many.cpu,
            ratio(sync_many.cpu, sync_one.cpu),
            async_one.cpu,
            async_many.cpu,
            ratio(async_many.cpu, async_one.cpu),
        );
    }
    println!(
        "\nAll-in CPU, ns per traced call above the uninstrumented version of the same \
         workload in the same round; wall figures are in the goals' data only.\n"
    );
}

/// The rendering-scaling table.
pub fn render(figures: &RenderScaling) {
    println!("### Rendering: `CallTree::render` per node, deep chain vs the workload tree\n");
    println!("| tree | nodes | render ns per node | bytes per node |");
    println!("|---|---:|---:|---:|");
    for (what, nodes, [ns, bytes]) in [
        (
            "chain: `in_request` root + 999 nested calls",
            CHAIN_NODES,
            figures.chain,
        ),
        (
            "half chain: `in_request` root + 499 nested calls",
            HALF_CHAIN_NODES,
            figures.half_chain,
        ),
        (
            "workload tree: `in_request` root + 111 calls (3 levels)",
            TREE_NODES,
            figures.tree,
        ),
    ] {
        println!("| {what} | {nodes} | {ns:.1} | {bytes:.1} |");
    }
    println!(
        "\nText per node, 1000-level chain ÷ workload tree: {:.2} (longer rows: names \
         padded to a wider column, depth marks; not a goal). Median of the rounds.\n",
        figures.chain[1] / figures.tree[1]
    );
}

/// The memory table.
pub fn memory(rows: &[(Peer, [f64; 2])]) {
    println!("### Memory: resident-set growth over 10 million traced calls, nobody scraping\n");
    println!("| peer | RSS growth (MiB) | peak RSS growth (MiB) |");
    println!("|---|---:|---:|");
    for (peer, [growth, peak]) in rows {
        println!("| {} | {growth:.1} | {peak:.1} |", peer.label());
    }
    println!();
}

/// The contention table.
pub fn contention(rows: &[(Peer, Contention)]) {
    println!(
        "### Contention: per-call overhead with two threads calling the same functions \
         at once vs one thread (sync)\n"
    );
    println!(
        "| peer | 1 thread wall | 2 threads wall (each) | ratio | 1 thread CPU | \
         2 threads CPU (per call) | ratio | parallelism reached |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (peer, figures) in rows {
        if *peer == Peer::None {
            continue;
        }
        let [one, two] = figures.overhead;
        println!(
            "| {} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} | {:.2} |",
            peer.label(),
            one.wall,
            two.wall,
            ratio(two.wall, one.wall),
            one.cpu,
            two.cpu,
            ratio(two.cpu, one.cpu),
            figures.parallelism,
        );
    }
    println!(
        "\nParallelism: process CPU time over the longest thread's wall time in the \
         two-thread runs; below 2.0 the threads did not always run side by side (other \
         load on the VM), which hides contention from the CPU ratio and inflates the \
         wall ratio.\n"
    );
}

/// The compile-time table: rebuild of a crate with 500 functions.
pub fn compile_time(profiles: &CompileTimes) {
    println!(
        "### Compile time: 500 functions (every fifth async), warm dependencies, \
         median of 3 rebuilds (s)\n"
    );
    println!("| attribute | dev | release |");
    println!("|---|---:|---:|");
    for (i, name) in ATTRIBUTES.iter().enumerate() {
        let [dev, release] = profiles.each_ref().map(|profile| {
            profile
                .as_ref()
                .map_or_else(|_| "not measured".to_owned(), |t| format!("{:.2}", t.0[i]))
        });
        println!("| {name} | {dev} | {release} |");
    }
    println!();
    for (name, profile) in PROFILES.iter().zip(profiles) {
        if let Err(why) = profile {
            println!("{name} profile not measured: {why}\n");
        }
    }
}

/// The HTTP table: overhead per request above the bare Router, with ratios
/// against this project's layer.
pub fn http(results: &HttpOverheads) {
    let ours = find(&results.peers, HttpPeer::Ours).unwrap_or_default();
    println!(
        "### HTTP: overhead per request of the layer (ns above the bare axum Router, \
         in process through `oneshot`)\n"
    );
    println!("| layer | wall | CPU (all-in) | ÷ ours (wall / CPU) |");
    println!("|---|---:|---:|---|");
    for (peer, overhead) in &results.peers {
        println!(
            "| {} | {:.0} | {:.0} | {} / {} |",
            peer.label(),
            overhead.wall,
            overhead.cpu,
            ratio(overhead.wall, ours.wall),
            ratio(overhead.cpu, ours.cpu),
        );
    }
    let bare = results.baseline;
    println!(
        "\nBare Router: {:.0} ns wall / {:.0} ns CPU per request. Mix: {} in {every} \
         `GET /rooms/7` (`200`; the handler calls two small functions, instrumented in no row, \
         so the layer alone is measured), 1 in {every} an unmatched path (`404`); bodies read \
         to the end.\n",
        bare.wall,
        bare.cpu,
        app::MISSING_EVERY - 1,
        every = app::MISSING_EVERY,
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "NO"
    }
}

/// One goal row: `measured` against `limit` (lower is better).
fn goal(what: &str, measured: f64, limit: f64, unit: &str) {
    let shown = if unit.is_empty() {
        format!("{measured:.3}")
    } else {
        format!("{measured:.2}{unit}")
    };
    println!(
        "| {what} | {shown} | ≤ {limit}{unit} | {} |",
        verdict(measured <= limit)
    );
}

/// Everything a run measured (the sections that ran).
pub struct Results<'a> {
    /// The per-call overhead section.
    pub overheads: Option<&'a Overheads>,
    /// The distinct-call-sites section.
    pub sites: Option<&'a [(Peer, Sites)]>,
    /// The rendering-scaling section.
    pub render: Option<&'a RenderScaling>,
    /// The memory section.
    pub memory: Option<&'a [(Peer, [f64; 2])]>,
    /// The contention section.
    pub contention: Option<&'a [(Peer, Contention)]>,
    /// The compile-time section.
    pub compile: Option<&'a CompileTimes>,
    /// The HTTP section.
    pub http: Option<&'a HttpOverheads>,
}

/// The goals of the performance issues, as measured in this run (those of
/// the sections that ran).
pub fn goals(results: &Results<'_>) {
    println!("### Goals\n");
    println!("| goal | measured | limit | met |");
    println!("|---|---:|---:|---|");
    if let Some(overheads) = results.overheads {
        overhead_goals(overheads);
    }
    if let Some(rows) = results.sites {
        sites_goals(rows);
    }
    if let Some(figures) = results.render {
        goal(
            "render ns per node, 1000-level chain ÷ workload tree",
            figures.chain[0] / figures.tree[0],
            2.0,
            "",
        );
        goal(
            "text per node, 1000-level ÷ 500-level chain (output linear in nodes)",
            figures.chain[1] / figures.half_chain[1],
            1.1,
            "",
        );
    }
    if let Some(rows) = results.memory {
        for peer in [Peer::OursLogged, Peer::OursBuilt, Peer::OursMetrics] {
            if let Some([growth, _]) = find(rows, peer) {
                goal(
                    &format!("RSS growth, 10M calls, {}", peer.key()),
                    growth,
                    64.0,
                    " MiB",
                );
            }
        }
    }
    if let Some(rows) = results.contention {
        for peer in [Peer::OursLogged, Peer::OursBuilt, Peer::OursMetrics] {
            if let Some(Contention {
                overhead: [one, two],
                ..
            }) = find(rows, peer)
            {
                goal(
                    &format!("2 threads ÷ 1 thread per call, wall, {}", peer.key()),
                    two.wall / one.wall,
                    1.5,
                    "",
                );
                goal(
                    &format!("2 threads ÷ 1 thread per call, CPU, {}", peer.key()),
                    two.cpu / one.cpu,
                    1.5,
                    "",
                );
            }
        }
    }
    for (name, profile) in PROFILES.iter().zip(results.compile.into_iter().flatten()) {
        if let Ok(t) = profile {
            goal(
                &format!("compile time, #[trace] ÷ #[tracing::instrument], {name}"),
                t.ratio(),
                1.0,
                "",
            );
        }
    }
    if let Some(http) = results.http {
        http_goals(http);
    }
    println!();
}

/// The goals of the per-call overhead table, all-in CPU: the default path
/// against the tracing-tree and fastrace rows and against trees built but
/// not rendered, trees built against fastrace and autometrics, metrics only
/// against the hand-written version, and the off switch.
fn overhead_goals(results: &Overheads) {
    let get = |peer| find(&results.peers, peer).unwrap_or([Overhead::default(); 2]);
    let logged = get(Peer::OursLogged);
    let built = get(Peer::OursBuilt);
    let stats = get(Peer::OursStats);
    let err = get(Peer::OursErr);
    let metrics_only = get(Peer::OursMetrics);
    let off = get(Peer::OursOff);
    for (v, name) in ["sync", "async"].iter().enumerate() {
        let rows = [
            (
                logged,
                "default path",
                Peer::TracingTree,
                0.2,
                "tracing + tracing-tree",
            ),
            (
                logged,
                "default path",
                Peer::FastraceRoot,
                0.33,
                "fastrace with root",
            ),
            (
                logged,
                "default path",
                Peer::OursBuilt,
                1.5,
                "trees built, not rendered",
            ),
            (
                built,
                "trees built, not rendered",
                Peer::FastraceRoot,
                0.125,
                "fastrace with root",
            ),
            (
                built,
                "trees built, not rendered",
                Peer::Autometrics,
                0.0667,
                "autometrics",
            ),
            (
                stats,
                "trees built + live stats",
                Peer::OursBuilt,
                1.1,
                "trees built",
            ),
            (
                err,
                "#[trace(err)] on Ok",
                Peer::OursResult,
                1.05,
                "#[trace] on Ok",
            ),
            (
                metrics_only,
                "metrics only",
                Peer::HandWritten,
                0.5,
                "hand-written",
            ),
        ];
        for (ours, what, peer, limit, short) in rows {
            goal(
                &format!("{what} ÷ {short}, all-in CPU, {name}"),
                ours[v].cpu / get(peer)[v].cpu,
                limit,
                "",
            );
        }
        goal(
            &format!("switched off, wall per call, {name}"),
            off[v].wall,
            3.0,
            " ns",
        );
    }
}

/// The goals of the distinct-call-sites table: per-call overhead on the
/// distinct sites within 1.2× of one site, trees built and metrics only,
/// all-in CPU.
fn sites_goals(rows: &[(Peer, Sites)]) {
    for (v, name) in ["sync", "async"].iter().enumerate() {
        for peer in [Peer::OursBuilt, Peer::OursMetrics] {
            if let Some(figures) = find(rows, peer) {
                let [one, many] = figures.overhead[v];
                goal(
                    &format!(
                        "{} sites ÷ 3 sites per call, all-in CPU, {}, {name}",
                        crate::peer::sites::SITES,
                        peer.key()
                    ),
                    many.cpu / one.cpu,
                    1.2,
                    "",
                );
            }
        }
    }
}

/// The goals of the HTTP table: our layer's overhead per request against
/// the other layers', all-in CPU.
fn http_goals(results: &HttpOverheads) {
    let cpu = |peer| find(&results.peers, peer).unwrap_or_default().cpu;
    let ours = cpu(HttpPeer::Ours);
    for (peer, limit, short) in [
        (HttpPeer::AxumPrometheus, 0.5, "axum-prometheus"),
        (HttpPeer::TraceLayerTree, 0.2, "TraceLayer + tracing-tree"),
    ] {
        goal(
            &format!("HTTP layer ÷ {short}, all-in CPU per request"),
            ours / cpu(peer),
            limit,
            "",
        );
    }
}
