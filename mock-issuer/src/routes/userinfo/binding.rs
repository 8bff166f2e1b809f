//! DPoP at `/userinfo`, as a resource server does it (RFC 9449 §7): the scheme a token must come
//! with, and for the DPoP scheme its proof, checked by the token endpoint's checker.
//!
//! In order, each refusal before the next check:
//! 1. before the token is verified: the DPoP scheme without exactly one `DPoP` header
//!    ([`presented`]);
//! 2. the token, verified as for a bearer token (the caller's);
//! 3. a token with `cnf` sent as a bearer token, one without `cnf.jkt` sent with the DPoP scheme;
//! 4. the proof: `htm` the request's method, `htu` this tenant's `/userinfo`, `ath` the token's
//!    hash, and every other rule of the token endpoint's checker;
//! 5. the binding: `cnf.jkt` is the thumbprint of the proof's key;
//! 6. the proof's first use, last, in the store the token endpoint shares, so only proofs that
//!    passed everything are remembered.

use axum::http::{HeaderMap, Method, header};
use serde_json::{Map, Value};

use super::refusal::{Reason, Refusal, Scheme};
use crate::routes::token::dpop::{ProofTarget, check_proof, proof_header};
use crate::server::AppState;
use crate::token::unix_now;

/// The credentials of a request: the access token, the scheme it came with and, for the DPoP
/// scheme, its one proof.
#[derive(Debug, Clone, Copy)]
pub(super) struct Presented<'r> {
    pub token: &'r str,
    pub scheme: Scheme,
    proof: Option<&'r str>,
}

impl Presented<'_> {
    /// A refusal for `reason` on this request's scheme.
    pub(super) fn refuse(&self, reason: Reason) -> Refusal {
        Refusal {
            scheme: self.scheme,
            reason,
        }
    }
}

/// The token of `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (schemes
/// case-insensitive) and, for DPoP, the request's one `DPoP` header. A `DPoP` header beside a
/// bearer token is not read: the token's binding decides.
pub(super) fn presented(headers: &HeaderMap) -> Result<Presented<'_>, Refusal> {
    let no_token = Refusal {
        scheme: Scheme::Bearer,
        reason: Reason::NoToken,
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let Some((scheme, token)) = value.and_then(|value| value.split_once(' ')) else {
        return Err(no_token);
    };
    let token = token.trim();
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Err(no_token);
    };
    if token.is_empty() {
        return Err(no_token);
    }
    let mut presented = Presented {
        token,
        scheme,
        proof: None,
    };
    if scheme == Scheme::Dpop {
        presented.proof = match proof_header(headers) {
            Ok(Some(proof)) => Some(proof),
            Ok(None) => return Err(presented.refuse(Reason::NoProof)),
            Err(problem) => return Err(presented.refuse(Reason::Proof(problem))),
        };
    }
    Ok(presented)
}

/// Steps 3 to 6 for a verified token's `claims`, presented as `presented` with `method`.
pub(super) fn check(
    state: &AppState,
    method: &Method,
    presented: &Presented<'_>,
    claims: &Map<String, Value>,
) -> Result<(), Refusal> {
    let cnf = claims.get("cnf");
    let Some(proof) = presented.proof else {
        // RFC 9449 §7.2: a bound token is no bearer token, whatever binds it.
        return match cnf {
            Some(_) => Err(presented.refuse(Reason::BoundTokenAsBearer)),
            None => Ok(()),
        };
    };
    let jkt = cnf
        .and_then(|cnf| cnf.get("jkt"))
        .and_then(Value::as_str)
        .ok_or_else(|| presented.refuse(Reason::UnboundTokenAsDpop))?;
    let url = format!("{}userinfo", state.issuer());
    let target = ProofTarget {
        method: method.as_str(),
        url: &url,
        access_token: Some(presented.token),
    };
    let now = unix_now();
    let checked = check_proof(proof, target, now)
        .map_err(|problem| presented.refuse(Reason::Proof(problem)))?;
    if checked.jkt != jkt {
        return Err(presented.refuse(Reason::OtherKey));
    }
    checked
        .first_use(&state.login().dpop_proofs, now)
        .map(|_| ())
        .map_err(|problem| presented.refuse(Reason::Proof(problem)))
}
