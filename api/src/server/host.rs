//! The `Host` rules every request must meet before the app sees it: one valid authority per
//! request (RFC 9112 §3.2 for HTTP/1, RFC 9113 §8.3.1 for HTTP/2), answered like the Express
//! reference answers a malformed `Host`: 400 `invalid_request`, `Invalid Host header`.
//!
//! A valid value is `uri-host [ ":" port ]` (RFC 9110 §7.2 with RFC 3986's `host`), narrowed
//! where no HTTP client goes and the `http` crate's own [`Authority`](http::uri::Authority)
//! parser refuses: no percent-encoded name and no `IPvFuture` literal. So an accepted value:
//!
//! - is a name of letters, digits and `-._~!$&'()*+,;=` (an IPv4 address is such a name), or an
//!   IPv6 address in brackets (`[::1]`);
//! - optionally followed by `:` and a port of one to five digits, at most 65535;
//! - and nothing else: no userinfo (`user@`), no path, no whitespace, no byte outside ASCII.
//!
//! Nothing here allocates: the check runs on every request.

use std::net::Ipv6Addr;

use http::header::HOST;
use http::{HeaderMap, Uri, Version};

use crate::auth::AuthError;

/// The description of the refusal, in the reference's words.
pub const INVALID_HOST: &str = "Invalid Host header";

/// The refusal of a request that breaks the `Host` rules: 400, the challenge
/// `Bearer realm="api", error="invalid_request", error_description="Invalid Host header"` and
/// the body `{"message":"Invalid Host header"}`.
pub const HOST_REFUSAL: AuthError = AuthError::InvalidRequest(INVALID_HOST);

/// Checks that a request names exactly one valid authority, by its HTTP version:
///
/// - HTTP/1.1: exactly one `Host` field, and a valid one ([`is_valid_host`]);
/// - HTTP/1.0 and 0.9: `Host` is optional, but if present, exactly one and valid;
/// - HTTP/2 and later: the authority is the request's `:authority` (the URI's) or its `Host`,
///   and at least one of them is there; a `Host` must be single and valid, and when both are
///   there they must name the same host and port (a missing port being the scheme's default).
///
/// In every version an authority in the request target (HTTP/1's absolute form, HTTP/2's
/// `:authority`) must be valid too. Its refusal is [`HOST_REFUSAL`].
pub fn check_host(version: Version, uri: &Uri, headers: &HeaderMap) -> Result<(), AuthError> {
    let target = uri
        .authority()
        .map(|authority| authority.as_str().as_bytes());
    let mut fields = headers.get_all(HOST).iter();
    let host = fields.next().map(http::HeaderValue::as_bytes);
    let well_formed = fields.next().is_none()
        && host.is_none_or(is_valid_host)
        && target.is_none_or(is_valid_host);
    let named = match version {
        Version::HTTP_09 | Version::HTTP_10 => true,
        Version::HTTP_2 | Version::HTTP_3 => match (target, host) {
            (Some(target), Some(host)) => same_authority(target, host, default_port(uri)),
            (target, host) => target.is_some() || host.is_some(),
        },
        // HTTP/1.1, and any later HTTP/1 minor version hyper may hand over.
        _ => host.is_some(),
    };
    if well_formed && named {
        Ok(())
    } else {
        Err(HOST_REFUSAL)
    }
}

/// Whether `value` is a valid `Host` value: `uri-host [ ":" port ]` as the module doc narrows
/// it. The empty value is not: every URI this API serves (`http`, `https`) has a host.
pub fn is_valid_host(value: &[u8]) -> bool {
    split_port(value).is_some_and(|(host, port)| {
        is_valid_uri_host(host) && port.is_none_or(|port| parse_port(port).is_some())
    })
}

/// `value` as its host and the digits after `:`, if any; `None` if something other than a
/// port follows the host.
fn split_port(value: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let host_end = if value.first() == Some(&b'[') {
        value.iter().position(|&byte| byte == b']').map(|at| at + 1)
    } else {
        value.iter().position(|&byte| byte == b':')
    }
    .unwrap_or(value.len());
    let (host, rest) = value.split_at(host_end);
    match rest {
        [] => Some((host, None)),
        [b':', port @ ..] => Some((host, Some(port))),
        _ => None,
    }
}

