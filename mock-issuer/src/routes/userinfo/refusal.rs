//! Why `/userinfo` refuses a request, and the answer: `401` with Auth0's body, `Unauthorized`,
//! and a challenge on the scheme the client used (RFC 6750 §3 for `Bearer`, RFC 9449 §7.1 for
//! `DPoP`); `429` when the store of used proofs is full.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::routes::token::dpop::{ALGORITHMS, DpopProblem};
use crate::verify::VerifyError;

/// How the request presented its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `Authorization: Bearer` (RFC 6750), or no credentials at all.
    Bearer,
    /// `Authorization: DPoP` with a `DPoP` proof header (RFC 9449 §7.1).
    Dpop,
}

/// A refusal of `/userinfo`: the scheme its challenge names, and why. Its `Debug` form is what
/// the log shows: reasons only, never the token or the proof.
#[derive(Debug)]
pub(super) struct Refusal {
    pub scheme: Scheme,
    pub reason: Reason,
}

/// Why `/userinfo` refuses a request.
#[derive(Debug)]
pub(super) enum Reason {
    /// No `Authorization: Bearer` or `DPoP` token.
    NoToken,
    /// The token does not verify, and why.
    Unverified(VerifyError),
    /// Issued by another tenant.
    OtherIssuer,
    /// Past its `exp`.
    Expired,
    /// `aud` does not name this tenant's `/userinfo`.
    NotForUserinfo,
    /// `sub` is not one of the tenant's users (e.g. a client-credentials token).
    NotAUser,
    /// A token bound to a key (it has `cnf`) sent as a bearer token (RFC 9449 §7.2).
    BoundTokenAsBearer,
    /// A token without `cnf.jkt` sent with the DPoP scheme.
    UnboundTokenAsDpop,
    /// A valid proof by another key than the one the token is bound to.
    OtherKey,
    /// The DPoP scheme without a `DPoP` header.
    NoProof,
    /// A proof that breaks a rule (the token endpoint's checker names which).
    Proof(DpopProblem),
}

impl Refusal {
    /// The OAuth error code, or `None` when the request sent no credentials (RFC 6750 §3.1).
    fn error(&self) -> Option<&'static str> {
        match self.reason {
            Reason::NoToken => None,
            Reason::NoProof | Reason::Proof(_) => Some("invalid_dpop_proof"),
            _ => Some("invalid_token"),
        }
    }

    /// The rule broken, in words of our own: verification errors name rules, never the token's
    /// content, and no description has a quote or a backslash.
    fn description(&self) -> String {
        match &self.reason {
            Reason::NoToken => String::new(),
            Reason::Unverified(why) => why.to_string(),
            Reason::OtherIssuer => "the token was not issued by this tenant".to_owned(),
            Reason::Expired => "the token has expired".to_owned(),
            Reason::NotForUserinfo => "the token's audience does not include /userinfo".to_owned(),
            Reason::NotAUser => "the token was not issued to a user".to_owned(),
            Reason::BoundTokenAsBearer => {
                "the token is bound to a DPoP key: send it with the DPoP scheme".to_owned()
            }
            Reason::UnboundTokenAsDpop => "the token is not bound to a DPoP key".to_owned(),
            Reason::OtherKey => "the token is bound to another DPoP key".to_owned(),
            Reason::NoProof => "the DPoP scheme needs one DPoP proof header".to_owned(),
            Reason::Proof(problem) => proof_description(*problem).to_owned(),
        }
    }

    /// The `WWW-Authenticate` challenge: bare `Bearer` without credentials, else the error on
    /// the scheme used; the DPoP challenge lists the proof algorithms the mock verifies.
    fn challenge(&self) -> String {
        let Some(error) = self.error() else {
            return "Bearer".to_owned();
        };
        let description = self.description();
        match self.scheme {
            Scheme::Bearer => {
                format!(r#"Bearer error="{error}", error_description="{description}""#)
            }
            Scheme::Dpop => {
                let algs: Vec<&str> = ALGORITHMS.iter().map(|(name, _)| *name).collect();
                format!(
                    r#"DPoP error="{error}", error_description="{description}", algs="{}""#,
                    algs.join(" ")
                )
            }
        }
    }
}

/// The description of a refused proof at `/userinfo`. The rules that name the request are
/// worded for it (the token endpoint's say "POST" and "the token endpoint"); the others are
/// the token endpoint's own.
fn proof_description(problem: DpopProblem) -> &'static str {
    match problem {
        DpopProblem::Method | DpopProblem::Url => "DPoP proof htm and htu must name this request",
        DpopProblem::AccessTokenHash => "DPoP proof ath must be the hash of the access token",
        DpopProblem::IssuedAt => "DPoP proof iat is missing, too old or in the future",
        DpopProblem::Replayed => "DPoP proof jti has already been used",
        _ => problem.description(),
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if matches!(self.reason, Reason::Proof(DpopProblem::TooManyProofs)) {
            return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        }
        let challenge =
            HeaderValue::from_str(&self.challenge()).unwrap_or(HeaderValue::from_static("Bearer"));
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            "Unauthorized",
        )
            .into_response()
    }
}
