//! What a user's login leaves behind, in memory: login sessions (the cookie), logins waiting on
//! the login page, authorization codes, refresh tokens and the DPoP proofs already used. Routes
//! decide; these stores remember.
//!
//! Every store is bounded (see [`Store`]) and every handle is 256 random bits. Nothing here is
//! persisted: a restart logs everyone out, as a new tenant would.

mod codes;
mod dpop_proofs;
mod refresh;
mod store;

use std::time::Duration;

pub(crate) use self::codes::{CodeError, CodeGrant, Codes};
pub(crate) use self::dpop_proofs::SeenProofs;
pub(crate) use self::refresh::{RefreshError, RefreshGrant, RefreshTokens};
pub(crate) use self::store::{Store, random_handle};
use crate::config::IssuerConfig;

/// How many of each kind the stores hold at most; beyond it the oldest goes.
pub(crate) const STORE_CAPACITY: usize = 10_000;
/// How long a login may wait on the login page.
pub(crate) const PENDING_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A logged-in browser: who, since when, and the `sid` its ID tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The user's id (`sub`).
    pub user_id: String,
    /// When the user entered the password, in Unix seconds (`auth_time`).
    pub auth_time: u64,
    /// The session id published in ID tokens; not the cookie value, which stays secret.
    pub sid: String,
}

/// A validated `/authorize` request: what the code, once issued, is for. Kept while the user is
/// on the login page, under the `state` of `/u/login?state=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizeRequest {
    pub client_id: String,
    /// Exactly as sent; it is one of the client's Allowed Callback URLs.
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    /// The requested scopes, space-separated as sent (may be empty).
    pub scope: String,
    /// The API the access token is for, if one was asked for.
    pub audience: Option<String>,
    /// The client's `state`, echoed in the answer.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// The S256 challenge, if PKCE is used.
    pub code_challenge: Option<String>,
    /// `max_age` in seconds, if sent: the ID token then carries `auth_time`, and an older login
    /// asks for the password again.
    pub max_age: Option<u64>,
    /// Prefills the login page's email.
    pub login_hint: Option<String>,
    /// `prompt=login`: ask for the password even with a session; for a pending login, whether
    /// the password is still to be given (`/authorize/resume` issues nothing before it is).
    pub force_login: bool,
}

/// How `/authorize` sends its answer to the client (OAuth 2.0 response modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    /// `302` to `redirect_uri?code=…` (the default for `response_type=code`).
    Query,
    /// `302` to `redirect_uri#code=…`.
    Fragment,
    /// An HTML page that POSTs the answer to `redirect_uri`.
    FormPost,
    /// An HTML page that `postMessage`s the answer to the opener or parent window.
    WebMessage,
}

/// The login stores of one tenant.
#[derive(Debug)]
pub(crate) struct Login {
    /// Login sessions by cookie value.
    pub sessions: Store<Session>,
    /// Logins waiting on the login page, by the page's `state`.
    pub pending: Store<AuthorizeRequest>,
    /// Authorization codes.
    pub codes: Codes,
    /// Refresh tokens and their families.
    pub refresh: RefreshTokens,
    /// The DPoP proofs the token endpoint accepted, each usable once.
    pub dpop_proofs: SeenProofs,
}

impl Login {
    /// Empty stores with `config`'s lifetimes.
    pub(crate) fn new(config: &IssuerConfig) -> Self {
        Self {
            sessions: Store::new(config.session_lifetime, STORE_CAPACITY),
            pending: Store::new(PENDING_LIFETIME, STORE_CAPACITY),
            codes: Codes::new(config.code_lifetime),
            refresh: RefreshTokens::new(config.refresh_token_lifetime),
            dpop_proofs: SeenProofs::default(),
        }
    }
}
