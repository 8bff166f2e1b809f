//! The shared state behind every route, the router, and serving on an already bound listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::admin::{KeyRole, KeySummary};
use crate::config::{IssuerConfig, SigningAlg};
use crate::faults::Faults;
use crate::keys::{KeyAlg, KeySet, KeySource};
use crate::login::Login;
use crate::oauth::Secret;
use crate::token::{self, MintContext, Signer, TokenSpec};
use crate::{Error, routes};

/// The issuer's state: configuration, key rings, faults and counters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    issuer: String,
    config: IssuerConfig,
    keys: RwLock<KeySet>,
    /// The rings the JWKS publishes: RS256's always (Auth0's keys, which ID tokens use), each
    /// other one only when an API signs with it, so the default tenant serves what Auth0 does.
    published: Vec<KeyAlg>,
    /// Serialises rotations: each generates keys outside the `keys` lock, and two at once would
    /// both claim the same seeded index.
    rotating: Mutex<()>,
    faults: Faults,
    login: Login,
}

impl AppState {
    /// Loads or generates the key rings (and the APIs' signing secrets) for `config` and fixes
    /// the issuer URL.
    ///
    /// Blocking: generating RSA keys takes a moment, so async callers should use
    /// `spawn_blocking` (as [`MockIssuer::start`](crate::MockIssuer::start) does).
    ///
    /// # Errors
    /// An invalid configuration, or a data dir whose key ring cannot be read or written.
    pub fn new(config: IssuerConfig, issuer: String) -> Result<Self, Error> {
        config.validate()?;
        let source = KeySource::from_seed(config.seed);
        let keys = match &config.data_dir {
            Some(dir) => KeySet::load_or_generate(dir, source, &config.apis)?,
            None => KeySet::generate(source, &config.apis)?,
        };
        let published = KeyAlg::ALL
            .into_iter()
            .filter(|&ring| {
                ring == KeyAlg::Rs256
                    || config
                        .apis
                        .iter()
                        .any(|api| KeyAlg::of(api.signing_alg) == Some(ring))
            })
            .collect();
        Ok(Self(Arc::new(Inner {
            issuer,
            login: Login::new(&config),
            config,
            keys: RwLock::new(keys),
            published,
            rotating: Mutex::new(()),
            faults: Faults::default(),
        })))
    }

