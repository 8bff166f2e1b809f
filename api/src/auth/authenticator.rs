//! The verification pipeline: find the request's token, then size, shape, algorithm and type
//! (no network), then key, signature and claims; for a DPoP request, then its proof, binding
//! and single use (`dpop_binding.rs`).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;

use super::algorithm::Algorithm;
use super::challenge::Challenges;
use super::claims::{self, ClaimRules, Claims, unix_now};
use super::discovery::{Metadata, is_acceptable_url};
use super::dpop_binding;
use super::error::{AuthError, Refusal};
use super::fetch::Fetcher;
use super::issuers::{Allowed, IssuerKeys, IssuerRequest, Issuers, StoreMaker};
use super::jose::{self, CompactJws, INVALID_COMPACT_JWS, decode_base64url};
use super::jwks::{KeySet, NO_APPLICABLE_KEY, Selection, VerificationKey};
use super::key_store::Source;
use super::options::{AuthOptions, OptionsError};
use super::request_url;
use super::resource_metadata::metadata_path;
use super::stats::{Counters, TokenCacheStats};
use super::token_cache::{TokenCache, VerifiedBy};
use super::token_source;

/// Verifies access tokens against an issuer's JWKS. Cheap to clone: clones share the key cache.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use api::auth::{AuthOptions, Authenticator};
/// let options = AuthOptions::new("https://tenant.auth0.com/".parse()?, "https://quickstarts/api");
/// let authenticator = Authenticator::new(options)?;
/// let claims = authenticator.verify("eyJ...").await?;
/// println!("{:?}", claims.subject());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    issuers: Issuers,
    rules: ClaimRules,
    algorithms: Vec<Algorithm>,
    /// Verified tokens; `None` when `token_cache.capacity` is 0.
    cache: Option<TokenCache>,
    counters: Counters,
    /// The resource metadata's path when 401 challenges name it, else `None`.
    metadata_path: Option<String>,
    options: AuthOptions,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Checks the options and builds the HTTP client. Makes no network call: discovery and the
    /// first JWKS fetch happen on the first token.
    pub fn new(options: AuthOptions) -> Result<Self, OptionsError> {
        if options.audiences.is_empty() {
            return Err(OptionsError::NoAudience);
        }
        if options.algorithms.is_empty() {
            return Err(OptionsError::NoAlgorithm);
        }
        options.dpop.check()?;
        options.check_resource_metadata()?;
        let insecure = options.allow_insecure_issuer;
        for (name, url) in [
            ("the issuer base URL", options.issuer_base_url.as_ref()),
            ("the JWKS URI", options.jwks_uri.as_ref()),
        ] {
            if url.is_some_and(|url| !is_acceptable_url(url, insecure)) {
                return Err(OptionsError::InsecureUrl(name));
            }
        }
        let fetcher = Fetcher::new(options.jwks.http_timeout, options.jwks.max_response_bytes)
            .map_err(|error| OptionsError::HttpClient(error.to_string()))?;
        let maker = StoreMaker {
            fetcher,
            policy: options.jwks.clone(),
            allowed: options.algorithms.clone(),
            allow_insecure: insecure,
        };
        let issuers = Issuers::new(
            configured_issuers(&options, &maker)?,
            options.issuer_resolver.clone(),
            maker,
        );
        let rules = ClaimRules::from_options(&options);
        Ok(Authenticator {
            inner: Arc::new(Inner {
                issuers,
                rules,
                algorithms: options.algorithms.clone(),
                cache: TokenCache::new(&options.token_cache),
                counters: Counters::default(),
                metadata_path: options
                    .resource_metadata
                    .in_challenges
                    .then(|| options.resource_metadata.resource_for(&options.audiences))
                    .flatten()
                    .map(|resource| metadata_path(&resource)),
                options,
            }),
        })
    }

    /// The options this authenticator was built with.
    pub fn options(&self) -> &AuthOptions {
        &self.inner.options
    }

    /// Counters of the verified-token cache and of signature checks since start-up.
    pub fn cache_stats(&self) -> TokenCacheStats {
        self.inner.counters.snapshot(self.inner.cache.as_ref())
    }

    /// Finds and verifies the request's token (see [`require_auth`](super::require_auth) for
    /// where it may be), and for `Authorization: DPoP` its proof (RFC 9449 §7). With
    /// `required`, a request without a token is refused; without it, such a request passes
    /// unauthenticated. A token that is present but invalid is always refused, with the
    /// challenges [`DpopOptions`](super::DpopOptions) and the client's scheme call for. On success the [`Claims`]
    /// are in the request's extensions, with a [`NextDpopNonce`](super::NextDpopNonce) the
    /// answer should carry as `DPoP-Nonce` when DPoP nonces are on and the client's is about
    /// to expire ([`require_auth`](super::require_auth) does so).
    pub async fn authenticate_request(
        &self,
        request: Request,
        required: bool,
    ) -> Result<Request, Refusal> {
        let challenges = self.challenges_for(&request);
        self.authenticate(request, required)
            .await
            .map_err(|error| Refusal { error, challenges })
    }

    /// The challenges a refusal of `request` is answered with: the schemes offered, the one
    /// used and, when 401 challenges name it, the resource metadata's URL at the origin the
    /// client addressed ([`ResourceMetadataOptions`](super::ResourceMetadataOptions); left out
    /// when that origin cannot be known, a request the `Host` check refuses anyway).
    pub fn challenges_for(&self, request: &Request) -> Challenges {
        let options = &self.inner.options;
        let resource_metadata = self.inner.metadata_path.as_deref().and_then(|path| {
            let mut url = request_url::request_origin(request, &options.dpop).ok()?;
            url.push_str(path);
            Some(url)
        });
        Challenges {
            offered: options.dpop.offered(),
            used: token_source::scheme_used(request.headers()),
            resource_metadata,
        }
    }

    /// [`Authenticator::authenticate_request`] without the challenges.
    async fn authenticate(&self, request: Request, required: bool) -> Result<Request, AuthError> {
        let options = &self.inner.options;
        let allowed = self.inner.issuers.allowed(IssuerRequest {
            uri: request.uri(),
            headers: request.headers(),
        });
        let (mut request, credentials) =
            token_source::extract(request, options.allow_query_token, options.dpop.enabled).await?;
        let Some(credentials) = credentials else {
            return if required {
                Err(AuthError::MissingToken)
            } else {
                Ok(request)
            };
        };
        let proof = dpop_binding::proof_for(&credentials, &request, &options.dpop)?;
        let claims = self.verify_from(&credentials.token, &allowed).await?;
        let next_nonce = dpop_binding::check(&claims, &credentials, proof, &options.dpop).await?;
        if let Some(next_nonce) = next_nonce {
            request.extensions_mut().insert(next_nonce);
        }
        request.extensions_mut().insert(claims);
        Ok(request)
    }

    /// Verifies a token (the part after `Bearer ` or `DPoP `) and returns its claims. For a
    /// DPoP-bound token this is not the whole check: the request's proof is
    /// [`authenticate_request`](Authenticator::authenticate_request)'s.
    ///
    /// Everything that can be refused without a key is refused before any network call.
    /// A token verified before may be answered from the verified-token cache, after its time
    /// claims and its key are checked again (see [`TokenCachePolicy`](super::TokenCachePolicy)).
    /// Errors are [`AuthError::InvalidToken`], or [`AuthError::IssuerUnavailable`] when no
    /// usable key can be had.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_from(token, &Allowed::Configured).await
    }

    /// [`Authenticator::verify`] for a token that may come from the `allowed` issuers.
    async fn verify_from(&self, token: &str, allowed: &Allowed) -> Result<Claims, AuthError> {
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Err(AuthError::invalid_token("Token is too large"));
        }
        let cache = inner.cache.as_ref().filter(|cache| cache.admits(token));
        if let Some(cache) = cache {
            if let Some(claims) = self.cached(cache, token, allowed) {
                Counters::bump(&inner.counters.hits);
                return Ok(claims);
            }
            Counters::bump(&inner.counters.misses);
        }
        let (claims, key) = self.verify_uncached(token, allowed).await?;
        if let Some(cache) = cache {
            cache.insert(token, claims.clone(), key);
            Counters::bump(&inner.counters.insertions);
        }
        Ok(claims)
    }

    /// The cached claims of `token`, if it is cached and still acceptable now; an entry that is
    /// not is dropped, and the caller verifies the token afresh, so whatever answer a fresh
    /// verification gives (an expiry, an unknown key, a refetch) is the answer. A token of an
    /// issuer this request may not carry is verified afresh too (and refused), its entry kept
    /// for the requests that may.
    fn cached(&self, cache: &TokenCache, token: &str, allowed: &Allowed) -> Option<Claims> {
        let inner = &*self.inner;
        // One monotonic reading serves the TTL and the key set's age.
        let now = Instant::now();
        let entry = cache.get(token, now)?;
        if !inner.issuers.admits(entry.claims.issuer(), allowed) {
            return None;
        }
        let acceptable = entry.claims.times().check(&inner.rules, unix_now()).is_ok()
            && entry.key.keys.still_serves(entry.key.fingerprint, now);
        if acceptable {
            Some(entry.claims)
        } else {
            cache.remove(token);
            None
        }
    }

    /// The full pipeline: shape, issuer, key, signature, claims. Returns the claims and which
    /// key verified them.
    ///
    /// With one issuer, the payload is read only once the signature holds. With several, its
    /// `iss` must choose the issuer first: the payload is parsed before the signature is
    /// checked (by the same strict parser), and nothing but `iss` is read from it until then.
    async fn verify_uncached(
        &self,
        token: &str,
        allowed: &Allowed,
    ) -> Result<(Claims, VerifiedBy), AuthError> {
        let inner = &*self.inner;
        let jws = jose::parse_compact(token, &inner.algorithms)?;
        jws.header.check_type(inner.rules.strict)?;

        let (keys, unverified) = match inner.issuers.only() {
            Some(keys) => (keys.clone(), None),
            None => {
                let payload = decode_base64url(jws.payload).ok_or(INVALID_COMPACT_JWS)?;
                let payload = claims::parse_payload(&payload)?;
                (
                    inner.issuers.keys_for(payload.issuer()?, allowed)?,
                    Some(payload),
                )
            }
        };
        let resolved = keys
            .key_for(jws.header.kid.as_deref(), jws.header.alg)
            .await?;
        Counters::bump(&inner.counters.signature_checks);
        let payload = match unverified {
            Some(payload) => {
                check_signature(&jws, &resolved.key)?;
                payload
            }
            None => claims::parse_payload(&verified_payload(&jws, &resolved.key)?)?,
        };
        let claims = claims::validate(payload, &resolved.issuer, &inner.rules, unix_now())?;
        let verified_by = VerifiedBy {
            keys,
            fingerprint: resolved.key.fingerprint(),
        };
        Ok((claims, verified_by))
    }
}

