//! The JSON Web Key Set: public halves of the current, next and (until revoked) previous keys.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::apply_faults;
use crate::faults::{Endpoint, Fault};
use crate::server::AppState;

pub(super) async fn jwks(State(state): State<AppState>) -> Response {
    let (faulted, faults) = apply_faults(&state, Endpoint::Jwks).await;
    if let Some(faulted) = faulted {
        return faulted;
    }
    if faults.contains(&Fault::EmptyKeySet) {
        return Json(json!({ "keys": [] })).into_response();
    }
    Json(state.jwks()).into_response()
}
