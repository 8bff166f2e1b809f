//! Finding the access token in a request (RFC 6750 §2): the `Authorization` header (the
//! `Bearer` scheme, or RFC 9449's `DPoP` when accepted), an `application/x-www-form-urlencoded`
//! body, or (only when allowed) the query string; and the `DPoP` proof header.

use axum::RequestExt;
use axum::body::Body;
use axum::extract::Request;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, Uri};

use super::challenge::Scheme;
use super::error::AuthError;

/// The header of a DPoP proof (RFC 9449 §4.1).
const DPOP: &str = "dpop";

const MORE_THAN_ONE_METHOD: AuthError =
    AuthError::InvalidRequest("More than one method used for authentication");
const MALFORMED_HEADER: AuthError =
    AuthError::MalformedAuthorization("Invalid Authorization header: expected 'Bearer <token>'");

/// A request's access token and how it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// The token, as sent.
    pub token: String,
    /// `Dpop` for `Authorization: DPoP <token>`; `Bearer` for every other place.
    pub scheme: Scheme,
}

/// Takes the token out of `request`, returning the request (its body restored when it was
/// read) and the token, if there is exactly one. `allow_query` accepts `?access_token=`;
/// `accept_dpop` the `DPoP` scheme besides `Bearer` (else it is malformed as any other).
///
/// An `application/x-www-form-urlencoded` body is read whole to look for `access_token`,
/// within the request's body limit, exactly as axum's own body extractors read it
/// ([`axum::extract::DefaultBodyLimit`]: 2 MiB unless the app sets another, and whatever limit
/// an outer layer put on the body, such as [`crate::serve_with`]'s
/// [`max_body_bytes`](crate::ServerLimits::max_body_bytes)). A body over it is answered 413.
pub(crate) async fn extract(
    request: Request,
    allow_query: bool,
    accept_dpop: bool,
) -> Result<(Request, Option<Credentials>), AuthError> {
    let mut found = Vec::with_capacity(1);
    if let Some(credentials) = from_header(request.headers(), accept_dpop)? {
        found.push(credentials);
    }
    let bearer = |token| Credentials {
        token,
        scheme: Scheme::Bearer,
    };
    found.extend(from_query(request.uri(), allow_query)?.map(bearer));
    let request = if is_urlencoded(request.headers()) {
        let (parts, body) = request.with_limited_body().into_parts();
        // The limit is already on the body: no second one here.
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| AuthError::PayloadTooLarge)?;
        let in_body = named_values(&bytes, "access_token")?;
        if in_body.is_some() && (parts.method == Method::GET || parts.method == Method::HEAD) {
            // RFC 6750 §2.2: the body method must not be used with GET.
            return Err(AuthError::InvalidRequest(
                "The access token may not be sent in the body of a GET or HEAD request",
            ));
        }
        found.extend(in_body.map(bearer));
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    if found.len() > 1 {
        return Err(MORE_THAN_ONE_METHOD);
    }
    Ok((request, found.pop()))
}

/// `Authorization: Bearer <token>` (or `DPoP <token>` when `accept_dpop`): the scheme is
/// case-insensitive, followed by exactly one space and a token of RFC 6750's `b64token` syntax
/// (RFC 9449's `token68` for DPoP, the same). Two headers are refused.
fn from_header(headers: &HeaderMap, accept_dpop: bool) -> Result<Option<Credentials>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(
            "More than one Authorization header",
        ));
    }
    let value = value.to_str().map_err(|_| MALFORMED_HEADER)?;
    let (scheme, token) = value.split_once(' ').ok_or(MALFORMED_HEADER)?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if accept_dpop && scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Err(MALFORMED_HEADER);
    };
    if !is_b64token(token) {
        return Err(MALFORMED_HEADER);
    }
    Ok(Some(Credentials {
        token: token.to_owned(),
        scheme,
    }))
}

/// The scheme a refusal's challenges treat as the client's: DPoP when the request has one
/// `Authorization` header of two space-separated words, the first `DPoP` in any case (as the
/// reference reads it), else Bearer. Known before the header is parsed, so the challenges of a
/// refusal for anything later are placed too.
pub(crate) fn scheme_used(headers: &HeaderMap) -> Scheme {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    // `DPoP`, one space, and no other space: `slice::contains` finds a byte with memchr, where
    // splitting a ~1 KiB token into words would look at every byte in turn.
    let is_dpop = values.next().is_some_and(|value| {
        let value = value.as_bytes();
        value
            .get(..DPOP.len())
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case(DPOP.as_bytes()))
            && value.get(DPOP.len()) == Some(&b' ')
            && !value[DPOP.len() + 1..].contains(&b' ')
    });
    if is_dpop && values.next().is_none() {
        Scheme::Dpop
    } else {
        Scheme::Bearer
    }
}

