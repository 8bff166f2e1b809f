//! Protected Resource Metadata (RFC 9728): the JSON document that tells a client which
//! authorization servers issue tokens for this API, which scopes it knows and how tokens may
//! be sent (§2), the path it is published at (§3.1), and the options that name its URL in 401
//! challenges (§5.1).

use axum::Router;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use url::Url;

use super::dpop::ALGORITHMS;
use super::options::AuthOptions;

/// Where the document is published, at the root of the API's origin (RFC 9728 §3.1).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// How long clients and caches may keep the document: it changes only with the configuration.
const CACHE_FOR: HeaderValue = HeaderValue::from_static("public, max-age=3600");

/// The resource identifier and whether challenges name the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceMetadataOptions {
    /// The API's resource identifier (RFC 9728 §1.2), the document's `resource`, exactly as
    /// written (clients compare it as a string): an absolute http(s) URL without query or
    /// fragment ([`is_acceptable_resource`]). Default: unset, and then the first audience when
    /// it is such a URL (Auth0's API identifiers usually are).
    pub resource: Option<String>,
    /// Every 401 challenge carries `resource_metadata="<the document's URL>"` (RFC 9728 §5.1).
    /// Needs a resource. Default: off, so the challenges stay exactly the reference's.
    pub in_challenges: bool,
}

impl ResourceMetadataOptions {
    /// The resource identifier: [`ResourceMetadataOptions::resource`], else the first of
    /// `audiences`, exactly as written, if it is acceptable ([`is_acceptable_resource`]); else
    /// `None` (no document can be published).
    pub fn resource_for(&self, audiences: &[String]) -> Option<String> {
        let candidate = self.resource.as_ref().or_else(|| audiences.first())?;
        is_acceptable_resource(candidate).then(|| candidate.clone())
    }
}

/// Whether `resource` can be a resource identifier: an absolute URL, `http` or `https`, with a
/// host and no user, password, query (RFC 9728 §1.2 advises against one; we refuse it) or
/// fragment, and no path segment starting with `:` or `*`, which axum's router reserves for
/// captures (the document is served at a path made from the resource's).
pub fn is_acceptable_resource(resource: &str) -> bool {
    Url::parse(resource).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && !url
                .path()
                .split('/')
                .any(|segment| segment.starts_with([':', '*']))
    })
}

/// The path of `resource`'s document (RFC 9728 §3.1): the well-known path, followed by the
/// resource's own path unless that is empty or `/` alone.
pub fn metadata_path(resource: &str) -> String {
    match Url::parse(resource) {
        Ok(url) if url.path() != "/" => format!("{WELL_KNOWN_PATH}{}", url.path()),
        _ => WELL_KNOWN_PATH.to_owned(),
    }
}

/// The metadata document of RFC 9728 §2, as this API fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    /// The resource identifier ([`ResourceMetadataOptions::resource_for`]).
    pub resource: String,
    /// The issuers whose tokens are accepted: the expected `iss` (`issuer`, else the issuer
    /// base URL, which the discovered issuer must equal), then every one of `more_issuers`.
    /// A resolver's issuers are per request, so not listed.
    pub authorization_servers: Vec<String>,
    /// The scopes the app's routes require, as the app lists them.
    pub scopes_supported: Vec<String>,
    /// `header` and `body` always, `query` when the query token is allowed (RFC 6750 §2).
    pub bearer_methods_supported: Vec<&'static str>,
    /// The DPoP proof algorithms ([`ALGORITHMS`]); left out when DPoP is disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<&'static str>>,
    /// Whether only DPoP-bound tokens are accepted (`DPOP_REQUIRED`).
    pub dpop_bound_access_tokens_required: bool,
    /// Always false: mutual-TLS-bound tokens (RFC 8705) are not built, so a certificate-bound
    /// token's `cnf.x5t#S256` is not checked and the API must not claim it is.
    pub tls_client_certificate_bound_access_tokens: bool,
}

impl ResourceMetadata {
    /// The document for `options` and the `scopes` the app's routes require, or `None` when
    /// no resource identifier is known ([`ResourceMetadataOptions::resource_for`]).
    pub fn new(options: &AuthOptions, scopes: &[&str]) -> Option<Self> {
        let resource = options.resource_metadata.resource_for(&options.audiences)?;
        let first = options.issuer.clone().or_else(|| {
            options
                .issuer_base_url
                .as_ref()
                .map(|url| url.as_str().to_owned())
        });
        let issuers = first.into_iter().chain(
            options
                .more_issuers
                .iter()
                .map(|url| url.as_str().to_owned()),
        );
        let mut bearer_methods = vec!["header", "body"];
        if options.allow_query_token {
            bearer_methods.push("query");
        }
        Some(ResourceMetadata {
            resource,
            authorization_servers: issuers.collect(),
            scopes_supported: scopes.iter().map(|&scope| scope.to_owned()).collect(),
            bearer_methods_supported: bearer_methods,
            dpop_signing_alg_values_supported: options.dpop.enabled.then(|| ALGORITHMS.to_vec()),
            dpop_bound_access_tokens_required: options.dpop.enabled && options.dpop.required,
            tls_client_certificate_bound_access_tokens: false,
        })
    }

    /// A router answering `GET` (and `HEAD`) of the document, without authentication, at
    /// [`WELL_KNOWN_PATH`] and, for a resource with a path, at its [`metadata_path`] too.
    pub fn router(&self) -> Router {
        // The document is fixed: serialised once, answered as bytes. Strings, lists and
        // booleans always serialise, so the empty fallback is never taken.
        let body = Bytes::from(serde_json::to_vec(self).unwrap_or_default());
        let answer = move || {
            let body = body.clone();
            async move { document_response(body) }
        };
        let path = metadata_path(&self.resource);
        let router = Router::new().route(WELL_KNOWN_PATH, get(answer.clone()));
        if path == WELL_KNOWN_PATH {
            router
        } else {
            router.route(&path, get(answer))
        }
    }
}

/// The document as JSON, cacheable for an hour.
fn document_response(body: Bytes) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (CACHE_CONTROL, CACHE_FOR),
    ];
    (StatusCode::OK, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_path_inserts_the_well_known_suffix_before_the_resource_path() {
        assert_eq!(
            metadata_path("https://api.example.com"),
            "/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_path("https://quickstarts/api"),
            "/.well-known/oauth-protected-resource/api"
        );
    }

    #[test]
    fn a_resource_is_an_http_url_without_query_fragment_or_user() {
        for good in ["https://api.example.com/", "http://localhost:3010/api"] {
            assert!(is_acceptable_resource(good), "{good}");
        }
        for bad in [
            "ftp://api.example.com/",
            "https://api.example.com/?x=1",
            "https://api.example.com/#f",
            "https://user@api.example.com/",
            "urn:example:api",
            "my-api",
            "https://api.example.com/:id",
            "https://api.example.com/v1/*rest",
        ] {
            assert!(!is_acceptable_resource(bad), "{bad}");
        }
    }
}
