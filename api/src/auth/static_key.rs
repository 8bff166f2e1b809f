//! The operator's own key, when there is no issuer to ask: a public key (PEM, a JWK or a JWKS)
//! or a shared secret, turned once at start-up into the [`KeySet`] tokens are checked against.
//!
//! A public key goes through the JWKS key policy (`jwks.rs`, `public_key.rs`); nothing here
//! judges a key. What is refused here is what a configured key must never be: a private key, a
//! certificate, a secret where a public key is expected, or a secret too short for its
//! algorithm. No error echoes key material.

use serde_json::Value;
use spki::ObjectIdentifier as Oid;
use spki::SubjectPublicKeyInfoRef;
use spki::der::asn1::UintRef;
use spki::der::{Decode, Reader, SliceReader};

use super::algorithm::{Algorithm, Curve};
use super::jwks::{self, JwksError, KeySet, SecretRefusal, Unusable, VerificationKey};
use super::public_key::KeyNumbers;

/// Why a configured key or secret cannot be used. One cause per variant; none carries key
/// material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaticKeyError {
    /// Neither a PEM block nor a JSON object.
    #[error("the key is neither a PEM 'PUBLIC KEY' block nor a JSON object (a JWK or a JWKS)")]
    UnknownFormat,
    /// The PEM boundaries or base64 are broken.
    #[error(
        "the PEM block is malformed (RFC 7468): one BEGIN and one END line with the same label, \
         base64 lines between them, real line breaks (not '\\n')"
    )]
    MalformedPem,
    /// A PEM private key, or a JWK with private members.
    #[error(
        "this is a private key: give the public key only (the private key stays with the signer)"
    )]
    PrivateKey,
    /// A PEM certificate.
    #[error(
        "this is a certificate: give its public key instead ('openssl x509 -pubkey -noout' prints it)"
    )]
    Certificate,
    /// A PEM block of another kind, with its label.
    #[error("a PEM '{0}' block is not a public key: expected 'PUBLIC KEY'")]
    UnsupportedPem(String),
    /// The PEM body is not a DER SubjectPublicKeyInfo (or PKCS #1 RSAPublicKey).
    #[error("the PEM public key is not a well-formed DER SubjectPublicKeyInfo")]
    MalformedPublicKey,
    /// A key of a type no algorithm here uses (DSA, X25519, Ed448, RSA-PSS-restricted...).
    #[error("the public key is not an RSA, EC or Ed25519 key")]
    UnsupportedKeyType,
    /// An EC key on another curve, or with explicit curve parameters.
    #[error("the EC public key is not on a named P-256, P-384, P-521 or secp256k1 curve")]
    UnsupportedCurve,
    /// A compressed (or otherwise encoded) EC point.
    #[error("the EC public key's point is not uncompressed (SEC 1 form 0x04 || x || y)")]
    CompressedPoint,
    /// Text starting with `{` that is not JSON.
    #[error("the key is not valid JSON")]
    MalformedJson,
    /// A JSON object that is neither a JWK (`kty`) nor a JWKS (`keys`).
    #[error("the JSON is neither a JWK (with 'kty') nor a JWKS (with 'keys')")]
    NotAKey,
    /// A JWK (or JWKS entry) with `kty` `oct`.
    #[error(
        "the JWK is a shared secret ('kty' 'oct'), not a public key: configure a secret instead"
    )]
    SecretJwk,
    /// No allowed algorithm may use the key.
    #[error("no allowed algorithm can use the key: {0}")]
    NoAllowedAlgorithm(&'static str),
    /// The key fails the key policy or a JWK member is wrong.
    #[error("the key is not usable: {0}")]
    UnusableKey(&'static str),
    /// The JWKS as a whole is refused.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// A secret with an algorithm that is not HMAC.
    #[error("{0} is not an HMAC algorithm: a secret signs with HS256, HS384 or HS512")]
    NotHmac(Algorithm),
    /// A secret shorter than its algorithm's hash output.
    #[error("a secret for {alg} must be at least {min_bytes} bytes (RFC 7518 §3.2)")]
    SecretTooShort {
        /// The HMAC algorithm.
        alg: Algorithm,
        /// Its hash's output length.
        min_bytes: usize,
    },
}

/// The key set of a configured public key: `text` is a PEM `PUBLIC KEY` (X.509
/// SubjectPublicKeyInfo; `RSA PUBLIC KEY`, PKCS #1, is read too), a single JWK, or a JWKS
/// (`{"keys":[…]}`), told apart by their text. A PEM key has no `kid` and no `alg`: it serves
/// every algorithm of `allowed` that uses its type (and curve), whatever `kid` a token names.
/// A JWK is read as a JWKS key is (its `kid` and `alg` count). In a JWKS, a private or secret
/// key refuses the whole set (this is the operator's own configuration, not a remote document);
/// other unusable keys are skipped with a warning, as a fetched JWKS's are.
///
/// The set is made now and never fetched again, so its age means nothing (see
/// [`KeySet::fetched_at`]).
pub fn public_key_set(text: &str, allowed: &[Algorithm]) -> Result<KeySet, StaticKeyError> {
    let text = text.trim();
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).map_err(|_| StaticKeyError::MalformedJson)?;
        if value.get("keys").is_some() {
            jwks_set(&value, allowed)
        } else if value.get("kty").is_some() {
            let key = jwks::usable_key(&value, allowed).map_err(refusal)?;
            one_key(key)
        } else {
            Err(StaticKeyError::NotAKey)
        }
    } else if text.contains("-----BEGIN ") {
        let der = pem_public_key(text)?;
        let numbers = der.numbers()?;
        let key = VerificationKey::configured(&numbers, allowed).map_err(refusal)?;
        one_key(key)
    } else {
        Err(StaticKeyError::UnknownFormat)
    }
}

