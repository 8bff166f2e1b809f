//! Why a request was refused, and how each reason is answered (RFC 6750 §3, the reference's shapes).

use std::borrow::Cow;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};

use crate::message::Message;

/// The realm every challenge names, as the Express reference does.
pub const REALM: &str = "api";

/// A refusal, with everything needed to answer it: status, `WWW-Authenticate` and JSON body.
///
/// Descriptions are written by this crate (or by the developer, for claim checks) and never
/// echo anything from the request: no `kid`, no claim values, no token fragments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token anywhere in the request: 401 with the bare challenge `Bearer realm="api"`.
    #[error("Unauthorized")]
    MissingToken,
    /// An `Authorization` header that is not `Bearer <token>`: 400 with the bare challenge, as the
    /// reference answers it.
    #[error("{0}")]
    MalformedAuthorization(&'static str),
    /// A malformed request in RFC 6750's sense (two token locations, a refused location), or
    /// in HTTP's (no single valid `Host`, see [`crate::server::host`]): 400 with
    /// `error="invalid_request"`.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// A token that is present but not acceptable: 401 with `error="invalid_token"`.
    #[error("{0}")]
    InvalidToken(Cow<'static, str>),
    /// A valid token that lacks what the route requires: 403 with `error="insufficient_scope"`
    /// and `scope="<required>"`.
    #[error("{description}")]
    InsufficientScope {
        /// What the client is told, e.g. `Insufficient Scope`.
        description: &'static str,
        /// The space-separated scopes (or permissions) the route requires.
        required: String,
    },
    /// The request body that might carry the token is larger than the configured limit: 413.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// No usable key could be had because the issuer is unreachable or misbehaving: 503 with
    /// `Retry-After`. The client's token is not at fault, so this is not a 401.
    #[error("The authorization server is unavailable; try again later")]
    IssuerUnavailable {
        /// When the client may usefully retry.
        retry_after: Duration,
    },
}

impl AuthError {
    /// A 401 `invalid_token` with a fixed description.
    pub const fn invalid_token(description: &'static str) -> Self {
        AuthError::InvalidToken(Cow::Borrowed(description))
    }

    /// The HTTP status this refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::MissingToken | AuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AuthError::MalformedAuthorization(_) | AuthError::InvalidRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            AuthError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            AuthError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AuthError::IssuerUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `WWW-Authenticate` challenge, or `None` where the answer carries none (413, 503).
    pub fn challenge(&self) -> Option<String> {
        let bare = format!("Bearer realm=\"{REALM}\"");
        let with = |code: &str, description: &str| {
            // The reference replaces every `"` in the description with `'` so the quoted-string
            // stays well formed; our descriptions are our own, so that is the only escape needed.
            format!(
                "{bare}, error=\"{code}\", error_description=\"{}\"",
                description.replace('"', "'")
            )
        };
        match self {
            AuthError::MissingToken | AuthError::MalformedAuthorization(_) => Some(bare),
            AuthError::InvalidRequest(description) => Some(with("invalid_request", description)),
            AuthError::InvalidToken(description) => Some(with("invalid_token", description)),
            AuthError::InsufficientScope {
                description,
                required,
            } => Some(format!(
                "{}, scope=\"{required}\"",
                with("insufficient_scope", description)
            )),
            AuthError::PayloadTooLarge | AuthError::IssuerUnavailable { .. } => None,
        }
    }

    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::MalformedAuthorization(_) => "malformed_authorization",
            AuthError::InvalidRequest(_) => "invalid_request",
            AuthError::InvalidToken(_) => "invalid_token",
            AuthError::InsufficientScope { .. } => "insufficient_scope",
            AuthError::PayloadTooLarge => "payload_too_large",
            AuthError::IssuerUnavailable { .. } => "issuer_unavailable",
        }
    }
}

impl IntoResponse for AuthError {
    /// The status, the challenge (and `Retry-After` for a 503) and the body
    /// `{"message": "<the description>"}`, as the reference sends them.
    fn into_response(self) -> Response {
        let message = self.to_string();
        let mut response = (self.status(), Message::new(&message)).into_response();
        let headers = response.headers_mut();
        if let Some(challenge) = self.challenge() {
            // Our challenges are built from ASCII literals and our own descriptions; a
            // developer's claim-check message with control characters is the only way to fail.
            let value = HeaderValue::from_str(&challenge)
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"api\""));
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let AuthError::IssuerUnavailable { retry_after } = self {
            let seconds = retry_after.as_secs().max(1);
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