    /// The issuer identifier, with its trailing slash.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The configuration this state was built from.
    pub fn config(&self) -> &IssuerConfig {
        &self.0.config
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// Login sessions, pending logins, codes and refresh tokens.
    pub(crate) fn login(&self) -> &Login {
        &self.0.login
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        // Every write to the rings is a whole-field replacement, so a poisoned lock still guards
        // a consistent set.
        self.0
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The JWKS document: the RS256 keys, then those of each other algorithm an API signs with;
    /// per algorithm current, next, then previous if not revoked.
    pub fn jwks(&self) -> Value {
        self.keys().jwks(&self.0.published)
    }

    /// The RS256 kids by role (the keys Auth0 publishes).
    pub fn key_summary(&self) -> KeySummary {
        self.keys().summary()
    }

    /// The kids by role of every algorithm whose keys the JWKS publishes, RS256 first.
    pub fn published_keys(&self) -> Vec<(SigningAlg, KeySummary)> {
        let keys = self.keys();
        self.0
            .published
            .iter()
            .map(|&ring| (ring.signing_alg(), keys.ring(ring).summary()))
            .collect()
    }

    /// The kid RS256 tokens are signed with now.
    pub fn current_kid(&self) -> String {
        self.keys().ring(KeyAlg::Rs256).current.kid.clone()
    }

    /// The kid `alg`'s tokens are signed with now; `None` for HS256, whose tokens have none.
    pub fn current_kid_for(&self, alg: SigningAlg) -> Option<String> {
        KeyAlg::of(alg).map(|ring| self.keys().ring(ring).current.kid.clone())
    }

    /// The algorithm and role of the key `kid`, if the tenant holds it (published or not).
    pub fn key_role(&self, kid: &str) -> Option<(SigningAlg, KeyRole)> {
        self.keys()
            .find(kid)
            .map(|(ring, role)| (ring.signing_alg(), role))
    }

    /// The HS256 signing secret of the API `audience`: its configured `signing_secret`, else
    /// the one generated for it. `None` when no API has that identifier.
    pub fn signing_secret(&self, audience: &str) -> Option<Secret> {
        let api = self.0.config.api(audience)?;
        api.signing_secret
            .clone()
            .or_else(|| self.keys().generated_secret(audience).cloned())
    }

    /// Signs the token `spec` describes with the current key of its algorithm (the spec's, else
    /// its audience's API's, else RS256), or for HS256 with that API's signing secret.
    ///
    /// # Errors
    /// HS256 for an audience that is no API of the tenant, or a failure of the signing backend.
    pub fn mint(&self, spec: &TokenSpec) -> Result<String, Error> {
        let (audience, alg) = token::audience_and_alg(spec, &self.0.config);
        self.with_signer(alg, Some(&audience), |signer| {
            token::mint(
                spec,
                &MintContext {
                    issuer: &self.0.issuer,
                    signer,
                    audience: &audience,
                    config: &self.0.config,
                    seed: self.0.config.seed,
                },
            )
        })
    }

    /// Signs `header` and `payload` exactly as given, RS256 with the current key.
    ///
    /// # Errors
    /// Only if the signing backend fails.
    pub fn sign_raw(&self, header: &Value, payload: &Value) -> Result<String, Error> {
        self.sign_raw_bytes(
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
        )
    }

    /// Signs raw header and payload bytes, RS256 with the current key: for hostile tokens whose
    /// JSON no serializer would write (duplicate members, deep nesting).
    ///
    /// # Errors
    /// Only if the signing backend fails.
    pub fn sign_raw_bytes(&self, header: &[u8], payload: &[u8]) -> Result<String, Error> {
        self.with_signer(SigningAlg::Rs256, None, |signer| {
            token::sign_compact(header, payload, &signer)
        })
    }

    /// Signs `header` and `payload` exactly as given with `alg`: the current key of its ring,
    /// or for HS256 the signing secret of the API the payload's `aud` names (a string, or the
    /// first of an array).
    ///
    /// # Errors
    /// HS256 with an `aud` that names no API, or a failure of the signing backend.
    pub fn sign_raw_as(
        &self,
        alg: SigningAlg,
        header: &Value,
        payload: &Value,
    ) -> Result<String, Error> {
        let aud = match payload.get("aud") {
            Some(Value::Array(auds)) => auds.first(),
            other => other,
        };
        self.with_signer(alg, aud.and_then(Value::as_str), |signer| {
            token::sign_compact(
                header.to_string().as_bytes(),
                payload.to_string().as_bytes(),
                &signer,
            )
        })
    }

    /// Runs `sign` with what signs `alg`: its ring's current key (the read lock released first),
    /// or the signing secret of the API `audience`.
    fn with_signer<T>(
        &self,
        alg: SigningAlg,
        audience: Option<&str>,
        sign: impl FnOnce(Signer<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match KeyAlg::of(alg) {
            Some(ring) => {
                let key = self.keys().ring(ring).current.clone();
                sign(Signer::Key(&key))
            }
            None => {
                let secret = audience
                    .and_then(|audience| self.signing_secret(audience))
                    .ok_or_else(|| {
                        Error::Key(format!(
                            "{alg} signs with an API's signing secret: the audience {} is no \
                             API of this tenant",
                            audience.unwrap_or("(none)")
                        ))
                    })?;
                sign(Signer::Secret(&secret))
            }
        }
    }

    /// Promotes next to current and publishes a new next in every ring; persists the rings if
    /// there is a data dir. Blocking (generates keys).
    ///
    /// # Errors
    /// Key generation or persistence failed; the ring is then unchanged.
    pub fn rotate(&self) -> Result<KeySummary, Error> {
        let _one_at_a_time = self
            .0
            .rotating
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Cloned first, so no lock is held while keys are generated.
        let mut rotated = self.keys().clone();
        let prepared = rotated.prepare_rotation()?;
        rotated.rotate(prepared);
        self.commit(rotated)
    }

    /// Stops publishing every ring's previous key; persists the rings if there is a data dir.
    ///
    /// # Errors
    /// Persistence failed; the ring is then unchanged.
    pub fn revoke_previous(&self) -> Result<KeySummary, Error> {
        let _one_at_a_time = self
            .0
            .rotating
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut revoked = self.keys().clone();
        revoked.revoke_previous();
        self.commit(revoked)
    }

    /// Saves `ring` (if persistent) and only then makes it the served one, so the served keys
    /// never differ from what a restart would load. Answers the RS256 kids.
    fn commit(&self, ring: KeySet) -> Result<KeySummary, Error> {
        if let Some(dir) = &self.0.config.data_dir {
            ring.save(dir)?;
        }
        let summary = ring.summary();
        *self
            .0
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = ring;
        Ok(summary)
    }
}

/// The issuer URL for a bound address: `http://HOST:PORT/`, with Auth0's trailing slash. An
/// unspecified address (`0.0.0.0`) is reachable locally as `localhost`.
pub fn issuer_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    }
}

/// The router: Auth0's public endpoints, `/healthz`, and the admin surface under `/_mock/`.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then finishes in-flight requests.
///
/// # Errors
/// Only I/O errors from the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
