//! Why a request was refused, and how each reason is answered: status, body and the
//! challenges `challenge.rs` writes (RFC 6750 §3, RFC 9449 §7.1, the reference's shapes).

use std::borrow::Cow;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};

use super::challenge::Challenges;
use crate::message::Message;

/// The response header that hands out a DPoP nonce (RFC 9449 §8.1).
pub const DPOP_NONCE: http::HeaderName = http::HeaderName::from_static("dpop-nonce");

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
    /// A DPoP request whose proof is refused (RFC 9449 §4.3), missing, repeated or replayed:
    /// 401 with `error="invalid_dpop_proof"` (RFC 9449 §7.1; the reference answers 400).
    #[error("{0}")]
    InvalidDpopProof(&'static str),
    /// A DPoP proof without the server's current nonce, when the api hands nonces out: 401
    /// with `error="use_dpop_nonce"` on the DPoP challenge and the nonce to use in a
    /// `DPoP-Nonce` header (RFC 9449 §9).
    #[error("{description}")]
    UseDpopNonce {
        /// Why: no nonce, or one that is not current.
        description: &'static str,
        /// The current nonce, for the `DPoP-Nonce` header.
        nonce: String,
    },
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
    /// The DPoP replay store cannot say whether a proof was used before (Redis down, or the
    /// memory store full): 503 with `Retry-After`, as for the issuer. A proof is never accepted
    /// unchecked.
    #[error("DPoP proofs cannot be checked right now; try again later")]
    ReplayStoreUnavailable {
        /// When the client may usefully retry.
        retry_after: Duration,
    },
}

/// A refusal of authentication with the challenges it is answered with: what
/// [`Authenticator::authenticate_request`](super::Authenticator::authenticate_request) refuses
/// a request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub error: AuthError,
    /// How the challenges are written.
    pub challenges: Challenges,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.error.into_response_with(self.challenges)
    }
}

impl AuthError {
    /// A 401 `invalid_token` with a fixed description.
    pub const fn invalid_token(description: &'static str) -> Self {
        AuthError::InvalidToken(Cow::Borrowed(description))
    }

    /// The HTTP status this refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::MissingToken
            | AuthError::InvalidToken(_)
            | AuthError::InvalidDpopProof(_)
            | AuthError::UseDpopNonce { .. } => StatusCode::UNAUTHORIZED,
            AuthError::MalformedAuthorization(_) | AuthError::InvalidRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            AuthError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            AuthError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AuthError::IssuerUnavailable { .. } | AuthError::ReplayStoreUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The `WWW-Authenticate` challenge with Bearer alone ([`Challenges::BEARER`]), or `None`
    /// where the answer carries none (413, 503).
    pub fn challenge(&self) -> Option<String> {
        self.challenge_with(Challenges::BEARER)
    }

    /// The `WWW-Authenticate` value with `challenges`, or `None` where the answer carries none
    /// (413, 503). A request without credentials or with a malformed `Authorization` header
    /// gets bare challenges; every other refusal names its error on the scheme the client
    /// used. A 401's challenges also name `challenges.resource_metadata` when set.
    pub fn challenge_with(&self, challenges: Challenges) -> Option<String> {
        // The reference replaces every `"` in the description with `'` so the quoted-string
        // stays well formed; our descriptions are our own, so that is the only escape needed.
        let params = |code: &str, description: &str| {
            format!(
                "error=\"{code}\", error_description=\"{}\"",
                description.replace('"', "'")
            )
        };
        let params = match self {
            AuthError::MissingToken | AuthError::MalformedAuthorization(_) => None,
            AuthError::InvalidRequest(description) => Some(params("invalid_request", description)),
            AuthError::InvalidToken(description) => Some(params("invalid_token", description)),
            AuthError::InvalidDpopProof(description) => {
                Some(params("invalid_dpop_proof", description))
            }
            AuthError::UseDpopNonce { description, .. } => {
                Some(params("use_dpop_nonce", description))
            }
            AuthError::InsufficientScope {
                description,
                required,
            } => Some(format!(
                "{}, scope=\"{required}\"",
                params("insufficient_scope", description)
            )),
            AuthError::PayloadTooLarge
            | AuthError::IssuerUnavailable { .. }
            | AuthError::ReplayStoreUnavailable { .. } => return None,
        };
        // RFC 9728 §5.1: the metadata helps a client that has no acceptable token yet (401);
        // a 403 already names the scope it lacks, and a 400 is a malformed request.
        let unauthorized = self.status() == StatusCode::UNAUTHORIZED;
        Some(challenges.header(params.as_deref(), unauthorized))
    }

    /// The status, the challenges (and `Retry-After` for a 503, `DPoP-Nonce` for
    /// `use_dpop_nonce`) and the body `{"message": "<the description>"}`, as the reference
    /// sends them.
    pub fn into_response_with(self, challenges: Challenges) -> Response {
        let message = self.to_string();
        let mut response = (self.status(), Message::new(&message)).into_response();
        let headers = response.headers_mut();
        if let Some(challenge) = self.challenge_with(challenges) {
            // Our challenges are built from ASCII literals and our own descriptions; a
            // developer's claim-check message with control characters is the only way to fail.
            let value = HeaderValue::from_str(&challenge)
                .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"api\""));
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let AuthError::IssuerUnavailable { retry_after }
        | AuthError::ReplayStoreUnavailable { retry_after } = self
        {
            let seconds = retry_after.as_secs().max(1);
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let AuthError::UseDpopNonce { nonce, .. } = &self {
            // Our nonces are base64url; nothing else reaches here.
            if let Ok(value) = HeaderValue::from_str(nonce) {
                headers.insert(DPOP_NONCE, value);
            }
        }
        response
    }

    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::MalformedAuthorization(_) => "malformed_authorization",
            AuthError::InvalidRequest(_) => "invalid_request",
            AuthError::InvalidToken(_) => "invalid_token",
            AuthError::InvalidDpopProof(_) => "invalid_dpop_proof",
            AuthError::UseDpopNonce { .. } => "use_dpop_nonce",
            AuthError::InsufficientScope { .. } => "insufficient_scope",
            AuthError::PayloadTooLarge => "payload_too_large",
            AuthError::IssuerUnavailable { .. } => "issuer_unavailable",
            AuthError::ReplayStoreUnavailable { .. } => "replay_store_unavailable",
        }
    }
}

impl IntoResponse for AuthError {
    /// [`AuthError::into_response_with`] the Bearer challenge alone.
    fn into_response(self) -> Response {
        self.into_response_with(Challenges::BEARER)
    }
}
