//! An offline Auth0 tenant for development and tests.
//!
//! It serves what a resource server reads from a tenant (discovery at both well-known paths,
//! the JWKS with current, next and previous keys, client-credentials tokens at `/oauth/token`,
//! signed per API with RS256, PS256, ES256, EdDSA or HS256)
//! and what a browser app needs to log a user in (Universal Login at `/u/login` behind
//! `/authorize` in every response mode, the authorization-code grant with PKCE, rotating refresh
//! tokens, ID tokens, `/userinfo`, both logouts, CORS for the clients' web origins), all in
//! Auth0's exact shapes, with a console page at `/`. It lets a test rotate keys, inject faults
//! and count fetches: in process through [`MockIssuer`], or over HTTP through its admin surface
//! under `/_mock/` (behind a bearer token when [`IssuerConfig::admin_token`] is set, as
//! `mock-issuer serve` sets it on any address but loopback: see [`admin_access`]). Its users,
//! roles and clients are [`IssuerConfig`]'s, from code or a TOML file; [`demo_app`] is the
//! quickstart's single-page app that logs in through it.
//!
//! [`IssuerClient`] is the other side: a typed async client for the token endpoint (of this
//! issuer or a real Auth0 tenant) and for the admin surface. Server and client share the wire
//! types of [`admin`] and [`oauth`]; the default tenant's names are in [`config::defaults`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_issuer::Error> {
//! use mock_issuer::{Endpoint, Fault, IssuerConfig, MockIssuer, TokenSpec};
//!
//! let issuer = MockIssuer::start(IssuerConfig::default()).await?;
//! let token = issuer.mint(&TokenSpec::for_client("reader").scopes(["read:messages"]));
//! issuer.set_fault(Endpoint::Jwks, Fault::Status(503))?;
//! assert_eq!(issuer.request_count(Endpoint::Jwks), 0);
//! # let _ = token; Ok(()) }
//! ```

pub mod admin;
pub mod admin_access;
mod cert;
pub mod client;
pub mod config;
mod constant_time;
pub mod demo_app;
mod error;
mod faults;
mod id_token;
mod jwk;
mod keys;
mod login;
pub mod oauth;
mod owner_only;
mod pem;
mod routes;
pub mod server;
mod token;
mod verify;

use std::net::SocketAddr;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use admin::{AdminError, FaultTable, KeySummary, PerEndpoint, RequestCounts};
pub use client::{ClientError, IssuerClient};
pub use config::{
    ApiConfig, AppType, ClientConfig, Dialect, GrantConfig, IssuerConfig, RoleConfig, SigningAlg,
    UserConfig,
};
pub use error::Error;
pub use faults::{Endpoint, Fault, UnknownEndpoint};
pub use oauth::{ClientCredentials, OAuthErrorBody, Secret, TokenResponse};
pub use server::AppState;
pub use token::TokenSpec;

/// Installs jsonwebtoken's aws-lc-rs provider for this process, unless one already is.
///
/// [`MockIssuer::start`] and every signing call do this, so tests that verify tokens with
/// `jsonwebtoken::decode` in the same process need nothing more.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// A running mock tenant on a port of the OS's choosing. Dropping it shuts the server down.
#[derive(Debug)]
pub struct MockIssuer {
    state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockIssuer {
    /// Binds `config.addr` (default `127.0.0.1:0`), loads or generates keys and serves in a
    /// background task of the current Tokio runtime.
    ///
    /// With the default config keys are random and in memory (two keys per ring: RS256's and
    /// PS256's RSA-2048, ES256's P-256, EdDSA's Ed25519); with [`IssuerConfig::with_seed`] they
    /// are deterministic and cached for the process.
    ///
    /// # Errors
    /// An invalid configuration, an unusable data dir, or a failure to bind.
    pub async fn start(config: IssuerConfig) -> Result<Self, Error> {
        install_crypto_provider();
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let issuer = server::issuer_url(addr);
        let state = tokio::task::spawn_blocking(move || AppState::new(config, issuer))
            .await
            .map_err(|e| Error::Key(format!("key generation task: {e}")))??;
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, state.clone(), async move {
            // A dropped sender also means shut down.
            let _ = on_shutdown.await;
        }));
        Ok(Self {
            state,
            addr,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The issuer identifier, `http://127.0.0.1:PORT/`, with Auth0's trailing slash.
    pub fn url(&self) -> &str {
        self.state.issuer()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `url()` + `.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}.well-known/jwks.json", self.url())
    }

    /// `url()` + `oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}oauth/token", self.url())
    }

    /// A token signed as described by `spec` (see [`TokenSpec`] for defaults): with the current
    /// key of its algorithm's ring, or for HS256 with its audience's signing secret. Grants are
    /// not checked: any client, audience and scopes can be minted.
    ///
    /// # Panics
    /// If HS256 is asked for an audience that is no API of the tenant (it has no secret), or
    /// the signing backend rejects a key this crate generated, which does not happen.
    pub fn mint(&self, spec: &TokenSpec) -> String {
        self.state
            .mint(spec)
            .expect("an HS256 token for an API of the tenant, or a generated key, signs")
    }

    /// Signs `header` and `payload` exactly as given (nothing added, not even `kid`: add
    /// `"kid": issuer.current_kid()` yourself), RS256 with the current key whatever `alg` says.
    /// Meant for hostile-token tests.
    ///
    /// # Panics
    /// Only if the signing backend rejects a key this crate generated, which does not happen.
    pub fn sign_raw(&self, header: &Value, payload: &Value) -> String {
        self.state
            .sign_raw(header, payload)
            .expect("signing with a generated RSA key cannot fail")
    }

    /// Signs raw header and payload bytes (RS256, current key) without any JSON processing:
    /// for hostile tokens with duplicate members or deep nesting.
    ///
    /// # Panics
    /// As [`MockIssuer::sign_raw`].
    pub fn sign_raw_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        self.state
            .sign_raw_bytes(header, payload)
            .expect("signing with a generated RSA key cannot fail")
    }

