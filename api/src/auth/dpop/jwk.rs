//! The proof's public key (`jwk`, RFC 7517): read strictly, matched with the proof's `alg`,
//! parsed by aws-lc (or found among the keys parsed before), and its RFC 7638 thumbprint.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::digest;
use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quick_cache::sync::Cache;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};
use serde_json::Value;

use super::ProofError;
use super::header::{Member, ObjectReader, Skipped};
use crate::auth::algorithm::{Algorithm, Curve};
use crate::auth::jose::decode_base64url;
use crate::auth::public_key::{ED25519_KEY_BYTES, KeyNumbers, KeyRefusal};

/// The JWK members read, by name; every other member is skipped.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum JwkField {
    Kty,
    Crv,
    X,
    Y,
    N,
    E,
    /// Private key members of every key type (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a
    /// proof key that carries one has leaked its secret, and is refused (RFC 9449 §4.3
    /// point 7).
    #[serde(alias = "p", alias = "q", alias = "dp", alias = "dq", alias = "qi")]
    #[serde(alias = "oth", alias = "k")]
    D,
    #[serde(other)]
    Other,
}

/// A JWK object's members as read: the ones a public key of any accepted type needs, and
/// whether a private one is present.
#[derive(Debug, Default)]
pub(super) struct JwkMembers<'a> {
    kty: Member<'a, Skipped>,
    crv: Member<'a, Skipped>,
    x: Member<'a, Skipped>,
    y: Member<'a, Skipped>,
    n: Member<'a, Skipped>,
    e: Member<'a, Skipped>,
    private: bool,
}

impl JwkMembers<'_> {
    /// Whether a private key member is present.
    #[cfg(test)]
    pub(super) fn has_private_member(&self) -> bool {
        self.private
    }
}

impl<'de> ObjectReader<'de> for JwkMembers<'de> {
    fn read<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut jwk = JwkMembers::default();
        while let Some(field) = map.next_key()? {
            let member = match field {
                JwkField::Kty => &mut jwk.kty,
                JwkField::Crv => &mut jwk.crv,
                JwkField::X => &mut jwk.x,
                JwkField::Y => &mut jwk.y,
                JwkField::N => &mut jwk.n,
                JwkField::E => &mut jwk.e,
                JwkField::D | JwkField::Other => {
                    jwk.private |= matches!(field, JwkField::D);
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *member = map.next_value()?;
        }
        Ok(jwk)
    }
}

/// How many parsed proof keys are kept (see [`parsed_keys`]): about 0.3 MB of P-256 keys, at
/// most about 3 MB were they all RSA-8192.
const PARSED_KEYS: usize = 1024;

/// Proof keys aws-lc parsed, by algorithm and thumbprint, for the process. A client signs every
/// proof with one key, and parsing it (an EC point decoded and checked on its curve, an RSA
/// modulus read) costs a few percent of a proof check. The thumbprint names the key's exact
/// members (SHA-256 over their canonical text, which base64url decodes one way only), so a key
/// found here is the one the proof carries, already checked as [`PublicJwk::verifier`] checks
/// it. Only keys aws-lc took are kept; anyone can add keys, which only evicts others (the
/// cache's CLOCK-PRO admits a new key as cold, so one-off keys do not push out a client's).
fn parsed_keys() -> &'static Cache<(Algorithm, Thumbprint), Arc<ParsedPublicKey>> {
    static KEYS: OnceLock<Cache<(Algorithm, Thumbprint), Arc<ParsedPublicKey>>> = OnceLock::new();
    KEYS.get_or_init(|| Cache::new(PARSED_KEYS))
}

/// A key's RFC 7638 thumbprint: SHA-256 over its required members in lexicographic order,
/// without whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Thumbprint([u8; 32]);

