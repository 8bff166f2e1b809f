//! OpenID Connect discovery and RFC 8414 metadata: the same document, with Auth0's fields.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::apply_faults;
use super::token::dpop::ALGORITHMS;
use crate::faults::Endpoint;
use crate::server::AppState;

pub(super) async fn openid_configuration(State(state): State<AppState>) -> Response {
    serve(&state, Endpoint::OpenidConfiguration).await
}

pub(super) async fn oauth_authorization_server(State(state): State<AppState>) -> Response {
    serve(&state, Endpoint::OauthAuthorizationServer).await
}

async fn serve(state: &AppState, endpoint: Endpoint) -> Response {
    if let (Some(faulted), _) = apply_faults(state, endpoint).await {
        return faulted;
    }
    Json(document(state.issuer())).into_response()
}

/// The tenant's metadata, field for field as Auth0 serves it. The mock serves the endpoints a
/// user's login goes through (`authorization_endpoint`, `token_endpoint`, `userinfo_endpoint`,
/// `end_session_endpoint`) and the JWKS; the others (device code, MFA, registration, revocation)
/// are listed as Auth0 lists them, though the mock does not serve them. PKCE is S256 only:
/// `/authorize` refuses `plain` (RFC 9700 §2.1.1), so unlike Auth0 only S256 is listed. Like
/// Auth0 there is no `grant_types_supported`. `dpop_signing_alg_values_supported` lists every
/// proof algorithm the token endpoint verifies; Auth0's tenants document ES256 (what its SDKs
/// send), which is among them.
pub(crate) fn document(issuer: &str) -> Value {
    let dpop_algorithms: Vec<&str> = ALGORITHMS.iter().map(|(name, _)| *name).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}authorize"),
        "token_endpoint": format!("{issuer}oauth/token"),
        "device_authorization_endpoint": format!("{issuer}oauth/device/code"),
        "userinfo_endpoint": format!("{issuer}userinfo"),
        "mfa_challenge_endpoint": format!("{issuer}mfa/challenge"),
        "jwks_uri": format!("{issuer}.well-known/jwks.json"),
        "registration_endpoint": format!("{issuer}oidc/register"),
        "revocation_endpoint": format!("{issuer}oauth/revoke"),
        "scopes_supported": [
            "openid", "profile", "offline_access", "name", "given_name", "family_name", "nickname",
            "email", "email_verified", "picture", "created_at", "identities", "phone", "address"
        ],
        "response_types_supported": [
            "code", "token", "id_token", "code token", "code id_token", "token id_token",
            "code token id_token"
        ],
        "code_challenge_methods_supported": ["S256"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "private_key_jwt"
        ],
        "claims_supported": [
            "aud", "auth_time", "created_at", "email", "email_verified", "exp", "family_name",
            "given_name", "iat", "identities", "iss", "name", "nickname", "phone_number", "picture",
            "sub"
        ],
        "request_uri_parameter_supported": false,
        "request_parameter_supported": false,
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "PS256"],
        "end_session_endpoint": format!("{issuer}oidc/logout"),
        "dpop_signing_alg_values_supported": dpop_algorithms,
    })
}
