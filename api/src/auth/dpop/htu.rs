//! The `htu` comparison's normal form (RFC 9449 §4.3 point 9): the URL without query and
//! fragment, after RFC 3986's syntax-based (§6.2.2) and scheme-based (§6.2.3) normalisation.

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
