//! `POST /_mock/mint` and `POST /_mock/inspect`: a token as a client or a user, made to order,
//! and any token read back, with whether the tenant's published keys verify it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::SigningAlg;
use crate::oauth::Secret;

/// What to mint. Grants are not checked (a developer tool, as
/// [`MockIssuer::mint`](crate::MockIssuer::mint)); the client, the user and the audience must
/// exist.
///
/// Defaults: no user (a client's token, `sub` = `<client_id>@clients`); audience = the first
/// API; no scope; no extra claim; lifetime and signing algorithm = the API's. With the API's "Add Permissions in the
/// Access Token" on, `permissions` is the user's permissions on the API through roles, or for a
/// client the requested scopes, as the token endpoint gives them. A user's token asking for
/// `openid` has `aud` = `[audience, "{issuer}userinfo"]`, as after a login.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The client the token is issued to (`azp`).
    pub client_id: String,
    /// The user the token is for, by id (`auth0|…`) or email; `None` for a client's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The API identifier, `aud`; `None` for the first API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The `scope` claim's scopes; empty for no `scope` claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Claims to add or replace, a JSON object; `None` for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// `exp` - `iat` in seconds, 1 to 2592000 (30 days); `None` for the API's lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The algorithm to sign with, as [`TokenSpec::signing_alg`](crate::TokenSpec::signing_alg);
    /// `None` for the API's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<SigningAlg>,
}

impl MintRequest {
    /// A client's token for `client_id`, every other field at its default.
    pub fn for_client(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            ..Self::default()
        }
    }

    /// A token issued to `client_id` for `user` (an id or an email).
    pub fn for_user(user: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            user: Some(user.into()),
            ..Self::for_client(client_id)
        }
    }

    /// Sets [`MintRequest::audience`].
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets [`MintRequest::scopes`].
    #[must_use]
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the claim `name` to [`MintRequest::claims`] (making it an object if it was not).
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let mut claims = match self.claims.take() {
            Some(Value::Object(claims)) => claims,
            _ => Map::new(),
        };
        claims.insert(name.into(), value.into());
        self.claims = Some(Value::Object(claims));
        self
    }

    /// Sets [`MintRequest::expires_in`].
    #[must_use]
    pub fn expires_in(mut self, seconds: u64) -> Self {
        self.expires_in = Some(seconds);
        self
    }

    /// Sets [`MintRequest::signing_alg`].
    #[must_use]
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = Some(alg);
        self
    }
}

/// A minted token: `{"token":"…","alg":"RS256","kid":"…","expires_in":86400}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: Secret,
    /// The algorithm that signed it.
    pub alg: SigningAlg,
    /// The kid of the key that signed it (its ring's current one); `None` for HS256, signed
    /// with the API's secret.
    pub kid: Option<String>,
    /// Its lifetime in seconds, `exp` - `iat`.
    pub expires_in: u64,
}

/// A token to read back: `{"token":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    /// Any compact JWS, this tenant's or not.
    pub token: Secret,
}

/// A token read back: its header and claims (whether or not it verifies), the verdict of the
/// tenant's published keys, and how long it has left. Expiry and audience do not affect the
/// verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// Whether a key the tenant publishes now verifies the signature, and which.
    pub verification: Verification,
    /// `exp` minus now in seconds, negative once expired; `None` without a numeric `exp`.
    pub seconds_left: Option<i64>,
    /// The same for a person: `expires in 86400 s (1 d)`, `expired 5 s ago`, or `no exp claim`.
    pub expiry: String,
}

/// The verdict on a token's signature: `{"status":"verified","kid":"…","key":"current"}`,
/// `{"status":"verified_with_secret","audience":"…"}` or `{"status":"not_verified","reason":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// The published key `kid` verifies it.
    Verified {
        /// The key's kid.
        kid: String,
        /// The key's role now; `None` only if the keys changed while the token was checked.
        key: Option<KeyRole>,
    },
    /// The HS256 signing secret of the API `audience` verifies it.
    VerifiedWithSecret {
        /// The API's identifier.
        audience: String,
    },
    /// No published key verifies it.
    NotVerified {
        /// Why: the algorithm, an unknown (or revoked) kid, a bad signature…
        reason: String,
    },
}

/// A published key's role in the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// The key tokens are signed with now.
    Current,
    /// The pre-published key the next rotation makes current.
    Next,
    /// The key current before the last rotation, until revoked.
    Previous,
}

impl KeyRole {
    /// The role of `kid` in `keys`, if it is published.
    pub fn of(kid: &str, keys: &super::KeySummary) -> Option<Self> {
        if keys.current == kid {
            Some(Self::Current)
        } else if keys.next == kid {
            Some(Self::Next)
        } else if keys.previous.as_deref() == Some(kid) {
            Some(Self::Previous)
        } else {
            None
        }
    }
}
