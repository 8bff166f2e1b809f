//! DPoP at a protected resource (RFC 9449 §7): which scheme a request may use, the one proof a
//! DPoP request carries, the binding of the token to the proof's key, and the proof's single
//! use. The proof itself is checked by `dpop/`, replays are remembered by `dpop_replay/`.
//!
//! In order, each refusal before the next check:
//!
//! 1. before the token is verified (no network): DPoP required and the token not sent with the
//!    DPoP scheme; a `DPoP` header beside a token sent otherwise; the DPoP scheme without
//!    exactly one `DPoP` header; a request URL that cannot be made out (`request_url.rs`);
//! 2. the token, verified as any other (the verified-token cache may answer);
//! 3. a token with a `cnf` claim sent as a bearer token (RFC 9449 §7.2), or one without
//!    `cnf.jkt` sent with the DPoP scheme;
//! 4. the proof against the request: method, URL, the token's hash, the
//!    `iat` window, every RFC 9449 §4.3 rule, and the server's nonce when it hands them out
//!    (`use_dpop_nonce` with the current one, RFC 9449 §9). On every request: the token cache
//!    never stands in for it;
//! 5. the binding: the token's `cnf.jkt` is the thumbprint of the proof's key;
//! 6. the proof's first use, last, so that only proofs that passed everything are remembered.
//!    A store that cannot answer fails closed: 503, never an unchecked proof.

use std::time::Duration;

use axum::extract::Request;
use http::HeaderValue;
use serde_json::Value;

use super::challenge::Scheme;
use super::claims::{Claims, unix_now};
use super::dpop::{self, NonceStatus, ProofCheck};
use super::error::AuthError;
use super::options::DpopOptions;
use super::request_url::request_url;
use super::token_source::{self, Credentials};

/// A token sent otherwise than with the DPoP scheme while DPoP is required: a scheme this API
/// does not accept, answered as any other (400, bare challenge).
const DPOP_REQUIRED: AuthError =
    AuthError::MalformedAuthorization("Invalid Authorization header: expected 'DPoP <token>'");

/// A `DPoP` header beside a token not sent with the DPoP scheme, as the reference refuses it.
const PROOF_WITHOUT_DPOP_SCHEME: AuthError = AuthError::InvalidRequest(
    "A DPoP proof was sent, but the access token not with the DPoP scheme",
);

/// A token bound to a key sent as a bearer token (RFC 9449 §7.2: a downgrade).
const BOUND_TOKEN_AS_BEARER: AuthError =
    AuthError::invalid_token("A DPoP-bound access token must be sent with the DPoP scheme");

/// A token without a key to bind to sent with the DPoP scheme: the reference's description.
const NO_JKT: AuthError =
    AuthError::invalid_token("JWT Access Token has no jkt confirmation claim");

/// A token whose `cnf.jkt` is not a non-empty string.
const MALFORMED_JKT: AuthError = AuthError::invalid_token("Malformed 'jkt' confirmation claim");

/// A proof signed by another key than the token is bound to: the reference's description.
const CONFIRMATION_MISMATCH: AuthError =
    AuthError::invalid_token("JWT Access Token confirmation mismatch");

/// A proof accepted before.
const REPLAYED: AuthError = AuthError::InvalidDpopProof("DPoP proof has already been used");

/// When a client may retry after the replay store failed to answer.
const REPLAY_STORE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a DPoP request's proof is checked against, taken from the request before its token is
/// verified.
#[derive(Debug)]
pub(crate) struct ProofRequest<'r> {
    /// The `DPoP` header.
    proof: &'r str,
    /// The request's method.
    method: &'r str,
    /// The URL the client addressed (`request_url.rs`).
    url: String,
}

