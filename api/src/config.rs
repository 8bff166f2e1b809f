//! Configuration of the `api` binary from the environment and an optional `.env` file, with
//! the names the Express sample reads, so an existing `.env` works unchanged.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ISSUER_BASE_URL` | the tenant, e.g. `https://tenant.auth0.com` (or `AUTH0_DOMAIN`); several, comma-separated, for several issuers (custom domains, tenants, other providers), each discovered and cached on its own, the token's `iss` choosing | required |
//! | `AUDIENCE` | the API identifier; several separated by commas (or `AUTH0_AUDIENCE`) | required |
//! | `ISSUER` | the exact `iss` to expect (one issuer only) | the discovered issuer |
//! | `JWKS_URI` | where the keys are (one issuer only) | the discovered `jwks_uri` |
//! | `PUBLIC_KEY` | verify with this key instead of a JWKS: a PEM public key, a JWK or a JWKS, inline or a file's path; needs `ISSUER`, not with `ISSUER_BASE_URL`/`JWKS_URI`; no network | unset |
//! | `SECRET` | verify HS256/384/512 tokens with this shared secret (at least 32/48/64 bytes); needs `ISSUER` and `TOKEN_SIGNING_ALG`; never with a JWKS or a public key | unset |
//! | `TOKEN_SIGNING_ALG` | the one algorithm accepted (the reference's name): any of `ALGORITHMS`' or HS256, HS384, HS512 with `SECRET`; not with `ALGORITHMS` | unset |
//! | `HOST`, `PORT` | the address to listen on | `127.0.0.1`, `3010` |
//! | `TLS_CERT_FILE`, `TLS_KEY_FILE` | serve HTTPS with this PEM certificate chain and private key (PKCS#8, RSA or EC), reloaded when the files change; both or neither | unset: plain HTTP |
//! | `CORS_ORIGINS` | allowed origins, comma-separated, or `*` | `http://localhost:3000` |
//! | `CLOCK_TOLERANCE` | leeway for `exp`/`nbf`/`iat` (`5`, `5s`, `1m`) | `5s` |
//! | `MAX_TOKEN_AGE` | refuse tokens whose `iat` is older | unset |
//! | `STRICT` | RFC 9068 strict mode (`true`/`false`) | `false` |
//! | `ALGORITHMS` | allowed `alg`s, comma-separated: `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`, `ES256`, `ES256K`, `ES384`, `ES512`, `EdDSA` | all of them, each only with a key of its type |
//! | `ALLOW_QUERY_TOKEN` | accept `?access_token=` | `false` |
//! | `ALLOW_INSECURE_ISSUER` | allow a plain-http issuer that is not localhost | `false` |
//! | `JWKS_CACHE_MAX_AGE`, `JWKS_COOLDOWN`, `JWKS_STALE_MAX_AGE`, `HTTP_TIMEOUT` | JWKS policy | `10m`, `30s`, `24h`, `5s` |
//! | `TOKEN_CACHE_CAPACITY` | verified-token cache entries (4 KiB units); `0` turns it off | `4096` |
//! | `TOKEN_CACHE_MAX_TTL` | the longest a verified token stays cached | `5m` |
//! | `TOKEN_CACHE_MAX_TOKEN_BYTES` | larger tokens are never cached | `4096` |
//! | `MAX_CONNECTIONS` | connections served at once; at the limit the one waiting on its client longest is closed for a newcomer | `512` |
//! | `HEADER_READ_TIMEOUT` | time to send a request head (also HTTP/1 keep-alive idle time) | `10s` |
//! | `IDLE_TIMEOUT` | time a connection (HTTP/2 included) may have no request in progress | `10s` |
//! | `MAX_REQUESTS_PER_CONNECTION` | requests on one connection before it is closed; `0`: no cap | `1000` |
//! | `MAX_CONNECTION_AGE` | time one connection may live before it is closed | `1h` |
//! | `MAX_HEADER_BYTES` | largest request head (`32768`, `32KiB`; at least `8KiB`); larger gets 431 | `32KiB` |
//! | `MAX_BODY_BYTES` | largest request body, a form body carrying a token included; larger gets 413 | `64KiB` |
//! | `REQUEST_TIMEOUT` | time from a request's head to its answer; slower gets 408 | `30s` |
//! | `DPOP_ENABLED` | accept DPoP-bound tokens (RFC 9449) with `Authorization: DPoP` and a proof | `true` |
//! | `DPOP_REQUIRED` | accept DPoP only, refuse bearer tokens (needs `DPOP_ENABLED`) | `false` |
//! | `DPOP_IAT_OFFSET` | how old a DPoP proof's `iat` may be | `300s` |
//! | `DPOP_IAT_LEEWAY` | how far in the future a DPoP proof's `iat` may be | `30s` |
//! | `DPOP_REPLAY_STORE` | where used proofs are remembered: `memory`, or `redis://host[:port][/db]` shared by every replica | `memory` |
//! | `DPOP_NONCE` | require the server's nonce in every proof (RFC 9449 §9), handed out in `DPoP-Nonce` | `false` |
//! | `DPOP_NONCE_SECRET` | the key nonces are made with (at least 32 bytes), the same on every replica | random per process |
//! | `DPOP_NONCE_LIFETIME` | a nonce is accepted for one to two of these | `60s` |
//! | `PUBLIC_URL` | the origin clients reach the API at (`https://api.example.com`), which proofs name | unset |
//! | `RESOURCE` | the API's resource identifier in its metadata (RFC 9728), an http(s) URL | the first `AUDIENCE`, if a URL |
//! | `RESOURCE_METADATA` | 401 challenges name the metadata's URL (`resource_metadata="…"`) | `false` |
//! | `TRUST_FORWARDED_HEADERS` | without `PUBLIC_URL`, take it from `X-Forwarded-Proto` and `X-Forwarded-Host` (only behind a proxy that sets them) | `false` |

