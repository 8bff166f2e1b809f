//! DPoP proofs checked one rule at a time, with real keys of every allowed algorithm: each
//! refusal starts from a valid proof and breaks exactly one thing.
//!
//! [`ProofKey`] makes and signs proofs with aws-lc; the api's DPoP tests build on it too.

use std::time::Duration;

use api::auth::dpop::{
    ALGORITHMS, CheckedProof, DpopNonces, MAX_JTI_BYTES, MAX_PROOF_BYTES, MIN_NONCE_SECRET_BYTES,
    NonceStatus, ProofCheck, ProofError, check_proof, thumbprint,
};
use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::helpers::TestKey;

/// A key a client proves possession of, for one proof algorithm.
pub enum ProofKey {
    /// ES256, ES256K, ES384 or ES512.
    Ecdsa {
        alg: &'static str,
        crv: &'static str,
        pair: EcdsaKeyPair,
    },
    /// EdDSA (Ed25519).
    Ed25519(Ed25519KeyPair),
    /// RS256 to PS512, with a committed test key.
    Rsa {
        alg: &'static str,
        padding: &'static dyn signature::RsaEncoding,
        pair: RsaKeyPair,
        jwk: Value,
    },
}

impl std::fmt::Debug for ProofKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a key for {}", self.alg())
    }
}

/// The committed test key's private half, for aws-lc (PKCS #1 DER in PEM armour).
fn rsa_pair(name: &str) -> RsaKeyPair {
    let path = format!(
        "{}/tests/data/test-key-{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    RsaKeyPair::from_der(&STANDARD.decode(body).expect("PEM body")).expect("PKCS #1 key")
}

/// The public members of a committed test key's JWK: what a client would put in `jwk`.
fn rsa_jwk(key: &TestKey) -> Value {
    let jwk = key.jwk();
    json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]})
}

impl ProofKey {
    /// A fresh key for `alg` (the primary committed key for RSA).
    pub fn new(alg: &str) -> ProofKey {
        Self::with_rsa_key(alg, "primary")
    }

    /// A key for `alg` other than [`ProofKey::new`]'s: fresh again, or the secondary RSA key.
    pub fn other(alg: &str) -> ProofKey {
        Self::with_rsa_key(alg, "secondary")
    }