    /// Like [`MockIssuer::sign_raw`], signed with `alg` whatever the header says: the current
    /// key of its ring (add `"kid": issuer.current_kid_for(alg)` yourself), or for HS256 the
    /// signing secret of the API the payload's `aud` names (a string, or an array's first).
    ///
    /// # Panics
    /// HS256 with an `aud` that names no API of the tenant.
    pub fn sign_raw_as(&self, alg: SigningAlg, header: &Value, payload: &Value) -> String {
        self.state
            .sign_raw_as(alg, header, payload)
            .expect("an HS256 payload's aud names an API of the tenant")
    }

    /// The kid of the RS256 key tokens are signed with now (Auth0's keys, which ID tokens and
    /// the default API use).
    pub fn current_kid(&self) -> String {
        self.state.current_kid()
    }

    /// The kid of the key `alg`'s tokens are signed with now; `None` for HS256.
    pub fn current_kid_for(&self, alg: SigningAlg) -> Option<String> {
        self.state.current_kid_for(alg)
    }

    /// The HS256 signing secret of the API `audience` (its configured one, else the one
    /// generated for it), whose UTF-8 bytes are the HMAC key; `None` if no API has that
    /// identifier.
    pub fn signing_secret(&self, audience: &str) -> Option<Secret> {
        self.state.signing_secret(audience)
    }

    /// The RS256 kids by role.
    pub fn key_summary(&self) -> KeySummary {
        self.state.key_summary()
    }

    /// Rotates like Auth0, every algorithm's ring at once: next becomes current (new tokens use
    /// it), current becomes previous (still published), a new next is generated and published.
    /// HS256 secrets do not change. Blocks while generating.
    ///
    /// # Errors
    /// Key generation or persistence to the data dir failed; keys are then unchanged.
    pub fn rotate(&self) -> Result<(), Error> {
        self.state.rotate().map(drop)
    }

    /// Stops publishing every ring's previous key, so tokens signed with them stop verifying.
    ///
    /// # Errors
    /// Persistence to the data dir failed; keys are then unchanged.
    pub fn revoke_previous(&self) -> Result<(), Error> {
        self.state.revoke_previous().map(drop)
    }

    /// Adds `fault` to `endpoint` (replacing one of the same kind; kinds combine).
    ///
    /// # Errors
    /// [`Error::UnsupportedFault`] for [`Fault::EmptyKeySet`] outside [`Endpoint::Jwks`], or a
    /// status outside 100–999.
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault) -> Result<(), Error> {
        self.state.faults().set(endpoint, fault)
    }

    /// Removes every fault from every endpoint.
    pub fn clear_faults(&self) {
        self.state.faults().clear();
    }

    /// Requests `endpoint` has received, faulted ones included.
    pub fn request_count(&self, endpoint: Endpoint) -> u64 {
        self.state.faults().count(endpoint)
    }

    /// Sets every request count back to zero.
    pub fn reset_request_counts(&self) {
        self.state.faults().reset_counts();
    }

    /// The shared state, for embedding the routes elsewhere.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish and waits for the server.
    ///
    /// # Errors
    /// An I/O error the server met while running.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(Error::from),
                Err(e) => Err(Error::Net(std::io::Error::other(e))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for MockIssuer {
    fn drop(&mut self) {
        // Signal only: Drop cannot await, and the server task ends on its own once connections
        // drain (or with the runtime).
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
