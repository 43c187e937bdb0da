//! The indented text form of a [`CallTree`].
//!
//! ```text
//! GET /rooms                         20.40ms
//!   GameService::create_room         15.10ms  busy 1.20ms
//!     GameService::validate_room      5.00ms
//!     GameService::save_room         10.00ms  err
//!   AuditLog::record                  2.10ms
//! ```
//!
//! Names are indented two spaces per level and padded to one column; durations
//! are right-aligned in the next; marks follow: `status 200` on an HTTP
//! request's root, `tree 7 inside tree 3` on the root of a request opened
//! inside another, `busy` time, the recorded fields (`room=lobby
//! user=ann`), `linked tree 7` on the node of a request opened inside this
//! one, `err`, `panic`, `cancelled`, `unfinished`, `slow`, and last the
//! recorded error text, `err: room "lobby" is full` (control characters
//! escaped). An aggregate of calls folded past the node cap reads `name ×N
//! <total>  total, own <own>`. Past 24 levels rows stop indenting and say
//! their depth (`[31] name`), and names pad to at most 64 columns, so the
//! text grows linearly with the number of calls.
//!
//! [`TextOptions`] choose ASCII only (`x3`, `...`, `us`) and the request's
//! summary under the tree.

use std::fmt::Write as _;
use std::time::Duration;

use crate::outcome::Outcome;
use crate::tree::{CallNode, CallTree, FunctionSummary, NodeData, NO_EXTRA, NO_TIME};

/// How [`CallTree::render_with`] writes a tree: in ASCII only or not, with
/// the request's [summary](CallTree::summary) under it or not (neither by
/// default).
///
/// ```
/// use trace_runtime::tree::TextOptions;
/// let options = TextOptions::default().ascii(true).summary(true);
/// assert_ne!(options, TextOptions::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    ascii: bool,
    summary: bool,
}

impl TextOptions {
    /// ASCII only: `x3` for `×3`, `...` for `…`, `us` for `µs`, so the
    /// text greps and pipes anywhere. Recorded texts (names, fields, error
    /// texts) are written as they are.
    #[must_use]
    pub fn ascii(mut self, ascii: bool) -> Self {
        self.ascii = ascii;
        self
    }

    /// The request's summary under the tree: per function, calls, total
    /// time, own time and errors, by own time.
    #[must_use]
    pub fn summary(mut self, summary: bool) -> Self {
        self.summary = summary;
        self
    }
}

/// The symbols of one character set.
struct Symbols {
    times: &'static str,
    more: &'static str,
    micros: &'static str,
}

const UNICODE: Symbols = Symbols {
    times: "×",
    more: "…",
    micros: "µs",
};

const ASCII: Symbols = Symbols {
    times: "x",
    more: "...",
    micros: "us",
};

impl CallTree {
    /// Renders the tree as aligned, indented text, one call per line.
    ///
    /// ```
    /// # use trace_runtime::tree::CallTree;
    /// fn print(tree: &CallTree) {
    ///     println!("{}", tree.render());
    /// }
    /// ```
    #[must_use]
    pub fn render(&self) -> String {
        self.render_with(TextOptions::default())
    }

    /// [`render`](Self::render) in ASCII only: `name x3`, `... 5 more calls`,
    /// `12.50us`.
    ///
    /// ```
    /// # use trace_runtime::tree::CallTree;
    /// fn print(tree: &CallTree) {
    ///     let text = tree.render_ascii();
    ///     assert!(text.lines().all(|line| line.is_ascii() || !tree.root().name().is_ascii()));
    ///     println!("{text}");
    /// }
    /// ```
    #[must_use]
    pub fn render_ascii(&self) -> String {
        self.render_with(TextOptions::default().ascii(true))
    }