mod fixed_keys;

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::auth::dpop::{DEFAULT_NONCE_LIFETIME, DpopNonces, NonceSetupError};
use crate::auth::dpop_replay::ReplayStoreError;
use crate::auth::resource_metadata::is_acceptable_resource;
use crate::auth::{
    Algorithm, AuthOptions, DpopOptions, JwksPolicy, ReplayStore, ResourceMetadataOptions,
    TokenCachePolicy,
};
use crate::routes::CorsOrigins;
use crate::server::{MIN_HEADER_BYTES, ServerLimits, TlsFiles};

/// Everything the binary needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The authentication core's options.
    pub auth: AuthOptions,
    /// The address to bind. Default: `127.0.0.1`.
    pub host: IpAddr,
    /// The port to bind; 0 lets the OS choose. Default: 3010, the sample's.
    pub port: u16,
    /// Origins allowed by CORS. Default: `http://localhost:3000`, the SPA quickstarts' port.
    pub cors_origins: CorsOrigins,
    /// What the server tolerates from clients. Default: [`ServerLimits::default`].
    pub server: ServerLimits,
    /// Where used DPoP proofs are remembered; [`ReplayStoreSetting::open`] makes the store for
    /// `auth.dpop.replay_store`, which until then is a memory store. Default: memory.
    pub replay_store: ReplayStoreSetting,
    /// The certificate and key to serve HTTPS with (`TLS_CERT_FILE`, `TLS_KEY_FILE`); the
    /// files are read at start-up, not here. Default: `None`, plain HTTP.
    pub tls: Option<TlsFiles>,
}

/// `DPOP_REPLAY_STORE`: where used DPoP proofs are remembered.
#[derive(Clone, PartialEq, Eq)]
pub enum ReplayStoreSetting {
    /// In this process (`memory`): for one replica.
    Memory,
    /// In the Redis server at this `redis://` URL: shared by every replica.
    Redis(String),
}

