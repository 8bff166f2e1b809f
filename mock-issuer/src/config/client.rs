//! An application (Auth0 "client"): its type, credentials, grant types, API grants and the URLs
//! a browser flow may use.

use serde::Deserialize;

use super::defaults;
use crate::oauth::CLIENT_CREDENTIALS;

/// The `authorization_code` grant type.
pub const AUTHORIZATION_CODE: &str = "authorization_code";
/// The `refresh_token` grant type.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// An application (Auth0 "client").
///
/// In a TOML file only `id` is required; `app_type` decides the rest of the defaults (see
/// [`AppType`]). URL lists are compared exactly, as Auth0 compares them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client id.
    pub id: String,
    /// The client secret; `None` for a public client (a single-page app), which authenticates
    /// with PKCE instead. Default `None`.
    #[serde(default)]
    pub secret: Option<String>,
    /// Auth0's application type. Default [`AppType::NonInteractive`] (machine to machine).
    #[serde(default)]
    pub app_type: AppType,
    /// Grant types the client may use. Default (and when given empty): the app type's, see
    /// [`AppType::default_grant_types`].
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Client grants: which APIs it may get client-credentials tokens for, with which scopes.
    /// Default: none.
    #[serde(default)]
    pub grants: Vec<GrantConfig>,
    /// Allowed Callback URLs: the only `redirect_uri`s `/authorize` sends a code to. Default: none.
    #[serde(default)]
    pub callbacks: Vec<String>,
    /// Allowed Web Origins: origins that may call the token and userinfo endpoints from a
    /// browser (CORS) and receive `web_message` answers. Default: none.
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Allowed Logout URLs: the only `returnTo` / `post_logout_redirect_uri` logout redirects
    /// to. Default: none.
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    /// Refresh Token Rotation: each refresh answers with a new refresh token, and reusing a spent
    /// one revokes its whole family. Default: on for a single-page app, off otherwise.
    #[serde(default)]
    pub rotate_refresh_tokens: Option<bool>,
}

/// Auth0's application types, as the Management API names them (`app_type`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AppType {
    /// "Machine to Machine": confidential, client credentials.
    #[default]
    NonInteractive,
    /// "Single Page Application": public (no secret), PKCE required, refresh-token rotation.
    Spa,
    /// "Regular Web Application": confidential, logs users in from a server.
    RegularWeb,
}

impl AppType {
    /// `non_interactive`: `client_credentials`; `spa`: `authorization_code`, `refresh_token`;
    /// `regular_web`: `authorization_code`, `refresh_token`, `client_credentials`.
    pub fn default_grant_types(self) -> Vec<String> {
        let names: &[&str] = match self {
            Self::NonInteractive => &[CLIENT_CREDENTIALS],
            Self::Spa => &[AUTHORIZATION_CODE, REFRESH_TOKEN],
            Self::RegularWeb => &[AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS],
        };
        names.iter().map(|&n| n.to_owned()).collect()
    }

    /// The name the TOML file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NonInteractive => "non_interactive",
            Self::Spa => "spa",
            Self::RegularWeb => "regular_web",
        }
    }
}

impl ClientConfig {
    /// The default clients: `reader` / `reader-secret` granted `read:messages` on the default API,
    /// `no-scopes` / `no-scopes-secret` granted the default API with no scope (both machine to
    /// machine), the single-page app `spa` (public, callbacks and origins on
    /// `http://localhost:3000` and `http://127.0.0.1:3000`) and the regular web app `webapp` /
    /// `webapp-secret` (callback `http://localhost:3000/callback`).
    pub fn defaults() -> Vec<Self> {
        let spa_origins = defaults::SPA_ORIGINS.map(str::to_owned).to_vec();
        let mut spa_callbacks = Vec::new();
        for origin in defaults::SPA_ORIGINS {
            spa_callbacks.push(origin.to_owned());
            spa_callbacks.push(format!("{origin}/callback"));
        }
        vec![
            Self::new(defaults::READER_CLIENT_ID, defaults::READER_CLIENT_SECRET)
                .grant(defaults::API_AUDIENCE, [defaults::READ_MESSAGES]),
            Self::new(
                defaults::NO_SCOPES_CLIENT_ID,
                defaults::NO_SCOPES_CLIENT_SECRET,
            )
            .grant(defaults::API_AUDIENCE, [""; 0]),
            Self {
                callbacks: spa_callbacks,
                web_origins: spa_origins.clone(),
                allowed_logout_urls: spa_origins,
                ..Self::public(defaults::SPA_CLIENT_ID, AppType::Spa)
            },
            Self {
                secret: Some(defaults::WEBAPP_CLIENT_SECRET.to_owned()),
                callbacks: vec![format!("{}/callback", defaults::SPA_ORIGINS[0])],
                allowed_logout_urls: vec![defaults::SPA_ORIGINS[0].to_owned()],
                ..Self::public(defaults::WEBAPP_CLIENT_ID, AppType::RegularWeb)
            },
        ]
    }

    /// A machine-to-machine client allowed the client-credentials grant, with no API grant yet.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            secret: Some(secret.into()),
            ..Self::public(id, AppType::NonInteractive)
        }
    }

    /// A client of `app_type` with no secret, its type's grant types, and no grant or URL.
    pub fn public(id: impl Into<String>, app_type: AppType) -> Self {
        Self {
            id: id.into(),
            secret: None,
            app_type,
            grant_types: app_type.default_grant_types(),
            grants: Vec::new(),
            callbacks: Vec::new(),
            web_origins: Vec::new(),
            allowed_logout_urls: Vec::new(),
            rotate_refresh_tokens: None,
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

    /// Whether the client may use `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Whether the client is public (no secret: it proves itself with PKCE alone).
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    /// Whether refresh tokens rotate: as configured, else on for a single-page app only.
    pub fn rotates_refresh_tokens(&self) -> bool {
        self.rotate_refresh_tokens
            .unwrap_or(self.app_type == AppType::Spa)
    }

    /// Fills what serde leaves empty: the app type's grant types when none are listed.
    pub(super) fn normalize(&mut self) {
        if self.grant_types.is_empty() {
            self.grant_types = self.app_type.default_grant_types();
        }
    }
}

/// A client grant (or a role's permissions): one API and scopes on it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GrantConfig {
    /// The API identifier.
    pub audience: String,
    /// Granted scopes, a subset of the API's. Default: none.
    #[serde(default)]
    pub scopes: Vec<String>,
}
