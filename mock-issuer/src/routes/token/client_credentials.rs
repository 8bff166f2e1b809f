//! The client-credentials grant: a machine-to-machine client's token for an API, with the scopes
//! of its client grant.

use super::refusal::Refusal;
use super::request::Params;
use super::{sign, token_type};
use crate::config::{ApiConfig, ClientConfig, GrantConfig};
use crate::oauth::TokenResponse;
use crate::server::AppState;
use crate::token::client_access_token;

/// Checks the rest of the request in Auth0's order (audience, client grant, scopes) and signs
/// the token it earns, bound to the DPoP key `jkt` if the request had a proof.
pub(super) fn issue(
    state: &AppState,
    client: &ClientConfig,
    params: &mut Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, Refusal> {
    // A public client holds no secret, so it cannot prove who it is without a user's login
    // (Auth0 does not even let such a client enable this grant).
    if client.is_public() {
        return Err(Refusal::BadClientCredentials);
    }
    let config = state.config();
    let audience = params
        .remove("audience")
        .ok_or(Refusal::Missing("audience"))?;
    let Some(api) = config.api(&audience) else {
        return Err(Refusal::ServiceNotFound { audience });
    };
    let Some(grant) = client.grant_for(&audience) else {
        return Err(Refusal::NoClientGrant { audience });
    };
    let scopes = granted_scopes(grant, params.get("scope").map(String::as_str))?;
    token_for(state, client, api, &scopes, jkt)
}

/// The scopes to put in the token: those asked for (space-separated), each of which must be
/// granted, or all granted scopes when none were asked for; in granted order, as Auth0 answers.
fn granted_scopes(grant: &GrantConfig, requested: Option<&str>) -> Result<Vec<String>, Refusal> {
    let requested: Vec<&str> = requested
        .map(|s| s.split_whitespace().collect())
        .unwrap_or_default();
    let missing: Vec<String> = requested
        .iter()
        .filter(|s| !grant.scopes.iter().any(|g| g == *s))
        .map(|s| (*s).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::ScopesNotGranted { scopes: missing });
    }
    Ok(grant
        .scopes
        .iter()
        .filter(|g| requested.is_empty() || requested.contains(&g.as_str()))
        .cloned()
        .collect())
}

/// Signs `client`'s token for `api` with `scopes` (bound to `jkt` if given), and the answer that
/// carries it.
fn token_for(
    state: &AppState,
    client: &ClientConfig,
    api: &ApiConfig,
    scopes: &[String],
    jkt: Option<&str>,
) -> Result<TokenResponse, Refusal> {
    let mut spec = client_access_token(&client.id, api, scopes);
    if let Some(jkt) = jkt {
        spec = spec.bound_to_key(jkt);
    }
    let access_token = sign(state, &spec)?;
    // Configured names, matched exactly; escaped all the same, like every value in a log line.
    tracing::info!(client_id = ?client.id, audience = ?api.identifier, scope = ?scopes.join(" "), dpop = jkt.is_some(), "issued an access token");
    Ok(TokenResponse {
        access_token: access_token.into(),
        refresh_token: None,
        id_token: None,
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        expires_in: api.token_lifetime,
        token_type: token_type(jkt.is_some()),
    })
}
