//! The URL of a request as its client addressed it: what a DPoP proof's `htu` must name
//! (RFC 9449 §4.3 point 9), origin and path, the query left out; its origin alone is where
//! the resource metadata's URL (RFC 9728 §5.1) starts.
//!
//! Behind a TLS terminator or a load balancer the API sees `http` and an inner host, while the
//! client signed `https://api.example.com/...`. So the origin is, in this order:
//!
//! 1. [`DpopOptions::public_url`](super::DpopOptions::public_url) when set: the same for every
//!    replica, and nothing a client sends can change it;
//! 2. with [`trust_forwarded_headers`](super::DpopOptions::trust_forwarded_headers), the first
//!    value of `X-Forwarded-Proto` (`http` or `https`) and of `X-Forwarded-Host` (a valid
//!    `Host` value), each falling back to the next rule when absent;
//! 3. `https://` on a connection the API's own TLS serves ([`TlsConnection`]), else `http://`;
//!    and the request's authority: its `Host`, or HTTP/2's `:authority`.
//!
//! A malformed forwarded value or authority is the client's (or its proxy's) fault: 400
//! `invalid_request`, `Invalid Host header` for a host as the reference answers it. The path is
//! the one the client sent, before any router nesting stripped a prefix. Normalising the URL
//! for the comparison (case, default port, percent-encoding) is the proof check's.

use axum::extract::{OriginalUri, Request};
use http::header::HOST;
use http::{HeaderMap, HeaderName};

use super::error::AuthError;
use super::options::DpopOptions;
use crate::server::TlsConnection;
use crate::server::host::{HOST_REFUSAL, is_valid_host};

/// The header a proxy names the client's scheme in.
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// The header a proxy names the host the client addressed in.
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The refusal of an `X-Forwarded-Proto` other than `http` or `https`.
const INVALID_FORWARDED_PROTO: AuthError =
    AuthError::InvalidRequest("Invalid X-Forwarded-Proto header");

/// The URL the client addressed `request` to, as the module documentation says: scheme,
/// authority and path, without the query.
pub(crate) fn request_url(request: &Request, options: &DpopOptions) -> Result<String, AuthError> {
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.path());
    let mut url = request_origin(request, options)?;
    url.push_str(path);
    Ok(url)
}

/// The origin the client addressed `request` to (`scheme://authority`, no trailing slash), as
/// the module documentation says: also where the resource metadata's URL starts.
pub(crate) fn request_origin(
    request: &Request,
    options: &DpopOptions,
) -> Result<String, AuthError> {
    if let Some(public) = &options.public_url {
        return Ok(public.origin().ascii_serialization());
    }
    let headers = request.headers();
    let forwarded = |name: &HeaderName| {
        options
            .trust_forwarded_headers
            .then(|| first_value(headers, name))
            .flatten()
    };
    let scheme = match forwarded(&FORWARDED_PROTO) {
        None if request.extensions().get::<TlsConnection>().is_some() => "https",
        None => "http",
        Some(proto) if proto.eq_ignore_ascii_case(b"http") => "http",
        Some(proto) if proto.eq_ignore_ascii_case(b"https") => "https",
        Some(_) => return Err(INVALID_FORWARDED_PROTO),
    };
    let authority = forwarded(&FORWARDED_HOST)
        .or_else(|| headers.get(HOST).map(http::HeaderValue::as_bytes))
        .or_else(|| request.uri().authority().map(|a| a.as_str().as_bytes()))
        .filter(|authority| is_valid_host(authority))
        .ok_or(HOST_REFUSAL)?;
    // A valid host is ASCII: the conversion cannot fail.
    let authority = std::str::from_utf8(authority).map_err(|_| HOST_REFUSAL)?;
    Ok(format!("{scheme}://{authority}"))
}

/// The first comma-separated value of the first `name` header, trimmed: a proxy chain appends
/// its own values after the one the client-facing proxy wrote, as Express reads them.
fn first_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a [u8]> {
    let value = headers.get(name)?.as_bytes();
    let first = value.split(|&byte| byte == b',').next().unwrap_or(value);
    Some(first.trim_ascii())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    /// The URL of a GET of `uri` with `headers`, under a `public_url` and the trust given.
    fn url_of(
        uri: &str,
        headers: &[(&str, &str)],
        public_url: Option<&str>,
        trust_forwarded_headers: bool,
    ) -> Result<String, AuthError> {
        let mut builder = Request::get(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let options = DpopOptions {
            public_url: public_url.map(|url| url.parse().expect("URL")),
            trust_forwarded_headers,
            ..DpopOptions::default()
        };
        request_url(&builder.body(Body::empty()).expect("request"), &options)
    }

    fn ok(url: &str) -> Result<String, AuthError> {
        Ok(url.to_owned())
    }

    /// A `Host` and forwarded headers naming another origin, with several values each.
    const PROXIED: [(&str, &str); 3] = [
        ("host", "10.0.0.7:3010"),
        ("x-forwarded-proto", "HTTPS, http"),
        ("x-forwarded-host", " api.example.com ,10.0.0.1"),
    ];

    #[test]
    fn by_default_the_url_is_http_the_authority_and_the_path_without_the_query() {
        let host = [("host", "api.test:3010")];
        assert_eq!(
            url_of("/api/private?x=1", &host, None, false),
            ok("http://api.test:3010/api/private")
        );
        // HTTP/2's `:authority` stands in for a missing `Host`.
        assert_eq!(
            url_of("http://[::1]:8080/api/private", &[], None, false),
            ok("http://[::1]:8080/api/private")
        );
    }

    #[test]
    fn the_public_url_wins_over_the_host_and_any_forwarded_header() {
        for trust in [false, true] {
            assert_eq!(
                url_of(
                    "/api/private",
                    &PROXIED,
                    Some("https://API.example.com:443/"),
                    trust
                ),
                ok("https://api.example.com/api/private")
            );
        }
    }

    #[test]
    fn forwarded_headers_count_only_when_trusted_and_then_their_first_values() {
        assert_eq!(
            url_of("/api/private", &PROXIED, None, true),
            ok("https://api.example.com/api/private")
        );
        assert_eq!(
            url_of("/api/private", &PROXIED, None, false),
            ok("http://10.0.0.7:3010/api/private")
        );
        let only_proto = [("host", "inner:1"), ("x-forwarded-proto", "https")];
        assert_eq!(
            url_of("/p", &only_proto, None, true),
            ok("https://inner:1/p")
        );
    }

    #[test]
    fn malformed_forwarded_values_and_hosts_are_bad_requests() {
        let cases: [(&[(&str, &str)], AuthError); 4] = [
            (
                &[("host", "a"), ("x-forwarded-proto", "ftp")],
                INVALID_FORWARDED_PROTO,
            ),
            (
                &[("host", "a"), ("x-forwarded-host", "user@evil.test")],
                HOST_REFUSAL,
            ),
            (&[("host", "a b")], HOST_REFUSAL),
            (&[], HOST_REFUSAL),
        ];
        for (headers, refusal) in cases {
            assert_eq!(
                url_of("/api/private", headers, None, true),
                Err(refusal),
                "{headers:?}"
            );
        }
    }
}