    /// Renders the tree as [`TextOptions`] say.
    ///
    /// ```
    /// use trace_runtime::tree::{CallTree, TextOptions};
    /// fn print(tree: &CallTree) {
    ///     println!("{}", tree.render_with(TextOptions::default().summary(true)));
    /// }
    /// ```
    #[must_use]
    pub fn render_with(&self, options: TextOptions) -> String {
        let mut out = String::new();
        self.render_into(&mut out, options);
        out
    }

    /// Appends the rendering to `out`.
    pub(crate) fn render_into(&self, out: &mut String, options: TextOptions) {
        let symbols = if options.ascii { &ASCII } else { &UNICODE };
        self.render_tree(out, symbols);
        if options.summary {
            write_summary(out, &self.summary(), symbols);
        }
    }

    fn render_tree(&self, out: &mut String, symbols: &Symbols) {
        // Two passes over the nodes, the first for the column widths; no
        // allocation but the output's. Indentation and the name column are
        // capped, so a row's length does not grow with the tree's depth.
        let mut name_width = 0;
        let mut time_width = 0;
        // Bytes beyond the columns: names' multi-byte characters, and the
        // marks of rows that have some.
        let mut extra_bytes = 0;
        let mut sizes = NameSizes::default();
        for (index, node) in self.nodes.iter().enumerate() {
            let (width, overhang) = self.row_width(index, node, symbols, &mut sizes);
            name_width = name_width.max(width);
            time_width = time_width.max(Shown::from_nanos(node.wall_nanos).width());
            extra_bytes += overhang;
            if !is_plain(index, node) {
                extra_bytes += MARKS;
            }
        }
        let name_width = name_width.min(MAX_NAME_COLUMN);
        // Rows are as wide as the columns, plus the gap, the newline and the
        // byte `µ` takes beyond its column; the root's marks (`  status
        // 200`, ...) come on top. Reserved in full, as a text that outgrows
        // its reservation is copied (and past the allocator's mmap threshold,
        // 128 KiB with glibc, mapped and faulted in anew for every tree).
        let row = name_width + time_width + 3 + (symbols.micros.len() - 2);
        out.reserve(self.nodes.len() * row + extra_bytes + ROOT_MARKS);
        for (index, node) in self.nodes.iter().enumerate() {
            let depth = node.depth as usize;
            push_spaces(out, indent(depth));
            let mut width = indent(depth);
            if depth > MAX_INDENT_DEPTH {
                width += push_depth_marker(out, node.depth);
            }
            width += if let Some(name) = self.runtime_name(index, node) {
                push_text(out, name)
            } else {
                out.push_str(node.name);
                sizes.of(node.name).0
            };
            if node.aggregate {
                out.push(' ');
                out.push_str(symbols.times);
                push_decimal(out, node.calls);
                width += 2 + decimal_digits(node.calls);
            }
            let time = Shown::from_nanos(node.wall_nanos);
            let pad = name_width.saturating_sub(width);
            push_spaces(out, pad + 2 + time_width - time.width());
            time.push_to(out, symbols);
            if !is_plain(index, node) {
                write_marks(out, CallNode { tree: self, index }, symbols);
            }
            out.push('\n');
        }
        if self.uncounted > 0 {
            out.push_str(symbols.more);
            out.push(' ');
            push_decimal(out, self.uncounted);
            out.push_str(" more calls not shown (node cap reached)\n");
        }
    }

    /// A name given at run time (a request's, which may hold anything),
    /// rather than a function label from the code: the root's and a
    /// linked request's.
    fn runtime_name(&self, index: usize, node: &NodeData) -> Option<&str> {
        if index == 0 {
            return Some(&self.root.name);
        }
        if node.extra == NO_EXTRA {
            return None;
        }
        let extra = self.extras.get(node.extra as usize)?;
        extra.link.as_ref().map(|link| &*link.name)
    }

