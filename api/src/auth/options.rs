//! What an [`Authenticator`](super::Authenticator) checks, with the reference's defaults.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::algorithm::Algorithm;
use super::challenge::Offered;
use super::dpop::DpopNonces;
use super::dpop_replay::ReplayStore;
use super::issuers::IssuerResolver;
use super::jwks::KeySet;
use super::resource_metadata::{ResourceMetadataOptions, is_acceptable_resource};

/// Settings of the authentication core. Start from [`AuthOptions::new`] and adjust fields.
///
/// No body size is set here: a form body carrying a token is read within the request's own
/// body limit, the one every other body reader meets, so one setting governs all of them:
/// [`ServerLimits::max_body_bytes`](crate::ServerLimits::max_body_bytes) under
/// [`serve_with`](crate::serve_with), else axum's
/// [`DefaultBodyLimit`](axum::extract::DefaultBodyLimit) (2 MiB unless the app sets another).
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// The issuer's base URL, where discovery starts (`ISSUER_BASE_URL`). Optional only when
    /// both `issuer` and `jwks_uri` are set.
    pub issuer_base_url: Option<Url>,
    /// The exact `iss` to expect. Default: the `issuer` of the discovered metadata, which must
    /// equal `issuer_base_url` up to a trailing slash.
    pub issuer: Option<String>,
    /// Where the keys are. Default: the discovered `jwks_uri`.
    pub jwks_uri: Option<Url>,
    /// More issuers whose tokens are accepted, beside `issuer_base_url` (the reference's
    /// several issuers, "MCD"): each discovered from its base URL, with its own metadata, key
    /// cache, cooldown and stale limit. The token's `iss`, normalised (scheme and host in lower
    /// case, default port and trailing slash dropped), chooses the issuer before any network
    /// call; then the discovered issuer's exact identifier is checked. Not with `issuer` or
    /// `jwks_uri`, which describe one issuer. Default: none.
    pub more_issuers: Vec<Url>,
    /// Chooses, per request, the issuers whose tokens it may carry (several custom domains or
    /// tenants behind one API). When set, only its answer counts for requests, and
    /// `issuer_base_url` may be unset; [`Authenticator::verify`](super::Authenticator::verify)
    /// alone, with no request, still uses the configured issuers. Default: unset.
    pub issuer_resolver: Option<IssuerResolver>,
    /// A key set fixed at start-up to verify with instead of an issuer's JWKS (`PUBLIC_KEY`,
    /// `SECRET`): no discovery and no fetch, ever. Needs `issuer` (the exact `iss`); not with
    /// `issuer_base_url`, `jwks_uri`, `more_issuers` or a resolver. Default: unset.
    pub static_keys: Option<Arc<KeySet>>,
    /// The accepted audiences; a token's `aud` must contain at least one. Required.
    pub audiences: Vec<String>,
    /// The accepted signature algorithms, each only with a key of its own type and curve (and
    /// its `alg`, when a key names one). Default: every [`Algorithm`] (the reference's list:
    /// RSA, ECDSA on P-256, P-384, P-521 and secp256k1, EdDSA over Ed25519), so an issuer that
    /// signs with EC or Ed25519 keys works with no setting. Narrow it to what the issuer uses.
    pub algorithms: Vec<Algorithm>,
    /// Leeway for `exp`, `nbf` and `iat`. Default: 5 s.
    pub clock_tolerance: Duration,
    /// If set, tokens must carry `iat` and be at most this old. Default: unset.
    pub max_token_age: Option<Duration>,
    /// RFC 9068 strict mode: header `typ` must be `at+jwt` and `iat`, `sub`, `client_id` and
    /// `jti` are required. Default: off (Auth0's default tokens have `typ` `JWT`).
    pub strict: bool,
    /// Accept `?access_token=` (RFC 6750 §2.3). Default: off, because URLs end up in logs.
    pub allow_query_token: bool,
    /// Allow a plain-http issuer on a non-loopback host. Default: off.
    pub allow_insecure_issuer: bool,
    /// The largest token accepted, in bytes. Default: 16 KiB.
    pub max_token_bytes: usize,
    /// How keys are fetched and cached.
    pub jwks: JwksPolicy,
    /// How verified tokens are cached.
    pub token_cache: TokenCachePolicy,
    /// DPoP-bound tokens (RFC 9449): accepted by default, as the reference does.
    pub dpop: DpopOptions,
    /// Protected Resource Metadata (RFC 9728): the resource identifier, and whether 401
    /// challenges name the metadata's URL. Default: the first audience, not named.
    pub resource_metadata: ResourceMetadataOptions,
}