/// Each configured issuer's identifier and key store: the one `issuer_base_url` (or `issuer`
/// with `jwks_uri`) describes, and each of `more_issuers`. Refuses plain-http URLs off
/// loopback, and one-issuer settings with several issuers.
fn configured_issuers(
    options: &AuthOptions,
    maker: &StoreMaker,
) -> Result<Vec<(String, IssuerKeys)>, OptionsError> {
    if let Some(keys) = &options.static_keys {
        return match (&options.issuer, &options.issuer_base_url, &options.jwks_uri) {
            (Some(issuer), None, None)
                if options.more_issuers.is_empty() && options.issuer_resolver.is_none() =>
            {
                let fixed = IssuerKeys::Fixed {
                    issuer: issuer.as_str().into(),
                    keys: keys.clone(),
                };
                Ok(vec![(issuer.clone(), fixed)])
            }
            _ => Err(OptionsError::StaticKeysWithFetching),
        };
    }
    let several = !options.more_issuers.is_empty();
    if several && (options.issuer.is_some() || options.jwks_uri.is_some()) {
        return Err(OptionsError::OneIssuerSettingWithSeveral);
    }
    let first = match (&options.issuer_base_url, &options.issuer, &options.jwks_uri) {
        (_, Some(issuer), Some(jwks_uri)) => Some((
            issuer.clone(),
            Source::Fixed(Arc::new(Metadata {
                issuer: issuer.clone(),
                jwks_uri: jwks_uri.clone(),
            })),
        )),
        (Some(base), issuer, jwks_uri) => Some((
            issuer.clone().unwrap_or_else(|| base.to_string()),
            Source::Discover {
                base: base.clone(),
                issuer: issuer.clone(),
                jwks_uri: jwks_uri.clone(),
                allow_insecure: maker.allow_insecure,
            },
        )),
        (None, _, _) => None,
    };
    let mut configured: Vec<_> = first
        .into_iter()
        .map(|(identifier, source)| (identifier, IssuerKeys::Remote(maker.store(source))))
        .collect();
    for base in &options.more_issuers {
        if !is_acceptable_url(base, maker.allow_insecure) {
            return Err(OptionsError::InsecureUrl("an issuer base URL"));
        }
        configured.push((
            base.to_string(),
            IssuerKeys::Remote(maker.discovering(base.clone())),
        ));
    }
    if configured.is_empty() && options.issuer_resolver.is_none() {
        return Err(OptionsError::NoIssuer);
    }
    Ok(configured)
}

