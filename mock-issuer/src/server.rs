//! The shared state behind every route, the router, and serving on an already bound listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::admin::KeySummary;
use crate::config::IssuerConfig;
use crate::faults::Faults;
use crate::keys::{KeyRing, KeySource};
use crate::login::Login;
use crate::token::{self, MintContext, TokenSpec};
use crate::{Error, routes};

/// The issuer's state: configuration, key ring, faults and counters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    issuer: String,
    config: IssuerConfig,
    keys: RwLock<KeyRing>,
    /// Serialises rotations: each generates a key outside the `keys` lock, and two at once would
    /// both claim the same seeded index.
    rotating: Mutex<()>,
    faults: Faults,
    login: Login,
}

impl AppState {
    /// Loads or generates the key ring for `config` and fixes the issuer URL.
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
            Some(dir) => KeyRing::load_or_generate(dir, source)?,
            None => KeyRing::generate(source)?,
        };
        Ok(Self(Arc::new(Inner {
            issuer,
            login: Login::new(&config),
            config,
            keys: RwLock::new(keys),
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

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, KeyRing> {
        // Every write to the ring is a whole-field replacement, so a poisoned lock still guards a
        // consistent ring.
        self.0
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The JWKS document: current, next, then previous if not revoked.
    pub fn jwks(&self) -> Value {
        self.keys().jwks()
    }

    /// The kids by role.
    pub fn key_summary(&self) -> KeySummary {
        self.keys().summary()
    }

    /// The kid tokens are signed with now.
    pub fn current_kid(&self) -> String {
        self.keys().current.kid.clone()
    }

    /// Signs the token `spec` describes with the current key.
    ///
    /// # Errors
    /// Only if the signing backend fails.
    pub fn mint(&self, spec: &TokenSpec) -> Result<String, Error> {
        let key = self.keys().current.clone();
        token::mint(
            spec,
            &MintContext {
                issuer: &self.0.issuer,
                key: &key,
                config: &self.0.config,
                seed: self.0.config.seed,
            },
        )
    }

    /// Signs `header` and `payload` exactly as given, RS256 with the current key.
    ///
    /// # Errors
    /// Only if the signing backend fails.
    pub fn sign_raw(&self, header: &Value, payload: &Value) -> Result<String, Error> {
        let key = self.keys().current.clone();
        token::sign_compact(
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
            &key,
        )
    }

    /// Signs raw header and payload bytes, RS256 with the current key: for hostile tokens whose
    /// JSON no serializer would write (duplicate members, deep nesting).
    ///
    /// # Errors
    /// Only if the signing backend fails.
    pub fn sign_raw_bytes(&self, header: &[u8], payload: &[u8]) -> Result<String, Error> {
        let key = self.keys().current.clone();
        token::sign_compact(header, payload, &key)
    }

    /// Promotes next to current and publishes a new next; persists the ring if it has a data dir.
    /// Blocking (generates a key).
    ///
    /// # Errors
    /// Key generation or persistence failed; the ring is then unchanged.
    pub fn rotate(&self) -> Result<KeySummary, Error> {
        let _one_at_a_time = self
            .0
            .rotating
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let prepared = self.keys().prepare_rotation()?;
        let mut rotated = self.keys().clone();
        rotated.rotate(prepared);
        self.commit(rotated)
    }

    /// Stops publishing the previous key; persists the ring if it has a data dir.
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
    /// never differ from what a restart would load.
    fn commit(&self, ring: KeyRing) -> Result<KeySummary, Error> {
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
