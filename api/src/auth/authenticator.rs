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
use super::jose::{self, CompactJws, INVALID_COMPACT_JWS, decode_base64url};
use super::jwks::{KeyFingerprint, KeySet, NO_APPLICABLE_KEY, Selection, VerificationKey};
use super::key_store::{KeyStore, Source};
use super::options::{AuthOptions, OptionsError};
use super::request_url;
use super::resource_metadata::metadata_path;
use super::stats::{Counters, TokenCacheStats};
use super::token_cache::TokenCache;
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
    keys: KeyStore,
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
        let source = match (&options.issuer_base_url, &options.issuer, &options.jwks_uri) {
            (_, Some(issuer), Some(jwks_uri)) => Source::Fixed(Arc::new(Metadata {
                issuer: issuer.clone(),
                jwks_uri: jwks_uri.clone(),
            })),
            (Some(base), issuer, jwks_uri) => Source::Discover {
                base: base.clone(),
                issuer: issuer.clone(),
                jwks_uri: jwks_uri.clone(),
                allow_insecure: insecure,
            },
            (None, _, _) => return Err(OptionsError::NoIssuer),
        };
        let fetcher = Fetcher::new(options.jwks.http_timeout, options.jwks.max_response_bytes)
            .map_err(|error| OptionsError::HttpClient(error.to_string()))?;
        let rules = ClaimRules::from_options(&options);
        let keys = KeyStore::new(
            fetcher,
            source,
            options.jwks.clone(),
            options.algorithms.clone(),
        );
        Ok(Authenticator {
            inner: Arc::new(Inner {
                keys,
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
        let claims = self.verify(&credentials.token).await?;
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
        let inner = &*self.inner;
        if token.len() > inner.options.max_token_bytes {
            return Err(AuthError::invalid_token("Token is too large"));
        }
        let cache = inner.cache.as_ref().filter(|cache| cache.admits(token));
        if let Some(cache) = cache {
            if let Some(claims) = self.cached(cache, token) {
                Counters::bump(&inner.counters.hits);
                return Ok(claims);
            }
            Counters::bump(&inner.counters.misses);
        }
        let (claims, key) = self.verify_uncached(token).await?;
        if let Some(cache) = cache {
            cache.insert(token, claims.clone(), key);
            Counters::bump(&inner.counters.insertions);
        }
        Ok(claims)
    }

    /// The cached claims of `token`, if it is cached and still acceptable now; an entry that is
    /// not is dropped, and the caller verifies the token afresh, so whatever answer a fresh
    /// verification gives (an expiry, an unknown key, a refetch) is the answer.
    fn cached(&self, cache: &TokenCache, token: &str) -> Option<Claims> {
        let inner = &*self.inner;
        // One monotonic reading serves the TTL and the key set's age.
        let now = Instant::now();
        let entry = cache.get(token, now)?;
        let acceptable = entry.claims.times().check(&inner.rules, unix_now()).is_ok()
            && inner.keys.still_serves(entry.key, now);
        if acceptable {
            Some(entry.claims)
        } else {
            cache.remove(token);
            None
        }
    }

    /// The full pipeline: shape, key, signature, claims. Returns the claims and which key
    /// verified them.
    async fn verify_uncached(&self, token: &str) -> Result<(Claims, KeyFingerprint), AuthError> {
        let inner = &*self.inner;
        let jws = jose::parse_compact(token, &inner.algorithms)?;
        jws.header.check_type(inner.rules.strict)?;

        let resolved = inner
            .keys
            .key_for(jws.header.kid.as_deref(), jws.header.alg)
            .await?;
        Counters::bump(&inner.counters.signature_checks);
        let payload = verified_payload(&jws, &resolved.key)?;
        let all = claims::parse_payload(&payload)?;
        let claims = claims::validate(all, &resolved.metadata.issuer, &inner.rules, unix_now())?;
        Ok((claims, resolved.key.fingerprint()))
    }
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
    if !key.verify(jws.header.alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(AuthError::invalid_token("signature verification failed"));
    }
    decode_base64url(jws.payload).ok_or(INVALID_COMPACT_JWS)
}
