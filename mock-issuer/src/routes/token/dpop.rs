//! The `DPoP` header of a request (RFC 9449 §4.3): the proof is checked here, independently of
//! the API's verifier (jsonwebtoken here, aws-lc-rs there), and a valid one yields the RFC 7638
//! thumbprint of its key. The token endpoint binds the tokens it issues to that key; `/userinfo`
//! compares it with the `cnf.jkt` of the token it is shown (`check_proof`, `ProofTarget`).
//!
//! Checked in order: exactly one header; a compact JWS; `typ` `dpop+jwt`; `alg` one of
//! [`ALGORITHMS`]; `jwk` a public key of that algorithm's type (no private member, a matching
//! `alg` if it has one); the signature by that key; `jti`; `htm` the request's method (`POST`
//! here); `htu` the endpoint (normalised, [`crate::oauth::dpop::htu`]); `iat` within
//! [now − 300 s, now + 30 s] (the API's defaults); `ath`: none at the token endpoint (no access
//! token is presented there), the token's hash where one is; and last the `jti`, once per key
//! ([`SeenProofs`], shared by every endpoint). At the token endpoint any failure is
//! `400 invalid_dpop_proof`, as Auth0 answers. A `nonce` claim is ignored: the mock asks for none.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

pub(in crate::routes) use super::refusal::DpopProblem;
use super::refusal::Refusal;
use crate::login::SeenProofs;
use crate::oauth::dpop::{PROOF_TYPE, access_token_hash, htu};
use crate::token::unix_now;

/// The proof `alg`s the mock verifies: those of the API's allow-list that jsonwebtoken supports
/// (not ES256K, ES512, nor Ed448), in the order discovery lists them.
pub(in crate::routes) const ALGORITHMS: &[(&str, Algorithm)] = &[
    ("ES256", Algorithm::ES256),
    ("ES384", Algorithm::ES384),
    ("EdDSA", Algorithm::EdDSA),
    ("RS256", Algorithm::RS256),
    ("RS384", Algorithm::RS384),
    ("RS512", Algorithm::RS512),
    ("PS256", Algorithm::PS256),
    ("PS384", Algorithm::PS384),
    ("PS512", Algorithm::PS512),
];

/// How old a proof's `iat` may be, in seconds.
const IAT_MAX_AGE: u64 = 300;
/// How far in the future a proof's `iat` may be (clock skew), in seconds.
const IAT_LEEWAY: u64 = 30;
/// JWK members that only a private or symmetric key has (RFC 7518 §6).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A valid proof: the key the tokens it earns are bound to.
#[derive(Debug)]
pub(super) struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the proof's `jwk`, base64url.
    pub jkt: String,
}

/// The request a proof must name.
#[derive(Debug, Clone, Copy)]
pub(in crate::routes) struct ProofTarget<'a> {
    /// `htm`: the request's method, compared exactly.
    pub method: &'a str,
    /// `htu`: the endpoint's URL, compared normalised.
    pub url: &'a str,
    /// The access token the request presents: the proof's `ath` must hash it. `None` (the token
    /// endpoint): the proof must have no `ath`.
    pub access_token: Option<&'a str>,
}

/// A proof that passed every rule but its single use, which [`CheckedProof::first_use`] records
/// once the caller's own checks (e.g. the token's binding) have passed too.
#[derive(Debug)]
pub(in crate::routes) struct CheckedProof {
    /// RFC 7638 SHA-256 thumbprint of the proof's `jwk`, base64url.
    pub jkt: String,
    /// SHA-256 of the thumbprint and the `jti`: what [`SeenProofs`] remembers.
    replay_key: [u8; 32],
    /// When the proof's `iat` window closes (Unix seconds).
    remember_until: u64,
}

impl CheckedProof {
    /// Records the proof in `seen` at `now`: [`DpopProblem::Replayed`] if its key and `jti` were
    /// used before, [`DpopProblem::TooManyProofs`] if `seen` is full.
    pub(in crate::routes) fn first_use(
        self,
        seen: &SeenProofs,
        now: u64,
    ) -> Result<String, DpopProblem> {
        let first = seen
            .first_use(self.replay_key, self.remember_until, now)
            .map_err(|_| DpopProblem::TooManyProofs)?;
        if first {
            Ok(self.jkt)
        } else {
            Err(DpopProblem::Replayed)
        }
    }
}