    /// Columns before the gap to the duration (indentation, depth marker,
    /// name and `×N`), and the bytes the name and `×` take beyond their
    /// columns.
    fn row_width(
        &self,
        index: usize,
        node: &NodeData,
        symbols: &Symbols,
        sizes: &mut NameSizes,
    ) -> (usize, usize) {
        let depth = node.depth as usize;
        let marker = if depth > MAX_INDENT_DEPTH {
            depth_marker_width(node.depth)
        } else {
            0
        };
        let (name, name_overhang) = match self.runtime_name(index, node) {
            Some(name) => (escaped_width(name), text_size(name).1),
            None => sizes.of(node.name),
        };
        let (times, times_overhang) = if node.aggregate {
            (2 + decimal_digits(node.calls), symbols.times.len() - 1)
        } else {
            (0, 0)
        };
        (
            indent(depth) + marker + name + times,
            name_overhang + times_overhang,
        )
    }
}

/// Bytes reserved for the marks of a row that has some: `  busy 12.34µs`,
/// `  err`, and a little more (fields and error messages may take more).
const MARKS: usize = 24;

/// The columns `text` takes, and its bytes beyond them (its multi-byte
/// characters'; an escaped control character takes as many bytes as
/// columns), in one look at it.
fn text_size(text: &str) -> (usize, usize) {
    if text.is_ascii() {
        (text.len(), 0)
    } else {
        let columns = text.chars().count();
        (columns, text.len() - columns)
    }
}

/// [`text_size`] of the function name last asked about: siblings that are
/// calls of one function (a loop's) look at their name once.
#[derive(Default)]
struct NameSizes {
    /// `""` at first, whose size is `(0, 0)`.
    last: &'static str,
    size: (usize, usize),
}

impl NameSizes {
    fn of(&mut self, name: &'static str) -> (usize, usize) {
        if !std::ptr::eq(name, self.last) {
            self.last = name;
            self.size = text_size(name);
        }
        self.size
    }
}

/// A node with no marks to write: a call (not the root, not an aggregate)
/// that returned, on time, recording nothing, and busy all its wall time.
fn is_plain(index: usize, node: &NodeData) -> bool {
    index != 0
        && !node.aggregate
        && !node.slow
        && node.extra == NO_EXTRA
        && node.outcome == Some(Outcome::Ok)
        && (node.busy_nanos == NO_TIME || node.busy_nanos >= node.wall_nanos)
}

/// The summary block: a header, then one aligned line per function.
fn write_summary(out: &mut String, lines: &[FunctionSummary], symbols: &Symbols) {
    const HEADER: [&str; 4] = ["calls", "total", "own", "errors"];
    let shown = |d| Shown::new(d).to_text(symbols);
    let rows: Vec<[String; 5]> = lines
        .iter()
        .map(|l| {
            [
                l.name.clone(),
                l.calls.to_string(),
                shown(l.total),
                shown(l.own),
                l.errors.to_string(),
            ]
        })
        .collect();
    let title = "summary, by own time";
    let mut widths = [title.len(), 0, 0, 0, 0];
    for (i, head) in HEADER.iter().enumerate() {
        widths[i + 1] = head.len();
    }
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let _ = write!(out, "{title:<w$}", w = widths[0]);
    for (head, width) in HEADER.iter().zip(&widths[1..]) {
        let _ = write!(out, "  {head:>width$}");
    }
    out.push('\n');
    for row in &rows {
        // Names pad by characters, as `{:<}` does.
        let _ = write!(out, "{:<w$}", row[0], w = widths[0]);
        for (cell, width) in row[1..].iter().zip(&widths[1..]) {
            let _ = write!(out, "  {cell:>width$}");
        }
        out.push('\n');
    }
}

/// Deeper nodes are indented as at this depth and say their depth, `[31]`.
pub(crate) const MAX_INDENT_DEPTH: usize = 24;

/// Bytes reserved for the root's marks: `  status 200  tree 7 inside
/// tree 3` and a little more.
const ROOT_MARKS: usize = 64;

/// Names are padded to at most this many columns; longer rows push their
/// duration right.
pub(crate) const MAX_NAME_COLUMN: usize = 64;

