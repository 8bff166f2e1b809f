//! `GET /_mock/tenant`: the configuration and keys as a [`TenantSummary`].

use axum::Json;
use axum::extract::State;

use crate::admin::{
    ApiSummary, ClientSummary, RoleSummary, ScopesOnApi, SigningKeys, TenantSummary, UserSummary,
};
use crate::config::{
    ApiConfig, ClientConfig, GrantConfig, IssuerConfig, RoleConfig, SigningAlg, UserConfig,
};
use crate::server::AppState;

pub(super) async fn tenant(State(state): State<AppState>) -> Json<TenantSummary> {
    Json(summary(&state))
}

/// The tenant as configured, with its keys now.
fn summary(state: &AppState) -> TenantSummary {
    let config = state.config();
    TenantSummary {
        issuer: state.issuer().to_owned(),
        apis: config.apis.iter().map(|a| api(state, a)).collect(),
        clients: config.clients.iter().map(client).collect(),
        users: config.users.iter().map(|u| user(config, u)).collect(),
        roles: config.roles.iter().map(role).collect(),
        keys: state.key_summary(),
        signing_keys: state
            .published_keys()
            .into_iter()
            .map(|(alg, keys)| SigningKeys { alg, keys })
            .collect(),
    }
}

fn api(state: &AppState, api: &ApiConfig) -> ApiSummary {
    // Shown only where it signs: every API has a secret, which an explicit HS256 mint uses.
    let signing_secret = (api.signing_alg == SigningAlg::Hs256)
        .then(|| state.signing_secret(&api.identifier))
        .flatten()
        .map(crate::oauth::Secret::into_inner);
    ApiSummary {
        identifier: api.identifier.clone(),
        scopes: api.scopes.clone(),
        dialect: api.dialect.to_string(),
        token_lifetime: api.token_lifetime,
        rbac: api.rbac,
        permissions_in_token: api.permissions_in_token,
        allow_offline_access: api.allow_offline_access,
        signing_alg: api.signing_alg,
        signing_secret,
    }
}

fn client(client: &ClientConfig) -> ClientSummary {
    ClientSummary {
        id: client.id.clone(),
        app_type: client.app_type.as_str().to_owned(),
        secret: client.secret.clone(),
        grant_types: client.grant_types.clone(),
        grants: client.grants.iter().map(scopes_on_api).collect(),
        callbacks: client.callbacks.clone(),
        web_origins: client.web_origins.clone(),
        allowed_logout_urls: client.allowed_logout_urls.clone(),
        rotate_refresh_tokens: client.rotates_refresh_tokens(),
    }
}

fn user(config: &IssuerConfig, user: &UserConfig) -> UserSummary {
    let permissions = config
        .apis
        .iter()
        .map(|api| ScopesOnApi {
            audience: api.identifier.clone(),
            scopes: config.permissions(user, &api.identifier),
        })
        .filter(|held| !held.scopes.is_empty())
        .collect();
    UserSummary {
        id: user.id.clone(),
        email: user.email.clone(),
        password: user.password.clone(),
        name: user.name.clone(),
        roles: user.roles.clone(),
        permissions,
    }
}

fn role(role: &RoleConfig) -> RoleSummary {
    RoleSummary {
        name: role.name.clone(),
        permissions: role.permissions.iter().map(scopes_on_api).collect(),
    }
}

fn scopes_on_api(grant: &GrantConfig) -> ScopesOnApi {
    ScopesOnApi {
        audience: grant.audience.clone(),
        scopes: grant.scopes.clone(),
    }
}
