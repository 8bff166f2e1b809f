//! An API (Auth0 "resource server"): its identifier, scopes, token profile and RBAC settings.

use serde::Deserialize;

use super::defaults;

/// An API (Auth0 "resource server"): the audience tokens are issued for.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The API identifier, used as `audience` and `aud`.
    pub identifier: String,
    /// The scopes (permissions) the API defines. Default: none.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `expires_in` of its tokens, in seconds. Default 86400; at most 2592000.
    #[serde(default = "default_lifetime")]
    pub token_lifetime: u64,
    /// The access token profile. Default [`Dialect::Auth0`].
    #[serde(default)]
    pub dialect: Dialect,
    /// "Enable RBAC": a user's token carries only the requested scopes the user holds through
    /// roles (OIDC scopes aside). Off, a user gets every scope asked for that the API defines.
    /// Client credentials are not affected (a client's scopes come from its grant). Default
    /// `false`.
    #[serde(default)]
    pub rbac: bool,
    /// "Add Permissions in the Access Token": tokens carry a `permissions` array, for a user all
    /// the user's permissions on the API, for client credentials the granted scopes (as Auth0's
    /// `access_token_authz` dialect). Default `false`.
    #[serde(default)]
    pub permissions_in_token: bool,
    /// "Allow Offline Access": a login asking for `offline_access` gets a refresh token (when
    /// the client may use the `refresh_token` grant). Default `false`, as at Auth0.
    #[serde(default)]
    pub allow_offline_access: bool,
}

fn default_lifetime() -> u64 {
    defaults::TOKEN_LIFETIME
}

impl Default for ApiConfig {
    /// The quickstart's API: `https://quickstarts/api` with scopes `read:messages` and
    /// `write:messages`, Auth0 dialect, 86400 s tokens, RBAC with permissions in the token, and
    /// offline access allowed (the SPA's refresh tokens).
    fn default() -> Self {
        Self {
            identifier: defaults::API_AUDIENCE.to_owned(),
            scopes: vec![
                defaults::READ_MESSAGES.to_owned(),
                defaults::WRITE_MESSAGES.to_owned(),
            ],
            token_lifetime: defaults::TOKEN_LIFETIME,
            dialect: Dialect::Auth0,
            rbac: true,
            permissions_in_token: true,
            allow_offline_access: true,
        }
    }
}

/// Which access token profile an API's tokens follow.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Auth0's default: header `typ: JWT`; claims `iss sub aud iat exp scope gty azp`.
    #[default]
    Auth0,
    /// RFC 9068: header `typ: at+jwt`; claims `iss sub aud iat exp scope jti client_id`.
    Rfc9068,
}

impl std::fmt::Display for Dialect {
    /// The name the TOML file uses: `auth0` or `rfc9068`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auth0 => "auth0",
            Self::Rfc9068 => "rfc9068",
        })
    }
}