/// Verifies a compact JWS against a key set, without looking at the payload's claims: the
/// signature layer of [`Authenticator::verify`], for callers that manage keys themselves (and
/// for the Wycheproof test vectors). Returns the decoded payload.
pub fn verify_jws(
    token: &str,
    keys: &KeySet,
    algorithms: &[Algorithm],
) -> Result<Vec<u8>, AuthError> {
    let jws = jose::parse_compact(token, algorithms)?;
    match keys.select(jws.header.kid.as_deref(), jws.header.alg) {
        Selection::Found(key) => verified_payload(&jws, &key),
        Selection::NoApplicableKey => Err(NO_APPLICABLE_KEY),
    }
}

/// Checks the signature, and only then decodes the payload.
fn verified_payload(jws: &CompactJws<'_>, key: &VerificationKey) -> Result<Vec<u8>, AuthError> {
    check_signature(jws, key)?;
    decode_base64url(jws.payload).ok_or(INVALID_COMPACT_JWS)
}

fn check_signature(jws: &CompactJws<'_>, key: &VerificationKey) -> Result<(), AuthError> {
    if key.verify(jws.header.alg, jws.signing_input.as_bytes(), &jws.signature) {
        Ok(())
    } else {
        Err(AuthError::invalid_token("signature verification failed"))
    }
}
