//! What a user's login earns at the token endpoint, for both user grants (authorization code and
//! refresh token): the granted scopes, the access token, the ID token, and whether a refresh token
//! may be issued.

use super::refusal::Refusal;
use super::{sign, token_type};
use crate::TokenSpec;
use crate::config::{
    ApiConfig, ClientConfig, Dialect, IssuerConfig, REFRESH_TOKEN, UserConfig, defaults,
};
use crate::id_token::IdToken;
use crate::oauth::TokenResponse;
use crate::server::AppState;
use crate::token::user_access_token;

/// The scope that asks for an ID token.
const OPENID: &str = "openid";
/// The scope that asks for a refresh token.
const OFFLINE_ACCESS: &str = "offline_access";
/// The OpenID Connect scopes: granted whenever asked for, whatever an API's RBAC says
/// (`offline_access` only when a refresh token is issued).
const OIDC_SCOPES: &[&str] = &[OPENID, "profile", "email", OFFLINE_ACCESS];

/// A login being turned into tokens: who, and what was asked for.
#[derive(Debug)]
pub(super) struct Login<'a> {
    /// The user's id.
    pub user_id: &'a str,
    /// The scopes asked for, space-separated.
    pub scope: &'a str,
    /// The API the access token is for, if one was asked for.
    pub audience: Option<&'a str>,
    /// Echoed in the ID token.
    pub nonce: Option<&'a str>,
    /// When the user entered the password, in Unix seconds.
    pub auth_time: u64,
    /// The login session's public id.
    pub sid: &'a str,
    /// The DPoP key the access token is bound to, if the request had a proof.
    pub jkt: Option<&'a str>,
}

/// What a login earned, signed. No `Debug`: it holds tokens, which must never reach a log.
pub(super) struct Earned {
    access_token: String,
    id_token: Option<String>,
    scopes: Vec<String>,
    expires_in: u64,
    /// The access token is bound to a DPoP key.
    bound: bool,
    /// `offline_access` was granted: a refresh token may be issued.
    pub offline: bool,
}

impl Earned {
    /// The granted scopes, space-separated, as the answer and a refresh token hold them.
    pub(super) fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    /// The answer, with `refresh_token` when there is one.
    pub(super) fn answer(self, refresh_token: Option<String>) -> TokenResponse {
        TokenResponse {
            scope: (!self.scopes.is_empty()).then(|| self.scope()),
            access_token: self.access_token.into(),
            refresh_token: refresh_token.map(Into::into),
            id_token: self.id_token.map(Into::into),
            expires_in: self.expires_in,
            token_type: token_type(self.bound),
        }
    }
}

/// Grants and signs what `login` earns `client`: the access token (for the API asked for, else
/// for `/userinfo` alone), the ID token when `openid` was asked for, and `offline` when
/// `offline_access` was asked for, the client may use refresh tokens and the API (if any) allows
/// offline access.
pub(super) fn earn(
    state: &AppState,
    client: &ClientConfig,
    login: &Login<'_>,
) -> Result<Earned, Refusal> {
    let config = state.config();
    let user = config.user(login.user_id).ok_or(Refusal::UserNotFound)?;
    let api = login
        .audience
        .map(|audience| {
            config
                .api(audience)
                .ok_or_else(|| Refusal::ServiceNotFound {
                    audience: audience.to_owned(),
                })
        })
        .transpose()?;
    let mut requested: Vec<&str> = Vec::new();
    for scope in login.scope.split_whitespace() {
        if !requested.contains(&scope) {
            requested.push(scope);
        }
    }
    let offline = requested.contains(&OFFLINE_ACCESS)
        && client.allows_grant(REFRESH_TOKEN)
        && api.is_none_or(|api| api.allow_offline_access);
    let scopes = granted_scopes(config, user, api, &requested, offline);
    let (mut spec, expires_in) = access_token_spec(state, client, user, api, &scopes);
    if let Some(jkt) = login.jkt {
        spec = spec.bound_to_key(jkt);
    }
    let access_token = sign(state, &spec)?;
    let id_token = if scopes.iter().any(|s| s == OPENID) {
        let id_token = IdToken {
            user,
            client_id: &client.id,
            scopes: &scopes,
            nonce: login.nonce,
            auth_time: login.auth_time,
            sid: login.sid,
        };
        Some(sign(state, &id_token.spec())?)
    } else {
        None
    };
    // Configured names, matched exactly; escaped all the same, like every value in a log line.
    tracing::info!(client_id = ?client.id, user_id = ?user.id, audience = ?login.audience, scope = ?scopes.join(" "), dpop = login.jkt.is_some(), "issued tokens for a login");
    Ok(Earned {
        access_token,
        id_token,
        scopes,
        expires_in,
        bound: login.jkt.is_some(),
        offline,
    })
}

/// The scopes granted, in the order asked: the OIDC scopes, and those of the API's scopes asked
/// for that it defines and, with RBAC on, that the user holds through roles. Anything else asked
/// for is dropped, as Auth0 drops it.
fn granted_scopes(
    config: &IssuerConfig,
    user: &UserConfig,
    api: Option<&ApiConfig>,
    requested: &[&str],
    offline: bool,
) -> Vec<String> {
    let held = api
        .filter(|api| api.rbac)
        .map(|api| config.permissions(user, &api.identifier));
    requested
        .iter()
        .filter(|&&scope| match scope {
            OFFLINE_ACCESS => offline,
            _ if OIDC_SCOPES.contains(&scope) => true,
            _ => {
                api.is_some_and(|api| api.scopes.iter().any(|s| s == scope))
                    && held
                        .as_ref()
                        .is_none_or(|held| held.iter().any(|s| s == scope))
            }
        })
        .map(|&scope| scope.to_owned())
        .collect()
}

/// The access token to sign and its lifetime: for an API, as [`user_access_token`] describes;
/// without one, `aud` is `"{issuer}userinfo"` alone and the lifetime Auth0's default. (There
/// Auth0 issues an opaque token that only its `/userinfo` reads; the mock signs a JWT, which its
/// `/userinfo` verifies like any other.)
fn access_token_spec(
    state: &AppState,
    client: &ClientConfig,
    user: &UserConfig,
    api: Option<&ApiConfig>,
    scopes: &[String],
) -> (TokenSpec, u64) {
    match api {
        Some(api) => {
            let spec = user_access_token(
                state.config(),
                state.issuer(),
                user,
                &client.id,
                api,
                scopes,
            );
            (spec, api.token_lifetime)
        }
        None => {
            let spec = TokenSpec::for_user(&user.id, &client.id)
                .scopes(scopes.to_vec())
                .audience(format!("{}userinfo", state.issuer()))
                .expires_in(defaults::TOKEN_LIFETIME)
                .dialect(Dialect::Auth0);
            (spec, defaults::TOKEN_LIFETIME)
        }
    }
}
