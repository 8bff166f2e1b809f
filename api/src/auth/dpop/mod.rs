//! DPoP proofs (RFC 9449 §4.3): parsing and checking a proof, the key thumbprint it binds to
//! (RFC 7638), the `htu` URL normalisation, and the server's nonces (RFC 9449 §9).
//!
//! [`check_proof`] is pure: it reads the proof and what the request says, and answers with the
//! proof key's thumbprint (for the token's `cnf.jkt`) and the replay key a store must see only
//! once. Replay itself and the binding to the token are the caller's. All it keeps is the keys
//! it parsed, by thumbprint (`jwk.rs`), which changes no answer, only what a key's next proof
//! costs.

use std::time::Duration;

use aws_lc_rs::digest;

use crate::auth::jose::decode_base64url;
use claims::check_claims;
use header::parse_header;
use jwk::PublicJwk;

mod claims;
mod header;
mod htu;
mod jwk;
mod nonce;
mod refusal;

pub use htu::normalize_htu;
pub use nonce::{
    DEFAULT_LIFETIME as DEFAULT_NONCE_LIFETIME, DpopNonces,
    MIN_SECRET_BYTES as MIN_NONCE_SECRET_BYTES, NonceSetupError, NonceStatus,
};
pub use refusal::ProofError;

/// The proof `alg` values accepted, in the order the challenge's `algs="…"` lists them: the
/// reference's list, every [`Algorithm`](crate::auth::Algorithm) (asymmetric only; `EdDSA`
/// means Ed25519).
pub const ALGORITHMS: [&str; 11] = {
    let mut names = [""; 11];
    let mut index = 0;
    while index < names.len() {
        names[index] = crate::auth::Algorithm::ALL[index].name();
        index += 1;
    }
    names
};

/// The largest proof accepted, in bytes. A proof with an RSA-8192 key and a long `htu` is about
/// 3 KiB; anything larger is refused before it is decoded.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The longest `jti` accepted, in bytes. RFC 9449 §4.2 asks for at least 96 bits of randomness;
/// clients send 16 to 64 characters.
pub const MAX_JTI_BYTES: usize = 256;

/// What the request says the proof must match.
#[derive(Debug, Clone, Copy)]
pub struct ProofCheck<'a> {
    /// The request's method, compared with `htm` exactly.
    pub method: &'a str,
    /// The request URL as the api sees it (its external origin and the path); normalised here
    /// with [`normalize_htu`] before it is compared with the proof's `htu`.
    pub url: &'a str,
    /// The access token the proof must name in `ath`.
    pub access_token: &'a str,
    /// The current time, in seconds since the Unix epoch.
    pub now: u64,
    /// How old a proof's `iat` may be (the api's default: 300 s).
    pub iat_offset: Duration,
    /// How far in the future a proof's `iat` may be, for clock skew (the api's default: 30 s).
    pub iat_leeway: Duration,
    /// The nonces the proof's `nonce` must be one of, when the api hands them out (the api's
    /// default: none, and a proof's `nonce` is not read).
    pub nonces: Option<&'a DpopNonces>,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url: what the token's
    /// `cnf.jkt` must be.
    pub jkt: String,
    /// SHA-256 over the thumbprint and the `jti`: the key a replay store must see once.
    pub replay_key: [u8; 32],
    /// Until when (Unix seconds) the replay key must be remembered: `iat + offset + leeway`,
    /// after which the proof is refused as too old anyway.
    pub remember_until: u64,
    /// How the proof's nonce stands, when nonces are asked for: [`NonceStatus::Stale`] means
    /// the answer should carry the current nonce.
    pub nonce: Option<NonceStatus>,
}

/// Checks `proof` (the `DPoP` header's value) against the request, as RFC 9449 §4.3 says:
/// one compact JWS of at most [`MAX_PROOF_BYTES`]; `typ` `dpop+jwt`; `alg` on [`ALGORITHMS`];
/// a public `jwk` of the type and curve `alg` needs; `jti`, `htm`, `htu`, `iat` within
/// `[now - iat_offset, now + iat_leeway]` and `ath` as the request says; a current `nonce`
/// when [`ProofCheck::nonces`] is set; and the signature, by the `jwk`. The claims are checked
/// before the signature, so a stale or misdirected proof costs no signature check.
pub fn check_proof(proof: &str, check: &ProofCheck<'_>) -> Result<CheckedProof, ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLarge);
    }
    let (signing_input, signature) = proof.rsplit_once('.').ok_or(ProofError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(ProofError::Malformed)?;
    let segment = |text: &str| {
        (!text.is_empty())
            .then(|| decode_base64url(text))
            .flatten()
            .ok_or(ProofError::Malformed)
    };
    let header = segment(header)?;
    let header = parse_header(&header)?;
    let key = PublicJwk::parse(&header.jwk)?;
    let thumbprint = key.thumbprint();
    let verifier = key.verifier(header.alg, thumbprint)?;
    let payload = segment(payload)?;
    let claims = check_claims(&payload, check)?;
    verifier
        .verify_sig(signing_input.as_bytes(), &segment(signature)?)
        .map_err(|_| ProofError::Signature)?;
    let jkt = thumbprint.encoded();
    let remember_until = (claims.iat.ceil() as u64)
        .saturating_add(check.iat_offset.as_secs())
        .saturating_add(check.iat_leeway.as_secs())
        // A fraction of a second in either duration counts as a whole one.
        .saturating_add(u64::from(check.iat_offset.subsec_nanos() > 0))
        .saturating_add(u64::from(check.iat_leeway.subsec_nanos() > 0));
    Ok(CheckedProof {
        replay_key: replay_key(&jkt, &claims.jti),
        jkt,
        remember_until,
        nonce: claims.nonce,
    })
}

/// SHA-256 over the thumbprint and the `jti`, each length-prefixed so no two pairs share an
/// encoding: the same `jti` under two keys is two proofs.
fn replay_key(jkt: &str, jti: &str) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for field in [jkt, jti] {
        context.update(&(field.len() as u64).to_be_bytes());
        context.update(field.as_bytes());
    }
    let mut key = [0; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

/// The RFC 7638 SHA-256 thumbprint, base64url, of a public JWK given as JSON (RSA, EC or OKP):
/// its required members only, in lexicographic order, without whitespace. Refused as a proof
/// key would be: a missing or non-canonical member, an unknown `kty` or curve, private members.
pub fn thumbprint(jwk: &serde_json::Value) -> Result<String, ProofError> {
    jwk::thumbprint_of(jwk)
}
