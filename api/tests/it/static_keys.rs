//! A configured public key or shared secret instead of a JWKS: tokens signed by an RSA, a P-256
//! and an Ed25519 key verify against the key set made from the key's PEM, its JWK and a JWKS of
//! it; an HS256 token verifies with its secret and only then; and each wrong configuration is
//! refused at start-up with its own error.

use api::auth::{
    Algorithm, AuthError, JwksError, KeySet, StaticKeyError, public_key_set, secret_key_set,
    verify_jws,
};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P256K1_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use spki::SubjectPublicKeyInfoRef;

use crate::helpers::*;

/// A 32-byte HS256 secret, as an operator would type it.
const SECRET: &str = "an HS256 secret of 32 bytes, no ";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// DER in PEM armour with `label`, wrapped at 64 characters as RFC 7468 §2 asks.
fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).expect("PEM")
}

fn spki_pem(der: &PublicKeyX509Der<'_>) -> String {
    pem("PUBLIC KEY", der.as_ref())
}

/// The committed RSA key's public half as a DER SubjectPublicKeyInfo, made from its JWK.
fn rsa_spki() -> PublicKeyX509Der<'static> {
    let jwk = TestKey::primary().jwk();
    let components = RsaPublicKeyComponents {
        n: jwk_number(&jwk, "n"),
        e: jwk_number(&jwk, "e"),
    };
    components.as_der().expect("SPKI DER")
}

/// [`rsa_spki`] as a PEM `PUBLIC KEY`.
pub(crate) fn rsa_pem() -> String {
    spki_pem(&rsa_spki())
}

/// A key under test: a token it signed, its PEM and its JWK.
struct Signer {
    name: &'static str,
    token: String,
    pem: String,
    jwk: Value,
}

fn signers() -> Vec<Signer> {
    let claims = claims("https://issuer.example/");
    let p256 = SigningKey::for_algorithm(Algorithm::ES256);
    let ed25519 = SigningKey::for_algorithm(Algorithm::EdDSA);
    vec![
        Signer {
            name: "RSA",
            token: TestKey::primary().sign(&claims),
            pem: rsa_pem(),
            jwk: TestKey::primary().jwk(),
        },
        Signer {
            name: "P-256",
            token: p256.sign(&claims),
            pem: pem("PUBLIC KEY", &ec_spki(&p256_point())),
            jwk: p256.jwk(),
        },
        Signer {
            name: "Ed25519",
            token: ed25519.sign(&claims),
            pem: pem(
                "PUBLIC KEY",
                &spki(OID_ED25519, &jwk_number(&ed25519.jwk(), "x")),
            ),
            jwk: ed25519.jwk(),
        },
    ]
}

/// A JWK member's bytes.
fn jwk_number(jwk: &Value, name: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(jwk[name].as_str().expect("a JWK number"))
        .expect("base64url")
}

// ---------------------------------------------------------------------------------------------
// DER by hand, for keys aws-lc would not make (compressed points, other curves, Ed448).

/// One DER TLV; the lengths here are all under 128.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let length = u8::try_from(content.len()).expect("a short DER value");
    assert!(length < 0x80, "short form only");
    [&[tag, length][..], content].concat()
}

const SEQUENCE: u8 = 0x30;
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp224r1 (1.3.132.0.33): a named curve no algorithm here uses.
const OID_P224: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21];
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x71];

/// A SubjectPublicKeyInfo of an AlgorithmIdentifier's content and a key with no unused bits.
fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let bits = tlv(0x03, &[&[0][..], key].concat());
    tlv(SEQUENCE, &[tlv(SEQUENCE, algorithm), bits].concat())
}

fn ec_spki(point: &[u8]) -> Vec<u8> {
    spki(&[OID_EC_PUBLIC_KEY, OID_P256].concat(), point)
}

