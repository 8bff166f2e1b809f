//! The JWKS cache: lazy discovery, single-flight refreshes, a cooldown for unknown `kid`s and
//! stale-on-error, without ever holding a lock that requests need across a network fetch.
//!
//! Reads take a read lock just long enough to clone two `Arc`s. A refresh runs as its own task
//! (so a client that disconnects cannot cancel it) and every request that needs it awaits the
//! same shared future: however many requests wait, one fetch is in flight. A failed or empty
//! refresh never replaces a good key set; that set keeps serving until it is older than the
//! stale limit.
//!
//! An issuer outage is logged once per refresh attempt (one warning saying why), never per
//! request: the retry interval and the cooldown bound the attempts, so they bound the log.
//! Whatever came from the issuer or the network is logged escaped (`?`), never raw.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use url::Url;

use super::algorithm::Algorithm;
use super::discovery::{self, Metadata};
use super::error::AuthError;
use super::fetch::Fetcher;
use super::jwks::{KeyFingerprint, KeySet, NO_APPLICABLE_KEY, Selection, VerificationKey};
use super::options::JwksPolicy;

/// How the issuer's identifier and key URL are found.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Both configured: no discovery at all.
    Fixed(Arc<Metadata>),
    /// Discovered from the issuer's base URL; configured values override discovered ones.
    Discover {
        base: Url,
        issuer: Option<String>,
        jwks_uri: Option<Url>,
        allow_insecure: bool,
    },
}

/// Why no key set could be had; logged, never shown to clients.
#[derive(Debug, Clone)]
struct Unavailable(Arc<str>);

type Refresh = Shared<BoxFuture<'static, Result<Arc<KeySet>, Unavailable>>>;

/// A key fit to verify a token, with the `iss` to expect.
pub(crate) struct ResolvedKey {
    pub key: Arc<VerificationKey>,
    pub issuer: Arc<str>,
}

/// The cache of the issuer's verification keys. Cheap to clone.
#[derive(Clone)]
pub(crate) struct KeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    fetcher: Fetcher,
    source: Source,
    policy: JwksPolicy,
    allowed: Vec<Algorithm>,
    state: RwLock<State>,
    inflight: Mutex<Option<Refresh>>,
}

#[derive(Default)]
struct State {
    metadata: Option<Arc<Metadata>>,
    /// `metadata`'s issuer, shared: what each resolved key carries.
    issuer: Option<Arc<str>>,
    keys: Option<Arc<KeySet>>,
    last_attempt: Option<Instant>,
    /// Whether the last attempt failed: then the cached set may be missing a rotated key, and
    /// an unknown `kid` is the issuer's outage (503), not proof of a bad token (401).
    last_attempt_failed: bool,
}

impl KeyStore {
    pub(crate) fn new(
        fetcher: Fetcher,
        source: Source,
        policy: JwksPolicy,
        allowed: Vec<Algorithm>,
    ) -> Self {
        let metadata = match &source {
            Source::Fixed(metadata) => Some(metadata.clone()),
            Source::Discover { .. } => None,
        };
        KeyStore {
            inner: Arc::new(Inner {
                fetcher,
                source,
                policy,
                allowed,
                state: RwLock::new(State {
                    issuer: metadata
                        .as_ref()
                        .map(|metadata| metadata.issuer.as_str().into()),
                    metadata,
                    ..State::default()
                }),
                inflight: Mutex::new(None),
            }),
        }
    }

