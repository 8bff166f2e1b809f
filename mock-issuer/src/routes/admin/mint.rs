//! `POST /_mock/mint`: a token made to order, as a client or as a user, signed as its API signs
//! (or with the algorithm asked for). Grants are not checked; names are.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::body::Body;
use super::refuse;
use crate::admin::{MintRequest, MintedToken};
use crate::config::{ApiConfig, MAX_TOKEN_LIFETIME};
use crate::server::AppState;
use crate::token::{self, TokenSpec};
use crate::verify;

/// Why a mint request names something the tenant does not have. The names are the caller's,
/// repeated to the caller only: nothing here is logged.
#[derive(Debug, thiserror::Error)]
enum Problem {
    #[error("unknown client `{0}`")]
    UnknownClient(String),
    #[error("unknown user `{0}`: give a configured user's id or email")]
    UnknownUser(String),
    #[error("unknown audience `{0}`: give a configured API's identifier")]
    UnknownAudience(String),
    #[error("the tenant has no API to issue a token for")]
    NoApi,
    #[error("expires_in {0} is outside 1..={MAX_TOKEN_LIFETIME} seconds")]
    Lifetime(u64),
    #[error("claims must be a JSON object of claim names to values")]
    ClaimsNotAnObject,
}

pub(super) async fn mint(
    State(state): State<AppState>,
    Body(request): Body<MintRequest>,
) -> Response {
    let (spec, expires_in) = match token_spec(&state, &request) {
        Ok(made) => made,
        Err(problem) => return refuse(StatusCode::BAD_REQUEST, problem.to_string()),
    };
    let signed = state
        .mint(&spec)
        .map_err(|e| e.to_string())
        .and_then(|token| {
            // Read from the token itself: a rotation may have come between reading and signing.
            let header = verify::header(&token).map_err(|e| e.to_string())?;
            let alg = header
                .get("alg")
                .and_then(Value::as_str)
                .and_then(|name| name.parse().ok())
                .ok_or("the minted token has no alg of ours")?;
            let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
            Ok((token, alg, kid))
        });
    match signed {
        Ok((token, alg, kid)) => {
            tracing::info!(client_id = ?request.client_id, user = ?request.user, %alg, "minted a token");
            Json(MintedToken {
                token: token.into(),
                alg,
                kid,
                expires_in,
            })
            .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "minting failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, e)
        }
    }
}

/// The [`TokenSpec`] `request` describes, and its lifetime.
fn token_spec(state: &AppState, request: &MintRequest) -> Result<(TokenSpec, u64), Problem> {
    let config = state.config();
    let client = config
        .client(&request.client_id)
        .ok_or_else(|| Problem::UnknownClient(request.client_id.clone()))?;
    let api = audience(state, request.audience.as_deref())?;
    let lifetime = match request.expires_in {
        None => api.token_lifetime,
        Some(seconds) if (1..=MAX_TOKEN_LIFETIME).contains(&seconds) => seconds,
        Some(seconds) => return Err(Problem::Lifetime(seconds)),
    };
    let extra = match &request.claims {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(claims)) => claims.clone(),
        Some(_) => return Err(Problem::ClaimsNotAnObject),
    };
    // The token endpoint's rules (permissions, the userinfo audience), so a minted token reads
    // like an issued one; only the lifetime and the extra claims are the caller's.
    let mut spec = match &request.user {
        None => token::client_access_token(&client.id, api, &request.scopes),
        Some(who) => {
            let user = config
                .user(who)
                .or_else(|| config.user_by_email(who))
                .ok_or_else(|| Problem::UnknownUser(who.clone()))?;
            token::user_access_token(
                config,
                state.issuer(),
                user,
                &client.id,
                api,
                &request.scopes,
            )
        }
    }
    .expires_in(lifetime);
    if let Some(alg) = request.signing_alg {
        spec = spec.signing_alg(alg);
    }
    for (name, value) in extra {
        spec = spec.claim(name, value);
    }
    Ok((spec, lifetime))
}

/// The API `audience` names, or the first one.
fn audience<'a>(state: &'a AppState, audience: Option<&str>) -> Result<&'a ApiConfig, Problem> {
    let apis = &state.config().apis;
    match audience {
        Some(audience) => state
            .config()
            .api(audience)
            .ok_or_else(|| Problem::UnknownAudience(audience.to_owned())),
        None => apis.first().ok_or(Problem::NoApi),
    }
}