/// Step 1 of the module documentation: what the proof of a request with `credentials` is
/// checked against (`None` for a bearer token), or its refusal. With DPoP disabled nothing is
/// asked and a `DPoP` header is ignored.
pub(crate) fn proof_for<'r>(
    credentials: &Credentials,
    request: &'r Request,
    options: &DpopOptions,
) -> Result<Option<ProofRequest<'r>>, AuthError> {
    if !options.enabled {
        return Ok(None);
    }
    let headers = request.headers();
    match credentials.scheme {
        Scheme::Bearer if options.required => Err(DPOP_REQUIRED),
        Scheme::Bearer if token_source::has_dpop_proof(headers) => Err(PROOF_WITHOUT_DPOP_SCHEME),
        Scheme::Bearer => Ok(None),
        Scheme::Dpop => Ok(Some(ProofRequest {
            proof: token_source::dpop_proof(headers)?,
            method: request.method().as_str(),
            url: request_url(request, options)?,
        })),
    }
}

/// The next DPoP nonce, for the `DPoP-Nonce` header of a successful answer (RFC 9449 §8.2):
/// put in a request's extensions by
/// [`Authenticator::authenticate_request`](super::Authenticator::authenticate_request) when
/// the proof's nonce is about to expire, and copied onto the response by the middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextDpopNonce(pub HeaderValue);

/// Steps 3 to 6 of the module documentation, for a token verified with `claims` and what
/// [`proof_for`] found; on success, the nonce the answer should hand out, if any.
pub(crate) async fn check(
    claims: &Claims,
    credentials: &Credentials,
    proof: Option<ProofRequest<'_>>,
    options: &DpopOptions,
) -> Result<Option<NextDpopNonce>, AuthError> {
    if !options.enabled {
        return Ok(None);
    }
    let Some(proof) = proof else {
        // Read from what verification captured: the bearer path never builds the claims tree.
        return if claims.is_bound() {
            Err(BOUND_TOKEN_AS_BEARER)
        } else {
            Ok(None)
        };
    };
    let jkt = confirmation(claims)?;
    let now = u64::try_from(unix_now()).unwrap_or(0);
    let checked = dpop::check_proof(
        proof.proof,
        &ProofCheck {
            method: proof.method,
            url: &proof.url,
            access_token: &credentials.token,
            now,
            iat_offset: options.iat_offset,
            iat_leeway: options.iat_leeway,
            nonces: options.nonces.as_ref(),
        },
    )
    .map_err(|error| match &options.nonces {
        Some(nonces) if error.wants_nonce() => AuthError::UseDpopNonce {
            description: error.description(),
            nonce: nonces.current(now),
        },
        _ => AuthError::InvalidDpopProof(error.description()),
    })?;
    if checked.jkt != jkt {
        return Err(CONFIRMATION_MISMATCH);
    }
    match options
        .replay_store
        .first_use(checked.replay_key, checked.remember_until, now)
        .await
    {
        Ok(true) => Ok(next_nonce(checked.nonce, options, now)),
        Ok(false) => Err(REPLAYED),
        Err(_) => Err(AuthError::ReplayStoreUnavailable {
            retry_after: REPLAY_STORE_RETRY_AFTER,
        }),
    }
}

/// The current nonce, when the proof's was from the window before and is about to expire.
fn next_nonce(
    status: Option<NonceStatus>,
    options: &DpopOptions,
    now: u64,
) -> Option<NextDpopNonce> {
    let nonces = options.nonces.as_ref()?;
    (status == Some(NonceStatus::Stale))
        .then(|| HeaderValue::from_str(&nonces.current(now)).ok())
        .flatten()
        .map(NextDpopNonce)
}

/// The token's `cnf.jkt` (RFC 9449 §6.1). Other `cnf` members are allowed beside it, as the
/// reference allows them since 1.9.2.
fn confirmation(claims: &Claims) -> Result<&str, AuthError> {
    let jkt = match claims.get("cnf") {
        Some(Value::Object(cnf)) => cnf.get("jkt").ok_or(NO_JKT)?,
        Some(_) => return Err(MALFORMED_JKT),
        None => return Err(NO_JKT),
    };
    jkt.as_str()
        .filter(|jkt| !jkt.is_empty())
        .ok_or(MALFORMED_JKT)
}
