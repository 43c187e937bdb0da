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
//! are right-aligned in the next; marks (`status 200` on an HTTP request's
//! root, `err`, `panic`, `cancelled`, `slow`, `unfinished`, `×N`) follow.

use std::fmt::Write as _;
use std::time::Duration;

use crate::outcome::Outcome;
use crate::tree::{CallNode, CallTree};

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
        // Two passes over the nodes, the first for the column widths; no
        // allocation but the output's.
        let mut name_width = 0;
        let mut time_width = 0;
        for node in self.iter() {
            name_width = name_width.max(node.depth() * 2 + label_width(node));
            time_width = time_width.max(Shown::new(node.wall()).width());
        }
        let mut out = String::with_capacity(self.nodes.len() * (name_width + time_width + 16));
        for node in self.iter() {
            let indent = node.depth() * 2;
            push_spaces(&mut out, indent);
            out.push_str(node.name());
            if node.calls() > 1 {
                let _ = write!(out, " ×{}", node.calls());
            }
            let time = Shown::new(node.wall());
            push_spaces(
                &mut out,
                name_width - indent - label_width(node) + 2 + time_width - time.width(),
            );
            let _ = write!(out, "{time}");
            write_marks(&mut out, node);
            out.push('\n');
        }
        if self.uncounted > 0 {
            let _ = writeln!(
                out,
                "… {} more calls not shown (node cap reached)",
                self.uncounted
            );
        }
        out
    }
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Columns of a node's name and its `×N`.
fn label_width(node: CallNode<'_>) -> usize {
    let name = node.name().chars().count();
    if node.calls() > 1 {
        name + 2 + decimal_digits(node.calls())
    } else {
        name
    }
}

fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// A duration as shown: `850ns`, `12.34µs`, `20.40ms`, `1.500s`.
#[derive(Clone, Copy)]
struct Shown {
    /// Whole units, then hundredths (thousandths for seconds).
    whole: u128,
    fraction: u128,
    unit: &'static str,
}

impl Shown {
    fn new(d: Duration) -> Shown {
        let nanos = d.as_nanos();
        // Rounded to the digits shown, as `{:.2}` of the float would.
        let (scale, digits, unit) = if nanos < 1_000 {
            return Shown {
                whole: nanos,
                fraction: u128::MAX,
                unit: "ns",
            };
        } else if nanos < 1_000_000 {
            (1_000, 100, "µs")
        } else if nanos < 1_000_000_000 {
            (1_000_000, 100, "ms")
        } else {
            (1_000_000_000, 1_000, "s")
        };
        let step = scale / digits;
        let rounded = (nanos + step / 2) / step;
        Shown {
            whole: rounded / digits,
            fraction: rounded % digits,
            unit,
        }
    }

    /// Columns it takes (`µ` is one).
    fn width(self) -> usize {
        let whole = self.whole.checked_ilog10().map_or(1, |d| d as usize + 1);
        let fraction = match (self.fraction, self.unit) {
            (u128::MAX, _) => 0,
            (_, "s") => 4,
            _ => 3,
        };
        whole + fraction + self.unit.chars().count()
    }
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.fraction, self.unit) {
            (u128::MAX, unit) => write!(f, "{}{unit}", self.whole),
            (fraction, "s") => write!(f, "{}.{fraction:03}s", self.whole),
            (fraction, unit) => write!(f, "{}.{fraction:02}{unit}", self.whole),
        }
    }
}

impl std::fmt::Display for CallTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

fn write_marks(out: &mut String, node: CallNode<'_>) {
    if node.depth() == 0 {
        if let Some(status) = node.tree.status() {
            let _ = write!(out, "  status {status}");
        }
    }
    if node.calls() > 1 {
        out.push_str("  total");
        if node.failures() > 0 {
            let _ = write!(out, "  err ×{}", node.failures());
        }
        return;
    }
    if let Some(busy) = node.busy() {
        if busy < node.wall() {
            let _ = write!(out, "  busy {}", Shown::new(busy));
        }
    }
    out.push_str(match node.outcome() {
        Some(Outcome::Ok) => "",
        Some(Outcome::Error) => "  err",
        Some(Outcome::Panic) => "  panic",
        Some(Outcome::Cancelled) => "  cancelled",
        None => "  unfinished",
    });
    if node.is_slow() {
        out.push_str("  slow");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Shown;

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
