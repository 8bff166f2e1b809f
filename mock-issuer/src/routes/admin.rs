//! The admin surface under `/_mock/`, for tests, developers and the console: keys, faults,
//! counters, the tenant's summary, minting and inspecting tokens. It sits off Auth0's paths so
//! nothing a resource server calls can reach it by accident.
//!
//! The requests and answers, and their wire types, are listed in [`crate::admin`]; who may
//! send them, in [`access`].

mod access;
mod body;
mod inspect;
mod mint;
mod tenant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use crate::admin::{AdminError, Endpoint, Fault, FaultTable, KeySummary, RequestCounts};
use crate::server::AppState;

/// The admin routes, behind the admin token when `state`'s configuration has one. Then even a
/// path that matches no route (the fallback) or a wrong method answers `401` to a request
/// without the token, so nothing under `/_mock/` answers a stranger otherwise.
pub(super) fn router(state: &AppState) -> Router<AppState> {
    let routes = Router::new()
        .route("/keys", get(keys))
        .route("/rotate", post(rotate))
        .route("/revoke-previous", post(revoke_previous))
        .route("/faults", get(faults).delete(clear_faults))
        .route("/faults/{endpoint}", put(set_fault))
        .route("/requests", get(requests))
        .route("/reset", post(reset))
        .route("/tenant", get(tenant::tenant))
        .route("/mint", post(mint::mint))
        .route("/inspect", post(inspect::inspect));
    match &state.config().admin_token {
        Some(token) => routes.fallback(|| async { StatusCode::NOT_FOUND }).layer(
            middleware::from_fn_with_state(token.clone(), access::require_token),
        ),
        None => routes,
    }
}

/// An [`AdminError`] answer with `status`.
fn refuse(status: StatusCode, error: String) -> Response {
    (status, Json(AdminError { error })).into_response()
}

async fn keys(State(state): State<AppState>) -> Json<KeySummary> {
    Json(state.key_summary())
}

async fn rotate(State(state): State<AppState>) -> Response {
    // Key generation is CPU-bound; keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || state.rotate()).await;
    key_change(result, "rotated the signing keys")
}

async fn revoke_previous(State(state): State<AppState>) -> Response {
    let result = tokio::task::spawn_blocking(move || state.revoke_previous()).await;
    key_change(result, "revoked the previous key")
}

fn key_change(
    result: Result<Result<KeySummary, crate::Error>, tokio::task::JoinError>,
    what: &str,
) -> Response {
    match result {
        Ok(Ok(summary)) => {
            tracing::info!(current = %summary.current, next = %summary.next, previous = ?summary.previous, "{what}");
            Json(summary).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "key change failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "key change task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn faults(State(state): State<AppState>) -> Json<FaultTable> {
    Json(FaultTable::from_fn(|endpoint| state.faults().get(endpoint)))
}

async fn set_fault(
    State(state): State<AppState>,
    Path(endpoint): Path<String>,
    body: Result<Json<Fault>, JsonRejection>,
) -> Response {
    let endpoint: Endpoint = match endpoint.parse() {
        Ok(endpoint) => endpoint,
        Err(unknown) => return refuse(StatusCode::BAD_REQUEST, unknown.to_string()),
    };
    let fault = match body {
        Ok(Json(fault)) => fault,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.body_text()),
    };
    match state.faults().set(endpoint, fault) {
        Ok(()) => {
            tracing::info!(?endpoint, ?fault, "fault set");
            Json(fault).into_response()
        }
        Err(e) => refuse(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(state): State<AppState>) -> Json<RequestCounts> {
    Json(RequestCounts::from_fn(|endpoint| {
        state.faults().count(endpoint)
    }))
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    state.faults().reset_counts();
    StatusCode::NO_CONTENT
}