    fn with_rsa_key(alg: &str, rsa_name: &str) -> ProofKey {
        let ecdsa = |alg, crv, signing| ProofKey::Ecdsa {
            alg,
            crv,
            pair: EcdsaKeyPair::generate(signing).expect("EC key"),
        };
        let rsa = |alg, padding| ProofKey::Rsa {
            alg,
            padding,
            pair: rsa_pair(rsa_name),
            jwk: rsa_jwk(if rsa_name == "primary" {
                TestKey::primary()
            } else {
                TestKey::secondary()
            }),
        };
        match alg {
            "ES256" => ecdsa(
                "ES256",
                "P-256",
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
            "ES256K" => ecdsa(
                "ES256K",
                "secp256k1",
                &signature::ECDSA_P256K1_SHA256_FIXED_SIGNING,
            ),
            "ES384" => ecdsa(
                "ES384",
                "P-384",
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
            "ES512" => ecdsa(
                "ES512",
                "P-521",
                &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            ),
            "EdDSA" => ProofKey::Ed25519(Ed25519KeyPair::generate().expect("Ed25519 key")),
            "RS256" => rsa("RS256", &signature::RSA_PKCS1_SHA256),
            "RS384" => rsa("RS384", &signature::RSA_PKCS1_SHA384),
            "RS512" => rsa("RS512", &signature::RSA_PKCS1_SHA512),
            "PS256" => rsa("PS256", &signature::RSA_PSS_SHA256),
            "PS384" => rsa("PS384", &signature::RSA_PSS_SHA384),
            "PS512" => rsa("PS512", &signature::RSA_PSS_SHA512),
            other => panic!("no proof key for {other}"),
        }
    }

    /// The `alg` this key signs with.
    pub fn alg(&self) -> &'static str {
        match self {
            ProofKey::Ecdsa { alg, .. } | ProofKey::Rsa { alg, .. } => alg,
            ProofKey::Ed25519(_) => "EdDSA",
        }
    }

    /// The public JWK, required members only.
    pub fn jwk(&self) -> Value {
        match self {
            ProofKey::Ecdsa { crv, pair, .. } => {
                // An uncompressed point: 0x04, then x and y at equal length.
                let point = &pair.public_key().as_ref()[1..];
                let (x, y) = point.split_at(point.len() / 2);
                json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)})
            }
            ProofKey::Ed25519(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
            ProofKey::Rsa { jwk, .. } => jwk.clone(),
        }
    }

    /// The key's RFC 7638 thumbprint, as the api computes it.
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.jwk()).expect("a public key has a thumbprint")
    }

    /// The header a client sends: `typ`, `alg` and this key.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk()})
    }

    /// Signs `header` and `payload` exactly as given.
    pub fn sign_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let signature = match self {
            ProofKey::Ecdsa { pair, .. } => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("ECDSA signature")
                .as_ref()
                .to_vec(),
            ProofKey::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
            ProofKey::Rsa { padding, pair, .. } => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    *padding,
                    &SystemRandom::new(),
                    input.as_bytes(),
                    &mut signature,
                )
                .expect("RSA signature");
                signature
            }
        };
        format!("{input}.{}", b64(&signature))
    }

    /// Signs `header` and `claims` as JSON.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// A valid proof for `method` on `url` with `token`, made at `iat`, with a fresh `jti`.
    pub fn proof(&self, method: &str, url: &str, token: &str, iat: u64) -> String {
        self.sign(&self.header(), &claims(method, url, token, iat))
    }
}

/// A proof's claims, with a random `jti`.
pub fn claims(method: &str, url: &str, token: &str, iat: u64) -> Value {
    let mut jti = [0; 16];
    aws_lc_rs::rand::fill(&mut jti).expect("random jti");
    json!({"jti": b64(&jti), "htm": method, "htu": url, "iat": iat, "ath": ath(token)})
}

/// base64url(SHA-256(token)): the `ath` for `token`.
pub fn ath(token: &str) -> String {
    b64(digest::digest(&digest::SHA256, token.as_bytes()).as_ref())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

const NOW: u64 = 1_750_000_000;
const URL: &str = "https://api.example.com/api/private";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";

/// What the request says: GET on [`URL`] with [`TOKEN`] at [`NOW`], the default window.
fn request() -> ProofCheck<'static> {
    ProofCheck {
        method: "GET",
        url: URL,
        access_token: TOKEN,
        now: NOW,
        iat_offset: Duration::from_secs(300),
        iat_leeway: Duration::from_secs(30),
        nonces: None,
    }
}

fn check(proof: &str) -> Result<CheckedProof, ProofError> {
    check_proof(proof, &request())
}

/// The claims of a valid proof for [`request`].
fn valid_claims() -> Value {
    claims("GET", URL, TOKEN, NOW)
}

/// `key`'s proof with `edit` applied to a valid header and claims.
fn edited(key: &ProofKey, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
    let (mut header, mut claims) = (key.header(), valid_claims());
    edit(&mut header, &mut claims);
    key.sign(&header, &claims)
}

/// Sets `member` of `object` to `value`, or removes it when `value` is null.
fn set(object: &mut Value, member: &str, value: &Value) {
    let members = object.as_object_mut().expect("an object");
    match value {
        Value::Null => drop(members.remove(member)),
        value => drop(members.insert(member.to_owned(), value.clone())),
    }
}

/// Which part of a proof a test edits.
#[derive(Debug, Clone, Copy)]
enum Part {
    Header,
    Claims,
}

