//! Why the token endpoint refuses a request: each reason with its status, Auth0's error code and
//! description.
//!
//! Where Auth0's wording is known it is kept ("Unauthorized", "Invalid authorization code",
//! "Failed to verify code verifier", "Unknown or invalid refresh token."); like Auth0, one
//! description covers several causes, and the log line says which (the `Debug` form). Auth0
//! publishes no wording for `invalid_dpop_proof`: those descriptions are ours, one per rule.
//!
//! What the client sent stays a field of its own until the description is written for the
//! client, so a log line can show it escaped (`?`) beside the fixed error code: a CR or LF in an
//! audience or a scope must never start a log line of the client's choosing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::no_store;
use crate::login::RefreshError;
use crate::routes::oauth_error_response;

/// A refusal of `POST /oauth/token`. Its `Debug` form is what the log shows: client input in it
/// comes out quoted and escaped.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The body exceeds the configured limit.
    BodyTooLarge,
    /// The body was cut short.
    UnreadableBody,
    /// A form body that does not decode.
    MalformedForm,
    /// A JSON body that is not an object.
    MalformedJson,
    /// Neither a form nor JSON.
    UnsupportedContentType,
    /// A JSON parameter whose value is not a string.
    NotAString { name: String },
    /// A parameter given twice (RFC 6749 §3.2).
    DuplicateParameter { name: String },
    /// An `Authorization` header that is not well-formed Basic credentials.
    MalformedAuthorization,
    /// A secret both in the `Authorization` header and in the body.
    TwoAuthenticationMethods,
    /// A body `client_id` other than the `Authorization` header's.
    ClientIdMismatch,
    /// A required parameter is absent or empty.
    Missing(&'static str),
    /// A grant type Auth0 does not know.
    UnsupportedGrantType { grant_type: String },
    /// A known grant type the client may not use.
    GrantTypeNotAllowed { grant_type: String },
    /// An unknown client or a wrong or missing secret; which one is not said.
    BadClientCredentials,
    /// A public client (no secret configured) sent a secret: it cannot authenticate with one.
    SecretFromPublicClient,
    /// An authorization code that cannot be redeemed, and why.
    InvalidCode(
        #[expect(dead_code, reason = "read by the Debug form, which the log line shows")]
        CodeProblem,
    ),
    /// A PKCE `code_verifier` that does not prove the code's challenge, and why.
    CodeVerifier(
        #[expect(dead_code, reason = "read by the Debug form, which the log line shows")]
        VerifierProblem,
    ),
    /// A refresh token that cannot be used, and why.
    InvalidRefreshToken(
        #[expect(dead_code, reason = "read by the Debug form, which the log line shows")]
        RefreshError,
    ),
    /// A `DPoP` proof that cannot be accepted, and why; or a refresh token bound to a DPoP key
    /// used without a proof by that key.
    Dpop(DpopProblem),
    /// The login's user is no longer in the tenant.
    UserNotFound,
    /// No API has this identifier.
    ServiceNotFound { audience: String },
    /// The client has no grant for this API.
    NoClientGrant { audience: String },
    /// Scopes asked for that the client's grant does not hold.
    ScopesNotGranted { scopes: Vec<String> },
    /// Signing the token failed (ours, not the client's).
    SigningFailed,
}

