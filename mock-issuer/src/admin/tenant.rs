//! `GET /_mock/tenant`: the whole tenant at a glance, as the console shows it. A development
//! tenant: passwords and client secrets are part of the answer, so a person can log in.

use serde::{Deserialize, Serialize};

use super::KeySummary;
use crate::config::SigningAlg;

/// The tenant: issuer, APIs, applications, users, roles and signing keys, in configuration order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    /// The issuer identifier, with its trailing slash.
    pub issuer: String,
    /// The APIs (resource servers).
    pub apis: Vec<ApiSummary>,
    /// The applications.
    pub clients: Vec<ClientSummary>,
    /// The users who can log in.
    pub users: Vec<UserSummary>,
    /// The roles users hold.
    pub roles: Vec<RoleSummary>,
    /// The RS256 kids by role.
    pub keys: KeySummary,
    /// The kids by role of every algorithm whose keys the JWKS publishes, RS256 first (then
    /// those an API signs with).
    pub signing_keys: Vec<SigningKeys>,
}

/// One algorithm's published keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeys {
    /// The algorithm they sign with, their JWKs' `alg`.
    pub alg: SigningAlg,
    /// Their kids by role.
    pub keys: KeySummary,
}

/// An API and its token settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSummary {
    /// The identifier, used as `audience` and `aud`.
    pub identifier: String,
    /// The scopes it defines.
    pub scopes: Vec<String>,
    /// The access token profile: `auth0` or `rfc9068`.
    pub dialect: String,
    /// Its tokens' lifetime, in seconds.
    pub token_lifetime: u64,
    /// "Enable RBAC": a user gets only the requested scopes the user holds through roles.
    pub rbac: bool,
    /// "Add Permissions in the Access Token".
    pub permissions_in_token: bool,
    /// "Allow Offline Access": logins asking for `offline_access` get a refresh token.
    pub allow_offline_access: bool,
    /// How its access tokens are signed.
    pub signing_alg: SigningAlg,
    /// Its signing secret (a development tenant's), when it signs with HS256; else `None`.
    pub signing_secret: Option<String>,
}

/// An application and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSummary {
    /// The client id.
    pub id: String,
    /// Auth0's application type: `non_interactive`, `spa` or `regular_web`.
    pub app_type: String,
    /// The client secret; `None` for a public client.
    pub secret: Option<String>,
    /// The grant types it may use.
    pub grant_types: Vec<String>,
    /// Its client grants: APIs and scopes for client credentials.
    pub grants: Vec<ScopesOnApi>,
    /// Allowed Callback URLs.
    pub callbacks: Vec<String>,
    /// Allowed Web Origins.
    pub web_origins: Vec<String>,
    /// Allowed Logout URLs.
    pub allowed_logout_urls: Vec<String>,
    /// Whether its refresh tokens rotate.
    pub rotate_refresh_tokens: bool,
}

/// Scopes on one API: a client grant, a role's permissions or a user's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopesOnApi {
    /// The API identifier.
    pub audience: String,
    /// The scopes.
    pub scopes: Vec<String>,
}

/// A user, with the credentials to log in as them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The user id, the `sub` of the user's tokens (`auth0|…`).
    pub id: String,
    /// The email, which is also the login name.
    pub email: String,
    /// The password (a development tenant's).
    pub password: String,
    /// The `name` claim.
    pub name: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// What the roles grant, per API: only the APIs on which the user holds something.
    pub permissions: Vec<ScopesOnApi>,
}

/// A role and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    /// The role's name.
    pub name: String,
    /// Its permissions, per API.
    pub permissions: Vec<ScopesOnApi>,
}