/// Asserts that an ES256 proof whose `member` of `part` is set to each of `values` in turn
/// (null: removed) is refused with `refusal`.
fn assert_each_refused(part: Part, member: &str, values: &[Value], refusal: ProofError) {
    for value in values {
        let proof = check_edited(|header, claims| match part {
            Part::Header => set(header, member, value),
            Part::Claims => set(claims, member, value),
        });
        assert_eq!(proof, Err(refusal), "{part:?} {member}: {value}");
    }
}

/// Checks an ES256 proof edited by `edit`.
fn check_edited(edit: impl FnOnce(&mut Value, &mut Value)) -> Result<CheckedProof, ProofError> {
    check(&edited(&ProofKey::new("ES256"), edit))
}

#[test]
fn a_valid_proof_is_accepted_for_every_algorithm() {
    for alg in ALGORITHMS {
        let key = ProofKey::new(alg);
        let checked = check(&key.proof("GET", URL, TOKEN, NOW)).unwrap_or_else(|error| {
            panic!("{alg}: {error}");
        });
        assert_eq!(checked.jkt, key.thumbprint(), "{alg}");
        assert_eq!(checked.jkt.len(), 43, "{alg}: base64url of 32 bytes");
        assert_eq!(checked.remember_until, NOW + 330, "{alg}");
    }
}

#[test]
fn the_thumbprint_is_rfc_7638s_example() {
    // RFC 7638 §3.1: the example RSA key (with `alg` and `kid`, which the thumbprint ignores).
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    assert_eq!(
        thumbprint(&jwk).as_deref(),
        Ok("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
}

#[test]
fn the_thumbprint_reads_only_the_required_members_in_order() {
    let key = ProofKey::new("ES256");
    let mut jwk = key.jwk();
    jwk["kid"] = json!("k1");
    jwk["use"] = json!("sig");
    assert_eq!(thumbprint(&jwk), Ok(key.thumbprint()));
    let Value::Object(members) = key.jwk() else {
        panic!("a JWK is an object");
    };
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        members["x"].as_str().expect("x"),
        members["y"].as_str().expect("y")
    );
    assert_eq!(
        key.thumbprint(),
        b64(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
}

#[test]
fn the_replay_key_is_one_per_key_and_jti() {
    let key = ProofKey::new("ES256");
    let claims = valid_claims();
    let first = check(&key.sign(&key.header(), &claims)).expect("valid");
    let again = check(&key.sign(&key.header(), &claims)).expect("valid");
    assert_eq!(
        first.replay_key, again.replay_key,
        "the same jti, the same key"
    );
    let fresh = check(&key.proof("GET", URL, TOKEN, NOW)).expect("valid");
    assert_ne!(first.replay_key, fresh.replay_key, "another jti");
    let other = ProofKey::other("ES256");
    let elsewhere = check(&other.sign(&other.header(), &claims)).expect("valid");
    assert_ne!(
        first.replay_key, elsewhere.replay_key,
        "the same jti, another key"
    );
}

#[test]
fn the_replay_memory_lasts_until_the_window_closes() {
    let checked = check_edited(|_, claims| claims["iat"] = json!(NOW - 100)).expect("valid");
    assert_eq!(checked.remember_until, NOW - 100 + 330);
    let fraction = check_edited(|_, claims| claims["iat"] = json!(NOW as f64 - 0.5)).expect("ok");
    assert_eq!(fraction.remember_until, NOW + 330, "a fraction rounds up");
}

#[test]
fn an_oversized_proof_is_refused_unread() {
    let padding = "x".repeat(MAX_PROOF_BYTES);
    let proof = check_edited(|_, claims| claims["pad"] = json!(padding));
    assert_eq!(proof, Err(ProofError::TooLarge));
}

#[test]
fn anything_but_three_canonical_segments_is_malformed() {
    let key = ProofKey::new("ES256");
    let proof = key.proof("GET", URL, TOKEN, NOW);
    let (header, rest) = proof.split_once('.').expect("dots");
    let (payload, signature) = rest.split_once('.').expect("dots");
    for broken in [
        String::new(),
        "a.b".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.x"),
        format!("{header}.{payload}."),
        format!(".{payload}.{signature}"),
        format!("{header}..{signature}"),
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!("{header}.{payload}+.{signature}"),
        // A character outside base64url, whatever the signature's own characters are.
        format!("{header}.{payload}.{}/", &signature[..signature.len() - 1]),
    ] {
        assert_eq!(check(&broken), Err(ProofError::Malformed), "{broken}");
    }
}

#[test]
fn a_header_that_is_not_strict_json_is_refused() {
    let key = ProofKey::new("ES256");
    let jwk = key.jwk().to_string();
    let payload = valid_claims().to_string();
    for (header, description) in [
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk},"alg":"ES256"}}"#),
            "Protected Header must be a JSON object without duplicate members",
        ),
        (
            format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, {
                let mut jwk = jwk.clone();
                jwk.insert_str(1, r#""kty":"EC","#);
                jwk
            }),
            "Protected Header must be a JSON object without duplicate members",
        ),
        ("[]".to_owned(), "DPoP proof header is not a JSON object"),
        ("{".to_owned(), "DPoP proof header is not a JSON object"),
    ] {
        let proof = key.sign_bytes(header.as_bytes(), payload.as_bytes());
        assert_eq!(
            check(&proof),
            Err(ProofError::Header(description)),
            "{header}"
        );
    }
}

