//! Bounded label values: the method from a fixed set, the route from a
//! template, the status as its number.

use http::Method;

/// The route label, and the root's name suffix, of a request whose route is
/// unknown: no matched route, or a layer placed before routing with no
/// [`route_with`](super::TraceLayer::route_with) function.
pub const UNMATCHED: &str = "unmatched";

/// The methods of RFC 9110 and PATCH, in a fixed order (their index names a
/// slot in the handle cache); anything else is `OTHER`.
pub(crate) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
];

/// The index into [`METHODS`] of `method`.
pub(crate) fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    }
}

/// The `status` label of a request that got no response: the client went
/// away first (nginx's "client closed request").
pub(crate) const CANCELLED_STATUS: u16 = 499;

/// The `status` label of a request whose handler panicked, or whose service
/// returned an error instead of a response.
pub(crate) const FAILED_STATUS: u16 = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_bounded() {
        for name in &METHODS[..9] {
            let method = Method::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(METHODS[method_index(&method)], *name);
        }
        let odd = Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(METHODS[method_index(&odd)], "OTHER");
    }
}
