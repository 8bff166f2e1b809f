//! Authorization server metadata (OpenID Connect Discovery 1.0 and RFC 8414): where the keys
//! are and which `iss` to expect.

use serde::Deserialize;
use url::Url;

use super::fetch::{FetchError, Fetcher};

/// What the verifier needs from the issuer's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The issuer identifier: the exact `iss` tokens must carry.
    pub issuer: String,
    /// Where the issuer publishes its keys.
    pub jwks_uri: Url,
}

/// Why discovery failed. Shown in logs, never to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// Every metadata URL failed to answer; the last failure is kept.
    #[error("{url}: {error}")]
    Fetch {
        /// The URL that failed last.
        url: String,
        /// Why.
        error: FetchError,
    },
    /// A metadata URL answered with a document that is refused.
    #[error("{url}: {error}")]
    Document {
        /// The URL that answered.
        url: String,
        /// Why the document is refused.
        error: MetadataError,
    },
}

/// Why a metadata document is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not JSON with a string `issuer`.
    #[error("not a metadata document with an 'issuer'")]
    Malformed,
    /// The metadata names another issuer than the one configured (RFC 8414 §3.3).
    #[error("metadata issuer does not match the configured issuer")]
    IssuerMismatch,
    /// `jwks_uri` is missing, not a URL, or not https outside loopback.
    #[error("'jwks_uri' is missing or not an acceptable URL")]
    BadJwksUri,
}

#[derive(Deserialize)]
struct Document {
    issuer: Option<String>,
    jwks_uri: Option<String>,
}

/// The two places metadata is looked for, in order: OpenID Connect's
/// `{base}/.well-known/openid-configuration`, then RFC 8414's
/// `{origin}/.well-known/oauth-authorization-server{path}`.
pub fn metadata_urls(base: &Url) -> [Url; 2] {
    let path = base.path().trim_end_matches('/');
    let mut openid = base.clone();
    openid.set_path(&format!("{path}/.well-known/openid-configuration"));
    openid.set_query(None);
    let mut oauth = base.clone();
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    oauth.set_query(None);
    [openid, oauth]
}

/// Fetches the metadata of the issuer at `base`. The first 200 JSON answer with an `issuer`
/// wins (see [`parse_metadata`] for what it must hold). Failures are returned, never cached.
pub(crate) async fn discover(
    fetcher: &Fetcher,
    base: &Url,
    expected_issuer: Option<&str>,
    allow_insecure: bool,
) -> Result<Metadata, DiscoveryError> {
    let mut last_failure = None;
    for url in metadata_urls(base) {
        let shown = url.to_string();
        let failure = match fetcher.get(&url).await {
            Err(error) => DiscoveryError::Fetch { url: shown, error },
            Ok(body) => match parse_metadata(&body, base, expected_issuer, allow_insecure) {
                Ok(metadata) => return Ok(metadata),
                // Another issuer is not a missing document: stop rather than look further.
                Err(MetadataError::IssuerMismatch) => {
                    return Err(DiscoveryError::Document {
                        url: shown,
                        error: MetadataError::IssuerMismatch,
                    });
                }
                Err(error) => DiscoveryError::Document { url: shown, error },
            },
        };
        last_failure = Some(failure);
    }
    Err(last_failure.unwrap_or(DiscoveryError::Document {
        url: base.to_string(),
        error: MetadataError::Malformed,
    }))
}

/// Reads one metadata document fetched for the issuer at `base`: its `issuer` must be
/// `expected_issuer` exactly or, when none is configured, `base` up to a trailing slash
/// (RFC 8414 §3.3); its `jwks_uri` must be an acceptable URL.
pub fn parse_metadata(
    body: &[u8],
    base: &Url,
    expected_issuer: Option<&str>,
    allow_insecure: bool,
) -> Result<Metadata, MetadataError> {
    let Ok(Document {
        issuer: Some(issuer),
        jwks_uri,
    }) = serde_json::from_slice::<Document>(body)
    else {
        return Err(MetadataError::Malformed);
    };
    let issuer_matches = match expected_issuer {
        Some(expected) => issuer == expected,
        None => issuer.trim_end_matches('/') == base.as_str().trim_end_matches('/'),
    };
    if !issuer_matches {
        return Err(MetadataError::IssuerMismatch);
    }
    let jwks_uri = jwks_uri
        .as_deref()
        .and_then(|uri| Url::parse(uri).ok())
        .filter(|uri| is_acceptable_url(uri, allow_insecure))
        .ok_or(MetadataError::BadJwksUri)?;
    Ok(Metadata { issuer, jwks_uri })
}

/// An issuer URL is https, or plain http on a loopback host (local development), or any http
/// when the operator explicitly allows it.
pub fn is_acceptable_url(url: &Url, allow_insecure: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => allow_insecure || is_loopback(url),
        _ => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(base: &str) -> [String; 2] {
        metadata_urls(&Url::parse(base).expect("url")).map(|url| url.to_string())
    }

    #[test]
    fn metadata_urls_follow_openid_then_rfc_8414() {
        assert_eq!(
            urls("https://tenant.auth0.com/"),
            [
                "https://tenant.auth0.com/.well-known/openid-configuration",
                "https://tenant.auth0.com/.well-known/oauth-authorization-server"
            ]
        );
        assert_eq!(
            urls("https://idp.example/tenant1"),
            [
                "https://idp.example/tenant1/.well-known/openid-configuration",
                "https://idp.example/.well-known/oauth-authorization-server/tenant1"
            ]
        );
    }

    #[test]
    fn metadata_documents_are_checked_member_by_member() {
        let base = Url::parse("https://tenant.example").expect("url");
        let parse = |body: &str, expected: Option<&str>| {
            parse_metadata(body.as_bytes(), &base, expected, false)
        };
        let good = r#"{"issuer":"https://tenant.example/","jwks_uri":"https://tenant.example/.well-known/jwks.json"}"#;
        let metadata = parse(good, None).expect("valid");
        assert_eq!(metadata.issuer, "https://tenant.example/");
        assert_eq!(
            parse(good, Some("https://tenant.example")),
            Err(MetadataError::IssuerMismatch)
        );
        assert_eq!(
            parse(
                r#"{"issuer":"https://evil.example/","jwks_uri":"https://x/"}"#,
                None
            ),
            Err(MetadataError::IssuerMismatch)
        );
        assert_eq!(
            parse(r#"{"issuer":"https://tenant.example/"}"#, None),
            Err(MetadataError::BadJwksUri)
        );
        assert_eq!(
            parse(
                r#"{"issuer":"https://tenant.example/","jwks_uri":"http://keys.example/"}"#,
                None
            ),
            Err(MetadataError::BadJwksUri)
        );
        assert_eq!(
            parse(r#"{"issuer":7}"#, None),
            Err(MetadataError::Malformed)
        );
        assert_eq!(parse("[]", None), Err(MetadataError::Malformed));
    }

    #[test]
    fn plain_http_is_acceptable_only_on_loopback_unless_allowed() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert!(is_acceptable_url(&url("https://tenant.auth0.com/"), false));
        assert!(is_acceptable_url(&url("http://127.0.0.1:4000/"), false));
        assert!(is_acceptable_url(&url("http://localhost:4000/"), false));
        assert!(is_acceptable_url(&url("http://[::1]:4000/"), false));
        assert!(!is_acceptable_url(&url("http://issuer.internal/"), false));
        assert!(is_acceptable_url(&url("http://issuer.internal/"), true));
        assert!(!is_acceptable_url(&url("ftp://issuer.internal/"), true));
    }
}