#[test]
fn a_payload_that_is_not_strict_json_is_refused() {
    let key = ProofKey::new("ES256");
    let header = key.header().to_string();
    let valid = valid_claims().to_string();
    let duplicate = format!(r#"{},"iat":0}}"#, valid.trim_end_matches('}'));
    for (payload, description) in [
        (
            duplicate.as_str(),
            "JWT Claims Set must be a JSON object without duplicate members",
        ),
        ("[1]", "JWT Claims Set must be a JSON object"),
        ("{", "JWT Claims Set is not valid JSON"),
    ] {
        let proof = key.sign_bytes(header.as_bytes(), payload.as_bytes());
        assert_eq!(
            check(&proof),
            Err(ProofError::Payload(description)),
            "{payload}"
        );
    }
}

#[test]
fn typ_must_be_exactly_dpop_jwt() {
    assert_each_refused(
        Part::Header,
        "typ",
        &[
            Value::Null,
            json!("JWT"),
            json!("at+jwt"),
            json!("DPoP+jwt"),
            json!("application/dpop+jwt"),
            json!(["dpop+jwt"]),
        ],
        ProofError::Type,
    );
}

#[test]
fn alg_must_be_on_the_allow_list() {
    assert_each_refused(
        Part::Header,
        "alg",
        &[
            Value::Null,
            json!("none"),
            json!("HS256"),
            json!("es256"),
            json!("Ed25519"),
            json!("ES256X"),
            json!(256),
        ],
        ProofError::Algorithm,
    );
}

#[test]
fn crit_and_parameters_that_change_the_jws_are_refused() {
    for (member, value, refusal) in [
        ("crit", json!(["exp"]), ProofError::CriticalHeader),
        ("crit", json!([]), ProofError::CriticalHeader),
        ("b64", json!(false), ProofError::UnsupportedHeader),
        ("enc", json!("A128GCM"), ProofError::UnsupportedHeader),
        ("zip", json!("DEF"), ProofError::UnsupportedHeader),
    ] {
        let proof = check_edited(|header, _| header[member] = value);
        assert_eq!(proof, Err(refusal), "{member}");
    }
}

#[test]
fn a_key_by_reference_is_refused() {
    for (member, value) in [
        ("jku", json!("https://attacker.example/jwks")),
        ("x5u", json!("https://attacker.example/cert")),
        ("x5c", json!(["MIIB"])),
    ] {
        let proof = check_edited(|header, _| header[member] = value);
        assert_eq!(proof, Err(ProofError::KeyByReference), "{member}");
    }
}

#[test]
fn a_kid_is_ignored() {
    assert!(check_edited(|header, _| header["kid"] = json!("some-key")).is_ok());
}

#[test]
fn the_key_must_be_a_jwk_object() {
    let missing = check_edited(|header, _| {
        header.as_object_mut().expect("object").remove("jwk");
    });
    assert_eq!(missing, Err(ProofError::MissingJwk));
    for jwk in [json!("eyJrdHkiOiJFQyJ9"), json!(null), json!([])] {
        let proof = check_edited(|header, _| header["jwk"] = jwk.clone());
        assert_eq!(proof, Err(ProofError::InvalidJwk), "{jwk}");
    }
}

#[test]
fn a_private_key_is_refused() {
    let ec = ProofKey::new("ES256");
    let rsa = ProofKey::new("RS256");
    for (key, member) in [
        (&ec, "d"),
        (&ec, "k"),
        (&rsa, "d"),
        (&rsa, "p"),
        (&rsa, "q"),
        (&rsa, "dp"),
        (&rsa, "dq"),
        (&rsa, "qi"),
        (&rsa, "oth"),
    ] {
        let proof = edited(key, |header, _| header["jwk"][member] = json!("AQAB"));
        assert_eq!(check(&proof), Err(ProofError::PrivateKey), "{member}");
    }
}

/// An ES256 key's JWK edited by `edit`, in an otherwise valid proof.
fn with_jwk(edit: impl FnOnce(&mut Value)) -> Result<CheckedProof, ProofError> {
    check_edited(|header, _| edit(&mut header["jwk"]))
}

#[test]
fn a_jwk_that_is_not_a_canonical_public_key_is_refused() {
    for (member, value) in [
        ("kty", Value::Null),
        ("kty", json!("oct")),
        ("kty", json!("ec")),
        ("crv", Value::Null),
        ("crv", json!("P-256K")),
        ("crv", json!("p-256")),
        ("x", Value::Null),
        ("y", Value::Null),
        ("x", json!(1)),
    ] {
        assert_eq!(
            with_jwk(|jwk| set(jwk, member, &value)),
            Err(ProofError::InvalidJwk),
            "{member}: {value}"
        );
    }
    let coordinate = |jwk: &Value, member: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[member].as_str().expect("a coordinate"))
            .expect("base64url")
    };
    let padded = with_jwk(|jwk| jwk["x"] = json!(format!("{}=", jwk["x"].as_str().expect("x"))));
    assert_eq!(padded, Err(ProofError::InvalidJwk), "x padded");
    let short = with_jwk(|jwk| jwk["x"] = json!(b64(&coordinate(jwk, "x")[1..])));
    assert_eq!(short, Err(ProofError::InvalidJwk), "x one byte short");
    let off_curve = with_jwk(|jwk| {
        let mut y = coordinate(jwk, "y");
        y[31] ^= 1;
        jwk["y"] = json!(b64(&y));
    });
    assert_eq!(
        off_curve,
        Err(ProofError::InvalidJwk),
        "a point off the curve"
    );
}