/// `n` spaces: pushed in chunks of a constant size (each a few stores,
/// not a call), then cut to length. One chunk covers the widest
/// indentation (48) and most paddings.
fn push_spaces(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let end = out.len() + n;
    let mut left = n;
    while left > 0 {
        out.push_str(SPACES);
        left = left.saturating_sub(SPACES.len());
    }
    out.truncate(end);
}

/// `n` in decimal, without the formatting machinery (a tree renders
/// thousands of numbers).
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0_u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // A digit: `n % 10 < 10`.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// `[31] `, the depth mark of a row past [`MAX_INDENT_DEPTH`]; returns
/// its width. Depths below 10 000 (all but the deepest recursions) are
/// written digit by digit, without a division loop or a logarithm.
fn push_depth_marker(out: &mut String, depth: u32) -> usize {
    out.push('[');
    let n = u64::from(depth);
    if n >= 10_000 {
        push_decimal(out, n);
    } else {
        if n >= 1_000 {
            out.push(digit(n / 1_000));
        }
        if n >= 100 {
            out.push(digit(n / 100));
        }
        out.push(digit(n / 10));
        out.push(digit(n));
    }
    out.push_str("] ");
    depth_marker_width(depth)
}

/// The last decimal digit of `n`.
fn digit(n: u64) -> char {
    // `n % 10 < 10`.
    char::from(b'0' + (n % 10) as u8)
}

/// Columns of [`push_depth_marker`]'s mark (depths are above 24).
fn depth_marker_width(depth: u32) -> usize {
    let digits = match depth {
        0..100 => 2,
        100..1_000 => 3,
        1_000..10_000 => 4,
        _ => decimal_digits(u64::from(depth)),
    };
    digits + 3
}

fn indent(depth: usize) -> usize {
    depth.min(MAX_INDENT_DEPTH) * 2
}

/// Columns of a text written as it is (`µ` is one).
fn text_width(text: &str) -> usize {
    text_size(text).0
}

/// Whether `text` has no control character (each would be escaped).
fn is_clean(text: &str) -> bool {
    // Control characters are C0 (below 0x20), DEL, and C1 (U+0080 to
    // U+009F, encoded 0xC2 0x80..=0x9F); checking for 0xC2 alone is a
    // cheap superset.
    text.bytes().all(|b| b >= 0x20 && b != 0x7f && b != 0xc2)
}

/// Columns of `text` as [`push_text`] writes it.
fn escaped_width(text: &str) -> usize {
    if is_clean(text) {
        return text_width(text);
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().count()
            } else {
                1
            }
        })
        .sum()
}

/// Writes `text` with control characters escaped; returns its columns.
fn push_text(out: &mut String, text: &str) -> usize {
    if is_clean(text) {
        out.push_str(text);
        return text_width(text);
    }
    push_escaped(out, text);
    escaped_width(text)
}

fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// A duration as shown: `850ns`, `12.34µs`, `20.40ms`, `1.500s`.
#[derive(Clone, Copy)]
struct Shown {
    /// Whole units, then hundredths (thousandths for seconds; none for
    /// nanoseconds).
    whole: u64,
    fraction: u64,
    unit: Unit,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Nanos,
    Micros,
    Millis,
    Seconds,
}

/// `"00"` to `"99"`: two digits written by one two-byte copy.
const PAIRS: [&str; 100] = {
    const DIGITS: &[u8; 200] = b"\
        0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut pairs = [""; 100];
    let mut i = 0;
    while i < 100 {
        let (two, _) = DIGITS.split_at(i * 2).1.split_at(2);
        pairs[i] = match std::str::from_utf8(two) {
            Ok(text) => text,
            // Evaluated at compile time: ASCII digits are UTF-8.
            Err(_) => panic!("digits are ASCII"),
        };
        i += 1;
    }
    pairs
};

/// The two digits of `n % 100`.
fn pair(n: u64) -> &'static str {
    PAIRS[(n % 100) as usize]
}

