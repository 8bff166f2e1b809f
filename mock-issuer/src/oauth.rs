//! The token endpoint's wire types, Auth0's shapes: the client-credentials request, the token
//! answer (of every grant) and the OAuth error answer. The server's `/oauth/token` writes the answers, and
//! [`IssuerClient`](crate::client::IssuerClient) sends the request and reads the answers, to this
//! mock or to a real Auth0 tenant alike. [`dpop`] is the client's side of DPoP: a key and the
//! proofs a client sends with its requests.

pub mod dpop;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The grant type of a machine-to-machine token request ([`ClientCredentials`]).
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// A string that must never reach a log line (a client secret, an access token): `Debug`
/// shows `<redacted>`. On the wire it is the plain string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The string itself, for sending it where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The string itself, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A client-credentials token request, sent as a form:
/// `grant_type=client_credentials&client_id=…&client_secret=…&audience=…[&scope=…]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ClientCredentialsForm", try_from = "ClientCredentialsForm")]
pub struct ClientCredentials {
    /// The application's client id.
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: Secret,
    /// The API identifier the token is for (its `aud`).
    pub audience: String,
    /// Space-separated scopes to ask for. Default `None`: every scope the client was granted.
    pub scope: Option<String>,
}

impl ClientCredentials {
    /// A request for every scope `client_id` was granted on `audience`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            audience: audience.into(),
            scope: None,
        }
    }

    /// Asks for `scope` (space-separated) only.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

/// [`ClientCredentials`] as sent: `grant_type` first, then the fields.
#[derive(Serialize, Deserialize)]
struct ClientCredentialsForm {
    grant_type: String,
    client_id: String,
    client_secret: Secret,
    audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl From<ClientCredentials> for ClientCredentialsForm {
    fn from(request: ClientCredentials) -> Self {
        Self {
            grant_type: CLIENT_CREDENTIALS.to_owned(),
            client_id: request.client_id,
            client_secret: request.client_secret,
            audience: request.audience,
            scope: request.scope,
        }
    }
}

impl TryFrom<ClientCredentialsForm> for ClientCredentials {
    type Error = String;

    fn try_from(form: ClientCredentialsForm) -> Result<Self, Self::Error> {
        if form.grant_type != CLIENT_CREDENTIALS {
            return Err(format!(
                "grant_type must be `{CLIENT_CREDENTIALS}`, not `{}`",
                form.grant_type
            ));
        }
        Ok(Self {
            client_id: form.client_id,
            client_secret: form.client_secret,
            audience: form.audience,
            scope: form.scope,
        })
    }
}

/// A `200` token answer: `{"access_token":"…","scope":"…","expires_in":86400,"token_type":"Bearer"}`,
/// `scope` absent when no scope was granted; after a user's login also `id_token` (when `openid`
/// was granted) and `refresh_token` (when `offline_access` was), each absent otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The signed JWT (`Debug` hides it).
    pub access_token: Secret,
    /// The refresh token, when one was issued (`Debug` hides it). Default `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The ID token (a signed JWT), when `openid` was granted (`Debug` hides it). Default `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// The granted scopes, space-separated; absent when none were granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// `Bearer`, or `DPoP` when the access token is bound to the key of the request's DPoP
    /// proof (it then has a `cnf.jkt` claim).
    pub token_type: String,
}

impl TokenResponse {
    /// The granted scopes, one by one (none when `scope` is absent).
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or_default().split_whitespace()
    }
}

/// An OAuth error answer, Auth0's shape (RFC 6749 §5.2):
/// `{"error":"access_denied","error_description":"Unauthorized"}`. The token endpoint refuses
/// with it, and a status fault answers it on any endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    /// The error code: `invalid_request`, `access_denied`, `unauthorized_client`,
    /// `unsupported_grant_type`, `too_many_requests`, `server_error`, …
    pub error: String,
    /// What went wrong, for a human.
    pub error_description: String,
}