#[test]
fn an_okp_key_must_be_a_canonical_ed25519_key() {
    let key = ProofKey::new("EdDSA");
    for edit in [
        json!({"crv": "X25519"}),
        json!({"crv": "Ed448"}),
        json!({"x": b64(&[7; 31])}),
        json!({"x": b64(&[7; 33])}),
    ] {
        let proof = edited(&key, |header, _| {
            for (member, value) in edit.as_object().expect("object") {
                header["jwk"][member] = value.clone();
            }
        });
        assert_eq!(check(&proof), Err(ProofError::InvalidJwk), "{edit}");
    }
}

#[test]
fn an_rsa_key_must_be_canonical() {
    let key = ProofKey::new("RS256");
    let n = URL_SAFE_NO_PAD
        .decode(key.jwk()["n"].as_str().expect("n"))
        .expect("b64");
    for (member, value) in [
        ("n", b64(&[&[0][..], &n].concat())),
        ("e", b64(&[0, 1, 0, 1])),
        ("e", String::new()),
        ("e", b64(&[2])),
    ] {
        let proof = edited(&key, |header, _| header["jwk"][member] = json!(value));
        assert_eq!(
            check(&proof),
            Err(ProofError::InvalidJwk),
            "{member} {value}"
        );
    }
}

#[test]
fn the_key_type_and_curve_must_match_alg() {
    for (alg, key) in [
        ("ES256", "ES384"),
        ("ES384", "ES256"),
        ("ES512", "ES384"),
        ("ES256K", "ES256"),
        ("ES256", "ES256K"),
        ("ES256", "RS256"),
        ("RS256", "ES256"),
        ("PS256", "EdDSA"),
        ("EdDSA", "ES256"),
    ] {
        let key = ProofKey::new(key);
        let proof = edited(&key, |header, _| header["alg"] = json!(alg));
        assert_eq!(
            check(&proof),
            Err(ProofError::KeyMismatch),
            "{alg} with {key:?}"
        );
    }
}

