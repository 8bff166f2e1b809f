//! The tenant's configuration: where to listen, which APIs, clients, users and roles exist, where
//! keys live, and what the admin surface requires.
//!
//! The same types are read from a TOML file by the binary and built in code by tests.

mod api;
mod client;
mod file;
mod user;
mod validate;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use self::api::{ApiConfig, Dialect, SigningAlg, UnknownSigningAlg};
pub use self::client::{AUTHORIZATION_CODE, AppType, ClientConfig, GrantConfig, REFRESH_TOKEN};
pub use self::file::TenantFile;
pub use self::user::{RoleConfig, UserConfig};
use crate::Error;
use crate::oauth::Secret;

/// The longest token lifetime Auth0 accepts for an API, in seconds (30 days).
pub const MAX_TOKEN_LIFETIME: u64 = 2_592_000;

/// The shortest HS256 signing secret, in bytes: a key at least as long as the hash output
/// (RFC 7518 §3.2).
pub const MIN_SIGNING_SECRET_BYTES: usize = 32;

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
    /// The single-page app: public, PKCE, refresh-token rotation.
    pub const SPA_CLIENT_ID: &str = "spa";
    /// Where the single-page app runs: its callbacks, web origins and logout URLs.
    pub const SPA_ORIGINS: [&str; 2] = ["http://localhost:3000", "http://127.0.0.1:3000"];
    /// The regular web app (confidential).
    pub const WEBAPP_CLIENT_ID: &str = "webapp";
    /// [`WEBAPP_CLIENT_ID`]'s secret.
    pub const WEBAPP_CLIENT_SECRET: &str = "webapp-secret";
    /// The user with the `manager` role, who may read messages.
    pub const MANAGER_EMAIL: &str = "manager@example.com";
    /// [`MANAGER_EMAIL`]'s password.
    pub const MANAGER_PASSWORD: &str = "manager-password";
    /// The user with no role.
    pub const USER_EMAIL: &str = "user@example.com";
    /// [`USER_EMAIL`]'s password.
    pub const USER_PASSWORD: &str = "user-password";
    /// The role granting [`READ_MESSAGES`] on the default API.
    pub const MANAGER_ROLE: &str = "manager";
    /// How long an authorization code can be redeemed, in seconds.
    pub const CODE_LIFETIME: u64 = 60;
    /// How long a login session lasts without use, in seconds (Auth0's default inactivity
    /// timeout: 3 days).
    pub const SESSION_LIFETIME: u64 = 3 * 86_400;
    /// How long a refresh token lasts, in seconds (Auth0's default absolute lifetime: 30 days).
    pub const REFRESH_TOKEN_LIFETIME: u64 = 30 * 86_400;
    /// The ID token lifetime in seconds (Auth0's default: 10 hours).
    pub const ID_TOKEN_LIFETIME: u64 = 36_000;
}

/// Everything a [`MockIssuer`](crate::MockIssuer) needs to start.
///
/// `IssuerConfig::default()` listens on `127.0.0.1:0` (a port of the OS's choosing), keeps keys in
/// memory only, generates them at random, and serves the default tenant: see [`ApiConfig::default`],
/// [`ClientConfig::defaults`], [`UserConfig::defaults`] and [`RoleConfig::defaults`].
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
    /// The users who can log in. Default: [`UserConfig::defaults`].
    pub users: Vec<UserConfig>,
    /// The roles users hold. Default: [`RoleConfig::defaults`].
    pub roles: Vec<RoleConfig>,
    /// How long an authorization code can be redeemed. Default 60 s.
    pub code_lifetime: Duration,
    /// How long a login session lasts without being used. Default 3 days.
    pub session_lifetime: Duration,
    /// How long a refresh token can be used. Default 30 days.
    pub refresh_token_lifetime: Duration,
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
            users: UserConfig::defaults(),
            roles: RoleConfig::defaults(),
            code_lifetime: Duration::from_secs(defaults::CODE_LIFETIME),
            session_lifetime: Duration::from_secs(defaults::SESSION_LIFETIME),
            refresh_token_lifetime: Duration::from_secs(defaults::REFRESH_TOKEN_LIFETIME),
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

    /// Replaces the sections a TOML document gives (see [`TenantFile`]); the others keep their
    /// current value.
    ///
    /// # Errors
    /// [`Error::Config`] when the document does not parse or is inconsistent, naming the line
    /// and what is wrong.
    pub fn with_tenant_toml(self, toml_text: &str) -> Result<Self, Error> {
        file::apply(self, toml_text).map_err(|e| Error::Config(e.to_string()))
    }

    /// Like [`IssuerConfig::with_tenant_toml`], reading the document from `path`; errors name
    /// the file too.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Config`] as above.
    pub fn with_tenant_file(self, path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        file::apply(self, &text).map_err(|e| Error::Config(format!("{}, {e}", path.display())))
    }

    /// Checks what serde cannot: unique identifiers, lifetimes within Auth0's bounds, grants and
    /// roles that name existing APIs and scopes, users whose roles exist, clients whose type
    /// and secret agree, URLs that parse.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first problem found.
    pub fn validate(&self) -> Result<(), Error> {
        validate::check(self).map_err(|problem| Error::Config(problem.message))
    }

    /// The API whose identifier is `audience`.
    pub fn api(&self, audience: &str) -> Option<&ApiConfig> {
        self.apis.iter().find(|a| a.identifier == audience)
    }

    /// The client whose id is `client_id`.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.id == client_id)
    }

    /// The user whose email is `email`, compared without case as Auth0 compares logins.
    pub fn user_by_email(&self, email: &str) -> Option<&UserConfig> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }

    /// The user whose id (`sub`) is `id`.
    pub fn user(&self, id: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Every permission `user` holds on the API `audience` through its roles, in the API's
    /// order of scopes, each once.
    pub fn permissions(&self, user: &UserConfig, audience: &str) -> Vec<String> {
        let Some(api) = self.api(audience) else {
            return Vec::new();
        };
        let held: HashSet<&str> = self
            .roles
            .iter()
            .filter(|role| user.roles.contains(&role.name))
            .flat_map(|role| &role.permissions)
            .filter(|grant| grant.audience == audience)
            .flat_map(|grant| grant.scopes.iter().map(String::as_str))
            .collect();
        api.scopes
            .iter()
            .filter(|s| held.contains(s.as_str()))
            .cloned()
            .collect()
    }
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