/// DPoP (RFC 9449): tokens bound to a key the client proves it holds on every request, with
/// `Authorization: DPoP <token>` and a `DPoP` proof header. The reference's options
/// (`enabled`, `required`, `iatOffset`, `iatLeeway`) and defaults, plus what the reference
/// leaves out: a replay store, and the URL the proof's `htu` names behind a proxy.
#[derive(Debug, Clone)]
pub struct DpopOptions {
    /// Accept the DPoP scheme. Off: `Authorization: DPoP …` is refused as any other scheme
    /// is, a `DPoP` header is ignored and a bound token sent as `Bearer` is accepted (its `cnf`
    /// is not read), as the reference does. Default: on.
    pub enabled: bool,
    /// Accept only the DPoP scheme: a bearer token is refused, and challenges offer DPoP
    /// alone. Needs `enabled`. Default: off.
    pub required: bool,
    /// How old a proof's `iat` may be. Default: 300 s.
    pub iat_offset: Duration,
    /// How far in the future a proof's `iat` may be, for clients whose clocks run ahead.
    /// Default: 30 s.
    pub iat_leeway: Duration,
    /// Where the proofs already used are remembered, so each is accepted once: a proof's
    /// `jti` is kept until its `iat` window closes. Default: in this process,
    /// [`DEFAULT_CAPACITY`](super::dpop_replay::DEFAULT_CAPACITY) proofs; several replicas
    /// share a [`ReplayStore::redis`] one.
    pub replay_store: ReplayStore,
    /// The origin clients reach this API at (`https://api.example.com`), which every proof's
    /// `htu` must name: set it behind a TLS terminator or a load balancer, so that every
    /// replica compares with the same URL. An origin only: no path, query or fragment.
    /// Default: unset (see `trust_forwarded_headers`).
    pub public_url: Option<Url>,
    /// Without `public_url`, take the scheme and host `htu` must name from the
    /// `X-Forwarded-Proto` and `X-Forwarded-Host` headers (their first values). Only behind a
    /// proxy that sets both and drops them from clients: anyone else can forge them. Default:
    /// off, and then the URL is `http://` and the request's `Host`.
    pub trust_forwarded_headers: bool,
    /// Server-provided nonces (RFC 9449 §9): every proof must carry a current one. A proof
    /// without it is answered 401 `use_dpop_nonce` with the nonce in a `DPoP-Nonce` header,
    /// and an answer to a proof whose nonce is about to expire carries the next one. Replicas
    /// behind one address must be given the same secret ([`DpopNonces::new`]). Needs
    /// `enabled`. Default: off.
    pub nonces: Option<DpopNonces>,
}

impl Default for DpopOptions {
    fn default() -> Self {
        DpopOptions {
            enabled: true,
            required: false,
            iat_offset: Duration::from_secs(300),
            iat_leeway: Duration::from_secs(30),
            replay_store: ReplayStore::default(),
            public_url: None,
            trust_forwarded_headers: false,
            nonces: None,
        }
    }
}

impl DpopOptions {
    /// The schemes these options accept, as challenges offer them.
    pub fn offered(&self) -> Offered {
        match (self.enabled, self.required) {
            (false, _) => Offered::Bearer,
            (true, false) => Offered::BearerAndDpop,
            (true, true) => Offered::Dpop,
        }
    }

