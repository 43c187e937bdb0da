//! The frame every page shares: one self-contained HTML document with its
//! style inline, a title and the links between the pages. Nothing is
//! fetched from anywhere: no script, style sheet, font or image but what
//! is written here.

use std::fmt::Write as _;
use std::time::Duration;

use crate::pages::escape::push_text;
use crate::tree::render::push_duration;

/// The most bytes of one page's body; past it, pages leave out requests
/// and rows and say how many. A page is at most this plus one row and the
/// frame (style and links, about 5 KiB).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The content type of the pages.
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// Which page is shown, for the links.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Current {
    Traces,
    #[cfg(feature = "stats")]
    Stats,
}

/// `body` inside the shared frame, titled `title`; `script` (inline, ours)
/// at the end of the body when given.
pub(crate) fn page(title: &str, current: Current, script: Option<&str>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    // Inline style and script only; nothing else may load.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
    );
    out.push_str("<title>");
    push_text(&mut out, title);
    out.push_str(" · trace-runtime</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body><nav><b>trace-runtime</b>");
    // Relative links: the pages work mounted under any prefix.
    for &(page, href, label) in LINKS {
        out.push_str("<a href=\"");
        out.push_str(href);
        out.push('"');
        if page == current {
            out.push_str(" aria-current=\"page\"");
        }
        out.push('>');
        out.push_str(label);
        out.push_str("</a>");
    }
    out.push_str("</nav><main>");
    out.push_str(body);
    out.push_str("</main>");
    if let Some(script) = script {
        out.push_str("<script>");
        out.push_str(script);
        out.push_str("</script>");
    }
    out.push_str("</body></html>\n");
    out
}

/// A window's length: `5 min` when whole minutes, else as durations read.
pub(crate) fn push_span(out: &mut String, span: Duration) {
    let secs = span.as_secs();
    if span.subsec_nanos() == 0 && secs % 60 == 0 && secs > 0 {
        let _ = write!(out, "{} min", secs / 60);
    } else {
        push_duration(out, span);
    }
}

/// The links between the pages: which, where, shown as.
const LINKS: &[(Current, &str, &str)] = &[
    (Current::Traces, "traces", "traces"),
    #[cfg(feature = "stats")]
    (Current::Stats, "stats", "stats"),
];

const STYLE: &str = r"
:root{--fg:#1d2330;--muted:#6b7385;--line:#e3e6ec;--bg:#f6f7f9;--bar:#7aa2d6;--busy:#2f5f9e;
--err:#c62828;--slow:#b26a00;--cancel:#7b5ea7;--agg:#9aa3b2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}
nav{display:flex;gap:1.2em;align-items:baseline;padding:.6em 1.2em;background:#1d2330;color:#fff}
nav a{color:#c9d6ea;text-decoration:none}nav a[aria-current]{color:#fff;border-bottom:2px solid #7aa2d6}
main{padding:.4em 1.2em 2em;max-width:1600px}
h1{font-size:1.15em;margin:1.2em 0 .2em}
p.note{color:var(--muted);margin:.2em 0 .6em}
.legend{display:flex;gap:1.2em;color:var(--muted);font-size:.9em;margin:.4em 0}
.legend i{display:inline-block;width:2em;height:.7em;margin-right:.4em;border-radius:2px;vertical-align:middle}
details.tree{background:#fff;border:1px solid var(--line);border-radius:6px;margin:.35em 0}
details.tree.failed{border-left:4px solid var(--err)}
details.tree>summary{cursor:pointer;padding:.45em .7em;display:flex;gap:.9em;align-items:baseline;flex-wrap:wrap}
.req{font-weight:600;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.dur{font-variant-numeric:tabular-nums}
.meta{color:var(--muted);font-size:.9em}
.status{font-size:.85em;padding:0 .4em;border-radius:3px;background:#e8f1e8;color:#256029}
.status.s4{background:#fff1dc;color:#8a5200}.status.s5{background:#fde7e7;color:var(--err)}
.mark{font-size:.8em;font-weight:600;padding:0 .35em;border-radius:3px;margin-right:.25em;white-space:nowrap}
.mark.err,.mark.panic,.mark.failed{background:#fde7e7;color:var(--err)}
.mark.slow{background:#fff1dc;color:var(--slow)}
.field{font-size:.85em;color:#555;margin-left:.4em}
.errtext{font-size:.85em;color:var(--err);margin-left:.4em}
.mark.cancelled,.mark.unfinished{background:#efe9f7;color:var(--cancel)}
.mark.agg{background:#eceff3;color:#4a5263}
table{border-collapse:collapse;width:100%}
table.waterfall{table-layout:fixed}
th,td{padding:.18em .5em;border-top:1px solid var(--line);text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
th{font-weight:600;color:var(--muted);font-size:.85em;background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.fn{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
col.fn{width:30%}col.num{width:7%}col.marks{width:9%}
td.axis,th.axis{position:relative}
th.axis{height:1.6em}
.tick{position:absolute;top:.2em;font-weight:400;font-size:.8em;transform:translateX(-50%)}
.tick:first-child{transform:none}.tick:last-child{transform:translateX(-100%)}
.bar{position:absolute;top:25%;height:50%;min-width:2px;background:var(--bar);border-radius:2px}
.bar .busy{height:100%;background:var(--busy);border-radius:2px}
tr.sync .bar{background:var(--busy)}
tr.err .bar,tr.panic .bar{background:var(--err)}tr.err .bar .busy,tr.panic .bar .busy{background:#8e1b1b}
tr.slow .bar{outline:2px solid var(--slow)}
tr.cancelled .bar,tr.unfinished .bar{background:repeating-linear-gradient(45deg,var(--cancel) 0 4px,#c9b8e3 4px 8px)}
.agg{color:var(--muted);font-size:.85em}
tr.call:hover{background:#f2f6fc}
table.stats th{cursor:pointer;user-select:none}table.stats th[aria-sort=ascending]::after{content:' ▲'}
table.stats th[aria-sort=descending]::after{content:' ▼'}
table.stats{background:#fff;border:1px solid var(--line);font-size:13px}
div.scroll{overflow-x:auto}th.group{text-align:center;border-left:1px solid var(--line)}
table.stats td.name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
";