impl Thumbprint {
    /// The thumbprint's base64url: what a token's `cnf.jkt` holds.
    pub(super) fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

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
    pub(super) fn parse(jwk: &'a JwkMembers<'_>) -> Result<Self, ProofError> {
        if jwk.private {
            return Err(ProofError::PrivateKey);
        }
        let text = |member: &'a Member<'_, Skipped>| match member {
            Member::Text(text) => Ok(text.as_ref()),
            _ => Err(ProofError::InvalidJwk),
        };
        let component = |member: &'a Member<'_, Skipped>, length: Option<usize>| {
            let text = text(member)?;
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
        match text(&jwk.kty)? {
            "RSA" => Ok(PublicJwk::Rsa {
                n: component(&jwk.n, None)?,
                e: component(&jwk.e, None)?,
            }),
            "EC" => {
                let curve = Curve::from_name(text(&jwk.crv)?).ok_or(ProofError::InvalidJwk)?;
                let length = Some(curve.coordinate_bytes());
                Ok(PublicJwk::Ec {
                    curve,
                    x: component(&jwk.x, length)?,
                    y: component(&jwk.y, length)?,
                })
            }
            "OKP" if text(&jwk.crv)? == "Ed25519" => Ok(PublicJwk::Ed25519 {
                x: component(&jwk.x, Some(ED25519_KEY_BYTES))?,
            }),
            _ => Err(ProofError::InvalidJwk),
        }
    }

    /// The RFC 7638 thumbprint. The members are base64url text and registered names, so none
    /// needs escaping.
    pub(super) fn thumbprint(&self) -> Thumbprint {
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
        let mut thumbprint = [0; 32];
        thumbprint.copy_from_slice(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref());
        Thumbprint(thumbprint)
    }

    /// The key for `alg`, this key's `thumbprint` (see [`parsed_keys`]): refused when its type
    /// or curve is not the one `alg` needs, when an RSA modulus is outside 2048..=8192 bits or
    /// its exponent is even, below 3 or over 32 bits, or when aws-lc refuses it (a point off
    /// its curve).
    pub(super) fn verifier(
        &self,
        alg: Algorithm,
        thumbprint: Thumbprint,
    ) -> Result<Arc<ParsedPublicKey>, ProofError> {
        let keys = parsed_keys();
        if let Some(parsed) = keys.get(&(alg, thumbprint)) {
            return Ok(parsed);
        }
        let parsed = Arc::new(self.parse_for(alg)?);
        keys.insert((alg, thumbprint), Arc::clone(&parsed));
        Ok(parsed)
    }

    /// The key, parsed by aws-lc for `alg`, as [`verifier`](Self::verifier) says: the issuer
    /// keys' policy (`public_key.rs`).
    fn parse_for(&self, alg: Algorithm) -> Result<ParsedPublicKey, ProofError> {
        let numbers = match self {
            PublicJwk::Rsa { n, e } => KeyNumbers::Rsa {
                n: &n.bytes,
                e: &e.bytes,
            },
            PublicJwk::Ec { curve, x, y } => KeyNumbers::Ec {
                curve: *curve,
                x: &x.bytes,
                y: &y.bytes,
            },
            PublicJwk::Ed25519 { x } => KeyNumbers::Ed25519 { x: &x.bytes },
        };
        numbers.parse_for(alg).map_err(|refusal| match refusal {
            KeyRefusal::WrongType => ProofError::KeyMismatch,
            KeyRefusal::ModulusSize => ProofError::RsaKeySize,
            KeyRefusal::Exponent | KeyRefusal::Length | KeyRefusal::Rejected => {
                ProofError::InvalidJwk
            }
        })
    }
}

/// The RFC 7638 thumbprint of a JWK given as JSON, read as a proof's `jwk` is.
pub(super) fn thumbprint_of(jwk: &Value) -> Result<String, ProofError> {
    match Member::<JwkMembers<'_>>::deserialize(jwk) {
        Ok(Member::Object(members)) => {
            PublicJwk::parse(&members).map(|key| key.thumbprint().encoded())
        }
        _ => Err(ProofError::InvalidJwk),
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    use super::*;

    /// A fresh P-256 key's JWK members.
    fn p256_jwk() -> JwkMembers<'static> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        match Member::<JwkMembers<'_>>::deserialize(jwk) {
            Ok(Member::Object(members)) => members,
            _ => panic!("a JWK object"),
        }
    }

    #[test]
    fn a_parsed_key_is_found_again_but_only_for_its_algorithm() {
        let jwk = p256_jwk();
        let key = PublicJwk::parse(&jwk).expect("a public key");
        let es256 = Algorithm::ES256;
        let first = key.verifier(es256, key.thumbprint()).expect("parsed");
        let again = key.verifier(es256, key.thumbprint()).expect("found");
        assert!(Arc::ptr_eq(&first, &again), "the second use parses nothing");
        for other in ["ES384", "ES256K", "EdDSA", "RS256"] {
            let alg = Algorithm::from_name(other).expect("listed");
            assert_eq!(
                key.verifier(alg, key.thumbprint()).err(),
                Some(ProofError::KeyMismatch),
                "{other}"
            );
        }
    }
}
