//! What a node records beyond its timing, only when asked: the text of the
//! error its call returned (`#[trace(err)]`), the values its attribute chose
//! (`#[trace(fields(...))]`), and, for a request opened inside another, a
//! link to that request's own tree.
//!
//! A live tree keeps these apart from its nodes, in a list filled under its
//! lock when a call records one, so calls that record none pay nothing.
//! Texts are bounded: [`MAX_ERROR_BYTES`] for an error, [`MAX_FIELD_BYTES`]
//! for a field's value; longer ones are cut on a character boundary and end
//! in `...`.

use std::fmt;

use crate::tree::RootName;

/// The longest error text kept on a node, in bytes, `...` included.
pub const MAX_ERROR_BYTES: usize = 256;

/// The longest field value kept on a node, in bytes, `...` included.
pub const MAX_FIELD_BYTES: usize = 128;

/// The marker ending a text cut at its bound.
const CUT: &str = "...";

/// A node's annotations; see the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeExtra {
    pub(crate) error: Option<Box<str>>,
    pub(crate) fields: Vec<(&'static str, Box<str>)>,
    pub(crate) link: Option<Link>,
}

/// A request opened inside another: shown in the outer tree as one node.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    /// The inner request's tree.
    pub(crate) tree: u64,
    pub(crate) name: RootName,
}

/// Text written through [`fmt::Write`] up to a bound: past it, the text is
/// cut on a character boundary, ends in `...`, and further writes fail, so
/// a long `Display` stops early instead of being formatted in full.
pub(crate) struct Bounded {
    text: String,
    limit: usize,
    full: bool,
}

impl Bounded {
    pub(crate) fn new(limit: usize) -> Bounded {
        Bounded {
            text: String::new(),
            limit: limit.max(CUT.len()),
            full: false,
        }
    }

    /// Formats `value` with `Display`, within the bound.
    pub(crate) fn display(limit: usize, value: &(impl fmt::Display + ?Sized)) -> Box<str> {
        let mut out = Bounded::new(limit);
        let _ = fmt::write(&mut out, format_args!("{value}"));
        out.finish()
    }

    /// Formats `value` with `Debug`, within the bound.
    pub(crate) fn debug(limit: usize, value: &(impl fmt::Debug + ?Sized)) -> Box<str> {
        let mut out = Bounded::new(limit);
        let _ = fmt::write(&mut out, format_args!("{value:?}"));
        out.finish()
    }

    pub(crate) fn finish(self) -> Box<str> {
        self.text.into_boxed_str()
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.full {
            return Err(fmt::Error);
        }
        if self.text.len() + s.len() <= self.limit {
            self.text.push_str(s);
            return Ok(());
        }
        // Room for the marker: keep what fits before it.
        let room = self.limit - CUT.len();
        let mut keep = room.saturating_sub(self.text.len()).min(s.len());
        while !s.is_char_boundary(keep) {
            keep -= 1;
        }
        if self.text.len() > room {
            let mut at = room;
            while !self.text.is_char_boundary(at) {
                at -= 1;
            }
            self.text.truncate(at);
            keep = 0;
        }
        self.text.push_str(&s[..keep]);
        self.text.push_str(CUT);
        self.full = true;
        Err(fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn texts_within_the_bound_are_kept_whole() {
        assert_eq!(&*Bounded::display(8, "12345678"), "12345678");
        assert_eq!(&*Bounded::debug(16, "ab"), "\"ab\"");
    }

    #[test]
    fn longer_texts_are_cut_on_a_char_boundary_and_marked() {
        assert_eq!(&*Bounded::display(8, "123456789"), "12345...");
        // `é` is two bytes: cutting inside it would be invalid UTF-8.
        assert_eq!(&*Bounded::display(8, "1234é6789"), "1234...");
        let long = "x".repeat(10_000);
        let cut = Bounded::display(256, &long);
        assert_eq!(cut.len(), 256);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn a_text_written_in_pieces_is_cut_once() {
        struct Pieces;
        impl std::fmt::Display for Pieces {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for _ in 0..100 {
                    f.write_str("abc")?;
                }
                Ok(())
            }
        }
        assert_eq!(&*Bounded::display(10, &Pieces), "abcabca...");
    }
}