impl std::fmt::Debug for ReplayStoreSetting {
    /// The URL is left out: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayStoreSetting::Memory => f.write_str("Memory"),
            ReplayStoreSetting::Redis(_) => f.write_str("Redis(..)"),
        }
    }
}

impl ReplayStoreSetting {
    /// The store: a new memory one, or one for the Redis server (connected lazily, see
    /// [`ReplayStore::redis`]).
    pub async fn open(&self) -> Result<ReplayStore, ReplayStoreError> {
        match self {
            ReplayStoreSetting::Memory => Ok(ReplayStore::default()),
            ReplayStoreSetting::Redis(url) => ReplayStore::redis(url).await,
        }
    }
}

/// A setting that stops start-up: one line naming the variable and what it expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The issuer or the audience is not configured.
    #[error(
        "missing configuration: set ISSUER_BASE_URL and AUDIENCE (or AUTH0_DOMAIN and AUTH0_AUDIENCE), in the environment or a .env file"
    )]
    Missing,
    /// A variable is set to something unusable.
    #[error("{variable}: expected {expected}")]
    Invalid {
        /// The variable's name.
        variable: &'static str,
        /// What it should hold.
        expected: &'static str,
    },
    /// Two settings that cannot work together, named in the message.
    #[error("{0}")]
    Conflict(&'static str),
    /// Two variables that cannot be set together.
    #[error("{first} and {second} cannot be set together: {why}")]
    Together {
        /// One variable.
        first: &'static str,
        /// The other.
        second: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// A variable that needs another one.
    #[error("{variable} needs {needs}: {why}")]
    Needs {
        /// The variable set.
        variable: &'static str,
        /// The variable it needs.
        needs: &'static str,
        /// What that one must hold.
        why: &'static str,
    },
    /// A variable whose value cannot be used, and why (never its value: it may be a secret).
    #[error("{variable}: {reason}")]
    Unusable {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The `.env` file exists but cannot be read.
    #[error(".env: {0}")]
    DotEnv(String),
}

impl Config {
    /// Reads `.env` (if present; real environment variables win) and then the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => return Err(ConfigError::DotEnv(error.to_string())),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source; empty values count as unset.
    /// The first unusable setting is the error, in this order: the issuer and audiences, the
    /// token rules, the JWKS and token-cache policies, DPoP, the resource metadata, the
    /// listening address, CORS, the server limits.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut auth = auth_options(&get)?;
        let replay_store = replay_store(&get)?;
        auth.dpop = dpop_options(&get)?;
        auth.resource_metadata = resource_metadata(&get, &auth)?;
        let (host, port) = listen_address(&get)?;
        Ok(Config {
            auth,
            host,
            port,
            tls: tls_files(&get)?,
            cors_origins: cors_origins(&get)?,
            server: server_limits(&get)?,
            replay_store,
        })
    }
}

/// A variable set to something unusable.
fn invalid(variable: &'static str, expected: &'static str) -> ConfigError {
    ConfigError::Invalid { variable, expected }
}

/// What `ISSUER_BASE_URL` and `JWKS_URI` must be.
const HTTPS_URL: &str =
    "an https URL (plain http only for localhost, or with ALLOW_INSECURE_ISSUER=true)";

/// The authentication core's options: whom to trust, how to check tokens, how to fetch keys
/// and how to cache verified tokens.
fn auth_options(get: &impl Fn(&str) -> Option<String>) -> Result<AuthOptions, ConfigError> {
    let algorithms = allowed_algorithms(get)?;
    let mut auth = match fixed_keys::options(get, algorithms.as_deref())? {
        Some(auth) => auth,
        None => {
            let mut auth = trusted_issuer(get)?;
            if let Some(algorithms) = algorithms {
                if algorithms.iter().any(|alg| alg.is_symmetric()) {
                    return Err(ConfigError::Needs {
                        variable: "TOKEN_SIGNING_ALG",
                        needs: "SECRET",
                        why: "HS256, HS384 and HS512 verify with a shared secret, never with a JWKS",
                    });
                }
                auth.algorithms = algorithms;
            }
            auth
        }
    };
    token_rules(get, &mut auth)?;
    auth.jwks = jwks_policy(get)?;
    auth.token_cache = token_cache_policy(get)?;
    Ok(auth)
}

/// Whose tokens are accepted and for which audiences: `ISSUER_BASE_URL` (or `AUTH0_DOMAIN`),
/// `AUDIENCE` (or `AUTH0_AUDIENCE`), `ALLOW_INSECURE_ISSUER`, `JWKS_URI` and `ISSUER`; every
/// other option at its default.
fn trusted_issuer(get: &impl Fn(&str) -> Option<String>) -> Result<AuthOptions, ConfigError> {
    let mut base_urls = issuer_base_urls(get)?.into_iter();
    let audiences = audiences(get);
    let (Some(base_url), false) = (base_urls.next(), audiences.is_empty()) else {
        return Err(ConfigError::Missing);
    };
    let more_issuers: Vec<Url> = base_urls.collect();
    let allow_insecure_issuer = flag(get, "ALLOW_INSECURE_ISSUER")?.unwrap_or(false);
    let acceptable = |url: &Url| crate::auth::is_acceptable_issuer_url(url, allow_insecure_issuer);
    if !acceptable(&base_url) || !more_issuers.iter().all(acceptable) {
        return Err(invalid("ISSUER_BASE_URL", HTTPS_URL));
    }
    if !more_issuers.is_empty() && (get("ISSUER").is_some() || get("JWKS_URI").is_some()) {
        return Err(ConfigError::Conflict(
            "ISSUER_BASE_URL lists several issuers, and ISSUER and JWKS_URI describe one: unset them (each issuer is discovered)",
        ));
    }
    let jwks_uri = match get("JWKS_URI") {
        None => None,
        Some(uri) => Some(
            parse_url(&uri)
                .filter(acceptable)
                .ok_or(invalid("JWKS_URI", HTTPS_URL))?,
        ),
    };
    let mut auth = AuthOptions::new(base_url, "");
    auth.audiences = audiences;
    auth.issuer = get("ISSUER");
    auth.jwks_uri = jwks_uri;
    auth.more_issuers = more_issuers;
    auth.allow_insecure_issuer = allow_insecure_issuer;
    Ok(auth)
}

/// `ISSUER_BASE_URL`, else `AUTH0_DOMAIN` made URLs: each a comma-separated list of one or
/// more issuers (several custom domains or tenants); empty when neither is set.
fn issuer_base_urls(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<Url>, ConfigError> {
    let (list, variable, parse, expected): (_, _, fn(&str) -> Option<Url>, _) =
        match (get("ISSUER_BASE_URL"), get("AUTH0_DOMAIN")) {
            (Some(list), _) => (
                list,
                "ISSUER_BASE_URL",
                parse_url,
                "http(s) URLs such as https://tenant.auth0.com, comma-separated",
            ),
            (None, Some(list)) => (
                list,
                "AUTH0_DOMAIN",
                domain_url,
                "host names such as tenant.auth0.com, comma-separated",
            ),
            (None, None) => return Ok(Vec::new()),
        };
    let urls = list_items(&list)
        .iter()
        .map(|item| parse(item))
        .collect::<Option<Vec<_>>>()
        .filter(|urls| !urls.is_empty())
        .ok_or(invalid(variable, expected))?;
    // The same issuer twice is a typo; it would also make the choice by `iss` ambiguous.
    let distinct: std::collections::HashSet<_> = urls
        .iter()
        .map(|url| url.as_str().trim_end_matches('/'))
        .collect();
    if distinct.len() != urls.len() {
        return Err(invalid(variable, "each issuer once"));
    }
    Ok(urls)
}

/// `AUDIENCE` (or `AUTH0_AUDIENCE`), comma-separated; empty when unset.
fn audiences(get: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    get("AUDIENCE")
        .or_else(|| get("AUTH0_AUDIENCE"))
        .map(|list| list_items(&list))
        .unwrap_or_default()
}

/// The allow-list, when set: `ALGORITHMS` (asymmetric algorithms only), or
/// `TOKEN_SIGNING_ALG`, one algorithm (HS256, HS384 and HS512 among them, for `SECRET`).
fn allowed_algorithms(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Vec<Algorithm>>, ConfigError> {
    match (get("ALGORITHMS"), get("TOKEN_SIGNING_ALG")) {
        (Some(_), Some(_)) => Err(ConfigError::Together {
            first: "ALGORITHMS",
            second: "TOKEN_SIGNING_ALG",
            why: "the second is a list of one: set one of them",
        }),
        (Some(list), None) => list_items(&list)
            .iter()
            .map(|name| Algorithm::from_name(name))
            .collect::<Option<Vec<_>>>()
            .filter(|algorithms| !algorithms.is_empty())
            .map(Some)
            .ok_or(invalid(
                "ALGORITHMS",
                "a comma-separated list of RS256, RS384, RS512, PS256, PS384, PS512, ES256, \
                 ES256K, ES384, ES512, EdDSA",
            )),
        (None, Some(name)) => Algorithm::from_any_name(&name)
            .map(|alg| Some(vec![alg]))
            .ok_or(invalid(
                "TOKEN_SIGNING_ALG",
                "one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES256K, ES384, ES512, \
                 EdDSA, HS256, HS384, HS512",
            )),
        (None, None) => Ok(None),
    }
}

/// How tokens are checked: `CLOCK_TOLERANCE`, `MAX_TOKEN_AGE`, `STRICT` and
/// `ALLOW_QUERY_TOKEN`, each over its default in `auth` (`ALGORITHMS` is read first, by
/// [`allowed_algorithms`]).
fn token_rules(
    get: &impl Fn(&str) -> Option<String>,
    auth: &mut AuthOptions,
) -> Result<(), ConfigError> {
    if let Some(tolerance) = duration(get, "CLOCK_TOLERANCE")? {
        auth.clock_tolerance = tolerance;
    }
    auth.max_token_age = duration(get, "MAX_TOKEN_AGE")?;
    auth.strict = flag(get, "STRICT")?.unwrap_or(false);
    auth.allow_query_token = flag(get, "ALLOW_QUERY_TOKEN")?.unwrap_or(false);
    Ok(())
}

/// How keys are fetched and cached: each variable overrides one default of [`JwksPolicy`].
fn jwks_policy(get: &impl Fn(&str) -> Option<String>) -> Result<JwksPolicy, ConfigError> {
    let mut jwks = JwksPolicy::default();
    for (variable, field) in [
        ("JWKS_CACHE_MAX_AGE", &mut jwks.cache_max_age),
        ("JWKS_COOLDOWN", &mut jwks.cooldown),
        ("JWKS_STALE_MAX_AGE", &mut jwks.stale_max_age),
        ("HTTP_TIMEOUT", &mut jwks.http_timeout),
    ] {
        if let Some(value) = duration(get, variable)? {
            *field = value;
        }
    }
    if jwks.http_timeout.is_zero() {
        return Err(invalid("HTTP_TIMEOUT", "a duration above zero, such as 5s"));
    }
    Ok(jwks)
}

/// The verified-token cache: each variable overrides one default of [`TokenCachePolicy`].
fn token_cache_policy(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<TokenCachePolicy, ConfigError> {
    let mut cache = TokenCachePolicy::default();
    if let Some(capacity) = count(get, "TOKEN_CACHE_CAPACITY")? {
        cache.capacity = capacity;
    }
    if let Some(ttl) = duration(get, "TOKEN_CACHE_MAX_TTL")? {
        cache.max_ttl = ttl;
    }
    if let Some(bytes) = count(get, "TOKEN_CACHE_MAX_TOKEN_BYTES")? {
        cache.max_token_bytes = bytes;
    }
    Ok(cache)
}

/// DPoP: `DPOP_ENABLED`, `DPOP_REQUIRED`, `DPOP_IAT_OFFSET`, `DPOP_IAT_LEEWAY`, `PUBLIC_URL`
/// and `TRUST_FORWARDED_HEADERS`, each over its default in [`DpopOptions`]; the replay store is
/// [`replay_store`]'s.
fn dpop_options(get: &impl Fn(&str) -> Option<String>) -> Result<DpopOptions, ConfigError> {
    let mut dpop = DpopOptions::default();
    dpop.enabled = flag(get, "DPOP_ENABLED")?.unwrap_or(dpop.enabled);
    dpop.required = flag(get, "DPOP_REQUIRED")?.unwrap_or(dpop.required);
    if dpop.required && !dpop.enabled {
        return Err(ConfigError::Conflict(
            "DPOP_REQUIRED=true needs DPOP_ENABLED=true: DPoP cannot be required while it is disabled",
        ));
    }
    for (variable, field) in [
        ("DPOP_IAT_OFFSET", &mut dpop.iat_offset),
        ("DPOP_IAT_LEEWAY", &mut dpop.iat_leeway),
    ] {
        if let Some(value) = duration(get, variable)? {
            *field = value;
        }
    }
    dpop.public_url = parsed(
        get,
        "PUBLIC_URL",
        "an http(s) origin without a path, such as https://api.example.com",
        |value| {
            Url::parse(value)
                .ok()
                .filter(DpopOptions::is_acceptable_public_url)
        },
    )?;
    dpop.trust_forwarded_headers = flag(get, "TRUST_FORWARDED_HEADERS")?.unwrap_or(false);
    dpop.nonces = dpop_nonces(get, dpop.enabled)?;
    Ok(dpop)
}

/// `DPOP_NONCE`, `DPOP_NONCE_SECRET` and `DPOP_NONCE_LIFETIME`: the server's nonces, or `None`.
/// Without a secret each process makes its own and says so, since replicas behind one address
/// would then refuse each other's nonces.
fn dpop_nonces(
    get: &impl Fn(&str) -> Option<String>,
    dpop_enabled: bool,
) -> Result<Option<DpopNonces>, ConfigError> {
    let secret = get("DPOP_NONCE_SECRET");
    let lifetime = duration(get, "DPOP_NONCE_LIFETIME")?;
    if !flag(get, "DPOP_NONCE")?.unwrap_or(false) {
        return match (secret.is_some(), lifetime.is_some()) {
            (true, _) => Err(ConfigError::Conflict(
                "DPOP_NONCE_SECRET is set but DPOP_NONCE is not true: set DPOP_NONCE=true to use nonces",
            )),
            (_, true) => Err(ConfigError::Conflict(
                "DPOP_NONCE_LIFETIME is set but DPOP_NONCE is not true: set DPOP_NONCE=true to use nonces",
            )),
            _ => Ok(None),
        };
    }
    if !dpop_enabled {
        return Err(ConfigError::Conflict(
            "DPOP_NONCE=true needs DPOP_ENABLED=true: no proof would carry a nonce while DPoP is disabled",
        ));
    }
    let lifetime = lifetime.unwrap_or(DEFAULT_NONCE_LIFETIME);
    let nonces = match secret {
        Some(secret) => DpopNonces::new(secret.as_bytes(), lifetime),
        None => {
            tracing::warn!(
                "DPOP_NONCE=true without DPOP_NONCE_SECRET: this process made its own secret, so \
                 replicas behind one address refuse each other's nonces; give them all one secret"
            );
            DpopNonces::with_random_secret(lifetime)
        }
    };
    nonces.map(Some).map_err(|error| match error {
        NonceSetupError::ShortSecret => invalid(
            "DPOP_NONCE_SECRET",
            "a secret of at least 32 bytes, such as the output of `openssl rand -base64 32`",
        ),
        NonceSetupError::ShortLifetime => {
            invalid("DPOP_NONCE_LIFETIME", "a duration of at least one second")
        }
        NonceSetupError::Random => invalid(
            "DPOP_NONCE_SECRET",
            "a secret: the system's random generator failed to make one",
        ),
    })
}

/// Protected Resource Metadata: `RESOURCE` and `RESOURCE_METADATA`; the latter needs a
/// resource, set or taken from the first audience.
fn resource_metadata(
    get: &impl Fn(&str) -> Option<String>,
    auth: &AuthOptions,
) -> Result<ResourceMetadataOptions, ConfigError> {
    let resource = parsed(
        get,
        "RESOURCE",
        "an http(s) URL without query or fragment, such as https://api.example.com/",
        |value| is_acceptable_resource(value).then(|| value.to_owned()),
    )?;
    let options = ResourceMetadataOptions {
        resource,
        in_challenges: flag(get, "RESOURCE_METADATA")?.unwrap_or(false),
    };
    if options.in_challenges && options.resource_for(&auth.audiences).is_none() {
        return Err(ConfigError::Conflict(
            "RESOURCE_METADATA=true needs a resource: set RESOURCE, as the first AUDIENCE is not an http(s) URL",
        ));
    }
    Ok(options)
}

/// `DPOP_REPLAY_STORE`: `memory` (any case), or a `redis://` URL with a host.
fn replay_store(get: &impl Fn(&str) -> Option<String>) -> Result<ReplayStoreSetting, ConfigError> {
    parsed(
        get,
        "DPOP_REPLAY_STORE",
        "memory, or a Redis URL such as redis://127.0.0.1:6379",
        |value| {
            if value.eq_ignore_ascii_case("memory") {
                return Some(ReplayStoreSetting::Memory);
            }
            Url::parse(value)
                .ok()
                .filter(|url| url.scheme() == "redis" && url.host().is_some())
                .map(|_| ReplayStoreSetting::Redis(value.to_owned()))
        },
    )
    .map(|setting| setting.unwrap_or(ReplayStoreSetting::Memory))
}

/// Where to listen: `HOST` and `PORT`.
fn listen_address(get: &impl Fn(&str) -> Option<String>) -> Result<(IpAddr, u16), ConfigError> {
    let host = match get("HOST") {
        None => IpAddr::from([127, 0, 0, 1]),
        Some(host) => host.parse().map_err(|_| {
            invalid(
                "HOST",
                "an IP address to bind, such as 127.0.0.1 or 0.0.0.0",
            )
        })?,
    };
    let port = match get("PORT") {
        None => 3010,
        Some(port) => port
            .parse()
            .map_err(|_| invalid("PORT", "a port number from 0 to 65535"))?,
    };
    Ok((host, port))
}

/// HTTPS: `TLS_CERT_FILE` and `TLS_KEY_FILE`, both or neither.
fn tls_files(get: &impl Fn(&str) -> Option<String>) -> Result<Option<TlsFiles>, ConfigError> {
    match (get("TLS_CERT_FILE"), get("TLS_KEY_FILE")) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert_file: cert.into(),
            key_file: key.into(),
        })),
        (None, None) => Ok(None),
        _ => Err(ConfigError::Conflict(
            "TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither for plain HTTP",
        )),
    }
}

