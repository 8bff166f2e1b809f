//! The admin surface's wire types: one per request and answer under `/_mock/`, shared by the
//! server's routes and [`IssuerClient`](crate::client::IssuerClient) so the two cannot drift.
//!
//! | Request                        | Body               | Answer                  |
//! |--------------------------------|--------------------|-------------------------|
//! | `GET /_mock/keys`              |                    | `200` [`KeySummary`]    |
//! | `POST /_mock/rotate`           |                    | `200` [`KeySummary`]    |
//! | `POST /_mock/revoke-previous`  |                    | `200` [`KeySummary`]    |
//! | `GET /_mock/faults`            |                    | `200` [`FaultTable`]    |
//! | `PUT /_mock/faults/{endpoint}` | [`Fault`]          | `200` the [`Fault`] set |
//! | `DELETE /_mock/faults`         |                    | `204`                   |
//! | `GET /_mock/requests`          |                    | `200` [`RequestCounts`] |
//! | `POST /_mock/reset`            |                    | `204`                   |
//! | `GET /_mock/tenant`            |                    | `200` [`TenantSummary`] |
//! | `POST /_mock/mint`             | [`MintRequest`]    | `200` [`MintedToken`]   |
//! | `POST /_mock/inspect`          | [`InspectRequest`] | `200` [`Inspection`]    |
//!
//! `{endpoint}` is an [`Endpoint`]'s wire name ([`Endpoint::as_str`]). A refused request gets
//! `400` (unknown endpoint, bad fault, a mint naming an unknown client, user or audience, a
//! token that is not a JWS) or `500` (a key change failed) with an [`AdminError`].
//!
//! Objects keyed by endpoint list their members in alphabetical order, as the server has always
//! written them.

mod tenant;
mod tokens;

use serde::{Deserialize, Serialize};

pub use self::tenant::{
    ApiSummary, ClientSummary, RoleSummary, ScopesOnApi, SigningKeys, TenantSummary, UserSummary,
};
pub use self::tokens::{
    InspectRequest, Inspection, KeyRole, MintRequest, MintedToken, Verification,
};
pub use crate::faults::{Endpoint, Fault};

/// The kids by role: `{"current":"…","next":"…","previous":"…"}`, `previous` being `null` when
/// there is none (before the first rotation, after a revocation). The admin surface's key
/// answers give the RS256 keys' (Auth0's); every published algorithm's are in
/// [`TenantSummary::signing_keys`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySummary {
    /// The key tokens are signed with now.
    pub current: String,
    /// The pre-published key the next rotation makes current.
    pub next: String,
    /// The key current before the last rotation, still published until revoked.
    pub previous: Option<String>,
}

impl KeySummary {
    /// The kids the JWKS publishes: current, next, then previous if any.
    pub fn published(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.current),
            Some(&self.next),
            self.previous.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }
}

/// One value per endpoint, every endpoint present. On the wire an object keyed by
/// [`Endpoint::as_str`]: `{"jwks":…,"oauth_authorization_server":…,"openid_configuration":…,
/// "token":…}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerEndpoint<T> {
    /// `GET /.well-known/jwks.json`.
    pub jwks: T,
    /// `GET /.well-known/oauth-authorization-server`.
    pub oauth_authorization_server: T,
    /// `GET /.well-known/openid-configuration`.
    pub openid_configuration: T,
    /// `POST /oauth/token`.
    pub token: T,
}

impl<T> PerEndpoint<T> {
    /// The value for `endpoint`.
    pub fn get(&self, endpoint: Endpoint) -> &T {
        match endpoint {
            Endpoint::OpenidConfiguration => &self.openid_configuration,
            Endpoint::OauthAuthorizationServer => &self.oauth_authorization_server,
            Endpoint::Jwks => &self.jwks,
            Endpoint::Token => &self.token,
        }
    }

    /// Every endpoint's value, as `value` gives it.
    pub fn from_fn(mut value: impl FnMut(Endpoint) -> T) -> Self {
        Self {
            jwks: value(Endpoint::Jwks),
            oauth_authorization_server: value(Endpoint::OauthAuthorizationServer),
            openid_configuration: value(Endpoint::OpenidConfiguration),
            token: value(Endpoint::Token),
        }
    }
}

/// `GET /_mock/requests`: how many requests each endpoint has received since start or the
/// last reset, faulted ones included; `{"jwks":2,"oauth_authorization_server":0,…}`.
pub type RequestCounts = PerEndpoint<u64>;

impl RequestCounts {
    /// The count for `endpoint`.
    pub fn count(&self, endpoint: Endpoint) -> u64 {
        *self.get(endpoint)
    }
}

/// `GET /_mock/faults`: the faults set on each endpoint, in the order they were set, an empty
/// list where it behaves; `{"jwks":[{"type":"status","code":503}],"oauth_authorization_server":[],…}`.
pub type FaultTable = PerEndpoint<Vec<Fault>>;

/// Why an admin request was refused: `{"error":"…"}`, with a `400` or `500`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminError {
    /// What went wrong, for a human.
    pub error: String,
}