    /// Refuses options that cannot work: required or nonces while disabled, a public URL that is not an
    /// origin ([`DpopOptions::is_acceptable_public_url`]).
    pub fn check(&self) -> Result<(), OptionsError> {
        if self.required && !self.enabled {
            return Err(OptionsError::DpopRequiredButDisabled);
        }
        if self.nonces.is_some() && !self.enabled {
            return Err(OptionsError::DpopNonceButDisabled);
        }
        if self
            .public_url
            .as_ref()
            .is_some_and(|url| !Self::is_acceptable_public_url(url))
        {
            return Err(OptionsError::PublicUrl);
        }
        Ok(())
    }

    /// Whether `url` can be [`DpopOptions::public_url`]: an absolute `http` or `https` URL with
    /// a host and nothing after it but an optional `/` (no user, path, query or fragment).
    pub fn is_acceptable_public_url(url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
    }
}

/// The verified-token cache: a token seen before skips the signature check (but never the
/// time claims, the key's presence in the JWKS or the route's checks). What it trades is
/// written up atop its module, `api/src/auth/token_cache.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCachePolicy {
    /// Entries the cache may hold, each charged one unit per started
    /// [`TOKEN_CACHE_UNIT_BYTES`] of estimated memory (token plus parsed claims), so the cache
    /// holds at most `capacity` entries and about `capacity` × 4 KiB. 0 turns the cache off.
    /// Default: 4096 (at most about 16 MiB).
    pub capacity: usize,
    /// The longest a token stays cached, whatever its `exp`. Default: 5 min.
    pub max_ttl: Duration,
    /// Larger tokens are verified every time, never cached. Default: 4 KiB, about four times
    /// a typical Auth0 access token.
    pub max_token_bytes: usize,
}

/// The memory one unit of [`TokenCachePolicy::capacity`] stands for, in bytes.
pub const TOKEN_CACHE_UNIT_BYTES: usize = 4096;

impl Default for TokenCachePolicy {
    fn default() -> Self {
        TokenCachePolicy {
            capacity: 4096,
            max_ttl: Duration::from_secs(300),
            max_token_bytes: 4096,
        }
    }
}

/// JWKS fetching and caching (the reference's defaults, plus stale-on-error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksPolicy {
    /// After this age the key set is refreshed in the background. Default: 10 min.
    pub cache_max_age: Duration,
    /// An unknown `kid` triggers at most one refetch per cooldown. Default: 30 s.
    pub cooldown: Duration,
    /// When refreshes fail, the last good key set keeps serving up to this age. Default: 24 h.
    pub stale_max_age: Duration,
    /// With no usable key set, the least time between two fetch attempts, so a failing issuer
    /// is not hammered at request rate; also the 503's `Retry-After`. Default: 1 s.
    pub retry_interval: Duration,
    /// Connect and total timeout of each discovery or JWKS request. Default: 5 s.
    pub http_timeout: Duration,
    /// The largest metadata or JWKS response accepted. Default: 256 KiB.
    pub max_response_bytes: usize,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            cache_max_age: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            stale_max_age: Duration::from_secs(24 * 3600),
            retry_interval: Duration::from_secs(1),
            http_timeout: Duration::from_secs(5),
            max_response_bytes: 256 * 1024,
        }
    }
}

impl AuthOptions {
    /// Options for tokens of `issuer` (their exact `iss`) verified with `keys`, fixed at
    /// start-up ([`public_key_set`](super::public_key_set), [`secret_key_set`](super::secret_key_set)):
    /// no discovery, no fetch. The allow-list follows from the keys: every algorithm one of
    /// them may verify (an HMAC secret's one algorithm included; narrow it further if need
    /// be). Every other setting at its default.
    pub fn fixed(issuer: impl Into<String>, audience: impl Into<String>, keys: KeySet) -> Self {
        AuthOptions {
            issuer: Some(issuer.into()),
            algorithms: keys.algorithms(),
            static_keys: Some(Arc::new(keys)),
            ..AuthOptions::defaults(audience.into())
        }
    }