/// Which origins may call from a browser: `CORS_ORIGINS`.
fn cors_origins(get: &impl Fn(&str) -> Option<String>) -> Result<CorsOrigins, ConfigError> {
    match get("CORS_ORIGINS") {
        None => Ok(CorsOrigins::default()),
        Some(list) => CorsOrigins::parse(&list).ok_or(invalid(
            "CORS_ORIGINS",
            "'*' or comma-separated origins such as http://localhost:3000",
        )),
    }
}

/// The server's limits: each variable overrides one default of [`ServerLimits`].
fn server_limits(get: &impl Fn(&str) -> Option<String>) -> Result<ServerLimits, ConfigError> {
    let mut limits = ServerLimits::default();
    if let Some(connections) = parsed(
        get,
        "MAX_CONNECTIONS",
        "a whole number above zero, such as 512",
        |value| {
            value
                .parse()
                .ok()
                .filter(|&connections: &usize| connections > 0)
        },
    )? {
        limits.max_connections = connections;
    }
    if let Some(requests) = parsed(
        get,
        "MAX_REQUESTS_PER_CONNECTION",
        "a whole number, such as 1000, or 0 for no cap",
        |value| value.parse().ok(),
    )? {
        limits.max_requests_per_connection = requests;
    }
    for (variable, field) in [
        ("HEADER_READ_TIMEOUT", &mut limits.header_read_timeout),
        ("REQUEST_TIMEOUT", &mut limits.request_timeout),
        ("IDLE_TIMEOUT", &mut limits.idle_timeout),
        ("MAX_CONNECTION_AGE", &mut limits.max_connection_age),
    ] {
        if let Some(value) = duration(get, variable)? {
            if value.is_zero() {
                return Err(invalid(variable, "a duration above zero, such as 10s"));
            }
            *field = value;
        }
    }
    if let Some(bytes) = parsed(
        get,
        "MAX_HEADER_BYTES",
        "a size of at least 8KiB, such as 32768 or 32KiB",
        |value| byte_size(value).filter(|&bytes| bytes >= MIN_HEADER_BYTES),
    )? {
        limits.max_header_bytes = bytes;
    }
    if let Some(bytes) = parsed(
        get,
        "MAX_BODY_BYTES",
        "a size in bytes, such as 65536, 64KiB or 1MiB",
        byte_size,
    )? {
        limits.max_body_bytes = bytes;
    }
    Ok(limits)
}