#[test]
fn an_rsa_key_under_2048_bits_is_refused() {
    let weak = TestKey::weak().jwk();
    let proof = check_edited(|header, _| {
        header["alg"] = json!("RS256");
        header["jwk"] = json!({"kty": "RSA", "n": weak["n"], "e": weak["e"]});
    });
    assert_eq!(proof, Err(ProofError::RsaKeySize));
}

#[test]
fn a_signature_by_another_key_or_over_other_bytes_is_refused() {
    for alg in ALGORITHMS {
        let (key, other) = (ProofKey::new(alg), ProofKey::other(alg));
        let signed_by_other = other.proof("GET", URL, TOKEN, NOW);
        let (_, signature) = signed_by_other.rsplit_once('.').expect("dots");
        let proof = key.proof("GET", URL, TOKEN, NOW);
        let (input, _) = proof.rsplit_once('.').expect("dots");
        assert_eq!(
            check(&format!("{input}.{signature}")),
            Err(ProofError::Signature),
            "{alg}"
        );
    }
    let key = ProofKey::new("ES256");
    let proof = key.proof("GET", URL, TOKEN, NOW);
    let (header, rest) = proof.split_once('.').expect("dots");
    let (_, signature) = rest.split_once('.').expect("dots");
    let other_claims = b64(valid_claims().to_string().as_bytes());
    assert_eq!(
        check(&format!("{header}.{other_claims}.{signature}")),
        Err(ProofError::Signature),
        "a signature over other claims"
    );
}

#[test]
fn jti_must_be_a_short_non_empty_string() {
    let longest = "j".repeat(MAX_JTI_BYTES);
    assert!(check_edited(|_, claims| claims["jti"] = json!(longest)).is_ok());
    assert_each_refused(
        Part::Claims,
        "jti",
        &[
            Value::Null,
            json!(""),
            json!("j".repeat(MAX_JTI_BYTES + 1)),
            json!(12345),
            json!(["a"]),
        ],
        ProofError::Jti,
    );
}

#[test]
fn htm_must_be_the_request_method_exactly() {
    assert_each_refused(
        Part::Claims,
        "htm",
        &[
            Value::Null,
            json!("POST"),
            json!("get"),
            json!("GET "),
            json!(1),
        ],
        ProofError::Htm,
    );
}

