//! The one body shape every answer of this API carries, `{"message": "…"}` (the Express
//! reference's), shared by the routes, the authentication core's refusals and the server's own
//! refusals, so none of them depends on another for it.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON body `{"message": "…"}`; answered as `application/json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Message<'a> {
    /// The text.
    pub message: &'a str,
}

impl<'a> Message<'a> {
    /// The body carrying `message`.
    pub const fn new(message: &'a str) -> Self {
        Message { message }
    }
}

impl IntoResponse for Message<'_> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}