/// Whether the request has a `DPoP` header at all.
pub(crate) fn has_dpop_proof(headers: &HeaderMap) -> bool {
    headers.contains_key(DPOP)
}

/// The request's single `DPoP` proof header (RFC 9449 §4.3 point 1): refused when there is
/// none (RFC 9449 §7.1: the DPoP scheme needs a proof) or more than one.
pub(crate) fn dpop_proof(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(DPOP).iter();
    let proof = values.next().ok_or(AuthError::InvalidDpopProof(
        "The DPoP scheme needs a DPoP proof header",
    ))?;
    if values.next().is_some() {
        return Err(AuthError::InvalidDpopProof("More than one DPoP header"));
    }
    // A proof is base64url and dots: bytes outside ASCII make it no compact JWS.
    proof
        .to_str()
        .map_err(|_| AuthError::InvalidDpopProof("DPoP proof is not a compact JWS"))
}

/// `?access_token=`: refused unless allowed, because query strings end up in access logs,
/// browser history and `Referer` headers (RFC 6750 §5.3).
fn from_query(uri: &Uri, allow: bool) -> Result<Option<String>, AuthError> {
    let Some(query) = uri.query() else {
        return Ok(None);
    };
    let token = named_values(query.as_bytes(), "access_token")?;
    if token.is_some() && !allow {
        return Err(AuthError::InvalidRequest(
            "Access tokens in the query string are not accepted; send an Authorization: Bearer header",
        ));
    }
    Ok(token)
}

/// The single value of the parameter `name` in a urlencoded string; a repeated one is a bad
/// request. `name` is 8 to 16 unreserved characters (RFC 3986 §2.3). Only a key that could
/// decode to `name` is looked at, without allocating, and only the matching parameter is
/// decoded: a body or query of thousands of other parameters costs one pass over its bytes.
fn named_values(encoded: &[u8], name: &str) -> Result<Option<String>, AuthError> {
    let mut found = None;
    // Decoding never lengthens, so a pair shorter than the name cannot hold it.
    long_pairs(encoded, name.len(), |pair| {
        if key_is(pair, name.as_bytes()) && found.replace(pair).is_some() {
            return Err(MORE_THAN_ONE_METHOD);
        }
        Ok(())
    })?;
    let Some(pair) = found else {
        return Ok(None);
    };
    let value = form_urlencoded::parse(pair)
        .next()
        .map(|(_, value)| value)
        .unwrap_or_default();
    if !is_b64token(&value) {
        return Err(AuthError::InvalidRequest(
            "Malformed access_token parameter",
        ));
    }
    Ok(Some(value.into_owned()))
}

/// Whether the key of `pair` (what precedes its first `=`, if any) decodes to `name`, as
/// [`named_values`] describes `name`; `pair` is at least as long as `name`.
fn key_is(pair: &[u8], name: &[u8]) -> bool {
    // Two overlapping words span the name's length. If the pair's are the name's, its key is the
    // name spelled out, or longer; if they hold no `%`, the only other way to spell one of the
    // name's bytes, the key is something else. Either way a few instructions decide.
    let word = |bytes: &[u8], at: usize| {
        u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
    };
    let last = name.len() - 8;
    let (first_word, last_word) = (word(pair, 0), word(pair, last));
    if first_word == word(name, 0) && last_word == word(name, last) {
        return matches!(pair.get(name.len()), None | Some(b'='));
    }
    let percents = u64::from_le_bytes([b'%'; 8]);
    (zero_bytes(first_word ^ percents) | zero_bytes(last_word ^ percents)) != 0
        && decodes_to(pair, name)
}

/// Calls `each` with every piece of `encoded` between `&`s that is at least `min` bytes long
/// (`min` ≥ 8), stopping at its first error. The `&`s are found eight bytes at a time, and a
/// word's pieces are only looked at when one can be long enough: with `min` ≥ 8 that is only the
/// piece its first `&` ends, so a string of thousands of short pairs costs one pass at word
/// speed, with no step per pair.
fn long_pairs<'a>(
    encoded: &'a [u8],
    min: usize,
    mut each: impl FnMut(&'a [u8]) -> Result<(), AuthError>,
) -> Result<(), AuthError> {
    const WORD: usize = 8;
    debug_assert!(min >= WORD, "pieces within one word must be too short");
    let mut start = 0;
    let mut words = encoded.chunks_exact(WORD);
    for (index, word) in (&mut words).enumerate() {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of eight bytes"));
        let ampersands = zero_bytes(word ^ u64::from_le_bytes([b'&'; WORD]));
        if ampersands == 0 {
            continue;
        }
        let offset = index * WORD;
        let first = offset + ampersands.trailing_zeros() as usize / 8;
        if first - start >= min {
            each(&encoded[start..first])?;
        }
        start = offset + (63 - ampersands.leading_zeros() as usize) / 8 + 1;
    }
    let tail = encoded.len() - words.remainder().len();
    for (index, &byte) in words.remainder().iter().enumerate() {
        if byte == b'&' {
            if tail + index - start >= min {
                each(&encoded[start..tail + index])?;
            }
            start = tail + index + 1;
        }
    }
    if encoded.len() - start >= min {
        each(&encoded[start..])?;
    }
    Ok(())
}

