//! `Body<T>`: an admin request's JSON body, or a `400` [`AdminError`](crate::admin::AdminError)
//! naming what does not decode, in serde's words (which may quote the value: it goes back to
//! the caller only, never to the log).

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::refuse;

/// The extractor: a `T` decoded from a JSON body.
pub(super) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(body)) => Ok(Self(body)),
            Err(rejection) => Err(refuse(StatusCode::BAD_REQUEST, rejection.body_text())),
        }
    }
}