    /// Options for an issuer found by discovery at `issuer_base_url`, accepting `audience`,
    /// with every other setting at its default.
    pub fn new(issuer_base_url: Url, audience: impl Into<String>) -> Self {
        AuthOptions {
            issuer_base_url: Some(issuer_base_url),
            ..AuthOptions::defaults(audience.into())
        }
    }

    /// Every default, accepting `audience`, with no issuer yet.
    fn defaults(audience: String) -> Self {
        AuthOptions {
            issuer_base_url: None,
            issuer: None,
            jwks_uri: None,
            more_issuers: Vec::new(),
            issuer_resolver: None,
            static_keys: None,
            audiences: vec![audience],
            algorithms: Algorithm::ALL.to_vec(),
            clock_tolerance: Duration::from_secs(5),
            max_token_age: None,
            strict: false,
            allow_query_token: false,
            allow_insecure_issuer: false,
            max_token_bytes: 16 * 1024,
            jwks: JwksPolicy::default(),
            token_cache: TokenCachePolicy::default(),
            dpop: DpopOptions::default(),
            resource_metadata: ResourceMetadataOptions::default(),
        }
    }

    /// Refuses resource metadata options that cannot work: a resource identifier that is not
    /// an acceptable URL, or challenges naming the metadata when no resource is known.
    pub fn check_resource_metadata(&self) -> Result<(), OptionsError> {
        let metadata = &self.resource_metadata;
        if metadata
            .resource
            .as_deref()
            .is_some_and(|resource| !is_acceptable_resource(resource))
        {
            return Err(OptionsError::Resource);
        }
        if metadata.in_challenges && metadata.resource_for(&self.audiences).is_none() {
            return Err(OptionsError::NoResource);
        }
        Ok(())
    }
}

/// Options that cannot work together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// Neither a base URL nor both issuer and JWKS URI (nor a resolver).
    #[error("set the issuer base URL, or both the issuer and the JWKS URI")]
    NoIssuer,
    /// Several issuers together with an `issuer` or `jwks_uri`, which describe one.
    #[error(
        "the issuer and the JWKS URI describe one issuer: they cannot be set with several issuers"
    )]
    OneIssuerSettingWithSeveral,
    /// Static keys with a way to fetch keys, or without the issuer their tokens carry.
    #[error(
        "static keys need the issuer and nothing that fetches keys: no issuer base URL, JWKS URI, more issuers or resolver"
    )]
    StaticKeysWithFetching,
    /// No audience to accept.
    #[error("at least one audience is required")]
    NoAudience,
    /// An empty algorithm allow-list.
    #[error("at least one algorithm is required")]
    NoAlgorithm,
    /// A plain-http URL on a non-loopback host without `allow_insecure_issuer`.
    #[error("{0} must use https (plain http is allowed only for localhost)")]
    InsecureUrl(&'static str),
    /// DPoP required while disabled: nothing could be accepted.
    #[error("DPoP cannot be required while it is disabled")]
    DpopRequiredButDisabled,
    /// DPoP nonces asked for while DPoP is disabled: no proof would ever carry one.
    #[error("DPoP nonces cannot be asked for while DPoP is disabled")]
    DpopNonceButDisabled,
    /// A [`DpopOptions::public_url`] that is not an http(s) origin.
    #[error("the public URL must be an http(s) origin such as https://api.example.com")]
    PublicUrl,
    /// A [`ResourceMetadataOptions::resource`] that is not an acceptable resource identifier.
    #[error(
        "the resource must be an http(s) URL without query or fragment, such as https://api.example.com/"
    )]
    Resource,
    /// Challenges that should name the resource metadata, with no resource identifier known.
    #[error(
        "challenges can name the resource metadata only with a resource: set it, or make the first audience an http(s) URL"
    )]
    NoResource,
    /// The HTTP client could not be built (no TLS roots, for example).
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}
