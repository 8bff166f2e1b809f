//! HTTP routes: one module per surface, plus how injected faults turn into responses.

mod admin;
mod authorize;
mod console;
mod cors;
mod discovery;
mod jwks;
mod login_page;
mod logout;
// The demo app's page is built with the same escaping.
pub(crate) mod page;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::faults::{Endpoint, Fault};
use crate::oauth::OAuthErrorBody;
use crate::server::AppState;

pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.config().body_limit;
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::oauth_authorization_server),
        )
        .route("/.well-known/jwks.json", get(jwks::jwks))
        .merge(console::routes())
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/resume", get(authorize::resume))
        .route("/u/login", get(login_page::show).post(login_page::submit))
        .route("/v2/logout", get(logout::v2_logout))
        .route("/oidc/logout", get(logout::oidc_logout))
        .merge(
            // What a browser app calls with fetch, from another origin.
            Router::new()
                .route("/oauth/token", post(token::token))
                .route(
                    "/userinfo",
                    get(userinfo::userinfo).post(userinfo::userinfo),
                )
                .layer(cors::for_web_origins(&state)),
        )
        .route("/healthz", get(healthz))
        .nest("/_mock", admin::router(&state))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Counts the request and applies `endpoint`'s faults: waits out any latency, then returns the
/// response that replaces the real one, if a fault calls for it. `EmptyKeySet` is left to the
/// JWKS handler.
async fn apply_faults(state: &AppState, endpoint: Endpoint) -> (Option<Response>, Vec<Fault>) {
    let faults = state.faults().on_request(endpoint);
    for fault in &faults {
        if let Fault::Latency(delay) = fault {
            tokio::time::sleep(*delay).await;
        }
    }
    let replaced = faults.iter().find_map(|fault| match *fault {
        Fault::Status(code) => Some(status_fault(code)),
        Fault::MalformedBody => Some(
            (
                [(header::CONTENT_TYPE, "application/json")],
                // Truncated JSON, as from a proxy that cut the connection short.
                r#"{"keys":[{"kty":"RSA","#,
            )
                .into_response(),
        ),
        Fault::Latency(_) | Fault::EmptyKeySet => None,
    });
    (replaced, faults)
}

fn status_fault(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // The error code a tenant would send with that status, so clients parse it as they would.
    let error = match code {
        429 => "too_many_requests",
        500..=599 => "server_error",
        _ => "injected_fault",
    };
    oauth_error_response(
        status,
        error,
        format!("Fault injected by mock-issuer: status {code}"),
    )
}

/// The credentials of `Authorization: Bearer <token>` (scheme case-insensitive), if the request
/// has such a header: for the admin surface.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An [`OAuthErrorBody`] answer with `status`.
fn oauth_error_response(status: StatusCode, error: &str, description: String) -> Response {
    let body = OAuthErrorBody {
        error: error.to_owned(),
        error_description: description,
    };
    (status, axum::Json(body)).into_response()
}
