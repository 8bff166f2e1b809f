//! An API (Auth0 "resource server"): its identifier, scopes, token profile, signing algorithm
//! and RBAC settings.

use serde::{Deserialize, Serialize};

use super::defaults;
use crate::oauth::Secret;

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
    /// "JSON Web Token (JWT) Signature Algorithm": how its access tokens are signed. Default
    /// [`SigningAlg::Rs256`], as at Auth0.
    #[serde(default)]
    pub signing_alg: SigningAlg,
    /// "Signing Secret": the HMAC key of its [`SigningAlg::Hs256`] tokens (its UTF-8 bytes), at
    /// least 32 bytes (RFC 7518 §3.2). Default `None`: a random secret of 43 characters, kept in
    /// the data dir with the keys (derived from the seed for a seeded tenant). Never published.
    #[serde(default)]
    pub signing_secret: Option<Secret>,
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
            signing_alg: SigningAlg::Rs256,
            signing_secret: None,
        }
    }
}

impl ApiConfig {
    /// Sets [`ApiConfig::signing_alg`].
    #[must_use]
    pub fn with_signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = alg;
        self
    }
}

/// How an API's access tokens are signed: the algorithms Auth0 offers for an API, plus those
/// other issuers use (PS256, ES256, EdDSA). Each asymmetric one has a key ring of its own.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, the RSA keys Auth0 publishes.
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PSS with SHA-256, with RSA keys of their own (published with `alg` `PS256`).
    #[serde(rename = "PS256")]
    Ps256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// EdDSA on Ed25519 (RFC 8037).
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// HMAC with SHA-256 under the API's signing secret, which is never published.
    #[serde(rename = "HS256")]
    Hs256,
}

impl SigningAlg {
    /// Every algorithm, in the order the JWKS lists their keys (HS256, which has none, last).
    pub const ALL: [Self; 5] = [
        Self::Rs256,
        Self::Ps256,
        Self::Es256,
        Self::EdDsa,
        Self::Hs256,
    ];

    /// The JOSE name: `RS256`, `PS256`, `ES256`, `EdDSA` or `HS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Hs256 => "HS256",
        }
    }

    /// jsonwebtoken's name for it.
    pub(crate) fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Ps256 => jsonwebtoken::Algorithm::PS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
            Self::Hs256 => jsonwebtoken::Algorithm::HS256,
        }
    }
}

impl std::fmt::Display for SigningAlg {
    /// The JOSE name, as the TOML file and the JWKS write it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`SigningAlg::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signing algorithm `{0}`: expected RS256, PS256, ES256, EdDSA or HS256")]
pub struct UnknownSigningAlg(pub String);

impl std::str::FromStr for SigningAlg {
    type Err = UnknownSigningAlg;

    /// The JOSE name, exactly as [`SigningAlg::as_str`] writes it.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let known = Self::ALL.into_iter().find(|alg| alg.as_str() == name);
        known.ok_or_else(|| UnknownSigningAlg(name.to_owned()))
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