/// The ES256 test key's uncompressed point.
fn p256_point() -> Vec<u8> {
    let jwk = SigningKey::for_algorithm(Algorithm::ES256).jwk();
    [vec![0x04], jwk_number(&jwk, "x"), jwk_number(&jwk, "y")].concat()
}

// ---------------------------------------------------------------------------------------------
// Public keys.

fn accepts(keys: &KeySet, token: &str, algorithms: &[Algorithm]) -> Result<(), AuthError> {
    verify_jws(token, keys, algorithms).map(|_| ())
}

#[test]
fn a_token_verifies_against_its_keys_pem_jwk_and_jwks() {
    for signer in signers() {
        let jwks = json!({"keys": [signer.jwk]}).to_string();
        for (form, text) in [
            ("PEM", signer.pem.clone()),
            ("JWK", signer.jwk.to_string()),
            ("JWKS", jwks),
        ] {
            let keys = public_key_set(&text, &Algorithm::ALL)
                .unwrap_or_else(|error| panic!("{} {form}: {error}", signer.name));
            assert_eq!(keys.keys().len(), 1, "{} {form}", signer.name);
            assert!(
                accepts(&keys, &signer.token, &Algorithm::ALL).is_ok(),
                "{} {form}",
                signer.name
            );
        }
    }
}

/// A token with header `{"alg":…}` over test claims, signed by `sign`.
fn token_signed_by(alg: Algorithm, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(json!({"alg": alg.name()}).to_string()),
        b64(claims("https://issuer.example/").to_string())
    );
    format!("{input}.{}", b64(sign(input.as_bytes())))
}

#[test]
fn the_spki_aws_lc_writes_for_every_curve_and_ed25519_is_read() {
    for (alg, signing) in [
        (Algorithm::ES256, &ECDSA_P256_SHA256_FIXED_SIGNING),
        (Algorithm::ES384, &ECDSA_P384_SHA384_FIXED_SIGNING),
        (Algorithm::ES512, &ECDSA_P521_SHA512_FIXED_SIGNING),
        (Algorithm::ES256K, &ECDSA_P256K1_SHA256_FIXED_SIGNING),
    ] {
        let pair = EcdsaKeyPair::generate(signing).expect("a key");
        let der = pair.public_key().as_der().expect("SPKI DER");
        let keys = public_key_set(&spki_pem(&der), &Algorithm::ALL)
            .unwrap_or_else(|error| panic!("{alg}: {error}"));
        let token = token_signed_by(alg, |input| {
            let signature = pair.sign(&SystemRandom::new(), input).expect("signed");
            signature.as_ref().to_vec()
        });
        assert!(accepts(&keys, &token, &Algorithm::ALL).is_ok(), "{alg}");
    }
    let ed25519 = Ed25519KeyPair::generate().expect("a key");
    let der = ed25519.public_key().as_der().expect("SPKI DER");
    let keys = public_key_set(&spki_pem(&der), &Algorithm::ALL).expect("an Ed25519 key");
    let token = token_signed_by(Algorithm::EdDSA, |input| {
        ed25519.sign(input).as_ref().to_vec()
    });
    assert!(accepts(&keys, &token, &Algorithm::ALL).is_ok());
}

#[test]
fn a_key_verifies_no_token_of_another_key() {
    let signers = signers();
    for signer in &signers {
        let keys = public_key_set(&signer.pem, &Algorithm::ALL).expect("a key set");
        for other in signers.iter().filter(|other| other.name != signer.name) {
            assert!(
                accepts(&keys, &other.token, &Algorithm::ALL).is_err(),
                "{} key, {} token",
                signer.name,
                other.name
            );
        }
    }
}

