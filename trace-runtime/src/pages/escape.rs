//! Text into HTML: every name the pages show goes through [`push_text`],
//! so a function or request name carrying `<`, `&` or quotes is shown as
//! text, in element content and in attribute values alike.

/// The most characters of one name shown; longer names end in `…`.
pub(crate) const MAX_SHOWN_CHARS: usize = 160;

/// Appends `text` escaped for HTML content or a quoted attribute value,
/// cut to [`MAX_SHOWN_CHARS`] characters. Control characters (a NUL
/// byte, say) become U+FFFD, so nothing in a name can change the markup.
pub(crate) fn push_text(out: &mut String, text: &str) {
    for (shown, c) in text.chars().enumerate() {
        if shown == MAX_SHOWN_CHARS {
            out.push('…');
            return;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// `text` escaped as [`push_text`] does.
#[cfg(test)]
pub(crate) fn escaped(text: &str) -> String {
    let mut out = String::new();
    push_text(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::{escaped, MAX_SHOWN_CHARS};

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            escaped("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escaped("GameService::join_room"), "GameService::join_room");
        assert_eq!(escaped("GET /rooms/{name}"), "GET /rooms/{name}");
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(escaped("a\0b\u{1b}[31mc\td"), "a\u{fffd}b\u{fffd}[31mc\td");
        assert_eq!(escaped("line\nbreak"), "line\u{fffd}break");
    }

    #[test]
    fn long_names_are_cut_after_a_bounded_number_of_characters() {
        let long = "é".repeat(MAX_SHOWN_CHARS * 3);
        let shown = escaped(&long);
        assert_eq!(shown.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(shown.ends_with("é…"));
        let exact = "x".repeat(MAX_SHOWN_CHARS);
        assert_eq!(escaped(&exact), exact);
        // A cut never splits an entity.
        let markup = "<".repeat(MAX_SHOWN_CHARS + 1);
        assert_eq!(escaped(&markup), "&lt;".repeat(MAX_SHOWN_CHARS) + "…");
    }
}
