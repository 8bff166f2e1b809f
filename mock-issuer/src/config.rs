//! The tenant's configuration: where to listen, which APIs and clients exist, where keys live, and
//! what the admin surface requires.
//!
//! The same types are read from a TOML file by the binary and built in code by tests.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;
use crate::oauth::Secret;

/// The longest token lifetime Auth0 accepts for an API, in seconds (30 days).
pub const MAX_TOKEN_LIFETIME: u64 = 2_592_000;

/// The default tenant's names and limits, for code that talks to an issuer started with
/// `IssuerConfig::default()` (the soak, the benchmark, `xtask dev`, tests).
pub mod defaults {
    /// The identifier (audience) of the default API, the one Auth0's quickstarts use.
    pub const API_AUDIENCE: &str = "https://quickstarts/api";
    /// The scope the quickstart's `/api/private-scoped` requires; granted to the reader client.
    pub const READ_MESSAGES: &str = "read:messages";
    /// The default API's other scope, granted to no default client.
    pub const WRITE_MESSAGES: &str = "write:messages";
    /// The client granted [`READ_MESSAGES`] on the default API.
    pub const READER_CLIENT_ID: &str = "reader";
    /// [`READER_CLIENT_ID`]'s secret.
    pub const READER_CLIENT_SECRET: &str = "reader-secret";
    /// The client granted the default API with no scope.
    pub const NO_SCOPES_CLIENT_ID: &str = "no-scopes";
    /// [`NO_SCOPES_CLIENT_ID`]'s secret.
    pub const NO_SCOPES_CLIENT_SECRET: &str = "no-scopes-secret";
    /// The token lifetime in seconds, Auth0's default (24 hours).
    pub const TOKEN_LIFETIME: u64 = 86_400;
    /// The limit on a request body, in bytes (a token request is a few hundred bytes).
    pub const BODY_LIMIT: usize = 16 * 1024;
}

/// Everything a [`MockIssuer`](crate::MockIssuer) needs to start.
///
/// `IssuerConfig::default()` listens on `127.0.0.1:0` (a port of the OS's choosing), keeps keys in
/// memory only, generates them at random, and serves the default tenant: see [`ApiConfig::default`]
/// and [`ClientConfig::defaults`].
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Address to bind. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// Directory where the key ring is persisted, so kids and tokens survive restarts.
    /// Default `None`: keys live in memory only.
    pub data_dir: Option<PathBuf>,
    /// Makes keys (and, with a fixed `iat`, tokens) deterministic. Default `None`: random keys.
    ///
    /// Seeded key material is cached for the life of the process, so many issuers started with
    /// the same seed (for example one per test) pay for RSA key generation once.
    pub seed: Option<u64>,
    /// Largest accepted request body in bytes; bigger bodies get `413`. Default 16 KiB.
    pub body_limit: usize,
    /// The APIs (resource servers). Default: one API, [`ApiConfig::default`].
    pub apis: Vec<ApiConfig>,
    /// The applications. Default: [`ClientConfig::defaults`].
    pub clients: Vec<ClientConfig>,
    /// The bearer token every request under `/_mock/` must carry (`Authorization: Bearer …`,
    /// compared in constant time; anything else is `401`). Default `None`: the admin surface is
    /// open, which is safe only on a loopback address such as the default `127.0.0.1:0`.
    /// Auth0's endpoints and `/healthz` never need it.
    pub admin_token: Option<Secret>,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: None,
            seed: None,
            body_limit: defaults::BODY_LIMIT,
            apis: vec![ApiConfig::default()],
            clients: ClientConfig::defaults(),
            admin_token: None,
        }
    }
}

impl IssuerConfig {
    /// Sets [`IssuerConfig::seed`]: deterministic keys, cached process-wide.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets [`IssuerConfig::data_dir`]: the key ring is loaded from and saved to `dir`.
    #[must_use]
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Sets [`IssuerConfig::admin_token`]: the admin surface requires `token`.
    #[must_use]
    pub fn with_admin_token(mut self, token: impl Into<Secret>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Replaces the APIs and clients with those of a TOML document (see [`TenantFile`]).
    ///
    /// # Errors
    /// [`Error::Config`] when the document does not parse or is inconsistent.
    pub fn with_tenant_toml(mut self, toml_text: &str) -> Result<Self, Error> {
        let file: TenantFile =
            toml::from_str(toml_text).map_err(|e| Error::Config(e.to_string()))?;
        if let Some(apis) = file.apis {
            self.apis = apis;
        }
        if let Some(clients) = file.clients {
            self.clients = clients;
        }
        if let Some(limit) = file.body_limit {
            self.body_limit = limit;
        }
        self.validate()?;
        Ok(self)
    }

    /// Like [`IssuerConfig::with_tenant_toml`], reading the document from `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Config`] as above.
    pub fn with_tenant_file(self, path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        self.with_tenant_toml(&text)
    }

    /// Checks what serde cannot: unique identifiers, lifetimes within Auth0's bounds, grants that
    /// name existing APIs and scopes.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first problem found.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        let mut seen = HashSet::new();
        for api in &self.apis {
            if !seen.insert(api.identifier.as_str()) {
                return bad(format!("API `{}` is defined twice", api.identifier));
            }
            if api.token_lifetime == 0 || api.token_lifetime > MAX_TOKEN_LIFETIME {
                return bad(format!(
                    "API `{}`: token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds",
                    api.identifier
                ));
            }
        }
        let mut seen = HashSet::new();
        for client in &self.clients {
            if !seen.insert(client.id.as_str()) {
                return bad(format!("client `{}` is defined twice", client.id));
            }
            for grant in &client.grants {
                let Some(api) = self.api(&grant.audience) else {
                    return bad(format!(
                        "client `{}` has a grant for unknown API `{}`",
                        client.id, grant.audience
                    ));
                };
                if let Some(scope) = grant.scopes.iter().find(|s| !api.scopes.contains(s)) {
                    return bad(format!(
                        "client `{}` is granted scope `{scope}`, which API `{}` does not define",
                        client.id, api.identifier
                    ));
                }
            }
        }
        Ok(())
    }

