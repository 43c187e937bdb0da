//! The `/stats` page: the live statistics of [`stats::snapshot`] as two
//! sortable tables, traced functions and HTTP routes, recent window and
//! lifetime side by side. Rows come slowest first (by recent p99); a
//! click on a column heading sorts by it (a few lines of inline script,
//! which also applies a `#sort=KEY` or `#sort=KEY:asc` fragment on load).
//! Every cell carries its raw value in `data-v` (counts, or nanoseconds;
//! empty for "no calls"), which is what sorting compares.

use std::fmt::Write as _;
use std::time::Duration;

use crate::pages::escape::push_text;
use crate::pages::layout::{self, Current, MAX_PAGE_BYTES};
use crate::stats::{self, FunctionStats, Stats, Summary};
use crate::tree::render::push_duration;

/// The `/stats` page of the statistics now.
pub(crate) fn page() -> String {
    page_of(&stats::snapshot())
}

/// The `/stats.json` body now.
pub(crate) fn json() -> String {
    stats::snapshot().to_json()
}

/// A column: its key (for `#sort=`), its heading, and the value it shows.
struct Column {
    key: &'static str,
    heading: &'static str,
    value: fn(&Summary) -> Cell,
}

enum Cell {
    Count(u64),
    Duration(Option<Duration>),
}

const RECENT: &[Column] = &[
    column("calls", "calls", |s| Cell::Count(s.count)),
    column("errors", "errors", |s| Cell::Count(s.errors)),
    column("cancelled", "cancelled", |s| Cell::Count(s.cancelled)),
    column("mean", "mean", |s| Cell::Duration(s.mean)),
    column("p50", "p50", |s| Cell::Duration(s.p50)),
    column("p90", "p90", |s| Cell::Duration(s.p90)),
    column("p95", "p95", |s| Cell::Duration(s.p95)),
    column("p99", "p99", |s| Cell::Duration(s.p99)),
    column("max", "max", |s| Cell::Duration(s.max)),
];

const LIFETIME: &[Column] = &[
    column("all-calls", "calls", |s| Cell::Count(s.count)),
    column("all-errors", "errors", |s| Cell::Count(s.errors)),
    column("all-mean", "mean", |s| Cell::Duration(s.mean)),
    column("all-p99", "p99", |s| Cell::Duration(s.p99)),
    column("all-max", "max", |s| Cell::Duration(s.max)),
];

const fn column(key: &'static str, heading: &'static str, value: fn(&Summary) -> Cell) -> Column {
    Column {
        key,
        heading,
        value,
    }
}

/// The page of `stats`.
pub(crate) fn page_of(stats: &Stats) -> String {
    let mut body = String::with_capacity(16 * 1024);
    if stats.window.is_zero() {
        body.push_str(
            "<p class=\"note off\">Statistics are off: turn them on with \
             <code>ExporterBuilder::stats(window)</code> (cargo feature <code>stats</code>).</p>",
        );
    } else {
        body.push_str("<p class=\"note\">Recent: the last ");
        layout::push_span(&mut body, stats.window);
        let _ = write!(
            body,
            " (between 5/6 of it and all of it). Durations within ±{:.2} %. \
             Click a heading to sort. The same as JSON: <a href=\"stats.json\">stats.json</a>.</p>",
            // Rounded up: the bound must not read tighter than it is.
            (stats.relative_error * 10_000.0).ceil() / 100.0
        );
    }
    let mut left_out = 0;
    for (id, title, rows, module) in [
        ("functions", "Functions", &stats.functions, true),
        ("routes", "HTTP routes", &stats.routes, false),
    ] {
        let _ = write!(
            body,
            "<section id=\"{id}\"><h1>{title} <span class=\"meta\">{}</span></h1>",
            rows.len()
        );
        if rows.is_empty() {
            body.push_str("<p class=\"note empty\">None yet.</p>");
        } else {
            left_out += push_table(&mut body, rows, module);
        }
        body.push_str("</section>");
    }
    if left_out > 0 {
        let _ = write!(
            body,
            "<p class=\"note truncated\">Page size limit reached: {left_out} rows not shown; \
             <a href=\"stats.json\">stats.json</a> has them all.</p>"
        );
    }
    layout::page("Statistics", Current::Stats, Some(SORT_SCRIPT), &body)
}

