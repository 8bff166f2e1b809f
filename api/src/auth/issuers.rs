//! The issuers whose tokens are accepted: one, or several (the reference's "MCD"), each with its
//! own metadata, key cache, cooldown and stale limit, so one issuer failing never touches the
//! others. With one, nothing changes: its `iss` is checked after the signature, as always. With
//! several, or with a resolver, the token's `iss` is read before the signature (the only claim
//! that is) and, normalised, chooses the issuer; a token from any other issuer is refused
//! before any network call, so an unknown issuer costs nothing. The chosen issuer's exact
//! identifier is checked again with the claims once the signature holds.

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, Uri};
use quick_cache::sync::Cache;
use url::Url;

use super::algorithm::Algorithm;
use super::discovery::is_acceptable_url;
use super::error::AuthError;
use super::fetch::Fetcher;
use super::jwks::{KeyFingerprint, KeySet, NO_APPLICABLE_KEY, Selection};
use super::key_store::{KeyStore, ResolvedKey, Source};
use super::options::JwksPolicy;

/// The most issuers a [`IssuerResolver`] may have key caches for at once, as the reference
/// keeps; the least used are dropped (and discovered again if needed).
pub const MAX_RESOLVED_ISSUERS: usize = 100;

/// The refusal of a token whose issuer is not trusted (for this request).
pub(crate) const UNEXPECTED_ISSUER: AuthError = AuthError::invalid_token("Unexpected 'iss' value");

/// What a resolver may look at: the request's URI and headers (the `Host` of a custom domain,
/// say). No body, no extensions: it runs before authentication.
#[derive(Debug, Clone, Copy)]
pub struct IssuerRequest<'a> {
    /// The request's URI.
    pub uri: &'a Uri,
    /// The request's headers.
    pub headers: &'a HeaderMap,
}