impl Shown {
    fn new(d: Duration) -> Shown {
        // Whole nanoseconds fit a u64 for 584 years.
        Shown::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    fn from_nanos(nanos: u64) -> Shown {
        let nanos = nanos.min(u64::MAX / 2);
        // Rounded to the digits shown, as `{:.2}` of the float would; each
        // branch divides by constants (multiplications, not divisions).
        let (rounded, unit) = if nanos < 1_000 {
            return Shown {
                whole: nanos,
                fraction: 0,
                unit: Unit::Nanos,
            };
        } else if nanos < 1_000_000 {
            ((nanos + 5) / 10, Unit::Micros)
        } else if nanos < 1_000_000_000 {
            ((nanos + 5_000) / 10_000, Unit::Millis)
        } else {
            return Shown {
                whole: (nanos + 500_000) / 1_000_000 / 1_000,
                fraction: (nanos + 500_000) / 1_000_000 % 1_000,
                unit: Unit::Seconds,
            };
        };
        Shown {
            whole: rounded / 100,
            fraction: rounded % 100,
            unit,
        }
    }

    /// Columns it takes (`µ` is one).
    fn width(self) -> usize {
        // The fraction with its point, and the unit: `ns`, or `.12µs`,
        // `.12ms`, `.123s`.
        let rest = if self.unit == Unit::Nanos { 2 } else { 5 };
        // Whole units but seconds are below 1000: two comparisons, not a
        // logarithm.
        let digits = if self.whole < 1_000 {
            1 + usize::from(self.whole >= 10) + usize::from(self.whole >= 100)
        } else {
            decimal_digits(self.whole)
        };
        digits + rest
    }

    fn push_to(self, out: &mut String, symbols: &Symbols) {
        let whole = self.whole;
        if whole < 10 {
            out.push(digit(whole));
        } else if whole < 100 {
            out.push_str(pair(whole));
        } else if whole < 1_000 {
            // Every unit but seconds: at most three digits.
            out.push(digit(whole / 100));
            out.push_str(pair(whole));
        } else {
            push_decimal(out, whole);
        }
        let f = self.fraction;
        match self.unit {
            Unit::Nanos => out.push_str("ns"),
            Unit::Micros | Unit::Millis => {
                out.push('.');
                out.push_str(pair(f));
                // `µs` and `us` take as many columns.
                out.push_str(if self.unit == Unit::Millis {
                    "ms"
                } else {
                    symbols.micros
                });
            }
            Unit::Seconds => {
                out.push('.');
                out.push(digit(f / 100));
                out.push_str(pair(f));
                out.push('s');
            }
        }
    }

    fn to_text(self, symbols: &Symbols) -> String {
        let mut text = String::with_capacity(12);
        self.push_to(&mut text, symbols);
        text
    }
}

/// A duration as the rendered tree shows it (`850ns`, `12.34µs`,
/// `20.40ms`, `1.500s`), for other views of a tree.
#[cfg(feature = "pages")]
pub(crate) fn push_duration(out: &mut String, d: Duration) {
    Shown::new(d).push_to(out, &UNICODE);
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text(&UNICODE))
    }
}

impl std::fmt::Display for CallTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

