//! `GET`/`POST /userinfo` (OpenID Connect Core §5.3): the profile of the user an access token was
//! issued to, as far as the token's scopes reveal it.
//!
//! The token comes in `Authorization: Bearer`, or, bound to a key, in `Authorization: DPoP` with
//! a proof of that key (RFC 9449 §7, `binding`); it must verify against the keys the tenant
//! publishes, come from this tenant, be unexpired, name `{issuer}userinfo` among its audiences
//! and stand for one of the tenant's users. Refusals (`refusal`) are `401` with a challenge on the
//! scheme used and Auth0's body, `Unauthorized`.

mod binding;
mod refusal;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use self::binding::Presented;
use self::refusal::{Reason, Refusal};
use crate::id_token::profile_claims;
use crate::server::AppState;
use crate::verify::verify;

pub(super) async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let mut response = match profile(&state, &method, &headers) {
        Ok(profile) => Json(Value::Object(profile)).into_response(),
        Err(refusal) => {
            // The reason only: neither the token, nor the proof, nor any claim reaches the log.
            tracing::info!(?refusal, "userinfo request refused");
            refusal.into_response()
        }
    };
    // A person's profile: no cache keeps it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `sub` and the profile claims the token's scopes reveal.
fn profile(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Map<String, Value>, Refusal> {
    let presented = binding::presented(headers)?;
    let claims = token_claims(state, &presented)?;
    let user = claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| state.config().user(sub))
        .ok_or_else(|| presented.refuse(Reason::NotAUser))?;
    binding::check(state, method, &presented, &claims)?;
    let scopes: Vec<&str> = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let mut profile = Map::new();
    profile.insert("sub".to_owned(), user.id.clone().into());
    for (name, value) in profile_claims(user, &scopes) {
        profile.insert(name.to_owned(), value);
    }
    Ok(profile)
}

/// The claims of the presented token, verified: this tenant's keys and issuer, unexpired, for
/// `/userinfo`.
fn token_claims(
    state: &AppState,
    presented: &Presented<'_>,
) -> Result<Map<String, Value>, Refusal> {
    let verified =
        verify(state, presented.token).map_err(|why| presented.refuse(Reason::Unverified(why)))?;
    if verified.claims.get("iss").and_then(Value::as_str) != Some(state.issuer()) {
        return Err(presented.refuse(Reason::OtherIssuer));
    }
    if verified.expired() {
        return Err(presented.refuse(Reason::Expired));
    }
    let claims = verified.claims;
    let userinfo = format!("{}userinfo", state.issuer());
    let for_userinfo = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == userinfo,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(&userinfo)),
        _ => false,
    };
    if !for_userinfo {
        return Err(presented.refuse(Reason::NotForUserinfo));
    }
    Ok(claims)
}
