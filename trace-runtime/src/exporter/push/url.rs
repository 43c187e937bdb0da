//! The Pushgateway endpoint of one grouping key:
//! `<base>/metrics/job/<job>{/<label>/<value>}`, each value one
//! percent-encoded path segment, or in the `@base64` form (URL-safe base64)
//! when it holds a `/` or is empty, as the Pushgateway's documentation asks.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use hyper::Uri;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::exporter::error::ExportError;

/// Every byte but RFC 3986's unreserved ones is written as `%XX`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The endpoint for `job` and `labels` under the gateway's `base` URL
/// (`http://host:port`, maybe with a path prefix), checked.
pub(crate) fn endpoint(
    base: &str,
    job: &str,
    labels: &[(String, String)],
) -> Result<Uri, ExportError> {
    let invalid = |reason: &'static str| ExportError::InvalidPushUrl {
        input: redacted(base),
        reason,
    };
    let uri: Uri = base
        .trim()
        .parse()
        .map_err(|_| invalid("it is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(ExportError::PushNeedsTls {
                url: redacted(base),
            })
        }
        Some(_) => return Err(invalid("the scheme must be http://")),
        None => return Err(invalid("it has no scheme: write it as http://host:port")),
    }
    let Some(authority) = uri.authority() else {
        return Err(invalid("it has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid(
            "it carries credentials: give them to `PushGateway::basic_auth(...)` instead",
        ));
    }
    if uri.query().is_some() {
        return Err(invalid("it has a query string"));
    }
    let prefix = uri.path().trim_end_matches('/');
    if prefix.split('/').any(|segment| segment == "metrics") {
        return Err(invalid(
            "give the gateway's base URL, without /metrics/job/...: the job and labels are added from `PushGateway::new` and `grouping_label`",
        ));
    }
    let mut url = format!("http://{authority}{prefix}/metrics");
    push_pair(&mut url, "job", job);
    for (name, value) in labels {
        push_pair(&mut url, name, value);
    }
    url.parse().map_err(|_| invalid("it is not a URL"))
}

/// Appends `/<name>/<value>`, or `/<name>@base64/<value in base64>`.
/// Label names are checked to be `[a-zA-Z_][a-zA-Z0-9_]*` beforehand.
fn push_pair(url: &mut String, name: &str, value: &str) {
    url.push('/');
    url.push_str(name);
    if value.is_empty() {
        url.push_str("@base64/=");
    } else if value.contains('/') {
        url.push_str("@base64/");
        URL_SAFE.encode_string(value.as_bytes(), url);
    } else {
        url.push('/');
        url.extend(utf8_percent_encode(value, SEGMENT));
    }
}

/// `input` with any `user:password@` replaced by `…@`, for error messages.
fn redacted(input: &str) -> String {
    let input = input.trim();
    let (scheme, rest) = input.split_once("://").unwrap_or(("", input));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if !scheme.is_empty() => format!("{scheme}://…{}", &rest[at..]),
        _ => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint;
    use crate::exporter::error::ExportError;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn plain_values_are_path_segments_and_slashes_go_to_base64() {
        let uri = endpoint(
            "http://127.0.0.1:9091/",
            "nightly",
            &labels(&[
                ("instance", "host 1?#%é"),
                ("path", "/var/tmp"),
                ("empty", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            uri.to_string(),
            "http://127.0.0.1:9091/metrics/job/nightly/instance/host%201%3F%23%25%C3%A9/path@base64/L3Zhci90bXA=/empty@base64/="
        );
        let job = endpoint("http://gw:9091/prefix", "a/b", &[]).unwrap();
        assert_eq!(
            job.to_string(),
            "http://gw:9091/prefix/metrics/job@base64/YS9i"
        );
    }

    #[test]
    fn https_names_tls_and_other_mistakes_say_what_is_wrong() {
        let err = endpoint("https://gw:9091", "j", &[]).unwrap_err();
        assert!(matches!(err, ExportError::PushNeedsTls { .. }), "{err}");
        for (input, reason) in [
            ("gw:9091", "scheme"),
            ("ftp://gw", "scheme must be http"),
            ("http://gw:9091/metrics/job/x", "base URL"),
            ("http://gw:9091/?a=b", "query"),
            ("http://u:secret@gw:9091", "basic_auth"),
            ("http://bad host", "not a URL"),
        ] {
            let err = endpoint(input, "j", &[]).unwrap_err();
            assert!(
                matches!(err, ExportError::InvalidPushUrl { .. }),
                "{input}: {err}"
            );
            let text = err.to_string();
            assert!(text.contains(reason), "{input}: {text}");
            assert!(!text.contains("secret"), "{text}");
        }
    }
}
