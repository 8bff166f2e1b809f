//! Wycheproof's ECDSA (fixed-length `r || s`, as JWS signs) and Ed25519 files against the
//! verification keys of `api::auth`: each group's public key goes through `KeySet::parse` as a
//! JWK, and every case through `VerificationKey::verify` with the algorithm of its curve.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ALL, Expect, SignatureCase, Tally, VectorFile, Verdict, b64, key_set, load, unhex, unsigned,
};
use api::auth::{Algorithm, Curve, KeyType};

/// A group of `ecdsa_p1363_verify_schema_v1.json` or `eddsa_verify_schema_v1.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureGroup {
    public_key: PublicKey,
    /// The same key as a JWK; absent for a few ECDSA groups. Cross-checks our conversion.
    public_key_jwk: Option<Value>,
    tests: Vec<SignatureCase>,
}

/// The public key in hex: an EC point's coordinates (possibly with a leading zero byte), or an
/// Ed25519 key.
#[derive(Deserialize)]
struct PublicKey {
    wx: Option<String>,
    wy: Option<String>,
    pk: Option<String>,
}

/// A coordinate at its curve's full length, as RFC 7518 §6.2.1.2 writes it.
fn coordinate(hex: &str, curve: Curve) -> String {
    let bytes = unsigned(hex);
    let length = curve.coordinate_bytes();
    assert!(bytes.len() <= length, "{hex} is longer than the curve");
    let mut padded = vec![0; length - bytes.len()];
    padded.extend(bytes);
    b64(&padded)
}

/// The group's key as a JWK for `alg`, checked against the file's own JWK when it has one.
fn group_jwk(group: &SignatureGroup, alg: Algorithm) -> Value {
    let key = &group.public_key;
    let jwk = match alg.key_type() {
        KeyType::Ec(curve) => json!({
            "kty": "EC",
            "crv": curve.name(),
            "x": coordinate(key.wx.as_deref().expect("wx"), curve),
            "y": coordinate(key.wy.as_deref().expect("wy"), curve),
        }),
        KeyType::Ed25519 => json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64(&unhex(key.pk.as_deref().expect("pk"))),
        }),
        KeyType::Rsa | KeyType::Secret => unreachable!("the RSA file has its own test"),
    };
    if let Some(theirs) = &group.public_key_jwk {
        for member in ["kty", "crv", "x", "y"] {
            assert_eq!(jwk.get(member), theirs.get(member), "{member} conversion");
        }
    }
    jwk
}

/// Checks every case of `file` with `alg`: accepted exactly when valid, and a valid signature
/// never verifies under another algorithm, even with all of them allowed for the key.
fn check_file(file: &str, alg: Algorithm) {
    let vectors: VectorFile<SignatureGroup> = load(file);
    let mut tally = Tally::default();
    for group in &vectors.test_groups {
        let jwks = json!({ "keys": [group_jwk(group, alg)] });
        let only = key_set(&jwks, &[alg]).unwrap_or_else(|error| panic!("{jwks}: {error}"));
        let every = key_set(&jwks, ALL).unwrap_or_else(|error| panic!("{jwks}: {error}"));
        let ([key], [any]) = (only.keys(), every.keys()) else {
            panic!("one key expected: {jwks}");
        };
        for case in &group.tests {
            let (msg, sig) = (unhex(&case.msg), unhex(&case.sig));
            let accepted = key.verify(alg, &msg, &sig);
            let what = format!("tcId {} ({})", case.tc_id, case.comment);
            if case.result == Verdict::Valid {
                for other in ALL.iter().filter(|&&other| other != alg) {
                    assert!(!any.verify(*other, &msg, &sig), "{what} under {other}");
                }
            }
            tally.record(
                alg.name(),
                case.result,
                Expect::from_verdict(case.result),
                accepted,
                what,
            );
        }
    }
    assert!(tally.count(Verdict::Valid, "accepted") > 0);
    assert!(tally.count(Verdict::Invalid, "rejected") > 0);
    tally.finish(file, vectors.number_of_tests);
}

#[test]
fn the_es256_primitive_verifies_exactly_the_valid_p256_signatures() {
    check_file("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
fn the_es384_primitive_verifies_exactly_the_valid_p384_signatures() {
    check_file("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

#[test]
fn the_es512_primitive_verifies_exactly_the_valid_p521_signatures() {
    check_file("ecdsa_secp521r1_sha512_p1363_test.json", Algorithm::ES512);
}

#[test]
fn the_es256k_primitive_verifies_exactly_the_valid_secp256k1_signatures() {
    check_file("ecdsa_secp256k1_sha256_p1363_test.json", Algorithm::ES256K);
}

#[test]
fn the_eddsa_primitive_verifies_exactly_the_valid_ed25519_signatures() {
    check_file("ed25519_test.json", Algorithm::EdDSA);
}
