//! axum glue: middleware that authenticates requests, and the extractors that hand the
//! verified [`Claims`] to handlers.
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
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use super::authenticator::Authenticator;
use super::claims::Claims;
use super::error::AuthError;
use super::token_source::{self, TokenPolicy};

impl Authenticator {
    /// Finds and verifies the request's token. With `required`, a request without a token is
    /// refused; without it, such a request passes unauthenticated. A token that is present but
    /// invalid is always refused. On success the [`Claims`] are in the request's extensions.
    pub async fn authenticate_request(
        &self,
        request: Request,
        required: bool,
    ) -> Result<Request, AuthError> {
        let options = self.options();
        let policy = TokenPolicy {
            allow_query: options.allow_query_token,
            max_body_bytes: options.max_body_bytes,
        };
        let (mut request, token) = token_source::extract(request, policy).await?;
        match token {
            Some(token) => {
                let claims = self.verify(&token).await?;
                request.extensions_mut().insert(claims);
                Ok(request)
            }
            None if required => Err(AuthError::MissingToken),
            None => Ok(request),
        }
    }
}

/// Middleware: refuses requests without a valid token (the reference's `auth()`).
/// Use with `axum::middleware::from_fn_with_state(authenticator, require_auth)`.
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
        Ok(request) => next.run(request).await,
        Err(error) => {
            // The reason is our own description; the token itself is never logged.
            tracing::debug!(kind = error.kind(), reason = %error, "request refused");
            error.into_response()
        }
    }
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
