//! The admin surface's guard: with an admin token configured, every request under `/_mock/`
//! must carry it as `Authorization: Bearer <token>`, or gets `401` with an [`AdminError`] and an
//! RFC 6750 challenge.

use axum::Json;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::admin::AdminError;
use crate::constant_time::secrets_equal;
use crate::oauth::Secret;
use crate::routes::bearer_token;

/// The challenge to a request without a token.
const NO_TOKEN: &str = r#"Bearer realm="mock-issuer admin""#;
/// The challenge to a request with a wrong one (RFC 6750 §3.1).
const WRONG_TOKEN: &str = r#"Bearer realm="mock-issuer admin", error="invalid_token""#;

/// Middleware: passes the request on if it carries `expected`, else answers `401`.
pub(super) async fn require_token(
    State(expected): State<Secret>,
    request: Request,
    next: Next,
) -> Response {
    let presented = bearer_token(request.headers());
    if presented.is_some_and(|token| secrets_equal(token.as_bytes(), expected.expose().as_bytes()))
    {
        return next.run(request).await;
    }
    // Method and path only, escaped: the token presented is never logged, right or wrong. The
    // original URI, since the nested router sees the path without its `/_mock` prefix.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri(), |original| &original.0);
    tracing::info!(
        method = ?request.method(),
        path = ?uri.path(),
        token_presented = presented.is_some(),
        "admin request refused: no valid admin token"
    );
    unauthorized(presented.is_some())
}

/// `401` with an [`AdminError`] and the challenge that fits.
fn unauthorized(token_presented: bool) -> Response {
    let (challenge, error) = if token_presented {
        (WRONG_TOKEN, "the admin token is not valid")
    } else {
        (
            NO_TOKEN,
            "the admin surface requires Authorization: Bearer <admin token>",
        )
    };
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        )],
        Json(AdminError {
            error: error.to_owned(),
        }),
    )
        .into_response()
}