/// The key set of a configured shared secret for the HMAC algorithm `alg`: one key, no `kid`,
/// used whatever `kid` a token names. The secret is taken as given (for the api's `SECRET`: its
/// UTF-8 bytes, as the reference takes it) and must be at least as long as `alg`'s hash output:
/// 32, 48 or 64 bytes (RFC 7518 §3.2).
///
/// The set is made now and never fetched again, so its age means nothing (see
/// [`KeySet::fetched_at`]).
pub fn secret_key_set(secret: &[u8], alg: Algorithm) -> Result<KeySet, StaticKeyError> {
    let key = VerificationKey::secret(alg, secret).map_err(|refusal| match refusal {
        SecretRefusal::NotHmac => StaticKeyError::NotHmac(alg),
        SecretRefusal::TooShort => StaticKeyError::SecretTooShort {
            alg,
            min_bytes: alg.min_secret_bytes().unwrap_or_default(),
        },
    })?;
    one_key(key)
}

/// The set of one key (never empty, so never the error).
fn one_key(key: VerificationKey) -> Result<KeySet, StaticKeyError> {
    KeySet::of(vec![key]).ok_or(StaticKeyError::Jwks(JwksError::NoUsableKeys))
}

/// The configuration error for a key the JWKS policy refuses.
fn refusal(unusable: Unusable) -> StaticKeyError {
    match unusable {
        Unusable::PrivateMaterial => StaticKeyError::PrivateKey,
        Unusable::Symmetric => StaticKeyError::SecretJwk,
        Unusable::NoAllowedAlgorithm(reason) => StaticKeyError::NoAllowedAlgorithm(reason),
        other => StaticKeyError::UnusableKey(other.description()),
    }
}

/// A configured JWKS: private and secret keys refuse the set; other unusable keys are skipped.
fn jwks_set(document: &Value, allowed: &[Algorithm]) -> Result<KeySet, StaticKeyError> {
    let mut keys = Vec::new();
    for entry in jwks::key_entries(document)? {
        match jwks::usable_key(entry, allowed) {
            Ok(key) => keys.push(key),
            Err(fatal @ (Unusable::PrivateMaterial | Unusable::Symmetric)) => {
                return Err(refusal(fatal));
            }
            Err(reason) => {
                let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
                // Once, at start-up: the operator should hear of a key that does nothing.
                tracing::warn!(
                    kid,
                    reason = reason.description(),
                    "skipping a configured JWKS key"
                );
            }
        }
    }
    KeySet::of(keys).ok_or(StaticKeyError::Jwks(JwksError::NoUsableKeys))
}

/// A PEM public key's DER body, and which structure it holds.
enum PublicKeyDer {
    /// `PUBLIC KEY`: an X.509 SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
    Spki(Vec<u8>),
    /// `RSA PUBLIC KEY`: a PKCS #1 RSAPublicKey (RFC 8017 §A.1.1).
    Pkcs1(Vec<u8>),
}

/// Reads the one PEM block of `text` (RFC 7468, any line width), refusing private keys and
/// certificates by their label before their body is decoded.
fn pem_public_key(text: &str) -> Result<PublicKeyDer, StaticKeyError> {
    let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(text.as_bytes())
        .map_err(|_| StaticKeyError::MalformedPem)?;
    let label = decoder.type_label();
    let spki = match label {
        "PUBLIC KEY" => true,
        "RSA PUBLIC KEY" => false,
        private if private.ends_with("PRIVATE KEY") => return Err(StaticKeyError::PrivateKey),
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            return Err(StaticKeyError::Certificate);
        }
        other => return Err(StaticKeyError::UnsupportedPem(other.to_owned())),
    };
    let mut der = Vec::new();
    decoder
        .decode_to_end(&mut der)
        .map_err(|_| StaticKeyError::MalformedPem)?;
    Ok(if spki {
        PublicKeyDer::Spki(der)
    } else {
        PublicKeyDer::Pkcs1(der)
    })
}