fn write_marks(out: &mut String, node: CallNode<'_>, symbols: &Symbols) {
    if node.depth() == 0 {
        if let Some(status) = node.tree.status() {
            out.push_str("  status ");
            push_decimal(out, u64::from(status));
        }
        if let Some(outer) = node.tree.outer_tree() {
            out.push_str("  tree ");
            push_decimal(out, node.tree.id());
            out.push_str(" inside tree ");
            push_decimal(out, outer);
        }
    }
    if node.is_aggregate() {
        out.push_str("  total, own ");
        Shown::new(node.own()).push_to(out, symbols);
        if node.failures() > 0 {
            out.push_str("  err ");
            out.push_str(symbols.times);
            push_decimal(out, node.failures());
        }
        return;
    }
    if let Some(busy) = node.busy() {
        if busy < node.wall() {
            out.push_str("  busy ");
            Shown::new(busy).push_to(out, symbols);
        }
    }
    let extra = node.extra();
    if let Some(extra) = extra {
        write_fields(out, &extra.fields);
        if let Some(link) = &extra.link {
            out.push_str("  linked tree ");
            push_decimal(out, link.tree);
        }
    }
    let error = extra.and_then(|e| e.error.as_deref());
    out.push_str(match (node.outcome(), error) {
        (Some(Outcome::Ok), _) | (Some(Outcome::Error), Some(_)) => "",
        (Some(Outcome::Error), None) => "  err",
        (Some(Outcome::Panic), _) => "  panic",
        (Some(Outcome::Cancelled), _) => "  cancelled",
        (None, _) => "  unfinished",
    });
    if node.is_slow() {
        out.push_str("  slow");
    }
    if let Some(error) = error {
        out.push_str("  err: ");
        push_escaped(out, error);
    }
}

/// `room=lobby user="ann b"`: values quoted (with `"` and `\` escaped)
/// when empty or holding whitespace, so fields stay apart.
fn write_fields(out: &mut String, fields: &[(&'static str, Box<str>)]) {
    for (i, (name, value)) in fields.iter().enumerate() {
        out.push_str(if i == 0 { "  " } else { " " });
        out.push_str(name);
        out.push('=');
        let quoted = value.is_empty() || value.chars().any(char::is_whitespace);
        if quoted {
            out.push('"');
            for c in value.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                push_char_escaped(out, c);
            }
            out.push('"');
        } else {
            push_escaped(out, value);
        }
    }
}

/// `text` with control characters escaped (`\n`, `\u{1b}`), so a recorded
/// text stays on its row.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        push_char_escaped(out, c);
    }
}

fn push_char_escaped(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{depth_marker_width, push_depth_marker, push_spaces, Shown};

    #[test]
    fn depth_marks_read_as_the_decimal_depth_and_say_their_width() {
        for depth in [25, 99, 100, 999, 1_000, 9_999, 10_000, 123_456, u32::MAX] {
            let mut out = String::from("x");
            let width = push_depth_marker(&mut out, depth);
            assert_eq!(out, format!("x[{depth}] "));
            assert_eq!(width, out.len() - 1, "{out}");
            assert_eq!(depth_marker_width(depth), width, "{out}");
        }
    }

    #[test]
    fn spaces_are_as_many_as_asked_past_one_chunk() {
        for n in [0, 1, 63, 64, 65, 130] {
            let mut out = String::from("x");
            push_spaces(&mut out, n);
            assert_eq!(out, format!("x{}", " ".repeat(n)));
        }
    }

    fn shown(nanos: u64) -> String {
        Shown::new(Duration::from_nanos(nanos)).to_string()
    }

    #[test]
    fn durations_read_in_their_unit_with_fixed_digits() {
        assert_eq!(shown(0), "0ns");
        assert_eq!(shown(850), "850ns");
        assert_eq!(shown(1_000), "1.00µs");
        assert_eq!(shown(12_344), "12.34µs");
        assert_eq!(shown(12_345), "12.35µs");
        assert_eq!(shown(20_400_000), "20.40ms");
        assert_eq!(shown(1_500_000_000), "1.500s");
        assert_eq!(shown(61_000_400_000), "61.000s");
    }

    #[test]
    fn the_width_is_the_shown_columns() {
        let mut nanos = 1_u64;
        while nanos < u64::MAX / 8 {
            for n in [nanos, nanos * 2 - 1, nanos * 3] {
                let d = Shown::new(Duration::from_nanos(n));
                assert_eq!(d.width(), d.to_string().chars().count(), "{n}");
            }
            nanos = nanos * 7 / 3 + 1;
        }
    }
}