#[test]
fn htu_is_compared_in_normal_form_without_query_and_fragment() {
    for htu in [
        "https://api.example.com/api/private",
        "HTTPS://API.EXAMPLE.COM/api/private",
        "https://api.example.com:443/api/private",
        "https://api.example.com/api/private?x=1",
        "https://api.example.com/api/private#top",
        "https://api.example.com/%61pi/privat%65",
    ] {
        let proof = check_edited(|_, claims| claims["htu"] = json!(htu));
        assert!(proof.is_ok(), "{htu}: {proof:?}");
    }
}

#[test]
fn htu_must_name_the_request_url() {
    assert_each_refused(
        Part::Claims,
        "htu",
        &[
            Value::Null,
            json!(7),
            json!("https://api.example.com/api/public"),
            json!("https://api.example.com/api/private/"),
            json!("https://api.example.com/API/private"),
            json!("http://api.example.com/api/private"),
            json!("https://api.example.com:8443/api/private"),
            json!("https://other.example.com/api/private"),
            json!("https://api.example.com/api%2Fprivate"),
        ],
        ProofError::Htu,
    );
    assert_each_refused(
        Part::Claims,
        "htu",
        &[
            json!("/api/private"),
            json!("api.example.com/api/private"),
            json!("https://a/%zz"),
        ],
        ProofError::InvalidHtu,
    );
}

#[test]
fn a_request_url_that_cannot_be_normalised_matches_no_proof() {
    let key = ProofKey::new("ES256");
    let proof = key.proof("GET", "/api/private", TOKEN, NOW);
    let check = ProofCheck {
        url: "/api/private",
        ..request()
    };
    assert_eq!(check_proof(&proof, &check), Err(ProofError::InvalidHtu));
    let proof = key.proof("GET", URL, TOKEN, NOW);
    assert_eq!(check_proof(&proof, &check), Err(ProofError::Htu));
}

#[test]
fn iat_must_be_a_number_within_the_window() {
    for iat in [NOW - 300, NOW, NOW + 30] {
        assert!(
            check_edited(|_, claims| claims["iat"] = json!(iat)).is_ok(),
            "{iat}"
        );
    }
    assert_each_refused(
        Part::Claims,
        "iat",
        &[Value::Null, json!(NOW.to_string()), json!([NOW])],
        ProofError::Iat,
    );
    assert_each_refused(
        Part::Claims,
        "iat",
        &[
            json!(NOW - 301),
            json!(NOW as f64 - 300.5),
            json!(NOW + 31),
            json!(NOW as f64 + 30.5),
            json!(0),
            json!(-1),
            json!(1e300),
        ],
        ProofError::IatOutsideWindow,
    );
}

#[test]
fn the_window_follows_the_configured_offset_and_leeway() {
    let key = ProofKey::new("ES256");
    let narrow = ProofCheck {
        iat_offset: Duration::from_secs(10),
        iat_leeway: Duration::ZERO,
        ..request()
    };
    let at = |iat| check_proof(&key.proof("GET", URL, TOKEN, iat), &narrow);
    assert!(at(NOW - 10).is_ok());
    assert_eq!(at(NOW - 11), Err(ProofError::IatOutsideWindow));
    assert_eq!(at(NOW + 1), Err(ProofError::IatOutsideWindow));
    assert_eq!(at(NOW).map(|proof| proof.remember_until), Ok(NOW + 10));
}

#[test]
fn ath_must_hash_the_presented_token() {
    assert_each_refused(
        Part::Claims,
        "ath",
        &[
            Value::Null,
            json!(ath("another.token.value")),
            json!(ath(TOKEN).to_lowercase()),
            json!(format!("{}=", ath(TOKEN))),
            json!(7),
        ],
        ProofError::Ath,
    );
}

/// Nonces keyed with a fixed secret, in one-minute windows.
fn nonces_keyed(secret: u8) -> DpopNonces {
    DpopNonces::new(&[secret; MIN_NONCE_SECRET_BYTES], Duration::from_secs(60))
        .expect("a valid nonce setting")
}

