//! The `htu` comparison's normal form (RFC 9449 §4.3 point 9): the URL without query and
//! fragment, after RFC 3986's syntax-based (§6.2.2) and scheme-based (§6.2.3) normalisation.

use std::borrow::Cow;
use std::fmt::Write as _;

use url::Url;

use super::ProofError;

/// Normalises an absolute `http`/`https` URL: scheme and host lowercased (an internationalised
/// host in its ASCII form), the scheme's default port dropped, dot segments removed, query and
/// fragment dropped, an empty path made `/`, and percent-encoding normalised: unreserved
/// characters decoded, every other escape's hex uppercased.
///
/// The `url` crate parses as browsers do, which quietly repairs some malformed input; what it
/// would repair is refused here instead: control characters, spaces and backslashes anywhere,
/// a scheme without `//`, an empty authority, user information (RFC 9110 §4.2.4 forbids it in
/// an `http` URI), and an escape that is not `%` and two hex digits.
pub fn normalize_htu(url: &str) -> Result<String, ProofError> {
    if url
        .bytes()
        .any(|byte| byte <= b' ' || byte == b'\\' || byte == 0x7f)
    {
        return Err(ProofError::InvalidHtu);
    }
    let authority = ["http://", "https://"].iter().find_map(|prefix| {
        url.get(..prefix.len())
            .filter(|start| start.eq_ignore_ascii_case(prefix))
            .map(|_| &url[prefix.len()..])
    });
    match authority {
        Some(rest) if !rest.is_empty() && !rest.starts_with(['/', '?', '#']) => {}
        _ => return Err(ProofError::InvalidHtu),
    }
    let parsed = Url::parse(url).map_err(|_| ProofError::InvalidHtu)?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ProofError::InvalidHtu);
    }
    let host = parsed.host_str().ok_or(ProofError::InvalidHtu)?;
    let mut normal = format!("{}://{host}", parsed.scheme());
    // `port()` is `None` for the scheme's default port, which is how it is dropped.
    if let Some(port) = parsed.port() {
        let _ = write!(normal, ":{port}");
    }
    push_normalized_path(&mut normal, parsed.path())?;
    Ok(normal)
}

/// [`normalize_htu`]'s answer, without its cost when `url` is already in normal form (see
/// [`is_plainly_normal`]), as the api's own request URL and most proofs' `htu` are: both sides
/// of every DPoP request's comparison go through here.
pub(super) fn normal_form(url: &str) -> Result<Cow<'_, str>, ProofError> {
    if is_plainly_normal(url) {
        Ok(Cow::Borrowed(url))
    } else {
        normalize_htu(url).map(Cow::Owned)
    }
}

/// Whether `url` is, as written, what [`normalize_htu`] makes of it: `http://` or `https://`;
/// a host name of labels of lower-case letters, digits and hyphens, the last starting with a
/// letter (a last label starting with a digit may make it an IPv4 address, which the `url`
/// crate rewrites) and none `xn--` (Punycode, which it checks); a port other than the scheme's
/// default, without leading zeros; and a path of unreserved characters and slashes without dot
/// segments. Anything else (a query, an escape, an IP address, upper case) takes the long way:
/// this only says yes where the answer is certain, and a test holds it to that.
fn is_plainly_normal(url: &str) -> bool {
    let (rest, default_port) = if let Some(rest) = url.strip_prefix("https://") {
        (rest, 443)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (rest, 80)
    } else {
        return false;
    };
    let Some((authority, path)) = rest.find('/').map(|slash| rest.split_at(slash)) else {
        return false;
    };
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    is_plain_host(host)
        && port.is_none_or(|port| is_plain_port(port, default_port))
        && path.bytes().all(|byte| byte == b'/' || is_unreserved(byte))
        && path
            .split('/')
            .all(|segment| segment != "." && segment != "..")
}

