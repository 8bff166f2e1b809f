//! `POST /oauth/token`: Auth0's parameters, answers and errors for the client-credentials,
//! authorization-code and refresh-token grants.
//!
//! Every grant starts the same way, here: the body, the grant type, the client's authentication,
//! whether it may use the grant, and the `DPoP` proof if one was sent (`dpop`): a valid one binds
//! the access token to its key (`cnf.jkt`, `token_type` `DPoP`). The proof is checked before the
//! grant's own rules, so a refused proof spends no code and no refresh token. Each grant's own
//! rules are in its module; what a user's login earns (the access token, the ID token, whether a
//! refresh token) is in `user`, shared by the two user grants.

mod client_credentials;
mod code;
pub(super) mod dpop;
mod refresh;
mod refusal;
mod request;
mod user;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use self::refusal::Refusal;
use self::request::Params;
use super::apply_faults;
use crate::TokenSpec;
use crate::config::{AUTHORIZATION_CODE, ClientConfig, IssuerConfig, REFRESH_TOKEN};
use crate::constant_time::secrets_equal;
use crate::faults::Endpoint;
use crate::oauth::{CLIENT_CREDENTIALS, TokenResponse};
use crate::server::AppState;

/// Grant types Auth0 knows; any other is `unsupported_grant_type`, these are `unauthorized_client`
/// when the client may not use them (the mock implements the first three).
const KNOWN_GRANT_TYPES: &[&str] = &[
    CLIENT_CREDENTIALS,
    AUTHORIZATION_CODE,
    REFRESH_TOKEN,
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

/// Checks what every grant shares in Auth0's order (body, grant type, client, grant allowed),
/// then hands the request to the grant's own checks.
fn issue(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, Refusal> {
    let body = body.map_err(|rejection| unreadable_body(&rejection))?;
    let mut params = request::parse_body(headers, &body)?;
    let basic = request::basic_credentials(headers)?;
    let grant_type = known_grant_type(&mut params)?;
    let (client_id, secret) = request::client_credentials(basic, &mut params)?;
    let client = authenticate(state.config(), &client_id, secret.as_deref())?;
    if !client.allows_grant(&grant_type) {
        return Err(Refusal::GrantTypeNotAllowed { grant_type });
    }
    let endpoint = format!("{}oauth/token", state.issuer());
    let proof = dpop::check(headers, &endpoint, &state.login().dpop_proofs)?;
    let jkt = proof.as_ref().map(|proof| proof.jkt.as_str());
    match grant_type.as_str() {
        CLIENT_CREDENTIALS => client_credentials::issue(state, client, &mut params, jkt),
        AUTHORIZATION_CODE => code::issue(state, client, &mut params, jkt),
        REFRESH_TOKEN => refresh::issue(state, client, &mut params, jkt),
        // Known to Auth0 and allowed by the tenant file, but not implemented by the mock.
        _ => Err(Refusal::GrantTypeNotAllowed { grant_type }),
    }
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
fn known_grant_type(params: &mut Params) -> Result<String, Refusal> {
    let grant_type = params
        .remove("grant_type")
        .ok_or(Refusal::Missing("grant_type"))?;
    if !KNOWN_GRANT_TYPES.contains(&grant_type.as_str()) {
        return Err(Refusal::UnsupportedGrantType { grant_type });
    }
    Ok(grant_type)
}

/// The client `client_id`, authenticated: a confidential client by its secret (compared in
/// constant time), a public one by sending none (it proves itself with PKCE, or with the refresh
/// token it holds). An unknown client, a wrong or missing secret, and a secret from a public client
/// are all refused alike, as Auth0 answers them: `401 access_denied "Unauthorized"`.
fn authenticate<'c>(
    config: &'c IssuerConfig,
    client_id: &str,
    secret: Option<&str>,
) -> Result<&'c ClientConfig, Refusal> {
    let client = config
        .client(client_id)
        .ok_or(Refusal::BadClientCredentials)?;
    match (client.secret.as_deref(), secret) {
        (Some(expected), Some(presented))
            if secrets_equal(presented.as_bytes(), expected.as_bytes()) =>
        {
            Ok(client)
        }
        (None, None) => Ok(client),
        (None, Some(_)) => Err(Refusal::SecretFromPublicClient),
        (Some(_), _) => Err(Refusal::BadClientCredentials),
    }
}

/// The answer's `token_type`: `DPoP` for an access token bound to a key, else `Bearer`.
fn token_type(bound: bool) -> String {
    if bound { "DPoP" } else { "Bearer" }.to_owned()
}

/// Signs `spec` with the current key; a failure is ours, logged here and answered `500`.
fn sign(state: &AppState, spec: &TokenSpec) -> Result<String, Refusal> {
    state.mint(spec).map_err(|e| {
        tracing::error!(error = %e, "signing a token failed");
        Refusal::SigningFailed
    })
}