#[test]
fn a_pem_key_serves_whatever_kid_a_token_names_but_a_jwk_only_its_own() {
    let claims = claims("https://issuer.example/");
    let key = SigningKey::for_algorithm(Algorithm::ES256);
    let header = |kid: Option<&str>| match kid {
        Some(kid) => json!({"alg": "ES256", "kid": kid}),
        None => json!({"alg": "ES256"}),
    };
    let pem = pem("PUBLIC KEY", &ec_spki(&p256_point()));
    let from_pem = public_key_set(&pem, &Algorithm::ALL).expect("a key set");
    let from_jwk = public_key_set(&key.jwk().to_string(), &Algorithm::ALL).expect("a key set");
    for kid in [None, Some(key.kid()), Some("another")] {
        let token = key.sign_raw(&header(kid), &claims);
        assert!(
            accepts(&from_pem, &token, &Algorithm::ALL).is_ok(),
            "{kid:?}"
        );
        assert_eq!(
            accepts(&from_jwk, &token, &Algorithm::ALL).is_ok(),
            kid != Some("another"),
            "{kid:?}"
        );
    }
}

#[test]
fn a_pem_key_serves_only_the_allowed_algorithms_of_its_type() {
    let rsa = public_key_set(&rsa_pem(), &[Algorithm::PS256, Algorithm::RS256]).expect("keys");
    let token = TestKey::primary().sign(&claims("https://issuer.example/"));
    assert!(accepts(&rsa, &token, &[Algorithm::RS256]).is_ok());
    // Made for PS256 only: an RS256 token finds no key even where RS256 is allowed.
    let ps256_only = public_key_set(&rsa_pem(), &[Algorithm::PS256]).expect("keys");
    assert_eq!(
        accepts(&ps256_only, &token, &[Algorithm::RS256]),
        Err(AuthError::invalid_token(
            "no applicable key found in the JSON Web Key Set"
        ))
    );
}

#[test]
fn surrounding_whitespace_crlf_and_other_line_widths_are_read() {
    let der = ec_spki(&p256_point());
    let body = STANDARD.encode(&der);
    let one_line = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----");
    let crlf = pem("PUBLIC KEY", &der).replace('\n', "\r\n");
    let padded = format!("\n  {}  \n", pem("PUBLIC KEY", &der));
    for text in [one_line, crlf, padded] {
        assert!(public_key_set(&text, &Algorithm::ALL).is_ok(), "{text:?}");
    }
}