impl Refusal {
    /// The HTTP status and the OAuth error code (e.g. `invalid_request`), as Auth0 answers.
    pub(crate) fn status_and_error(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            Self::UnreadableBody
            | Self::MalformedForm
            | Self::MalformedJson
            | Self::UnsupportedContentType
            | Self::NotAString { .. }
            | Self::DuplicateParameter { .. }
            | Self::MalformedAuthorization
            | Self::TwoAuthenticationMethods
            | Self::ClientIdMismatch
            | Self::Missing(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::UnsupportedGrantType { .. } => {
                (StatusCode::BAD_REQUEST, "unsupported_grant_type")
            }
            Self::GrantTypeNotAllowed { .. } => (StatusCode::FORBIDDEN, "unauthorized_client"),
            Self::BadClientCredentials | Self::SecretFromPublicClient => {
                (StatusCode::UNAUTHORIZED, "access_denied")
            }
            Self::InvalidCode(_)
            | Self::CodeVerifier(_)
            | Self::InvalidRefreshToken(_)
            | Self::UserNotFound => (StatusCode::FORBIDDEN, "invalid_grant"),
            Self::ServiceNotFound { .. }
            | Self::NoClientGrant { .. }
            | Self::ScopesNotGranted { .. } => (StatusCode::FORBIDDEN, "access_denied"),
            Self::Dpop(DpopProblem::TooManyProofs) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            Self::Dpop(_) => (StatusCode::BAD_REQUEST, "invalid_dpop_proof"),
            Self::SigningFailed => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }

    /// The `error_description` sent to the client (serde escapes it in the JSON); never logged.
    fn description(&self) -> String {
        match self {
            Self::BodyTooLarge => "Request body too large".to_owned(),
            Self::UnreadableBody => "Could not read the request body".to_owned(),
            Self::MalformedForm => "Malformed form body".to_owned(),
            Self::MalformedJson => "Malformed JSON body: expected an object".to_owned(),
            Self::UnsupportedContentType => {
                "Content-Type must be application/x-www-form-urlencoded or application/json"
                    .to_owned()
            }
            Self::NotAString { name } => format!("Invalid parameter: {name} must be a string"),
            Self::DuplicateParameter { name } => format!("Duplicate parameter: {name}"),
            Self::MalformedAuthorization => "Malformed Authorization header".to_owned(),
            Self::TwoAuthenticationMethods => {
                "Only one client authentication method may be used".to_owned()
            }
            Self::ClientIdMismatch => {
                "client_id in the body does not match the Authorization header".to_owned()
            }
            Self::Missing(parameter) => format!("Missing required parameter: {parameter}"),
            Self::UnsupportedGrantType { grant_type } => {
                format!("Unsupported grant type: {grant_type}")
            }
            Self::GrantTypeNotAllowed { grant_type } => {
                format!("Grant type '{grant_type}' not allowed for the client.")
            }
            Self::BadClientCredentials | Self::SecretFromPublicClient => "Unauthorized".to_owned(),
            Self::InvalidCode(_) => "Invalid authorization code".to_owned(),
            Self::CodeVerifier(_) => "Failed to verify code verifier".to_owned(),
            Self::InvalidRefreshToken(_) => "Unknown or invalid refresh token.".to_owned(),
            Self::Dpop(problem) => problem.description().to_owned(),
            Self::UserNotFound => "User not found".to_owned(),
            Self::ServiceNotFound { audience } => format!("Service not found: {audience}"),
            Self::NoClientGrant { audience } => format!(
                "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"
            ),
            Self::ScopesNotGranted { scopes } => {
                format!("Client has not been granted scopes: {}", scopes.join(", "))
            }
            Self::SigningFailed => "Could not sign the token".to_owned(),
        }
    }
}

/// Why an authorization code cannot be redeemed (all answered "Invalid authorization code").
#[derive(Debug)]
pub(crate) enum CodeProblem {
    /// Never issued, or expired.
    Unknown,
    /// Redeemed before: what the first use earned is revoked.
    Reused,
    /// Issued to another client.
    OtherClient,
    /// `redirect_uri` is not exactly the one the code was issued for.
    RedirectUriMismatch,
}

/// Why a `code_verifier` fails (all answered "Failed to verify code verifier").
#[derive(Debug)]
pub(crate) enum VerifierProblem {
    /// The code was issued with a challenge and no verifier was sent.
    Missing,
    /// Not 43 to 128 characters of RFC 7636's alphabet.
    Malformed,
    /// Its S256 hash is not the challenge.
    Mismatch,
    /// A verifier for a code issued without a challenge (RFC 9700 §2.1.1: a downgrade attempt).
    Unexpected,
    /// A public client's code without a challenge: nothing would prove the caller is the client.
    NoChallenge,
}

/// Why a DPoP proof is refused (`400 invalid_dpop_proof`, but for [`DpopProblem::TooManyProofs`]).
/// Each has a description of its own: a client developer needs to know which rule failed, and
/// none of them echoes the proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DpopProblem {
    /// More than one `DPoP` header.
    TwoHeaders,
    /// Not a compact JWS of two base64url JSON objects and a signature.
    Malformed,
    /// `typ` is not `dpop+jwt`.
    Type,
    /// `alg` is not one the mock verifies (none, symmetric, or unsupported).
    Algorithm,
    /// `jwk` is missing, holds a private member, or does not fit `alg`.
    Key,
    /// The signature is not by `jwk`.
    Signature,
    /// No `jti`, or an empty one.
    MissingJti,
    /// `htm` is not `POST`.
    Method,
    /// `htu` is not the token endpoint.
    Url,
    /// `iat` is missing, older than 300 s or more than 30 s ahead.
    IssuedAt,
    /// `ath` is wrong for the request: present at the token endpoint; missing, or another
    /// token's hash, where a token is presented.
    AccessTokenHash,
    /// The key's `jti` was used before.
    Replayed,
    /// Too many live proofs remembered to take a new one (answered `429`).
    TooManyProofs,
    /// A refresh token bound to a DPoP key, presented without a proof.
    BoundRefreshWithoutProof,
    /// A refresh token bound to a DPoP key, presented with a proof by another key.
    BoundRefreshOtherKey,
}

impl DpopProblem {
    /// The `error_description`: which rule failed, in words of our own.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::TwoHeaders => "Only one DPoP header may be sent",
            Self::Malformed => "DPoP proof is not a well-formed JWT",
            Self::Type => "DPoP proof typ must be dpop+jwt",
            Self::Algorithm => "DPoP proof alg is not supported",
            Self::Key => "DPoP proof jwk must be a public key of the proof's alg",
            Self::Signature => "DPoP proof signature is invalid",
            Self::MissingJti => "DPoP proof must have a jti",
            Self::Method => "DPoP proof htm must be POST",
            Self::Url => "DPoP proof htu must be the token endpoint",
            Self::IssuedAt => "DPoP proof iat is missing, too old or in the future",
            Self::AccessTokenHash => "DPoP proof for the token endpoint must not have ath",
            Self::Replayed => "DPoP proof jti has already been used",
            Self::TooManyProofs => "Too many DPoP proofs in flight; retry later",
            Self::BoundRefreshWithoutProof => {
                "The refresh token is bound to a DPoP key: a DPoP proof is required"
            }
            Self::BoundRefreshOtherKey => "The refresh token is bound to another DPoP key",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = self.status_and_error();
        no_store(oauth_error_response(status, error, self.description()))
    }
}
