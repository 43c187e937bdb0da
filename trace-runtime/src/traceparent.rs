//! The W3C Trace Context `traceparent` header: which distributed trace a
//! request belongs to, and which span in another service called it.

use std::fmt;

/// A parsed W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`).
///
/// The HTTP layer keeps a valid incoming header on the request's
/// [`CallTree`](crate::tree::CallTree) (see
/// [`remote_parent`](crate::tree::CallTree::remote_parent)), so an exporter
/// can join the caller's distributed trace.
///
/// ```
/// use trace_runtime::context::TraceParent;
///
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let parent = TraceParent::parse(header).unwrap();
/// assert!(parent.is_sampled());
/// assert_eq!(parent.to_string(), header);
/// // Invalid headers are not an error, just absent.
/// assert_eq!(TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace's 16-byte id, never all zeros.
    pub trace_id: [u8; 16],
    /// The calling span's 8-byte id, never all zeros.
    pub parent_id: [u8; 8],
    /// The trace flags; bit 0 is "sampled".
    pub flags: u8,
}

impl TraceParent {
    /// Parses a `traceparent` header value; `None` unless it is valid
    /// (lowercase hex, non-zero ids, version other than `ff`, exactly 55
    /// characters for version `00`; later versions may append `-...`).
    #[must_use]
    pub fn parse(header: &str) -> Option<TraceParent> {
        let bytes = header.trim_matches([' ', '\t']).as_bytes();
        if bytes.len() < 55 || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let [version] = hex::<1>(&bytes[0..2])?;
        if version == 0xff || (version == 0 && bytes.len() != 55) {
            return None;
        }
        if bytes.len() > 55 && bytes[55] != b'-' {
            return None;
        }
        let trace_id = hex::<16>(&bytes[3..35])?;
        let parent_id = hex::<8>(&bytes[36..52])?;
        let [flags] = hex::<1>(&bytes[53..55])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// Whether the caller sampled the trace (flag bit 0).
    #[must_use]
    pub fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// Formats as the header value, version `00`.
impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("00-")?;
        for byte in self.trace_id {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("-")?;
        for byte in self.parent_id {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "-{:02x}", self.flags)
    }
}

/// `N` bytes from `2 * N` lowercase hex digits.
fn hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_and_formats_back() {
        let parent = TraceParent::parse(VALID).unwrap();
        assert_eq!(parent.trace_id[0], 0x4b);
        assert_eq!(parent.parent_id[7], 0xb7);
        assert_eq!(parent.flags, 1);
        assert_eq!(parent.to_string(), VALID);
    }

    #[test]
    fn rejects_what_the_spec_rejects() {
        let invalid = [
            "",
            "garbage",
            &VALID[..54],
            &format!("{VALID}0"),
            &VALID.to_uppercase(),
            &VALID.replace("00-4b", "ff-4b"),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
        ];
        for header in invalid {
            assert_eq!(TraceParent::parse(header), None, "{header:?}");
        }
    }

    #[test]
    fn later_versions_may_carry_more() {
        let v1 = VALID.replacen("00", "01", 1);
        assert!(TraceParent::parse(&v1).is_some());
        assert!(TraceParent::parse(&format!("{v1}-extra")).is_some());
        assert!(TraceParent::parse(&format!("{v1}extra")).is_none());
    }
}