/// rsaEncryption (RFC 8017 §A.1).
const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480 §2.1.1).
const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// id-Ed25519 (RFC 8410 §3).
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// The named curves (RFC 5480 §2.1.1.1; secp256k1 from SEC 2 §A.2).
const CURVES: [(Oid, Curve); 4] = [
    (Oid::new_unwrap("1.2.840.10045.3.1.7"), Curve::P256),
    (Oid::new_unwrap("1.3.132.0.34"), Curve::P384),
    (Oid::new_unwrap("1.3.132.0.35"), Curve::P521),
    (Oid::new_unwrap("1.3.132.0.10"), Curve::Secp256k1),
];

impl PublicKeyDer {
    /// The key's public numbers, as a JWK would give them, for the key policy to judge.
    fn numbers(&self) -> Result<KeyNumbers<'_>, StaticKeyError> {
        let malformed = |_| StaticKeyError::MalformedPublicKey;
        let spki = match self {
            PublicKeyDer::Pkcs1(der) => return rsa_numbers(der),
            PublicKeyDer::Spki(der) => SubjectPublicKeyInfoRef::from_der(der).map_err(malformed)?,
        };
        // A key is whole bytes: a bit string with unused bits is no key.
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(StaticKeyError::MalformedPublicKey)?;
        let parameters = spki.algorithm.parameters;
        match spki.algorithm.oid {
            // RFC 8017 §A.1 asks for NULL parameters; some encoders leave them out.
            RSA if parameters.is_none_or(|parameters| parameters.is_null()) => rsa_numbers(key),
            EC => {
                let named = spki
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| StaticKeyError::UnsupportedCurve)?;
                let curve = CURVES
                    .iter()
                    .find_map(|(oid, curve)| (*oid == named).then_some(*curve))
                    .ok_or(StaticKeyError::UnsupportedCurve)?;
                ec_numbers(curve, key)
            }
            // RFC 8410 §3: the parameters are absent.
            ED25519 if parameters.is_none() => Ok(KeyNumbers::Ed25519 { x: key }),
            RSA | ED25519 => Err(StaticKeyError::MalformedPublicKey),
            _ => Err(StaticKeyError::UnsupportedKeyType),
        }
    }
}

/// A PKCS #1 RSAPublicKey's modulus and exponent: positive DER integers, nothing after them.
fn rsa_numbers(der: &[u8]) -> Result<KeyNumbers<'_>, StaticKeyError> {
    let read = || -> Result<KeyNumbers<'_>, spki::der::Error> {
        let mut reader = SliceReader::new(der)?;
        let (n, e) = reader.sequence(|body| {
            Ok::<_, spki::der::Error>((UintRef::decode(body)?, UintRef::decode(body)?))
        })?;
        reader.finish()?;
        Ok(KeyNumbers::Rsa {
            n: n.as_bytes(),
            e: e.as_bytes(),
        })
    };
    read().map_err(|_| StaticKeyError::MalformedPublicKey)
}

/// An EC point as SEC 1 §2.3.3 encodes it: only the uncompressed form, `0x04 || x || y`; the
/// coordinates' lengths and the point's place on its curve are the key policy's to check.
fn ec_numbers(curve: Curve, point: &[u8]) -> Result<KeyNumbers<'_>, StaticKeyError> {
    match point.split_first() {
        Some((0x04, coordinates)) => {
            let (x, y) = coordinates.split_at(coordinates.len() / 2);
            Ok(KeyNumbers::Ec { curve, x, y })
        }
        _ => Err(StaticKeyError::CompressedPoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_uncompressed_point_is_split_into_its_coordinates() {
        let point = [[4].as_slice(), &[1; 32], &[2; 32]].concat();
        match ec_numbers(Curve::P256, &point) {
            Ok(KeyNumbers::Ec { curve, x, y }) => {
                assert_eq!(curve, Curve::P256);
                assert_eq!((x, y), (&[1; 32][..], &[2; 32][..]));
            }
            _ => panic!("an EC key"),
        }
        for first in [2, 3, 0] {
            let other = [[first].as_slice(), &point[1..]].concat();
            assert!(
                matches!(
                    ec_numbers(Curve::P256, &other),
                    Err(StaticKeyError::CompressedPoint)
                ),
                "{first}"
            );
        }
        assert!(ec_numbers(Curve::P256, &[]).is_err());
    }

    #[test]
    fn an_rsa_public_key_is_two_positive_integers_and_nothing_more() {
        // SEQUENCE { INTEGER 0x00c5, INTEGER 3 }
        let good = [0x30, 0x07, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x01, 0x03];
        match rsa_numbers(&good) {
            Ok(KeyNumbers::Rsa { n, e }) => assert_eq!((n, e), (&[0xc5][..], &[3][..])),
            _ => panic!("an RSA key"),
        }
        let negative = [0x30, 0x06, 0x02, 0x01, 0xc5, 0x02, 0x01, 0x03];
        let trailing = [&good[..], &[0]].concat();
        let one_integer = [0x30, 0x03, 0x02, 0x01, 0x03];
        for der in [&negative[..], &trailing, &one_integer, &[]] {
            assert!(
                matches!(rsa_numbers(der), Err(StaticKeyError::MalformedPublicKey)),
                "{der:?}"
            );
        }
    }
}
