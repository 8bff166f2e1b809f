//! `GET`/`POST /userinfo` (OpenID Connect Core §5.3): the profile of the user an access token was
//! issued to, as far as the token's scopes reveal it.
//!
//! The token comes in `Authorization: Bearer`; it must verify against the keys the tenant
//! publishes, come from this tenant, be unexpired, name `{issuer}userinfo` among its audiences
//! and stand for one of the tenant's users. Refusals are `401` with an RFC 6750 challenge and
//! Auth0's body, `Unauthorized`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::bearer_token;
use crate::id_token::profile_claims;
use crate::server::AppState;
use crate::verify::{VerifyError, verify};

pub(super) async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = match profile(&state, &headers) {
        Ok(profile) => Json(Value::Object(profile)).into_response(),
        Err(refusal) => {
            // The reason only: neither the token nor any of its claims reaches the log.
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

/// Why `/userinfo` refuses a request.
#[derive(Debug)]
enum Refusal {
    /// No `Authorization: Bearer` token.
    NoToken,
    /// The token does not verify, and why.
    Unverified(VerifyError),
    /// Issued by another tenant.
    OtherIssuer,
    /// Past its `exp`.
    Expired,
    /// `aud` does not name this tenant's `/userinfo`.
    NotForUserinfo,
    /// `sub` is not one of the tenant's users (e.g. a client-credentials token).
    NotAUser,
}

impl Refusal {
    /// The `WWW-Authenticate` challenge: bare without a token (RFC 6750 §3.1), else
    /// `invalid_token` with the rule broken (verification errors name rules, never the token's
    /// content, and have no quote or backslash).
    fn challenge(&self) -> String {
        let description = match self {
            Self::NoToken => return "Bearer".to_owned(),
            Self::Unverified(why) => why.to_string(),
            Self::OtherIssuer => "the token was not issued by this tenant".to_owned(),
            Self::Expired => "the token has expired".to_owned(),
            Self::NotForUserinfo => "the token's audience does not include /userinfo".to_owned(),
            Self::NotAUser => "the token was not issued to a user".to_owned(),
        };
        format!(r#"Bearer error="invalid_token", error_description="{description}""#)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let challenge =
            HeaderValue::from_str(&self.challenge()).unwrap_or(HeaderValue::from_static("Bearer"));
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            "Unauthorized",
        )
            .into_response()
    }
}

/// `sub` and the profile claims the token's scopes reveal.
fn profile(state: &AppState, headers: &HeaderMap) -> Result<Map<String, Value>, Refusal> {
    let token = bearer_token(headers).ok_or(Refusal::NoToken)?;
    let verified = verify(state, token).map_err(Refusal::Unverified)?;
    let claims = &verified.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(state.issuer()) {
        return Err(Refusal::OtherIssuer);
    }
    if verified.expired() {
        return Err(Refusal::Expired);
    }
    let userinfo = format!("{}userinfo", state.issuer());
    let for_userinfo = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == userinfo,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(&userinfo)),
        _ => false,
    };
    if !for_userinfo {
        return Err(Refusal::NotForUserinfo);
    }
    let user = claims
        .get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| state.config().user(sub))
        .ok_or(Refusal::NotAUser)?;
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
