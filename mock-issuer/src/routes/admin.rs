//! The admin surface under `/_mock/`, for tests and developers: keys, faults, counters. It sits
//! off Auth0's paths so nothing a resource server calls can reach it by accident.
//!
//! - `GET /_mock/keys`: kids by role. `POST /_mock/rotate`, `POST /_mock/revoke-previous`.
//! - `GET /_mock/faults`; `PUT /_mock/faults/{endpoint}` with `{"type":"latency","ms":2000}`,
//!   `{"type":"status","code":503}`, `{"type":"malformed_body"}` or `{"type":"empty_key_set"}`;
//!   `DELETE /_mock/faults` clears every fault.
//! - `GET /_mock/requests`: request counts. `POST /_mock/reset`: clears faults and counts.
//!
//! Endpoint names: `openid_configuration`, `oauth_authorization_server`, `jwks`, `token`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::faults::{Endpoint, Fault};
use crate::server::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/keys", get(keys))
        .route("/rotate", post(rotate))
        .route("/revoke-previous", post(revoke_previous))
        .route("/faults", get(faults).delete(clear_faults))
        .route("/faults/{endpoint}", put(set_fault))
        .route("/requests", get(requests))
        .route("/reset", post(reset))
}

/// A fault as the admin surface accepts it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum FaultBody {
    Latency { ms: u64 },
    Status { code: u16 },
    MalformedBody,
    EmptyKeySet,
}

impl From<FaultBody> for Fault {
    fn from(body: FaultBody) -> Self {
        match body {
            FaultBody::Latency { ms } => Fault::Latency(Duration::from_millis(ms)),
            FaultBody::Status { code } => Fault::Status(code),
            FaultBody::MalformedBody => Fault::MalformedBody,
            FaultBody::EmptyKeySet => Fault::EmptyKeySet,
        }
    }
}

fn fault_json(fault: &Fault) -> Value {
    match fault {
        Fault::Latency(d) => json!({ "type": "latency", "ms": d.as_millis() }),
        Fault::Status(code) => json!({ "type": "status", "code": code }),
        Fault::MalformedBody => json!({ "type": "malformed_body" }),
        Fault::EmptyKeySet => json!({ "type": "empty_key_set" }),
    }
}

fn endpoint_name(endpoint: Endpoint) -> String {
    serde_json::to_value(endpoint)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

async fn keys(State(state): State<AppState>) -> Json<Value> {
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
    result: Result<Result<Value, crate::Error>, tokio::task::JoinError>,
    what: &str,
) -> Response {
    match result {
        Ok(Ok(summary)) => {
            tracing::info!(keys = %summary, "{what}");
            Json(summary).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "key change failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": e.to_string() })),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "key change task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn faults(State(state): State<AppState>) -> Json<Value> {
    let mut out = Map::new();
    for endpoint in Endpoint::ALL {
        let faults: Vec<Value> = state
            .faults()
            .get(endpoint)
            .iter()
            .map(fault_json)
            .collect();
        out.insert(endpoint_name(endpoint), faults.into());
    }
    Json(out.into())
}

async fn set_fault(
    State(state): State<AppState>,
    Path(endpoint): Path<String>,
    body: Result<Json<FaultBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(endpoint) = serde_json::from_value::<Endpoint>(Value::String(endpoint.clone())) else {
        return bad_request(format!("unknown endpoint `{endpoint}`"));
    };
    let fault = match body {
        Ok(Json(body)) => Fault::from(body),
        Err(e) => return bad_request(e.body_text()),
    };
    match state.faults().set(endpoint, fault) {
        Ok(()) => {
            tracing::info!(?endpoint, ?fault, "fault set");
            (StatusCode::OK, Json(fault_json(&fault))).into_response()
        }
        Err(e) => bad_request(e.to_string()),
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(state): State<AppState>) -> Json<Value> {
    let mut out = Map::new();
    for endpoint in Endpoint::ALL {
        out.insert(
            endpoint_name(endpoint),
            state.faults().count(endpoint).into(),
        );
    }
    Json(out.into())
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    state.faults().reset_counts();
    StatusCode::NO_CONTENT
}