#[test]
fn a_pkcs1_rsa_public_key_is_read_as_its_spki_is() {
    let spki_der = rsa_spki();
    // The SPKI's BIT STRING holds the PKCS #1 RSAPublicKey.
    let spki = SubjectPublicKeyInfoRef::try_from(spki_der.as_ref()).expect("an SPKI");
    let pkcs1 = spki.subject_public_key.raw_bytes();
    let keys = public_key_set(&pem("RSA PUBLIC KEY", pkcs1), &Algorithm::ALL).expect("keys");
    let token = TestKey::primary().sign(&claims("https://issuer.example/"));
    assert!(accepts(&keys, &token, &Algorithm::ALL).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Secrets.

/// An HS256 token over `claims`, keyed with `secret`.
fn hs256(secret: &[u8], kid: Option<&str>) -> String {
    let header = match kid {
        Some(kid) => json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        None => json!({"alg": "HS256", "typ": "JWT"}),
    };
    let input = format!(
        "{}.{}",
        b64(header.to_string()),
        b64(claims("https://issuer.example/").to_string())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("{input}.{}", b64(hmac::sign(&key, input.as_bytes())))
}

#[test]
fn an_hs256_token_verifies_with_its_secret_whatever_its_kid() {
    let keys = secret_key_set(SECRET.as_bytes(), Algorithm::HS256).expect("a key set");
    for kid in [None, Some("any")] {
        let token = hs256(SECRET.as_bytes(), kid);
        assert!(
            accepts(&keys, &token, &[Algorithm::HS256]).is_ok(),
            "{kid:?}"
        );
    }
}

#[test]
fn an_hs256_token_is_refused_with_another_secret_or_a_tampered_tag() {
    let keys = secret_key_set(SECRET.as_bytes(), Algorithm::HS256).expect("a key set");
    let other = hs256(b"another HS256 secret of 32 bytes", None);
    let failed = Err(AuthError::invalid_token("signature verification failed"));
    assert_eq!(accepts(&keys, &other, &[Algorithm::HS256]), failed);
    let token = hs256(SECRET.as_bytes(), None);
    let (input, tag) = token.rsplit_once('.').expect("three parts");
    let mut tag = URL_SAFE_NO_PAD.decode(tag).expect("base64url");
    for tampered in [tag[..31].to_vec(), {
        tag[0] ^= 1;
        tag
    }] {
        let forged = format!("{input}.{}", b64(tampered));
        assert_eq!(accepts(&keys, &forged, &[Algorithm::HS256]), failed);
    }
}

#[test]
fn an_hs256_token_is_refused_unless_hs256_is_allowed() {
    let keys = secret_key_set(SECRET.as_bytes(), Algorithm::HS256).expect("a key set");
    let token = hs256(SECRET.as_bytes(), None);
    let hmac_refused = Err(AuthError::invalid_token(
        "Symmetric algorithms (HMAC) are not accepted",
    ));
    for allowed in [
        &Algorithm::ALL[..],
        &[Algorithm::HS384],
        &[Algorithm::HS512],
    ] {
        assert_eq!(accepts(&keys, &token, allowed), hmac_refused, "{allowed:?}");
    }
    // A secret made for HS384 serves no HS256 token, even where both are allowed.
    let hs384 = secret_key_set(&[7; 48], Algorithm::HS384).expect("a key set");
    assert!(accepts(&hs384, &token, &[Algorithm::HS256, Algorithm::HS384]).is_err());
}

#[test]
fn a_secret_shorter_than_the_hash_output_is_refused() {
    for (alg, shortest) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        assert!(secret_key_set(&vec![b'k'; shortest], alg).is_ok(), "{alg}");
        let short = secret_key_set(&vec![b'k'; shortest - 1], alg).expect_err("too short");
        assert_eq!(
            short,
            StaticKeyError::SecretTooShort {
                alg,
                min_bytes: shortest
            }
        );
        assert_eq!(
            short.to_string(),
            format!("a secret for {alg} must be at least {shortest} bytes (RFC 7518 §3.2)")
        );
    }
    assert!(secret_key_set(b"", Algorithm::HS256).is_err());
}

#[test]
fn a_secret_needs_an_hmac_algorithm() {
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        assert_eq!(
            secret_key_set(SECRET.as_bytes(), alg).expect_err("not HMAC"),
            StaticKeyError::NotHmac(alg)
        );
    }
}

#[test]
fn hs256_keyed_with_the_public_keys_pem_is_refused_by_its_key_set() {
    // RFC 8725 §2.1: the classic confusion, a token "signed" with the public key's text.
    let pem = rsa_pem();
    let keys = public_key_set(&pem, &Algorithm::ALL).expect("a key set");
    let forged = hs256(pem.as_bytes(), None);
    assert_eq!(
        accepts(&keys, &forged, &Algorithm::ALL),
        Err(AuthError::invalid_token(
            "Symmetric algorithms (HMAC) are not accepted"
        ))
    );
    // Even with HS256 on the allow-list, a public key never verifies an HMAC.
    let lenient = [Algorithm::RS256, Algorithm::HS256];
    let keys = public_key_set(&pem, &lenient).expect("a key set");
    assert_eq!(
        accepts(&keys, &forged, &lenient),
        Err(AuthError::invalid_token(
            "no applicable key found in the JSON Web Key Set"
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// What a configured key must not be.

fn refusal(text: &str) -> StaticKeyError {
    public_key_set(text, &Algorithm::ALL).expect_err("refused")
}

#[test]
fn private_keys_certificates_and_other_pem_blocks_are_refused_by_their_label() {
    let der = ec_spki(&p256_point());
    for label in [
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ] {
        assert_eq!(
            refusal(&pem(label, &der)),
            StaticKeyError::PrivateKey,
            "{label}"
        );
    }
    let committed = std::fs::read_to_string(format!(
        "{}/tests/data/test-key-primary.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the committed RSA key");
    assert_eq!(refusal(&committed), StaticKeyError::PrivateKey);
    assert_eq!(
        refusal(&pem("CERTIFICATE", &der)),
        StaticKeyError::Certificate
    );
    assert_eq!(
        refusal(&pem("DH PARAMETERS", &der)),
        StaticKeyError::UnsupportedPem("DH PARAMETERS".to_owned())
    );
}

#[test]
fn broken_pem_is_refused_as_such() {
    let good = pem("PUBLIC KEY", &ec_spki(&p256_point()));
    let without_end = good.replace("-----END PUBLIC KEY-----", "");
    let other_end = good.replace("END PUBLIC KEY", "END PRIVATE KEY");
    let bad_base64 = good.replacen('M', "*", 1);
    let escaped = good.replace('\n', "\\n");
    for text in [without_end, other_end, bad_base64, escaped] {
        assert_eq!(refusal(&text), StaticKeyError::MalformedPem, "{text}");
    }
}

#[test]
fn pem_that_is_not_a_supported_public_key_is_refused_for_what_it_is() {
    let point = p256_point();
    let mut compressed = vec![0x02 | (point[64] & 1)];
    compressed.extend_from_slice(&point[1..33]);
    let ed448 = spki(OID_ED448, &[9; 57]);
    let p224 = spki(&[OID_EC_PUBLIC_KEY, OID_P224].concat(), &[4; 57]);
    let explicit_curve = spki(
        &[OID_EC_PUBLIC_KEY, &tlv(SEQUENCE, &[0x02, 0x01, 0x01])].concat(),
        &point,
    );
    let mut trailing = ec_spki(&point);
    trailing.push(0);
    let ed25519_with_parameters = spki(&[OID_ED25519, &[0x05, 0x00]].concat(), &[9; 32]);
    let mut unused_bits = ec_spki(&point);
    let bits_header = unused_bits.len() - point.len() - 1;
    unused_bits[bits_header] = 1;
    for (case, der, error) in [
        (
            "compressed",
            ec_spki(&compressed),
            StaticKeyError::CompressedPoint,
        ),
        ("Ed448", ed448, StaticKeyError::UnsupportedKeyType),
        ("secp224r1", p224, StaticKeyError::UnsupportedCurve),
        (
            "explicit curve",
            explicit_curve,
            StaticKeyError::UnsupportedCurve,
        ),
        (
            "trailing byte",
            trailing,
            StaticKeyError::MalformedPublicKey,
        ),
        (
            "Ed25519 parameters",
            ed25519_with_parameters,
            StaticKeyError::MalformedPublicKey,
        ),
        (
            "unused bits",
            unused_bits,
            StaticKeyError::MalformedPublicKey,
        ),
        ("not DER", vec![1, 2, 3], StaticKeyError::MalformedPublicKey),
    ] {
        assert_eq!(refusal(&pem("PUBLIC KEY", &der)), error, "{case}");
    }
}

#[test]
fn a_key_off_its_curve_or_too_small_fails_the_jwks_policy() {
    let mut off_curve = p256_point();
    off_curve[64] ^= 1;
    assert_eq!(
        refusal(&pem("PUBLIC KEY", &ec_spki(&off_curve))),
        StaticKeyError::UnusableKey("aws-lc rejected the key (a point not on its curve?)")
    );
    assert_eq!(
        refusal(&TestKey::weak().jwk().to_string()),
        StaticKeyError::UnusableKey("modulus size outside 2048..=8192 bits")
    );
}

#[test]
fn a_key_no_allowed_algorithm_uses_is_refused() {
    let ed25519 = Ed25519KeyPair::generate().expect("a key");
    let der = ed25519.public_key().as_der().expect("SPKI DER");
    let rsa_only = [Algorithm::RS256, Algorithm::PS256];
    let error = public_key_set(&spki_pem(&der), &rsa_only).expect_err("refused");
    assert_eq!(
        error,
        StaticKeyError::NoAllowedAlgorithm("no allowed algorithm uses this type of key")
    );
    let mut jwk = SigningKey::for_algorithm(Algorithm::ES256).jwk();
    assert!(matches!(
        public_key_set(&jwk.to_string(), &rsa_only),
        Err(StaticKeyError::NoAllowedAlgorithm(_))
    ));
    jwk["alg"] = json!("ES384");
    assert!(matches!(
        public_key_set(&jwk.to_string(), &Algorithm::ALL),
        Err(StaticKeyError::NoAllowedAlgorithm(_))
    ));
}

#[test]
fn secret_and_private_jwks_are_refused_alone_and_in_a_jwks() {
    let secret = json!({"kty": "oct", "k": b64(SECRET)});
    let mut private = SigningKey::for_algorithm(Algorithm::ES256).jwk();
    private["d"] = json!(b64([1; 32]));
    let public = TestKey::primary().jwk();
    for (key, error) in [
        (secret, StaticKeyError::SecretJwk),
        (private, StaticKeyError::PrivateKey),
    ] {
        assert_eq!(refusal(&key.to_string()), error);
        // Beside a good key too: a configured set is the operator's, and they should know.
        let jwks = json!({"keys": [public, key]});
        assert_eq!(refusal(&jwks.to_string()), error);
    }
}

#[test]
fn a_jwks_skips_keys_not_for_signatures_but_needs_one_that_is() {
    let mut encryption = SigningKey::for_algorithm(Algorithm::ES256).jwk();
    encryption["use"] = json!("enc");
    let signing = TestKey::primary().jwk();
    let keys = public_key_set(
        &json!({"keys": [encryption, signing]}).to_string(),
        &Algorithm::ALL,
    )
    .expect("the signing key");
    assert_eq!(keys.keys().len(), 1);
    assert_eq!(
        refusal(&json!({"keys": [encryption]}).to_string()),
        StaticKeyError::Jwks(JwksError::NoUsableKeys)
    );
    assert_eq!(
        refusal(&json!({"keys": {}}).to_string()),
        StaticKeyError::Jwks(JwksError::Malformed)
    );
}

#[test]
fn text_that_is_no_key_at_all_is_refused_for_what_it_is() {
    for (text, error) in [
        ("", StaticKeyError::UnknownFormat),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host",
            StaticKeyError::UnknownFormat,
        ),
        (SECRET, StaticKeyError::UnknownFormat),
        ("{\"kty\":", StaticKeyError::MalformedJson),
        (
            "{\"issuer\":\"https://issuer.example/\"}",
            StaticKeyError::NotAKey,
        ),
    ] {
        assert_eq!(refusal(text), error, "{text}");
    }
}

#[test]
fn no_error_repeats_the_key_it_refuses() {
    let der = ec_spki(&p256_point());
    let body = STANDARD.encode(&der);
    let secret = json!({"kty": "oct", "k": b64(SECRET)});
    let cases = [
        pem("PRIVATE KEY", &der),
        pem("X9 KEY", &der),
        pem("PUBLIC KEY", &der).replace('\n', "\\n"),
        secret.to_string(),
        json!({"keys": [secret]}).to_string(),
    ];
    for text in cases {
        let message = refusal(&text).to_string();
        assert!(!message.contains(&body[10..40]), "{message}");
        assert!(!message.contains(&b64(SECRET)[..20]), "{message}");
    }
    let short = secret_key_set(&SECRET.as_bytes()[..31], Algorithm::HS256).expect_err("short");
    assert!(!short.to_string().contains(&SECRET[..20]), "{short}");
}