/// A function from the request to the issuers whose tokens it may carry (their base URLs, as
/// `ISSUER_BASE_URL` takes them): for one API serving several tenants or custom domains,
/// chosen per request. Each issuer is discovered on first use and gets its own key cache (at
/// most [`MAX_RESOLVED_ISSUERS`] at once). An issuer URL that is not https (plain http only for
/// loopback, unless `allow_insecure_issuer`) is ignored. It runs on every request that carries
/// a token, so it should be quick (a map lookup, not a network call).
#[derive(Clone)]
pub struct IssuerResolver(Arc<dyn Fn(IssuerRequest<'_>) -> Vec<Url> + Send + Sync>);

impl IssuerResolver {
    /// Wraps `resolve`.
    pub fn new(resolve: impl Fn(IssuerRequest<'_>) -> Vec<Url> + Send + Sync + 'static) -> Self {
        IssuerResolver(Arc::new(resolve))
    }

    /// The issuers `request` may carry tokens of.
    pub(crate) fn resolve(&self, request: IssuerRequest<'_>) -> Vec<Url> {
        (self.0)(request)
    }
}

impl std::fmt::Debug for IssuerResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuerResolver(..)")
    }
}

/// An issuer identifier in the form it is compared in (the reference's): scheme and host in
/// lower case, the default port dropped, one trailing slash trimmed. `None` for what is not an
/// http(s) URL, which no configured issuer can match.
pub(crate) fn normalize_issuer(issuer: &str) -> Option<String> {
    normalized(&Url::parse(issuer).ok()?)
}

/// [`normalize_issuer`] of a URL already parsed (a resolver's), without parsing it again.
fn normalized(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    // `Url` has lower-cased the scheme and host and dropped the default port.
    let text = url.as_str();
    Some(text.strip_suffix('/').unwrap_or(text).to_owned())
}

/// Which issuers a token may come from.
#[derive(Debug)]
pub(crate) enum Allowed {
    /// The configured ones.
    Configured,
    /// These, given by the resolver for the request, normalised.
    Resolved(Vec<(String, Url)>),
}

/// Where one issuer's keys come from: its JWKS, fetched and cached, or a key set fixed at
/// start-up (`PUBLIC_KEY`, `SECRET`), which is never fetched, never ages and never changes.
#[derive(Clone)]
pub(crate) enum IssuerKeys {
    /// The issuer's JWKS, through its key cache.
    Remote(KeyStore),
    /// A fixed key set, and the exact `iss` its tokens carry.
    Fixed { issuer: Arc<str>, keys: Arc<KeySet> },
}

impl IssuerKeys {
    /// The key for a token's `kid` and `alg` (see [`KeyStore::key_for`]; a fixed set needs no
    /// network).
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<ResolvedKey, AuthError> {
        match self {
            IssuerKeys::Remote(store) => store.key_for(kid, alg).await,
            IssuerKeys::Fixed { issuer, keys } => match keys.select(kid, alg) {
                Selection::Found(key) => Ok(ResolvedKey {
                    key,
                    issuer: issuer.clone(),
                }),
                Selection::NoApplicableKey => Err(NO_APPLICABLE_KEY),
            },
        }
    }

    /// Whether a token verified with the key `fingerprint` may still be accepted from the token
    /// cache (see [`KeyStore::still_serves`]; a fixed set always holds its keys).
    pub(crate) fn still_serves(&self, fingerprint: KeyFingerprint, now: Instant) -> bool {
        match self {
            IssuerKeys::Remote(store) => store.still_serves(fingerprint, now),
            IssuerKeys::Fixed { keys, .. } => keys.contains(fingerprint),
        }
    }
}

/// One configured issuer.
struct Trusted {
    /// The identifier, normalised.
    id: String,
    keys: IssuerKeys,
}

/// Everything needed to make an issuer's key store.
#[derive(Clone)]
pub(crate) struct StoreMaker {
    pub fetcher: Fetcher,
    pub policy: JwksPolicy,
    pub allowed: Vec<Algorithm>,
    pub allow_insecure: bool,
}

impl StoreMaker {
    /// A store that discovers the issuer at `base`.
    pub(crate) fn discovering(&self, base: Url) -> KeyStore {
        self.store(Source::Discover {
            base,
            issuer: None,
            jwks_uri: None,
            allow_insecure: self.allow_insecure,
        })
    }

    /// A store for `source`.
    pub(crate) fn store(&self, source: Source) -> KeyStore {
        KeyStore::new(
            self.fetcher.clone(),
            source,
            self.policy.clone(),
            self.allowed.clone(),
        )
    }
}

/// The trusted issuers and their key stores.
pub(crate) struct Issuers {
    configured: Vec<Trusted>,
    resolver: Option<IssuerResolver>,
    /// The stores of issuers a resolver named, by normalised identifier.
    resolved: Cache<String, KeyStore>,
    maker: StoreMaker,
}

impl Issuers {
    /// `configured` pairs each issuer's identifier (its expected `iss`, or its base URL) with
    /// its keys.
    pub(crate) fn new(
        configured: Vec<(String, IssuerKeys)>,
        resolver: Option<IssuerResolver>,
        maker: StoreMaker,
    ) -> Self {
        let configured = configured
            .into_iter()
            .map(|(identifier, keys)| Trusted {
                id: normalize_issuer(&identifier).unwrap_or(identifier),
                keys,
            })
            .collect();
        Issuers {
            configured,
            resolver,
            resolved: Cache::new(MAX_RESOLVED_ISSUERS),
            maker,
        }
    }

    /// The one issuer's keys when there is no choice to make: one configured issuer and no
    /// resolver. Its tokens' `iss` is then only checked with the other claims.
    pub(crate) fn only(&self) -> Option<&IssuerKeys> {
        match (&self.configured[..], &self.resolver) {
            ([one], None) => Some(&one.keys),
            _ => None,
        }
    }

    /// The issuers `request` may carry tokens of: the resolver's answer, else the configured.
    pub(crate) fn allowed(&self, request: IssuerRequest<'_>) -> Allowed {
        let Some(resolver) = &self.resolver else {
            return Allowed::Configured;
        };
        let insecure = self.maker.allow_insecure;
        let issuers = resolver
            .resolve(request)
            .into_iter()
            .filter(|url| {
                let acceptable = is_acceptable_url(url, insecure);
                if !acceptable {
                    tracing::debug!(issuer = ?url.as_str(), "the resolver named an issuer URL that is not https; ignored");
                }
                acceptable
            })
            .filter_map(|url| Some((normalized(&url)?, url)))
            .collect();
        Allowed::Resolved(issuers)
    }

    /// The keys of the issuer `iss` names (unverified), if `allowed` trusts it; else the
    /// refusal, without any network call.
    pub(crate) fn keys_for(&self, iss: &str, allowed: &Allowed) -> Result<IssuerKeys, AuthError> {
        let id = normalize_issuer(iss).ok_or(UNEXPECTED_ISSUER)?;
        match allowed {
            Allowed::Configured => self
                .configured
                .iter()
                .find(|trusted| trusted.id == id)
                .map(|trusted| trusted.keys.clone())
                .ok_or(UNEXPECTED_ISSUER),
            Allowed::Resolved(issuers) => {
                let (_, base) = issuers
                    .iter()
                    .find(|(candidate, _)| *candidate == id)
                    .ok_or(UNEXPECTED_ISSUER)?;
                let store = self
                    .resolved
                    .get_or_insert_with(&id, || {
                        Ok::<_, std::convert::Infallible>(self.maker.discovering(base.clone()))
                    })
                    .unwrap_or_else(|never| match never {});
                Ok(IssuerKeys::Remote(store))
            }
        }
    }

    /// Whether `issuer` (a verified token's exact `iss`) is among `allowed`: a cached
    /// verification is reused only for a request that may carry that issuer's tokens.
    pub(crate) fn admits(&self, issuer: &str, allowed: &Allowed) -> bool {
        match allowed {
            Allowed::Configured => true,
            Allowed::Resolved(issuers) => normalize_issuer(issuer)
                .is_some_and(|id| issuers.iter().any(|(candidate, _)| *candidate == id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_compared_as_the_reference_normalises_them() {
        let same = [
            "https://tenant.auth0.com/",
            "https://tenant.auth0.com",
            "HTTPS://Tenant.Auth0.COM/",
            "https://tenant.auth0.com:443/",
        ];
        for issuer in same {
            assert_eq!(
                normalize_issuer(issuer).as_deref(),
                Some("https://tenant.auth0.com"),
                "{issuer}"
            );
        }
        assert_eq!(
            normalize_issuer("https://idp.example/realms/a/").as_deref(),
            Some("https://idp.example/realms/a")
        );
        for different in [
            "https://tenant.auth0.com:8443/",
            "http://tenant.auth0.com/",
            "https://tenant.auth0.com/a",
        ] {
            assert_ne!(
                normalize_issuer(different).as_deref(),
                Some("https://tenant.auth0.com"),
                "{different}"
            );
        }
        for not_a_url in ["", "tenant.auth0.com", "urn:example:issuer", "file:///etc"] {
            assert_eq!(normalize_issuer(not_a_url), None, "{not_a_url}");
        }
    }
}
