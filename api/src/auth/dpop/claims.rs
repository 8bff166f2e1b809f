//! The proof's claims (RFC 9449 §4.2) checked against the request: `jti`, `htm`, `htu`, `iat`,
//! `ath`, and `nonce` when the api hands out nonces (RFC 9449 §9).

use std::borrow::Cow;

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::htu::normal_form;
use super::nonce::NonceStatus;
use super::{MAX_JTI_BYTES, ProofCheck, ProofError};
use crate::auth::jose::HEADER_LIMITS;
use crate::auth::jose::json::{self, Captured, Document, Members};

/// The claims a checked proof yields.
#[derive(Debug)]
pub(super) struct ProofClaims<'de> {
    /// The proof's unique identifier, for the replay key.
    pub jti: Cow<'de, str>,
    /// When the proof was made, in Unix seconds (a NumericDate may have a fraction).
    pub iat: f64,
    /// How the proof's `nonce` stands, when the api hands out nonces; never
    /// [`NonceStatus::Invalid`], which is refused.
    pub nonce: Option<NonceStatus>,
}

/// The members read from the payload; every other member is checked by the strict scan and
/// dropped.
#[derive(Default)]
struct ClaimScan<'de> {
    jti: Option<Captured<'de>>,
    htm: Option<Captured<'de>>,
    htu: Option<Captured<'de>>,
    iat: Option<Captured<'de>>,
    ath: Option<Captured<'de>>,
    nonce: Option<Captured<'de>>,
}

impl<'de> Members<'de> for ClaimScan<'de> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Captured<'de>>> {
        match name {
            "jti" => Some(&mut self.jti),
            "htm" => Some(&mut self.htm),
            "htu" => Some(&mut self.htu),
            "iat" => Some(&mut self.iat),
            "ath" => Some(&mut self.ath),
            "nonce" => Some(&mut self.nonce),
            _ => None,
        }
    }
}

/// A captured string member, or `refusal`.
fn string(member: Option<Captured<'_>>, refusal: ProofError) -> Result<Cow<'_, str>, ProofError> {
    match member {
        Some(Captured::Str(text)) => Ok(text),
        _ => Err(refusal),
    }
}

/// Reads the decoded payload (a proof's claims are few: the header's limits fit) and checks
/// each claim against `check`.
pub(super) fn check_claims<'de>(
    payload: &'de [u8],
    check: &ProofCheck<'_>,
) -> Result<ProofClaims<'de>, ProofError> {
    let claims = json::scan_object(payload, HEADER_LIMITS, ClaimScan::default())
        .map_err(|fault| ProofError::Payload(fault.description(Document::ClaimsSet)))?
        .members;
    let jti = string(claims.jti, ProofError::Jti)?;
    if jti.is_empty() || jti.len() > MAX_JTI_BYTES {
        return Err(ProofError::Jti);
    }
    // RFC 9110 §9.1: a method is case-sensitive, so `get` is not `GET`. The reference compares
    // case-insensitively; a proof made for one method must not pass for another spelling.
    if string(claims.htm, ProofError::Htm)? != check.method {
        return Err(ProofError::Htm);
    }
    let htu = string(claims.htu, ProofError::Htu)?;
    let htu = normal_form(&htu)?;
    // The request URL is the api's own; one that cannot be normalised matches no proof.
    if normal_form(check.url).ok() != Some(htu) {
        return Err(ProofError::Htu);
    }
    let iat = match claims.iat {
        Some(Captured::Number(iat)) if iat.is_finite() => iat,
        _ => return Err(ProofError::Iat),
    };
    let now = check.now as f64;
    let oldest = now - check.iat_offset.as_secs_f64();
    let newest = now + check.iat_leeway.as_secs_f64();
    if !(oldest..=newest).contains(&iat) {
        return Err(ProofError::IatOutsideWindow);
    }
    let expected_ath = URL_SAFE_NO_PAD.encode(digest::digest(
        &digest::SHA256,
        check.access_token.as_bytes(),
    ));
    // Public values on both sides (the hash of a token the client sent), so a plain comparison
    // leaks nothing a timing attack could use.
    if string(claims.ath, ProofError::Ath)? != expected_ath {
        return Err(ProofError::Ath);
    }
    // Last among the claims: a proof wrong in another way is told so first, and a client that
    // has no nonce yet learns it before any signature is checked (RFC 9449 §9).
    let nonce = match check.nonces {
        None => None,
        Some(nonces) => {
            let nonce = string(claims.nonce, ProofError::NonceMissing)?;
            match nonces.check(&nonce, check.now) {
                NonceStatus::Invalid => return Err(ProofError::NonceInvalid),
                status => Some(status),
            }
        }
    };
    Ok(ProofClaims { jti, iat, nonce })
}