/// Appends the table of `rows`, slowest recent p99 first; returns how many
/// rows the page size left out.
fn push_table(out: &mut String, rows: &[FunctionStats], module: bool) -> usize {
    let mut sorted: Vec<&FunctionStats> = rows.iter().collect();
    // Stable: rows of equal p99 keep the snapshot's order (by name).
    sorted.sort_by_key(|f| std::cmp::Reverse(f.recent.p99));
    let names = if module { 2 } else { 1 };
    let _ = write!(
        out,
        "<div class=\"scroll\"><table class=\"stats\"><thead><tr><th colspan=\"{names}\"></th>\
         <th colspan=\"{}\" class=\"group\">recent</th><th colspan=\"{}\" class=\"group\">lifetime</th></tr><tr>",
        RECENT.len(),
        LIFETIME.len()
    );
    out.push_str("<th data-key=\"name\">name</th>");
    if module {
        out.push_str("<th data-key=\"module\">module</th>");
    }
    for column in RECENT.iter().chain(LIFETIME) {
        let sorted_by = if column.key == "p99" {
            " aria-sort=\"descending\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<th class=\"num\" data-key=\"{}\"{sorted_by}>{}</th>",
            column.key, column.heading
        );
    }
    out.push_str("</tr></thead><tbody>");
    let mut left_out = 0;
    for function in sorted {
        if out.len() >= MAX_PAGE_BYTES {
            left_out += 1;
            continue;
        }
        push_row(out, function, module);
    }
    out.push_str("</tbody></table></div>");
    left_out
}

fn push_row(out: &mut String, function: &FunctionStats, module: bool) {
    out.push_str("<tr><td class=\"name\">");
    push_text(out, &function.name);
    out.push_str("</td>");
    if module {
        out.push_str("<td class=\"module\">");
        push_text(out, &function.module);
        out.push_str("</td>");
    }
    for (summary, columns) in [(&function.recent, RECENT), (&function.lifetime, LIFETIME)] {
        for column in columns {
            match (column.value)(summary) {
                Cell::Count(n) => {
                    let _ = write!(out, "<td class=\"num\" data-v=\"{n}\">{n}</td>");
                }
                Cell::Duration(Some(d)) => {
                    let _ = write!(out, "<td class=\"num\" data-v=\"{}\">", d.as_nanos());
                    push_duration(out, d);
                    out.push_str("</td>");
                }
                Cell::Duration(None) => out.push_str("<td class=\"num\" data-v=\"\">–</td>"),
            }
        }
    }
    out.push_str("</tr>");
}