/// The request's proof, checked for the token endpoint `endpoint` and recorded in `seen`; `None`
/// without a `DPoP` header.
pub(super) fn check(
    headers: &HeaderMap,
    endpoint: &str,
    seen: &SeenProofs,
) -> Result<Option<Proof>, Refusal> {
    let Some(proof) = proof_header(headers).map_err(Refusal::Dpop)? else {
        return Ok(None);
    };
    let target = ProofTarget {
        method: "POST",
        url: endpoint,
        access_token: None,
    };
    let now = unix_now();
    let jkt = check_proof(proof, target, now)
        .and_then(|checked| checked.first_use(seen, now))
        .map_err(Refusal::Dpop)?;
    Ok(Some(Proof { jkt }))
}

/// The request's one `DPoP` header; `None` without one.
pub(in crate::routes) fn proof_header(headers: &HeaderMap) -> Result<Option<&str>, DpopProblem> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(DpopProblem::TwoHeaders);
    }
    value.to_str().map(Some).map_err(|_| DpopProblem::Malformed)
}

/// Checks `proof` for a request to `target` at `now`, every rule but its single use.
pub(in crate::routes) fn check_proof(
    proof: &str,
    target: ProofTarget<'_>,
    now: u64,
) -> Result<CheckedProof, DpopProblem> {
    let mut parts = proof.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DpopProblem::Malformed);
    };
    let header_json = json_object(header)?;
    let (algorithm, jwk) = check_header(&header_json)?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|_| DpopProblem::Key)?;
    crate::install_crypto_provider();
    let message = &proof[..header.len() + 1 + payload.len()];
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, algorithm) {
        Ok(true) => {}
        _ => return Err(DpopProblem::Signature),
    }
    let claims = json_object(payload)?;
    let (jti, iat) = check_claims(&claims, target, now)?;
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| DpopProblem::Key)?;
    let replay_key = Sha256::new()
        .chain_update(jkt.as_bytes())
        .chain_update([0])
        .chain_update(jti.as_bytes())
        .finalize();
    Ok(CheckedProof {
        jkt,
        replay_key: replay_key.into(),
        remember_until: iat + IAT_MAX_AGE + IAT_LEEWAY,
    })
}

/// A base64url JWS part that holds a JSON object.
fn json_object(part: &str) -> Result<Map<String, Value>, DpopProblem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| DpopProblem::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| DpopProblem::Malformed)
}

/// `typ`, `alg` and `jwk`: the algorithm and the public key that must have signed the proof.
fn check_header(header: &Map<String, Value>) -> Result<(Algorithm, Jwk), DpopProblem> {
    let typ = header.get("typ").and_then(Value::as_str);
    if !typ.is_some_and(|typ| typ.eq_ignore_ascii_case(PROOF_TYPE)) {
        return Err(DpopProblem::Type);
    }
    let alg = header.get("alg").and_then(Value::as_str);
    let (name, algorithm) = ALGORITHMS
        .iter()
        .find(|(name, _)| Some(*name) == alg)
        .ok_or(DpopProblem::Algorithm)?;
    let jwk = header
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or(DpopProblem::Key)?;
    let private = PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m));
    let other_alg = jwk.get("alg").is_some_and(|a| a != name);
    if private || other_alg {
        return Err(DpopProblem::Key);
    }
    let jwk: Jwk =
        serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| DpopProblem::Key)?;
    if !key_fits(&jwk.algorithm, *algorithm) {
        return Err(DpopProblem::Key);
    }
    Ok((*algorithm, jwk))
}

/// Whether a key of these parameters signs with `algorithm`.
fn key_fits(key: &AlgorithmParameters, algorithm: Algorithm) -> bool {
    match key {
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, algorithm),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => {
            okp.curve == EllipticCurve::Ed25519 && algorithm == Algorithm::EdDSA
        }
        AlgorithmParameters::RSA(_) => matches!(
            algorithm,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        _ => false,
    }
}

