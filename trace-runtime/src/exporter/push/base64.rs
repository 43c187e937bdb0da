//! Base64 (RFC 4648) with padding, in the standard alphabet for HTTP basic
//! authentication and the URL-safe one for the Pushgateway's `@base64`
//! label values. Encoding only, a few lines: not worth a dependency.

/// The standard alphabet (`+`, `/`), RFC 4648 section 4.
pub(crate) const STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The URL- and filename-safe alphabet (`-`, `_`), RFC 4648 section 5.
pub(crate) const URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` in base64 with `alphabet`, padded with `=` to a multiple of four.
pub(crate) fn encode(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (i, shift) in [18_u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(alphabet[(n >> shift & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{encode, STANDARD, URL_SAFE};

    #[test]
    fn the_rfc_4648_test_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes(), STANDARD), encoded, "{plain:?}");
        }
    }

    #[test]
    fn the_alphabets_differ_in_the_last_two_letters() {
        assert_eq!(encode(&[0xfb, 0xff], STANDARD), "+/8=");
        assert_eq!(encode(&[0xfb, 0xff], URL_SAFE), "-_8=");
        // The Pushgateway's documented example.
        assert_eq!(encode(b"/var/tmp", URL_SAFE), "L3Zhci90bXA=");
    }
}
