//! `POST /oauth/token`: the client-credentials grant with Auth0's parameters, answers and errors.

mod refusal;

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use self::refusal::Refusal;
use super::apply_faults;
use crate::TokenSpec;
use crate::config::{ApiConfig, ClientConfig, GrantConfig};
use crate::constant_time::secrets_equal;
use crate::faults::Endpoint;
use crate::oauth::{CLIENT_CREDENTIALS, TokenResponse};
use crate::server::AppState;

/// Grant types Auth0 knows; any other is `unsupported_grant_type`, these are `unauthorized_client`
/// when the client may not use them (the mock only implements client credentials).
const KNOWN_GRANT_TYPES: &[&str] = &[
    CLIENT_CREDENTIALS,
    "authorization_code",
    "refresh_token",
    "password",
    "implicit",
    "http://auth0.com/oauth/grant-type/password-realm",
    "http://auth0.com/oauth/grant-type/passwordless/otp",
    "http://auth0.com/oauth/grant-type/mfa-oob",
    "http://auth0.com/oauth/grant-type/mfa-otp",
    "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

/// RFC 6749 §5.1: token responses, errors included, must not be cached.
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let (Some(faulted), _) = apply_faults(&state, Endpoint::Token).await {
        return faulted;
    }
    match issue(&state, &headers, body) {
        Ok(response) => no_store(Json(response).into_response()),
        Err(refusal) => {
            // The refusal's Debug form escapes what the client sent; its description is not
            // logged, since it embeds that input raw.
            let (status, error) = refusal.status_and_error();
            tracing::info!(%status, error, ?refusal, "token request refused");
            refusal.into_response()
        }
    }
}

/// Checks the request in Auth0's order (body, grant type, client, audience, scopes) and
/// signs the token it earns.
fn issue(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, Refusal> {
    let body = body.map_err(|rejection| unreadable_body(&rejection))?;
    let mut params = parse_body(headers, &body)?;
    let basic = basic_credentials(headers)?;
    let grant_type = known_grant_type(&mut params)?;
    let (client_id, secret) = client_credentials(basic, &mut params)?;

    let config = state.config();
    let client = config
        .client(&client_id)
        .filter(|c| {
            secret
                .as_deref()
                .is_some_and(|s| secrets_equal(s.as_bytes(), c.secret.as_bytes()))
        })
        .ok_or(Refusal::BadClientCredentials)?;
    if !client.grant_types.contains(&grant_type) {
        return Err(Refusal::GrantTypeNotAllowed { grant_type });
    }

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
    sign(state, client, api, &scopes)
}

/// The refusal for a body that could not be read: too large, or cut short.
fn unreadable_body(rejection: &BytesRejection) -> Refusal {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::BodyTooLarge
    } else {
        Refusal::UnreadableBody
    }
}

/// Takes `grant_type` out of `params`; it must be one Auth0 knows.
fn known_grant_type(params: &mut HashMap<String, String>) -> Result<String, Refusal> {
    let grant_type = params
        .remove("grant_type")
        .ok_or(Refusal::Missing("grant_type"))?;
    if !KNOWN_GRANT_TYPES.contains(&grant_type.as_str()) {
        return Err(Refusal::UnsupportedGrantType { grant_type });
    }
    Ok(grant_type)
}

/// The client id and secret, from `Authorization: Basic` or the body but not both (the id may
/// be repeated in the body if it matches). Takes them out of `params`.
fn client_credentials(
    basic: Option<(String, String)>,
    params: &mut HashMap<String, String>,
) -> Result<(String, Option<String>), Refusal> {
    let body_id = params.remove("client_id");
    let body_secret = params.remove("client_secret");
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(Refusal::TwoAuthenticationMethods),
        (Some((id, _)), Some(body_id), None) if id != body_id => Err(Refusal::ClientIdMismatch),
        (Some((id, secret)), _, None) => Ok((id, Some(secret))),
        (None, Some(id), secret) => Ok((id, secret)),
        (None, None, _) => Err(Refusal::Missing("client_id")),
    }
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

/// Signs `client`'s token for `api` with `scopes`, and the answer that carries it.
fn sign(
    state: &AppState,
    client: &ClientConfig,
    api: &ApiConfig,
    scopes: &[String],
) -> Result<TokenResponse, Refusal> {
    let mut spec = TokenSpec::for_client(&client.id)
        .audience(&api.identifier)
        .scopes(scopes.to_vec())
        .expires_in(api.token_lifetime)
        .dialect(api.dialect);
    if api.permissions_in_token {
        spec = spec.permissions(scopes.to_vec());
    }
    let access_token = state.mint(&spec).map_err(|e| {
        tracing::error!(error = %e, "signing a token failed");
        Refusal::SigningFailed
    })?;
    // Configured names, matched exactly; escaped all the same, like every value in a log line.
    tracing::info!(client_id = ?client.id, audience = ?api.identifier, scope = ?scopes.join(" "), "issued an access token");
    Ok(TokenResponse {
        access_token: access_token.into(),
        scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        expires_in: api.token_lifetime,
        token_type: "Bearer".to_owned(),
    })
}

/// The body's parameters, from a form or a JSON object of strings. A parameter given twice is
/// refused (RFC 6749 §3.2); an empty value counts as absent, as Auth0 treats it.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes(body).map_err(|_| Refusal::MalformedForm)?
        }
        "application/json" => {
            let object: serde_json::Map<String, Value> =
                serde_json::from_slice(body).map_err(|_| Refusal::MalformedJson)?;
            object
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(s) => Ok((name, s)),
                    _ => Err(Refusal::NotAString { name }),
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(Refusal::UnsupportedContentType);
        }
    };
    let mut params = HashMap::new();
    for (name, value) in pairs {
        if params.contains_key(&name) {
            return Err(Refusal::DuplicateParameter { name });
        }
        if !value.is_empty() {
            params.insert(name, value);
        }
    }
    Ok(params)
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: id and secret are form-urlencoded
/// before base64). No header is `None`; any other scheme or a malformed value is refused.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || Refusal::MalformedAuthorization;
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> Result<String, Refusal> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={}", s.replace('&', "%26")))
                .map_err(|_| malformed())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}