/// A registered name (or IPv4 address) without percent-encoding, or an IPv6 literal.
fn is_valid_uri_host(host: &[u8]) -> bool {
    match host {
        [b'[', literal @ .., b']'] => {
            std::str::from_utf8(literal).is_ok_and(|literal| literal.parse::<Ipv6Addr>().is_ok())
        }
        _ => !host.is_empty() && host.iter().all(|&byte| is_name_byte(byte)),
    }
}

/// RFC 3986's `unreserved` and `sub-delims`.
fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&byte)
}

/// One to five digits, at most 65535.
fn parse_port(port: &[u8]) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = port
        .iter()
        .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'));
    u16::try_from(value).ok()
}

/// The port a URI of this scheme means when it names none.
fn default_port(uri: &Uri) -> Option<u16> {
    match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    }
}

/// Whether two valid authorities name the same host (ASCII case-insensitively) and port.
fn same_authority(one: &[u8], other: &[u8], default_port: Option<u16>) -> bool {
    let port = |port: Option<&[u8]>| port.map_or(default_port, parse_port);
    match (split_port(one), split_port(other)) {
        (Some((one_host, one_port)), Some((other_host, other_port))) => {
            one_host.eq_ignore_ascii_case(other_host) && port(one_port) == port(other_port)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_values_follow_rfc_3986_as_narrowed() {
        for valid in [
            "example.com",
            "example.com:3010",
            "EXAMPLE.com:0",
            "127.0.0.1",
            "127.0.0.1:65535",
            "[::1]",
            "[::1]:3010",
            "[::ffff:192.0.2.1]:80",
            "a-b_c~d!$&'()*+,;=",
        ] {
            assert!(is_valid_host(valid.as_bytes()), "{valid} is valid");
        }
        for invalid in [
            "",
            ":80",
            "example.com:",
            "example.com:65536",
            "example.com:123456",
            "example.com:8a",
            "example.com:+80",
            "user@example.com",
            "example.com/path",
            "example.com?query",
            "exa mple.com",
            "example.com ",
            "\texample.com",
            "ex%41mple.com",
            "exämple.com",
            "[::1",
            "::1]",
            "[::1]x",
            "[::1]]",
            "[example.com]",
            "[v1.future]",
            "[::1%25eth0]",
            "a:1:2",
        ] {
            assert!(!is_valid_host(invalid.as_bytes()), "{invalid:?} is invalid");
        }
    }

    fn check(version: Version, uri: &str, hosts: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for host in hosts {
            headers.append(HOST, host.parse().expect("a header value"));
        }
        check_host(version, &uri.parse().expect("a URI"), &headers).is_ok()
    }

    #[test]
    fn http_1_1_needs_exactly_one_valid_host() {
        assert!(check(Version::HTTP_11, "/api/public", &["example.com"]));
        assert!(!check(Version::HTTP_11, "/api/public", &[]));
        assert!(!check(Version::HTTP_11, "/api/public", &["a", "a"]));
        assert!(!check(Version::HTTP_11, "/api/public", &["a b"]));
        // The absolute form's authority is the target (RFC 9112 §3.2.2), yet Host is required.
        assert!(check(Version::HTTP_11, "http://a/x", &["b"]));
        assert!(!check(Version::HTTP_11, "http://a/x", &[]));
        assert!(!check(Version::HTTP_11, "http://user@a/x", &["a"]));
    }

    #[test]
    fn http_1_0_may_omit_host_but_not_break_it() {
        assert!(check(Version::HTTP_10, "/api/public", &[]));
        assert!(check(Version::HTTP_10, "/api/public", &["a:80"]));
        assert!(!check(Version::HTTP_10, "/api/public", &["a", "b"]));
        assert!(!check(Version::HTTP_10, "/api/public", &["a:99999"]));
    }

    #[test]
    fn http_2_takes_authority_or_host_and_they_must_agree() {
        assert!(check(Version::HTTP_2, "http://a:3010/x", &[]));
        assert!(check(Version::HTTP_2, "/x", &["a"]));
        assert!(!check(Version::HTTP_2, "/x", &[]));
        assert!(check(Version::HTTP_2, "http://A:3010/x", &["a:3010"]));
        assert!(check(Version::HTTP_2, "http://a/x", &["a:80"]));
        assert!(check(Version::HTTP_2, "https://a:443/x", &["a"]));
        assert!(!check(Version::HTTP_2, "http://a:3010/x", &["a"]));
        assert!(!check(Version::HTTP_2, "http://a/x", &["b"]));
        assert!(!check(Version::HTTP_2, "http://a/x", &["a", "a"]));
        assert!(!check(Version::HTTP_2, "http://u@a/x", &[]));
    }
}