    /// Finds the key for a token's `kid` and `alg`, fetching the JWKS when nothing usable is
    /// cached, refetching (at most once per cooldown) when the `kid` is unknown, and
    /// refreshing in the background once the cache is older than its maximum age.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<ResolvedKey, AuthError> {
        let policy = &self.inner.policy;
        let now = Instant::now();
        let (keys, issuer) = {
            let state = self.inner.read();
            (state.keys.clone(), state.issuer.clone())
        };
        if let (Some(keys), Some(issuer)) = (keys, issuer) {
            let age = now.saturating_duration_since(keys.fetched_at());
            if age <= policy.stale_max_age {
                match keys.select(kid, alg) {
                    Selection::Found(key) => {
                        if age >= policy.cache_max_age {
                            // Refresh in the background; this request goes on with the key it has.
                            let _ = self.refresh(policy.cooldown);
                        }
                        return Ok(ResolvedKey { key, issuer });
                    }
                    Selection::NoApplicableKey => {
                        // Perhaps the issuer rotated its keys: look again, once per cooldown.
                        return match self.refresh(policy.cooldown) {
                            // Too soon to fetch; but a refresh may have finished since we
                            // looked, so look once more at what is cached now.
                            None => self.select_cached(kid, alg),
                            Some(refresh) => self.select_after(refresh, kid, alg).await,
                        };
                    }
                }
            }
        }
        // Nothing usable is cached: fetch, unless a fetch just failed.
        match self.refresh(policy.retry_interval) {
            Some(refresh) => self.select_after(refresh, kid, alg).await,
            None => Err(self.unavailable()),
        }
    }

    /// Whether a token verified with the key `fingerprint` may still be accepted from the
    /// token cache: the key is in the current set and that set is within its stale limit.
    /// Also starts the background refresh a cache miss would start once the set is older than
    /// its maximum age, so a server answering only from the cache still learns of rotations.
    /// Never waits for the network.
    pub(crate) fn still_serves(&self, fingerprint: KeyFingerprint, now: Instant) -> bool {
        let policy = &self.inner.policy;
        let age = {
            let state = self.inner.read();
            let Some(keys) = &state.keys else {
                return false;
            };
            if !keys.contains(fingerprint) {
                return false;
            }
            now.saturating_duration_since(keys.fetched_at())
        };
        if age > policy.stale_max_age {
            return false;
        }
        if age >= policy.cache_max_age {
            // The read lock is released: `refresh` takes the write lock.
            let _ = self.refresh(policy.cooldown);
        }
        true
    }

    async fn select_after(
        &self,
        refresh: Refresh,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<ResolvedKey, AuthError> {
        let keys = refresh.await.map_err(|Unavailable(reason)| {
            // Per request, so debug only: the refresh itself logged the outage once.
            tracing::debug!(?reason, "no key set could be had");
            self.unavailable()
        })?;
        let issuer = self
            .inner
            .read()
            .issuer
            .clone()
            .ok_or_else(|| self.unavailable())?;
        match keys.select(kid, alg) {
            Selection::Found(key) => Ok(ResolvedKey { key, issuer }),
            Selection::NoApplicableKey => Err(NO_APPLICABLE_KEY),
        }
    }

    fn select_cached(&self, kid: Option<&str>, alg: Algorithm) -> Result<ResolvedKey, AuthError> {
        let state = self.inner.read();
        match (&state.keys, &state.issuer) {
            (Some(keys), Some(issuer)) => match keys.select(kid, alg) {
                Selection::Found(key) => Ok(ResolvedKey {
                    key,
                    issuer: issuer.clone(),
                }),
                Selection::NoApplicableKey if state.last_attempt_failed => {
                    // The next look at the JWKS is allowed once the cooldown has passed.
                    let waited = state.last_attempt.map_or(Duration::ZERO, |at| at.elapsed());
                    Err(AuthError::IssuerUnavailable {
                        retry_after: self
                            .inner
                            .policy
                            .cooldown
                            .saturating_sub(waited)
                            .max(Duration::from_secs(1)),
                    })
                }
                Selection::NoApplicableKey => Err(NO_APPLICABLE_KEY),
            },
            _ => Err(NO_APPLICABLE_KEY),
        }
    }

    fn unavailable(&self) -> AuthError {
        AuthError::IssuerUnavailable {
            retry_after: self.inner.policy.retry_interval.max(Duration::from_secs(1)),
        }
    }

    /// Joins the refresh in flight, or starts one if the last attempt is at least
    /// `min_interval` old. `None` means "too soon": the caller goes on without fetching.
    fn refresh(&self, min_interval: Duration) -> Option<Refresh> {
        let mut slot = self
            .inner
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(refresh) = slot.as_ref() {
            return Some(refresh.clone());
        }
        let now = Instant::now();
        {
            let mut state = self.inner.write();
            if state
                .last_attempt
                .is_some_and(|last| now.saturating_duration_since(last) < min_interval)
            {
                return None;
            }
            state.last_attempt = Some(now);
        }
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            let outcome = inner.load().await;
            *inner
                .inflight
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            outcome
        });
        let refresh = async move {
            task.await
                .unwrap_or_else(|_| Err(Unavailable("the key refresh task panicked".into())))
        }
        .boxed()
        .shared();
        *slot = Some(refresh.clone());
        Some(refresh)
    }
}

impl Inner {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// One refresh, remembering whether it failed.
    async fn load(&self) -> Result<Arc<KeySet>, Unavailable> {
        let outcome = self.fetch_keys().await;
        self.write().last_attempt_failed = outcome.is_err();
        outcome
    }

    /// Resolves the metadata if needed, fetches and parses the JWKS, publishes it.
    async fn fetch_keys(&self) -> Result<Arc<KeySet>, Unavailable> {
        let metadata = self.resolve().await?;
        let outcome = match self.fetcher.get(&metadata.jwks_uri).await {
            Ok(body) => KeySet::parse(&body, &self.allowed).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(keys) => {
                let keys = Arc::new(keys);
                tracing::info!(keys = keys.keys().len(), "loaded the issuer's JWKS");
                self.write().keys = Some(keys.clone());
                Ok(keys)
            }
            Err(reason) => {
                tracing::warn!(
                    jwks_uri = ?metadata.jwks_uri.as_str(),
                    ?reason,
                    "issuer unavailable: JWKS refresh failed; keeping the previous key set"
                );
                Err(Unavailable(reason.into()))
            }
        }
    }

    /// The issuer's metadata: configured, cached from an earlier discovery, or discovered now.
    /// Only a success is cached.
    async fn resolve(&self) -> Result<Arc<Metadata>, Unavailable> {
        if let Some(metadata) = self.read().metadata.clone() {
            return Ok(metadata);
        }
        let (base, issuer, jwks_uri, allow_insecure) = match &self.source {
            Source::Fixed(metadata) => return Ok(metadata.clone()),
            Source::Discover {
                base,
                issuer,
                jwks_uri,
                allow_insecure,
            } => (base, issuer, jwks_uri, *allow_insecure),
        };
        let discovered =
            discovery::discover(&self.fetcher, base, issuer.as_deref(), allow_insecure)
                .await
                .map_err(|error| {
                    tracing::warn!(
                        error = ?error.to_string(),
                        "issuer unavailable: metadata discovery failed; requests that need a key are answered 503 until a refresh succeeds"
                    );
                    Unavailable(error.to_string().into())
                })?;
        let metadata = Arc::new(Metadata {
            issuer: discovered.issuer,
            jwks_uri: jwks_uri.clone().unwrap_or(discovered.jwks_uri),
        });
        tracing::info!(
            issuer = ?metadata.issuer,
            jwks_uri = ?metadata.jwks_uri.as_str(),
            "discovered the issuer's metadata"
        );
        let mut state = self.write();
        state.issuer = Some(metadata.issuer.as_str().into());
        state.metadata = Some(metadata.clone());
        Ok(metadata)
    }
}