    /// The API whose identifier is `audience`.
    pub fn api(&self, audience: &str) -> Option<&ApiConfig> {
        self.apis.iter().find(|a| a.identifier == audience)
    }

    /// The client whose id is `client_id`.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.id == client_id)
    }
}

/// The shape of a tenant TOML file; every section is optional and replaces the default when given.
///
/// ```toml
/// body_limit = 16384
///
/// [[apis]]
/// identifier = "https://quickstarts/api"
/// scopes = ["read:messages", "write:messages"]
/// token_lifetime = 86400        # seconds, at most 2592000
/// dialect = "auth0"             # or "rfc9068"
/// permissions_in_token = false  # RBAC "Add Permissions in the Access Token"
///
/// [[clients]]
/// id = "reader"
/// secret = "reader-secret"
/// grants = [{ audience = "https://quickstarts/api", scopes = ["read:messages"] }]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantFile {
    /// Replaces [`IssuerConfig::body_limit`].
    pub body_limit: Option<usize>,
    /// Replaces [`IssuerConfig::apis`].
    pub apis: Option<Vec<ApiConfig>>,
    /// Replaces [`IssuerConfig::clients`].
    pub clients: Option<Vec<ClientConfig>>,
}

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
    /// RBAC with "Add Permissions in the Access Token": tokens carry a `permissions` array equal
    /// to the granted scopes, as Auth0 does for client credentials. Default `false`.
    #[serde(default)]
    pub permissions_in_token: bool,
}

fn default_lifetime() -> u64 {
    defaults::TOKEN_LIFETIME
}

impl Default for ApiConfig {
    /// `https://quickstarts/api` with scopes `read:messages` and `write:messages`, Auth0 dialect,
    /// 86400 s tokens, no permissions claim.
    fn default() -> Self {
        Self {
            identifier: defaults::API_AUDIENCE.to_owned(),
            scopes: vec![
                defaults::READ_MESSAGES.to_owned(),
                defaults::WRITE_MESSAGES.to_owned(),
            ],
            token_lifetime: defaults::TOKEN_LIFETIME,
            dialect: Dialect::Auth0,
            permissions_in_token: false,
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

/// An application (Auth0 "client") that may use the client-credentials grant.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// Grant types the client may use. Default `["client_credentials"]`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Client grants: which APIs it may get tokens for, with which scopes. Default: none.
    #[serde(default)]
    pub grants: Vec<GrantConfig>,
}

fn default_grant_types() -> Vec<String> {
    vec!["client_credentials".to_owned()]
}

impl ClientConfig {
    /// The default clients: `reader` / `reader-secret` granted `read:messages` on the default API,
    /// and `no-scopes` / `no-scopes-secret` granted the default API with no scope.
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::new(defaults::READER_CLIENT_ID, defaults::READER_CLIENT_SECRET)
                .grant(defaults::API_AUDIENCE, [defaults::READ_MESSAGES]),
            Self::new(
                defaults::NO_SCOPES_CLIENT_ID,
                defaults::NO_SCOPES_CLIENT_SECRET,
            )
            .grant(defaults::API_AUDIENCE, [""; 0]),
        ]
    }

    /// A client allowed the client-credentials grant, with no API grant yet.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            grant_types: default_grant_types(),
            grants: Vec::new(),
        }
    }

    /// Adds a client grant for `audience` with `scopes`.
    #[must_use]
    pub fn grant<S: Into<String>>(
        mut self,
        audience: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.grants.push(GrantConfig {
            audience: audience.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// The grant for `audience`, if any.
    pub fn grant_for(&self, audience: &str) -> Option<&GrantConfig> {
        self.grants.iter().find(|g| g.audience == audience)
    }
}

/// A client grant: one client may get tokens for one API with these scopes.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GrantConfig {
    /// The API identifier.
    pub audience: String,
    /// Granted scopes, a subset of the API's. Default: none.
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tenant_is_valid() {
        assert!(IssuerConfig::default().validate().is_ok());
    }

    #[test]
    fn a_grant_for_an_undefined_scope_is_rejected() {
        let toml_text = r#"
            [[apis]]
            identifier = "https://a"
            scopes = ["read"]
            [[clients]]
            id = "c"
            secret = "s"
            grants = [{ audience = "https://a", scopes = ["write"] }]
        "#;
        let err = IssuerConfig::default().with_tenant_toml(toml_text);
        assert!(matches!(err, Err(Error::Config(m)) if m.contains("`write`")));
    }

    #[test]
    fn a_lifetime_beyond_thirty_days_is_rejected() {
        let toml_text = r#"
            [[apis]]
            identifier = "https://a"
            token_lifetime = 2592001
        "#;
        assert!(IssuerConfig::default().with_tenant_toml(toml_text).is_err());
    }
}
