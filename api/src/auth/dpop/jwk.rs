//! The proof's public key (`jwk`, RFC 7517): read strictly, matched with the proof's `alg`,
//! parsed by aws-lc, and its RFC 7638 thumbprint.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::ProofError;
use super::algorithm::{Curve, ProofAlgorithm};
use crate::auth::jose::decode_base64url;
use crate::auth::jwks::{MAX_MODULUS_BITS, MIN_MODULUS_BITS, bit_length, exponent_is_acceptable};

/// Private key members of every key type (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a
/// proof key that carries one has leaked its secret, and is refused (RFC 9449 §4.3 point 7).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The length of an Ed25519 public key (RFC 8032 §5.1.5).
const ED25519_KEY_BYTES: usize = 32;

/// A required key member: its base64url text (what the thumbprint hashes) and its bytes.
#[derive(Debug)]
pub(super) struct Component<'a> {
    text: &'a str,
    bytes: Vec<u8>,
}

/// A public key as the proof's `jwk` gives it, every member canonical.
#[derive(Debug)]
pub(super) enum PublicJwk<'a> {
    /// `kty` `RSA`: modulus and exponent, each without leading zero octets (RFC 7518 §6.3.1).
    Rsa { n: Component<'a>, e: Component<'a> },
    /// `kty` `EC`: a curve and both coordinates at the curve's full length.
    Ec {
        curve: Curve,
        x: Component<'a>,
        y: Component<'a>,
    },
    /// `kty` `OKP` with `crv` `Ed25519` (RFC 8037 §2).
    Ed25519 { x: Component<'a> },
}

impl<'a> PublicJwk<'a> {
    /// Reads a JWK object. Members other than the required ones (`kid`, `alg`, `use`…) are
    /// allowed and ignored, except the private ones.
    pub(super) fn parse(jwk: &'a Map<String, Value>) -> Result<Self, ProofError> {
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(ProofError::PrivateKey);
        }
        let text = |name: &str| match jwk.get(name) {
            Some(Value::String(text)) => Ok(text.as_str()),
            _ => Err(ProofError::InvalidJwk),
        };
        let component = |name: &str, length: Option<usize>| {
            let text = text(name)?;
            let bytes = decode_base64url(text).ok_or(ProofError::InvalidJwk)?;
            let canonical = match length {
                Some(length) => bytes.len() == length,
                // An RSA integer: the minimum number of octets, so not empty, no leading zero.
                None => bytes.first().is_some_and(|&first| first != 0),
            };
            canonical
                .then_some(Component { text, bytes })
                .ok_or(ProofError::InvalidJwk)
        };
        match text("kty")? {
            "RSA" => Ok(PublicJwk::Rsa {
                n: component("n", None)?,
                e: component("e", None)?,
            }),
            "EC" => {
                let curve = Curve::from_name(text("crv")?).ok_or(ProofError::InvalidJwk)?;
                let length = Some(curve.coordinate_bytes());
                Ok(PublicJwk::Ec {
                    curve,
                    x: component("x", length)?,
                    y: component("y", length)?,
                })
            }
            "OKP" if text("crv")? == "Ed25519" => Ok(PublicJwk::Ed25519 {
                x: component("x", Some(ED25519_KEY_BYTES))?,
            }),
            _ => Err(ProofError::InvalidJwk),
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order,
    /// without whitespace, base64url. The members are base64url text and registered names,
    /// so none needs escaping.
    pub(super) fn thumbprint(&self) -> String {
        let canonical = match self {
            PublicJwk::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, e.text, n.text)
            }
            PublicJwk::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                x.text,
                y.text
            ),
            PublicJwk::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, x.text)
            }
        };
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }

    /// The key, parsed by aws-lc for `alg`: refused when its type or curve is not the one `alg`
    /// needs, when an RSA modulus is outside 2048..=8192 bits or its exponent is even, below 3
    /// or over 32 bits, or when aws-lc refuses it (a point off its curve).
    pub(super) fn verifier(&self, alg: ProofAlgorithm) -> Result<ParsedPublicKey, ProofError> {
        let parsed = match (alg, self) {
            (ProofAlgorithm::Rsa(rsa), PublicJwk::Rsa { n, e }) => {
                if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bit_length(&n.bytes)) {
                    return Err(ProofError::RsaKeySize);
                }
                // The JWKS rule: odd, at least 3, at most 32 bits. aws-lc would take an even
                // exponent here and only fail each signature, which names the wrong fault.
                if !exponent_is_acceptable(&e.bytes) {
                    return Err(ProofError::InvalidJwk);
                }
                let components = RsaPublicKeyComponents {
                    n: &n.bytes,
                    e: &e.bytes,
                };
                components.to_parsed_public_key(rsa.parameters())
            }
            (ProofAlgorithm::Ecdsa(wanted), PublicJwk::Ec { curve, x, y }) if wanted == *curve => {
                // SEC 1 §2.3.3's uncompressed point, the form aws-lc reads.
                let point = [&[0x04][..], &x.bytes, &y.bytes].concat();
                ParsedPublicKey::new(curve.verification(), point)
            }
            (ProofAlgorithm::Ed25519, PublicJwk::Ed25519 { x }) => {
                ParsedPublicKey::new(&signature::ED25519, &x.bytes)
            }
            _ => return Err(ProofError::KeyMismatch),
        };
        parsed.map_err(|_| ProofError::InvalidJwk)
    }
}

/// The RFC 7638 thumbprint of a JWK given as JSON.
pub(super) fn thumbprint_of(jwk: &Value) -> Result<String, ProofError> {
    match jwk {
        Value::Object(members) => PublicJwk::parse(members).map(|key| key.thumbprint()),
        _ => Err(ProofError::InvalidJwk),
    }
}