/// `jti`, `htm`, `htu`, `iat` and `ath` against `target`; returns the `jti` and the `iat`.
fn check_claims<'c>(
    claims: &'c Map<String, Value>,
    target: ProofTarget<'_>,
    now: u64,
) -> Result<(&'c str, u64), DpopProblem> {
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|jti| !jti.is_empty())
        .ok_or(DpopProblem::MissingJti)?;
    // RFC 9110 §9.1: methods are case-sensitive.
    if claims.get("htm").and_then(Value::as_str) != Some(target.method) {
        return Err(DpopProblem::Method);
    }
    let presented = claims.get("htu").and_then(Value::as_str).and_then(htu);
    if presented.is_none() || presented != htu(target.url) {
        return Err(DpopProblem::Url);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(DpopProblem::IssuedAt)?;
    if iat.saturating_add(IAT_MAX_AGE) < now || iat > now.saturating_add(IAT_LEEWAY) {
        return Err(DpopProblem::IssuedAt);
    }
    let ath = claims.get("ath").map(Value::as_str);
    let expected = target.access_token.map(access_token_hash);
    if ath != expected.as_deref().map(Some) {
        return Err(DpopProblem::AccessTokenHash);
    }
    Ok((jti, iat))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::oauth::dpop::DpopKey;

    const ENDPOINT: &str = "http://127.0.0.1:4000/oauth/token";

    fn claims(now: u64) -> Value {
        json!({ "jti": "j1", "htm": "POST", "htu": ENDPOINT, "iat": now })
    }

    /// `proof` checked for a `POST` to `endpoint` and recorded in `seen`, as the token endpoint
    /// does: the thumbprint of its key.
    fn verify(
        proof: &str,
        endpoint: &str,
        now: u64,
        seen: &SeenProofs,
    ) -> Result<String, DpopProblem> {
        let target = ProofTarget {
            method: "POST",
            url: endpoint,
            access_token: None,
        };
        check_proof(proof, target, now).and_then(|checked| checked.first_use(seen, now))
    }

    #[test]
    fn a_valid_proof_yields_its_thumbprint_once() {
        let key = DpopKey::generate().unwrap();
        let seen = SeenProofs::default();
        let now = unix_now();
        let proof = key.sign_claims(&claims(now)).unwrap();
        let first = verify(&proof, ENDPOINT, now, &seen).unwrap();
        assert_eq!(first, key.thumbprint());
        assert!(matches!(
            verify(&proof, ENDPOINT, now, &seen),
            Err(DpopProblem::Replayed)
        ));
    }

    #[test]
    fn iat_has_a_window_of_300_s_back_and_30_s_ahead() {
        let key = DpopKey::generate().unwrap();
        let now = unix_now();
        for (offset, ok) in [(-300, true), (-301, false), (30, true), (31, false)] {
            let mut c = claims(now.saturating_add_signed(offset));
            c["jti"] = format!("j{offset}").into();
            let proof = key.sign_claims(&c).unwrap();
            let result = verify(&proof, ENDPOINT, now, &SeenProofs::default());
            assert_eq!(result.is_ok(), ok, "iat offset {offset}: {result:?}");
        }
    }

    #[test]
    fn htu_is_compared_normalised() {
        let key = DpopKey::generate().unwrap();
        let now = unix_now();
        let mut c = claims(now);
        c["htu"] = "HTTP://127.0.0.1:4000/oauth/%74oken?x=1".into();
        let proof = key.sign_claims(&c).unwrap();
        assert!(verify(&proof, ENDPOINT, now, &SeenProofs::default()).is_ok());
        c["htu"] = "http://127.0.0.1:4000/oauth/token/".into();
        let proof = key.sign_claims(&c).unwrap();
        assert!(matches!(
            verify(&proof, ENDPOINT, now, &SeenProofs::default()),
            Err(DpopProblem::Url)
        ));
    }

    #[test]
    fn with_an_access_token_htm_is_the_targets_and_ath_must_hash_the_token() {
        let key = DpopKey::generate().unwrap();
        let now = unix_now();
        let url = "http://127.0.0.1:4000/userinfo";
        let target = ProofTarget {
            method: "GET",
            url,
            access_token: Some("the-token"),
        };
        let proof = |htm: &str, ath: Option<&str>| {
            let mut c = json!({ "jti": "j1", "htm": htm, "htu": url, "iat": now });
            if let Some(ath) = ath {
                c["ath"] = ath.into();
            }
            key.sign_claims(&c).unwrap()
        };
        let ath = access_token_hash("the-token");
        let checked = check_proof(&proof("GET", Some(&ath)), target, now).unwrap();
        assert_eq!(checked.jkt, key.thumbprint());
        let other = access_token_hash("another-token");
        for (htm, ath, expected) in [
            ("POST", Some(ath.as_str()), DpopProblem::Method),
            ("GET", None, DpopProblem::AccessTokenHash),
            ("GET", Some(other.as_str()), DpopProblem::AccessTokenHash),
        ] {
            let refused = check_proof(&proof(htm, ath), target, now).unwrap_err();
            assert_eq!(refused, expected, "htm {htm}, ath {ath:?}");
        }
    }
}