/// See [`is_plainly_normal`].
fn is_plain_host(host: &str) -> bool {
    let is_plain_label = |label: &str| {
        !label.is_empty()
            && !label.starts_with("xn--")
            && label
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    };
    host.split('.').all(is_plain_label)
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// See [`is_plainly_normal`]. Digits only: Rust's integer parsing would take a `+`.
fn is_plain_port(port: &str, default_port: u16) -> bool {
    !port.starts_with('0')
        && port.bytes().all(|byte| byte.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|port| port != default_port)
}

/// Appends `path` with its percent-encoding normalised (RFC 3986 §6.2.2.1 and §6.2.2.2).
fn push_normalized_path(normal: &mut String, path: &str) -> Result<(), ProofError> {
    let mut bytes = path.bytes();
    while let Some(byte) = bytes.next() {
        if byte != b'%' {
            normal.push(char::from(byte));
            continue;
        }
        let (Some(high), Some(low)) = (bytes.next(), bytes.next()) else {
            return Err(ProofError::InvalidHtu);
        };
        let (Some(high), Some(low)) = (hex_value(high), hex_value(low)) else {
            return Err(ProofError::InvalidHtu);
        };
        let decoded = (high << 4) | low;
        if is_unreserved(decoded) {
            normal.push(char::from(decoded));
        } else {
            let _ = write!(normal, "%{decoded:02X}");
        }
    }
    Ok(())
}

/// RFC 3986 §2.3: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_normalise_to_one_form() {
        for (url, normal) in [
            (
                "https://api.example.com/api/private",
                "https://api.example.com/api/private",
            ),
            (
                "HTTPS://API.Example.COM/api/private",
                "https://api.example.com/api/private",
            ),
            ("https://api.example.com:443/x", "https://api.example.com/x"),
            ("http://api.example.com:80/x", "http://api.example.com/x"),
            (
                "http://api.example.com:8080/x",
                "http://api.example.com:8080/x",
            ),
            (
                "https://api.example.com:80/x",
                "https://api.example.com:80/x",
            ),
            ("https://api.example.com", "https://api.example.com/"),
            ("https://api.example.com?a=1", "https://api.example.com/"),
            ("https://a.example/p?q=1#frag", "https://a.example/p"),
            ("https://a.example/p#frag", "https://a.example/p"),
            (
                "https://a.example/%7euser/%41%2d%2E%5F",
                "https://a.example/~user/A-._",
            ),
            (
                "https://a.example/a%2fb%3a%c3%a9",
                "https://a.example/a%2Fb%3A%C3%A9",
            ),
            ("https://a.example/caf\u{e9}", "https://a.example/caf%C3%A9"),
            ("https://a.example/a/./b/../c", "https://a.example/a/c"),
            ("https://a.example/a/%2e%2E/c", "https://a.example/c"),
            ("http://[::1]:3000/x", "http://[::1]:3000/x"),
            ("http://127.0.0.1:3000/", "http://127.0.0.1:3000/"),
            (
                "https://B\u{fc}cher.example/",
                "https://xn--bcher-kva.example/",
            ),
        ] {
            assert_eq!(normalize_htu(url).as_deref(), Ok(normal), "{url}");
        }
    }

    #[test]
    fn the_shortcut_is_taken_only_where_normalising_changes_nothing() {
        let plain = [
            "https://api.example.com/api/private",
            "http://api.test/api/private",
            "http://localhost:3010/api/private",
            "https://a-b.example/~x/y_z.1-2/",
            "https://a.example//double//slash",
            "https://a.example:8443/",
            "http://a.example:443/",
            "https://a.example:80/",
            "http://9a.example/x",
            "http://a.example:65535/x",
            "http://a--b.example/x",
            "http://-a.example/x",
        ];
        let long_way = [
            "https://api.example.com",
            "https://API.example.com/x",
            "HTTPS://api.example.com/x",
            "https://api.example.com/x?q=1",
            "https://api.example.com/x#f",
            "https://api.example.com:443/x",
            "http://api.example.com:80/x",
            "https://api.example.com:0443/x",
            "https://api.example.com:+8443/x",
            "https://api.example.com:/x",
            "https://api.example.com:65536/x",
            "http://127.0.0.1:3000/",
            "http://1.2.3/",
            "http://a.1b/x",
            "http://0x7f.1/",
            "http://a.0x1/",
            "http://a.example./",
            "http://a..example/",
            "http://[::1]:3000/x",
            "http://xn--bcher-kva.example/",
            "http://xn--zz.example/",
            "https://a.example/%7e",
            "https://a.example/a/./b",
            "https://a.example/a/..",
            "https://a.example/caf\u{e9}",
            "https://a.example/a:b",
            "https://user@a.example/",
            "https://a.example/a b",
            "ftp://a.example/",
        ];
        for url in plain {
            assert!(is_plainly_normal(url), "{url}");
            assert_eq!(normalize_htu(url).as_deref(), Ok(url), "{url}");
            assert_eq!(normal_form(url), Ok(Cow::Borrowed(url)), "{url}");
        }
        for url in long_way {
            assert!(!is_plainly_normal(url), "{url}");
            assert_eq!(
                normal_form(url),
                normalize_htu(url).map(Cow::Owned),
                "{url}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Near-normal URLs, with the characters that make a URL not normal mixed in.
        #[test]
        fn the_shortcut_never_disagrees_with_the_long_way(
            url in "(http|https|HTTP)://[a-zA-Z0-9.:x-]{1,14}(/[a-zA-Z0-9._~%:-]{0,5}){0,3}"
        ) {
            if is_plainly_normal(&url) {
                proptest::prop_assert_eq!(normalize_htu(&url), Ok(url.clone()));
            }
        }
    }

    #[test]
    fn what_a_browser_would_repair_is_refused() {
        for url in [
            "",
            "/api/private",
            "api.example.com/x",
            "ftp://a.example/x",
            "ws://a.example/x",
            "http:a.example/x",
            "http:/a.example/x",
            "http:///a.example/x",
            "https://",
            "https://?x",
            "https://a.example/a b",
            "https://a.example/a\tb",
            " https://a.example/",
            "https://a.example/\n",
            "https://a.example\\x",
            "https://user:pw@a.example/",
            "https://user@a.example/",
            "https://a.example/%",
            "https://a.example/%4",
            "https://a.example/%zz",
            "https://a.example:99999/",
            "https://a b.example/",
        ] {
            assert_eq!(normalize_htu(url), Err(ProofError::InvalidHtu), "{url:?}");
        }
    }
}