/// The high bit of every byte of `word` that is zero, and no other bit.
fn zero_bytes(word: u64) -> u64 {
    const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW_SEVEN) + LOW_SEVEN) | word | LOW_SEVEN)
}

/// Whether the key of the urlencoded `pair` (up to its first `=`) decodes to `target`, a string
/// of unreserved characters: each of its bytes is spelled as itself or as `%` and two hex
/// digits (a `+` is a space, which `target` has none of). Compared as it is decoded, up to the
/// first difference.
fn decodes_to(pair: &[u8], target: &[u8]) -> bool {
    let mut at = 0;
    for &expected in target {
        match pair.get(at..) {
            Some([byte, ..]) if *byte == expected => at += 1,
            Some([b'%', high, low, ..])
                if HEX[usize::from(*high)] << 4 | HEX[usize::from(*low)] == u16::from(expected) =>
            {
                at += 3;
            }
            _ => return false,
        }
    }
    matches!(pair.get(at), None | Some(b'='))
}

/// The value of each byte as a hex digit, or 256 (more than any two digits make) for any other
/// byte: looked up, as the percent-encoded keys of a hostile body can be thousands.
const HEX: [u16; 256] = {
    let mut table = [256; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            digit @ b'0'..=b'9' => (digit - b'0') as u16,
            letter @ b'a'..=b'f' => (letter - b'a' + 10) as u16,
            letter @ b'A'..=b'F' => (letter - b'A' + 10) as u16,
            _ => 256,
        };
        byte += 1;
    }
    table
};

fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // A fold with `&` rather than `all`: without the early exit the compiler checks many bytes
    // at once, so a 16 KiB token takes about 2 µs rather than 10.
    !body.is_empty()
        && body.bytes().fold(true, |valid, byte| {
            valid
                & (byte.is_ascii_alphanumeric()
                    | (byte == b'-')
                    | (byte == b'.')
                    | (byte == b'_')
                    | (byte == b'~')
                    | (byte == b'+')
                    | (byte == b'/'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in authorization {
            headers.append(AUTHORIZATION, value.parse().expect("header value"));
        }
        headers
    }

    fn uri(uri: &str) -> Uri {
        uri.parse().expect("URI")
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER abc.def.ghi",
        ] {
            assert_eq!(
                from_header(&headers(&[header]), true).expect("ok"),
                Some(Credentials {
                    token: "abc.def.ghi".into(),
                    scheme: Scheme::Bearer
                })
            );
        }
    }

    #[test]
    fn malformed_authorization_headers_are_bad_requests() {
        for header in [
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "Bearer  x",
            "Bearer a b",
            "Bearer a,b",
            "Bearer\tx",
            "Token x",
        ] {
            assert_eq!(
                from_header(&headers(&[header]), true),
                Err(MALFORMED_HEADER),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_dpop_scheme_is_read_only_when_accepted() {
        for header in ["DPoP abc.def.ghi", "dpop abc.def.ghi", "DPOP abc.def.ghi"] {
            assert_eq!(
                from_header(&headers(&[header]), true).expect("ok"),
                Some(Credentials {
                    token: "abc.def.ghi".into(),
                    scheme: Scheme::Dpop
                }),
                "{header:?}"
            );
            assert_eq!(
                from_header(&headers(&[header]), false),
                Err(MALFORMED_HEADER),
                "{header:?}"
            );
        }
        for header in ["DPoP", "DPoP ", "DPoP  x", "DPoP a b", "DPoP a,b"] {
            assert_eq!(
                from_header(&headers(&[header]), true),
                Err(MALFORMED_HEADER),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_scheme_used_is_dpop_only_for_one_two_word_dpop_header() {
        for (authorization, scheme) in [
            (&["DPoP x"][..], Scheme::Dpop),
            (&["dpop x.y.z"], Scheme::Dpop),
            (&["DPoP "], Scheme::Dpop),
            (&["DPoP"], Scheme::Bearer),
            (&["DPoP a b"], Scheme::Bearer),
            (&["DPoP  x"], Scheme::Bearer),
            (&["DPo"], Scheme::Bearer),
            (&["DPoPx y"], Scheme::Bearer),
            (&["Bearer x"], Scheme::Bearer),
            (&["DPoP x", "DPoP y"], Scheme::Bearer),
            (&[], Scheme::Bearer),
        ] {
            assert_eq!(
                scheme_used(&headers(authorization)),
                scheme,
                "{authorization:?}"
            );
        }
    }

    #[test]
    fn a_dpop_request_has_exactly_one_proof_header() {
        let mut request = HeaderMap::new();
        assert_eq!(
            dpop_proof(&request),
            Err(AuthError::InvalidDpopProof(
                "The DPoP scheme needs a DPoP proof header"
            ))
        );
        assert!(!has_dpop_proof(&request));
        request.append(DPOP, "a.b.c".parse().expect("value"));
        assert_eq!(dpop_proof(&request), Ok("a.b.c"));
        assert!(has_dpop_proof(&request));
        request.append(DPOP, "d.e.f".parse().expect("value"));
        assert_eq!(
            dpop_proof(&request),
            Err(AuthError::InvalidDpopProof("More than one DPoP header"))
        );
    }

    #[test]
    fn two_authorization_headers_are_refused() {
        assert!(matches!(
            from_header(&headers(&["Bearer a", "Bearer b"]), true),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn query_tokens_are_refused_unless_allowed() {
        let request = uri("/api/private?access_token=abc");
        assert!(matches!(
            from_query(&request, false),
            Err(AuthError::InvalidRequest(_))
        ));
        assert_eq!(
            from_query(&request, true).expect("ok").as_deref(),
            Some("abc")
        );
        let twice = uri("/api/private?access_token=a&access_token=b");
        assert_eq!(from_query(&twice, true), Err(MORE_THAN_ONE_METHOD));
        assert_eq!(from_query(&uri("/api/private?x=1"), false), Ok(None));
    }

    #[test]
    fn only_keys_that_decode_to_the_name_match() {
        for key in [
            "access_token",
            "%61ccess_token",
            "access%5Ftoken",
            "access%5ftoken",
            "%61%63%63%65%73%73%5F%74%6F%6B%65%6E",
        ] {
            assert!(
                key_is(format!("{key}=x").as_bytes(), b"access_token"),
                "{key}"
            );
            assert!(key_is(key.as_bytes(), b"access_token"), "{key}");
            let query = format!("a=b&{key}=abc&c");
            assert_eq!(
                named_values(query.as_bytes(), "access_token"),
                Ok(Some("abc".to_owned())),
                "{key}"
            );
        }
        for key in [
            "access_toke",
            "access_tokens",
            "access+token",
            "access%2Btoken",
            "access%5",
            "%access_token",
            "Access_token",
            "access_token%",
            "access_token+",
            "access%5Ftoken%00",
            "access=token",
        ] {
            let query = format!("{key}=x&{key}");
            assert_eq!(
                named_values(query.as_bytes(), "access_token"),
                Ok(None),
                "{key}"
            );
        }
        assert!(decodes_to(b"%41b%43=1", b"AbC"));
        assert!(!decodes_to(b"%41b%43x=1", b"AbC"));
        assert!(!decodes_to(b"%4", b"A"));
        assert_eq!(
            named_values(b"access_token&x=1", "access_token"),
            Err(AuthError::InvalidRequest(
                "Malformed access_token parameter"
            ))
        );
        assert_eq!(
            named_values(b"access_token=a&&access%5Ftoken=b", "access_token"),
            Err(MORE_THAN_ONE_METHOD)
        );
        assert_eq!(
            named_values(b"access_token=a%2Bb%3D", "access_token"),
            Ok(Some("a+b=".to_owned()))
        );
    }

    #[test]
    fn long_pairs_are_found_wherever_the_words_split_them() {
        let pairs = |encoded: &str| {
            let mut found = Vec::new();
            long_pairs(encoded.as_bytes(), 8, |pair| {
                found.push(String::from_utf8(pair.to_vec()).expect("UTF-8"));
                Ok(())
            })
            .expect("no error");
            found
        };
        // Every alignment of a long pair among short ones, and at both ends.
        for padding in 0..20 {
            let short = "a=b&".repeat(padding / 4) + &"x".repeat(padding % 4);
            let encoded = format!("{short}&access_token=t&{short}&12345678&1234567");
            assert_eq!(pairs(&encoded), ["access_token=t", "12345678"], "{encoded}");
        }
        assert_eq!(pairs("12345678"), ["12345678"]);
        assert_eq!(pairs("&&&&&&&&&&&&&&&&&&&&123456789012&"), ["123456789012"]);
        assert_eq!(pairs("1234567&1234567&1234567&"), Vec::<String>::new());
        assert_eq!(pairs(""), Vec::<String>::new());
    }

    #[test]
    fn b64token_syntax_is_rfc_6750s() {
        assert!(is_b64token("eyJ.eyJ.sig-_~+/=="));
        assert!(!is_b64token(""));
        assert!(!is_b64token("=="));
        assert!(!is_b64token("a b"));
        assert!(!is_b64token("a=b"));
        assert!(!is_b64token("é"));
    }
}
