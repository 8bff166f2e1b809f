//! Finding the bearer token in a request (RFC 6750 §2): the `Authorization` header, an
//! `application/x-www-form-urlencoded` body, or (only when allowed) the query string.

use axum::RequestExt;
use axum::body::Body;
use axum::extract::Request;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, Uri};

use super::error::AuthError;

const MORE_THAN_ONE_METHOD: AuthError =
    AuthError::InvalidRequest("More than one method used for authentication");
const MALFORMED_HEADER: AuthError =
    AuthError::MalformedAuthorization("Invalid Authorization header: expected 'Bearer <token>'");

/// Takes the token out of `request`, returning the request (its body restored when it was
/// read) and the token, if there is exactly one. `allow_query` accepts `?access_token=`.
///
/// An `application/x-www-form-urlencoded` body is read whole to look for `access_token`,
/// within the request's body limit, exactly as axum's own body extractors read it
/// ([`axum::extract::DefaultBodyLimit`]: 2 MiB unless the app sets another, and whatever limit
/// an outer layer put on the body, such as [`crate::serve_with`]'s
/// [`max_body_bytes`](crate::ServerLimits::max_body_bytes)). A body over it is answered 413.
pub(crate) async fn extract(
    request: Request,
    allow_query: bool,
) -> Result<(Request, Option<String>), AuthError> {
    let mut found = Vec::with_capacity(1);
    if let Some(token) = from_header(request.headers())? {
        found.push(token);
    }
    found.extend(from_query(request.uri(), allow_query)?);
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
        found.extend(in_body);
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    if found.len() > 1 {
        return Err(MORE_THAN_ONE_METHOD);
    }
    Ok((request, found.pop()))
}

/// `Authorization: Bearer <token>`: the scheme is case-insensitive, followed by exactly one
/// space and a token of RFC 6750's `b64token` syntax. Two headers are refused.
fn from_header(headers: &HeaderMap) -> Result<Option<String>, AuthError> {
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
    if !scheme.eq_ignore_ascii_case("bearer") || !is_b64token(token) {
        return Err(MALFORMED_HEADER);
    }
    Ok(Some(token.to_owned()))
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

/// The single `access_token` value of a urlencoded string; a repeated one is a bad request.
fn named_values(encoded: &[u8], name: &str) -> Result<Option<String>, AuthError> {
    let mut values = form_urlencoded::parse(encoded).filter(|(key, _)| key == name);
    let Some((_, first)) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(MORE_THAN_ONE_METHOD);
    }
    if !is_b64token(&first) {
        return Err(AuthError::InvalidRequest(
            "Malformed access_token parameter",
        ));
    }
    Ok(Some(first.into_owned()))
}

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
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
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
                from_header(&headers(&[header])).expect("ok").as_deref(),
                Some("abc.def.ghi")
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
                from_header(&headers(&[header])),
                Err(MALFORMED_HEADER),
                "{header:?}"
            );
        }
    }

    #[test]
    fn two_authorization_headers_are_refused() {
        assert!(matches!(
            from_header(&headers(&["Bearer a", "Bearer b"])),
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
    fn b64token_syntax_is_rfc_6750s() {
        assert!(is_b64token("eyJ.eyJ.sig-_~+/=="));
        assert!(!is_b64token(""));
        assert!(!is_b64token("=="));
        assert!(!is_b64token("a b"));
        assert!(!is_b64token("a=b"));
        assert!(!is_b64token("é"));
    }
}