/// Bytes as a bare number, or with a binary unit: `65536`, `64KiB`, `1MiB` (case-insensitive).
fn byte_size(value: &str) -> Option<usize> {
    let lower = value.to_ascii_lowercase();
    let (number, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let multiplier = match unit.trim() {
        "" | "b" => 1,
        "kib" => 1024,
        "mib" => 1024 * 1024,
        _ => return None,
    };
    number.parse::<usize>().ok()?.checked_mul(multiplier)
}

fn parse_url(value: &str) -> Option<Url> {
    Url::parse(value)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// `tenant.auth0.com` (a scheme or a trailing slash are tolerated) → `https://tenant.auth0.com/`.
fn domain_url(domain: &str) -> Option<Url> {
    let host = domain
        .strip_prefix("https://")
        .unwrap_or(domain)
        .trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    parse_url(&format!("https://{host}/"))
}

fn list_items(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `variable` read with `parse`: `None` when unset, an error naming `expected` when `parse`
/// cannot make sense of it.
fn parsed<T>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    expected: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, ConfigError> {
    get(variable)
        .map(|value| parse(&value).ok_or(invalid(variable, expected)))
        .transpose()
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<bool>, ConfigError> {
    parsed(get, variable, "true or false", |value| {
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        }
    })
}

/// A non-negative whole number.
fn count(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<usize>, ConfigError> {
    parsed(get, variable, "a whole number, 0 or more", |value| {
        value.parse().ok()
    })
}

/// Seconds as a bare number, or a human duration such as `500ms`, `30s`, `10m`, `24h`.
fn duration(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Duration>, ConfigError> {
    parsed(
        get,
        variable,
        "a duration such as 30, 30s, 10m or 24h",
        |value| match value.parse::<u64>() {
            Ok(seconds) => Some(Duration::from_secs(seconds)),
            Err(_) => humantime::parse_duration(value).ok(),
        },
    )
}