/// Sorting on a click on a heading, and on load by a `#sort=KEY[:asc]`
/// fragment. It reads only the page's own cells.
const SORT_SCRIPT: &str = r"(function () {
  function value(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) return cell.textContent;
    return v === '' ? -Infinity : Number(v);
  }
  function sort(table, th, direction) {
    var column = th.cellIndex, body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[column]), y = value(b.cells[column]);
      var order = typeof x === 'number' ? (x > y) - (x < y) : String(x).localeCompare(String(y));
      return direction === 'ascending' ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll('th[data-key]').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', direction);
  }
  document.querySelectorAll('table.stats').forEach(function (table) {
    table.querySelectorAll('th[data-key]').forEach(function (th) {
      th.addEventListener('click', function () {
        sort(table, th, th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending');
      });
    });
  });
  var asked = /^#sort=([a-z0-9-]+)(:asc)?$/.exec(location.hash);
  if (asked) {
    document.querySelectorAll('table.stats').forEach(function (table) {
      table.querySelectorAll('th[data-key]').forEach(function (th) {
        if (th.getAttribute('data-key') === asked[1]) sort(table, th, asked[2] ? 'ascending' : 'descending');
      });
    });
  }
})();";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::page_of;
    use crate::stats::{FunctionStats, Stats, Summary};

    fn summary(count: u64, errors: u64, p99_us: Option<u64>) -> Summary {
        let us = |n: u64| Duration::from_micros(n);
        Summary {
            count,
            errors,
            cancelled: 0,
            sum: us(count * 10),
            mean: p99_us.map(|_| us(10)),
            min: p99_us.map(|_| us(1)),
            max: p99_us.map(us),
            p50: p99_us.map(|_| us(9)),
            p90: p99_us.map(|_| us(12)),
            p95: p99_us.map(|_| us(14)),
            p99: p99_us.map(us),
        }
    }

    fn function(name: &str, recent_p99_us: Option<u64>) -> FunctionStats {
        FunctionStats {
            name: name.to_owned(),
            module: "app::<m>".to_owned(),
            lifetime: summary(100, 7, Some(500)),
            recent: summary(u64::from(recent_p99_us.is_some()) * 40, 2, recent_p99_us),
        }
    }

    fn stats(functions: Vec<FunctionStats>) -> Stats {
        Stats {
            window: Duration::from_secs(60),
            relative_error: 1.0 / 128.0,
            functions,
            routes: vec![FunctionStats {
                module: String::new(),
                ..function("GET /rooms/{name}", Some(20))
            }],
        }
    }

    fn rows(html: &str, section: &str) -> Vec<String> {
        let at = html.find(&format!("<section id=\"{section}\">")).unwrap();
        let body = &html[at..];
        let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
        body.split("<tr>").skip(1).map(str::to_owned).collect()
    }

    #[test]
    fn rows_come_slowest_first_with_raw_values_for_sorting() {
        let html = page_of(&stats(vec![
            function("fast", Some(50)),
            function("idle", None),
            function("slow", Some(900)),
        ]));
        let functions = rows(&html, "functions");
        let names: Vec<&str> = functions
            .iter()
            .map(|r| &r[r.find("name\">").unwrap() + 6..r.find("</td>").unwrap()])
            .collect();
        assert_eq!(names, ["slow", "fast", "idle"]);
        // name, module, 9 recent cells, 5 lifetime cells.
        let slow = &functions[0];
        assert_eq!(slow.matches("<td").count(), 2 + 9 + 5);
        assert!(
            slow.contains("<td class=\"num\" data-v=\"40\">40</td>"),
            "{slow}"
        );
        assert!(
            slow.contains("<td class=\"num\" data-v=\"900000\">900.00µs</td>"),
            "{slow}"
        );
        assert!(
            slow.contains("<td class=\"num\" data-v=\"7\">7</td>"),
            "{slow}"
        );
        assert!(
            slow.contains("<td class=\"num\" data-v=\"500000\">500.00µs</td>"),
            "{slow}"
        );
        assert_eq!(
            functions[2].matches("data-v=\"\">–</td>").count(),
            6,
            "no recent calls: six durations"
        );
        assert_eq!(rows(&html, "routes").len(), 1);
        assert!(
            html.contains("<th class=\"num\" data-key=\"p99\" aria-sort=\"descending\">p99</th>")
        );
        assert!(html.contains("Recent: the last 1 min"));
        assert!(html.contains("within ±0.79 %"));
    }

    #[test]
    fn names_and_modules_are_escaped() {
        let html = page_of(&stats(vec![function("<script>alert(1)</script>", Some(1))]));
        let row = &rows(&html, "functions")[0];
        assert!(row.starts_with("<td class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
        assert!(row.contains("<td class=\"module\">app::&lt;m&gt;</td>"));
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(html.contains("<td class=\"name\">GET /rooms/{name}</td>"));
    }

    #[test]
    fn statistics_that_are_off_say_how_to_turn_them_on() {
        let html = page_of(&Stats::default());
        assert!(html.contains("Statistics are off"));
        assert_eq!(html.matches("None yet.").count(), 2);
    }
}