#[test]
fn with_nonces_on_a_proof_must_carry_a_current_one() {
    let nonces = nonces_keyed(7);
    let with_nonces = ProofCheck {
        nonces: Some(&nonces),
        ..request()
    };
    let with_nonce = |nonce: Value| {
        let key = ProofKey::new("ES256");
        let mut claims = valid_claims();
        claims["nonce"] = nonce;
        check_proof(&key.sign(&key.header(), &claims), &with_nonces)
    };
    let current = with_nonce(json!(nonces.current(NOW))).expect("the current nonce");
    assert_eq!(current.nonce, Some(NonceStatus::Current));
    let stale = with_nonce(json!(nonces.current(NOW - 60))).expect("the last window's nonce");
    assert_eq!(stale.nonce, Some(NonceStatus::Stale));
    let missing = check_proof(
        &ProofKey::new("ES256").proof("GET", URL, TOKEN, NOW),
        &with_nonces,
    );
    assert_eq!(missing, Err(ProofError::NonceMissing));
    assert_eq!(with_nonce(json!(7)), Err(ProofError::NonceMissing));
    for refused in [
        json!(nonces.current(NOW - 120)),
        json!(nonces.current(NOW + 120)),
        json!(nonces_keyed(8).current(NOW)),
        json!("server-nonce"),
        json!(""),
    ] {
        assert_eq!(
            with_nonce(refused.clone()),
            Err(ProofError::NonceInvalid),
            "{refused}"
        );
    }
    assert!(ProofError::NonceMissing.wants_nonce() && ProofError::NonceInvalid.wants_nonce());
    assert!(!ProofError::Ath.wants_nonce());
}

#[test]
fn a_proof_wrong_in_another_way_is_told_so_before_the_nonce_is_asked_for() {
    let nonces = nonces_keyed(7);
    let with_nonces = ProofCheck {
        nonces: Some(&nonces),
        ..request()
    };
    let key = ProofKey::new("ES256");
    let mut claims = valid_claims();
    claims["ath"] = json!(ath("another.token.value"));
    assert_eq!(
        check_proof(&key.sign(&key.header(), &claims), &with_nonces),
        Err(ProofError::Ath)
    );
    // A bad signature is checked last: a proof without a nonce asks for one first, and one
    // with a current nonce is refused for its signature.
    let unsigned = |claims: &Value| {
        let proof = key.sign(&key.header(), claims);
        let (signing_input, _) = proof.rsplit_once('.').unwrap();
        format!("{signing_input}.{}", b64(&[1; 64]))
    };
    assert_eq!(
        check_proof(&unsigned(&valid_claims()), &with_nonces),
        Err(ProofError::NonceMissing)
    );
    let mut claims = valid_claims();
    claims["nonce"] = json!(nonces.current(NOW));
    assert_eq!(
        check_proof(&unsigned(&claims), &with_nonces),
        Err(ProofError::Signature)
    );
}

#[test]
fn without_nonces_a_proofs_nonce_and_other_claims_are_ignored() {
    let proof = check_edited(|_, claims| {
        claims["nonce"] = json!("server-nonce");
        claims["extra"] = json!({"nested": [1, 2]});
    });
    assert!(proof.is_ok(), "{proof:?}");
}

#[test]
fn no_description_echoes_the_proof() {
    // Every refusal's words are fixed: a proof full of a marker never gets it back.
    let marker = "ECHO-MARKER";
    let proofs = [
        check_edited(|header, _| header["typ"] = json!(marker)),
        check_edited(|header, _| header["alg"] = json!(marker)),
        check_edited(|_, claims| claims["htu"] = json!(format!("https://{marker}/"))),
        check_edited(|_, claims| claims["htm"] = json!(marker)),
        check(&format!("{marker}.{marker}.{marker}")),
    ];
    for refusal in proofs {
        let description = refusal.expect_err("refused").to_string();
        assert!(!description.contains(marker), "{description}");
        assert!(description.starts_with("DPoP proof "), "{description}");
    }
}
