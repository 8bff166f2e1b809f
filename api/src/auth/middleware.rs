//! axum glue: middleware that authenticates requests ([`require_auth`], [`optional_auth`]) and
//! applies a [`Requirement`] ([`authorize`]), and the extractors that hand the verified
//! [`Claims`] to handlers. The work is done by [`Authenticator::authenticate_request`] and
//! [`Requirement::check`]; this module only wires them into axum.
//!
//! ```no_run
//! use api::auth::{self, AuthOptions, Authenticator, Claims};
//! use axum::{Router, middleware, routing::get};
//!
//! async fn me(claims: Claims) -> String {
//!     claims.subject().unwrap_or_default().to_owned()
//! }
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let authenticator = Authenticator::new(AuthOptions::new(
//!     "https://tenant.auth0.com/".parse()?,
//!     "https://quickstarts/api",
//! ))?;
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route_layer(middleware::from_fn_with_state(authenticator, auth::require_auth));
//! # Ok(()) }
//! ```

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::request::Parts;

use super::authenticator::Authenticator;
use super::authorize::Requirement;
use super::challenge::Challenges;
use super::claims::Claims;
use super::dpop_binding::NextDpopNonce;
use super::error::{AuthError, DPOP_NONCE};

/// Middleware: refuses requests without a valid token (the reference's `auth()`). The token
/// is taken from the `Authorization: Bearer` header, an `application/x-www-form-urlencoded`
/// body's `access_token` (not on GET or HEAD), or, when
/// [`AuthOptions::allow_query_token`](super::AuthOptions::allow_query_token) is on, the query
/// string; from exactly one of them. Or, with DPoP on (the default,
/// [`DpopOptions`](super::DpopOptions)), from `Authorization: DPoP` with its `DPoP` proof
/// header. Use with
/// `axum::middleware::from_fn_with_state(authenticator, require_auth)`.
pub async fn require_auth(
    State(authenticator): State<Authenticator>,
    request: Request,
    next: Next,
) -> Response {
    run(&authenticator, request, next, true).await
}

/// Middleware: lets requests without a token through, refuses invalid tokens (the reference's
/// `auth({ authRequired: false })`). Handlers take `Option<Claims>`.
pub async fn optional_auth(
    State(authenticator): State<Authenticator>,
    request: Request,
    next: Next,
) -> Response {
    run(&authenticator, request, next, false).await
}

async fn run(
    authenticator: &Authenticator,
    request: Request,
    next: Next,
    required: bool,
) -> Response {
    match authenticator.authenticate_request(request, required).await {
        Ok(mut request) => {
            let next_nonce = request.extensions_mut().remove::<NextDpopNonce>();
            let mut response = next.run(request).await;
            if let Some(NextDpopNonce(nonce)) = next_nonce {
                response.headers_mut().insert(DPOP_NONCE, nonce);
            }
            response
        }
        Err(refused) => refusal(refused.error, refused.challenges),
    }
}

/// Middleware: applies a [`Requirement`] to the claims that authentication put in the request.
/// Without claims (authentication missing or optional and absent) it answers 401: fail closed.
/// Use with `axum::middleware::from_fn_with_state(requirement, authorize)`, as a layer inside
/// the authentication's.
pub async fn authorize(
    State(requirement): State<Requirement>,
    request: Request,
    next: Next,
) -> Response {
    let outcome = match request.extensions().get::<Claims>() {
        Some(claims) => requirement.check(claims),
        None => Err(AuthError::MissingToken),
    };
    match outcome {
        Ok(()) => next.run(request).await,
        Err(error) => refusal(error, Challenges::BEARER),
    }
}

/// Answers a refusal with `challenges`, logging why at debug level. The reason is our own
/// description (or the developer's, for claim checks), escaped all the same (`?`) so that no
/// description can break a log line; the token and the proof are never logged.
fn refusal(error: AuthError, challenges: Challenges) -> Response {
    tracing::debug!(kind = error.kind(), reason = ?error.to_string(), "request refused");
    error.into_response_with(challenges)
}

/// The verified claims, put in the request by [`require_auth`] or [`optional_auth`]. A handler
/// that asks for them on a route without either middleware answers 401: it fails closed.
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or(AuthError::MissingToken)
    }
}

/// `Option<Claims>`: `None` on a request that passed [`optional_auth`] without a token.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}
