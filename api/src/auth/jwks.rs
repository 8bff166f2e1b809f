//! JSON Web Key Sets: which published keys may verify tokens, parsed once per load.
//!
//! A key is usable when its type is one an allowed algorithm needs (`RSA`; `EC` on P-256,
//! P-384, P-521 or secp256k1; `OKP` on Ed25519), it is meant for signatures (`use` absent or
//! `sig`, `key_ops` absent or containing `verify`), it publishes no private member, its `alg` is
//! absent or an allowed algorithm of its own type and curve, and its numbers pass the key
//! policy (`public_key.rs`: RSA moduli of 2048 to 8192 bits with an odd exponent of at least 3,
//! EC points on their curve at full length). Unusable keys are skipped, not fatal: an issuer may
//! publish encryption keys, or keys of a type not allowed here, beside its signing keys.

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::digest;
use aws_lc_rs::signature::ParsedPublicKey;
use serde_json::Value;

use super::algorithm::{Algorithm, Curve};
use super::error::AuthError;
use super::jose::decode_base64url;
use super::public_key::KeyNumbers;

/// The most keys a set may list; a JWKS with more is refused as hostile or broken.
pub const MAX_KEYS: usize = 100;

/// A key's identity across JWKS loads: SHA-256 over its `kid`, type, numbers and
/// algorithms. Two loads that publish the same key give the same fingerprint, so a refresh that
/// keeps a key keeps the cached tokens it verified; any change counts as a different key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFingerprint([u8; 32]);

impl KeyFingerprint {
    fn of(kid: Option<&str>, numbers: &KeyNumbers<'_>, algorithms: &[Algorithm]) -> Self {
        let mut context = digest::Context::new(&digest::SHA256);
        // Length-prefixed fields, so no two different keys share an encoding.
        let mut field = |bytes: &[u8]| {
            context.update(&(bytes.len() as u64).to_be_bytes());
            context.update(bytes);
        };
        field(kid.map_or(&[0xff][..], str::as_bytes));
        // The type (or curve) first, so equal numbers of two types never collide; an Ed25519
        // key has one number, and an empty third field.
        let parts: [&[u8]; 3] = match *numbers {
            KeyNumbers::Rsa { n, e } => [b"RSA", n, e],
            KeyNumbers::Ec { curve, x, y } => [curve.name().as_bytes(), x, y],
            KeyNumbers::Ed25519 { x } => [b"Ed25519", x, &[]],
        };
        for part in parts {
            field(part);
        }
        for alg in algorithms {
            field(alg.name().as_bytes());
        }
        let mut bytes = [0; 32];
        bytes.copy_from_slice(context.finish().as_ref());
        KeyFingerprint(bytes)
    }
}

/// One usable verification key, parsed once for each algorithm it may verify.
pub struct VerificationKey {
    kid: Option<String>,
    fingerprint: KeyFingerprint,
    /// One entry per allowed algorithm this key may be used with.
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<_> = self.parsed.iter().map(|(alg, _)| alg.name()).collect();
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &algorithms)
            .finish()
    }
}

impl VerificationKey {
    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    fn parsed_for(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.parsed
            .iter()
            .find_map(|(candidate, key)| (*candidate == alg).then_some(key))
    }

    /// Checks `signature` over `message` with this key and `alg`. False for a wrong signature
    /// and for an algorithm this key may not be used with.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.parsed_for(alg)
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }
}

/// The usable keys of one JWKS response, and when it was fetched.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<Arc<VerificationKey>>,
    fetched_at: Instant,
}

/// Why a JWKS document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    /// Not a JSON object with a `keys` array.
    #[error("the JWKS is not a JSON object with a 'keys' array")]
    Malformed,
    /// More keys than [`MAX_KEYS`].
    #[error("the JWKS lists more than {MAX_KEYS} keys")]
    TooManyKeys,
    /// Not one key is usable for the allowed algorithms.
    #[error("the JWKS has no usable signing key for the allowed algorithms")]
    NoUsableKeys,
}

/// The refusal of a token for which the key set has no key (see [`Selection::NoApplicableKey`]).
pub(crate) const NO_APPLICABLE_KEY: AuthError =
    AuthError::invalid_token("no applicable key found in the JSON Web Key Set");

/// What a key lookup found.
#[derive(Debug)]
pub enum Selection {
    /// Exactly one key fits.
    Found(Arc<VerificationKey>),
    /// No key fits, or more than one does (an ambiguous set is never guessed at).
    NoApplicableKey,
}

impl KeySet {
    /// Parses a JWKS document, keeping the keys usable with `allowed`.
    pub fn parse(document: &[u8], allowed: &[Algorithm]) -> Result<Self, JwksError> {
        let value: Value = serde_json::from_slice(document).map_err(|_| JwksError::Malformed)?;
        let Some(Value::Array(entries)) = value.get("keys") else {
            return Err(JwksError::Malformed);
        };
        if entries.len() > MAX_KEYS {
            return Err(JwksError::TooManyKeys);
        }
        let keys: Vec<_> = entries
            .iter()
            .filter_map(|entry| match usable_key(entry, allowed) {
                Ok(key) => Some(Arc::new(key)),
                Err(reason) => {
                    let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::debug!(kid, reason, "skipping a JWKS key");
                    None
                }
            })
            .collect();
        if keys.is_empty() {
            return Err(JwksError::NoUsableKeys);
        }
        Ok(KeySet {
            keys,
            fetched_at: Instant::now(),
        })
    }

    /// When this set was fetched.
    pub fn fetched_at(&self) -> Instant {
        self.fetched_at
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Arc<VerificationKey>] {
        &self.keys
    }

    /// Whether this set still holds the key with `fingerprint`.
    pub(crate) fn contains(&self, fingerprint: KeyFingerprint) -> bool {
        self.keys.iter().any(|key| key.fingerprint == fingerprint)
    }

    /// Looks a key up by `kid` and algorithm. A token without `kid` is matched only when exactly
    /// one key of the set fits its algorithm; keys are never tried one after another.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection {
        let mut fitting = self
            .keys
            .iter()
            .filter(|key| key.parsed_for(alg).is_some())
            .filter(|key| kid.is_none() || key.kid() == kid);
        match (fitting.next(), fitting.next()) {
            (Some(key), None) => Selection::Found(key.clone()),
            _ => Selection::NoApplicableKey,
        }
    }
}

/// Private key members of every key type (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Builds a [`VerificationKey`] from one JWK, or says why it is not usable.
fn usable_key(jwk: &Value, allowed: &[Algorithm]) -> Result<VerificationKey, &'static str> {
    let field = |name: &str| jwk.get(name);
    // A published private key means anyone can sign: the issuer is misconfigured or
    // compromised, and the key must not be trusted.
    if PRIVATE_MEMBERS.iter().any(|member| field(member).is_some()) {
        return Err("the JWK publishes private key material");
    }
    check_usage(jwk)?;
    let kid = match field("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("'kid' is not a string"),
    };
    let decoded = JwkNumbers::read(jwk)?;
    let numbers = decoded.numbers();
    let algorithms: Vec<Algorithm> = match field("alg") {
        None => allowed
            .iter()
            .copied()
            .filter(|alg| alg.key_type() == numbers.key_type())
            .collect(),
        Some(Value::String(name)) => match Algorithm::from_name(name) {
            Some(alg) if allowed.contains(&alg) && alg.key_type() == numbers.key_type() => {
                vec![alg]
            }
            Some(alg) if allowed.contains(&alg) => return Err("'alg' is for another key type"),
            _ => return Err("'alg' is not an allowed algorithm"),
        },
        Some(_) => return Err("'alg' is not a string"),
    };
    if algorithms.is_empty() {
        return Err("no allowed algorithm uses this type of key");
    }
    let fingerprint = KeyFingerprint::of(kid.as_deref(), &numbers, &algorithms);
    let parsed = algorithms
        .into_iter()
        .map(|alg| {
            numbers
                .parse_for(alg)
                .map(|key| (alg, key))
                .map_err(|refusal| refusal.description())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VerificationKey {
        kid,
        fingerprint,
        parsed,
    })
}

/// `use` absent or `sig`, and `key_ops` absent or containing `verify` (RFC 7517 §4.2, §4.3).
fn check_usage(jwk: &Value) -> Result<(), &'static str> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(usage)) if usage == "sig" => {}
        Some(_) => return Err("'use' is not 'sig'"),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("'key_ops' does not include 'verify'");
        }
    }
    Ok(())
}

/// A JWK's public numbers, decoded and owned.
enum JwkNumbers {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
}

impl JwkNumbers {
    /// Reads `kty` and the members its type needs.
    fn read(jwk: &Value) -> Result<Self, &'static str> {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let bytes = |name: &str| text(name).and_then(decode_base64url);
        match text("kty") {
            Some("RSA") => match (bytes("n"), bytes("e")) {
                (Some(n), Some(e)) => Ok(JwkNumbers::Rsa { n, e }),
                _ => Err("'n' or 'e' is missing or not base64url"),
            },
            Some("EC") => {
                let curve = text("crv")
                    .and_then(Curve::from_name)
                    .ok_or("'crv' is not a supported curve")?;
                match (bytes("x"), bytes("y")) {
                    (Some(x), Some(y)) => Ok(JwkNumbers::Ec { curve, x, y }),
                    _ => Err("'x' or 'y' is missing or not base64url"),
                }
            }
            Some("OKP") if text("crv") == Some("Ed25519") => bytes("x")
                .map(|x| JwkNumbers::Ed25519 { x })
                .ok_or("'x' is missing or not base64url"),
            Some("OKP") => Err("'crv' is not Ed25519"),
            Some("oct") => Err("a symmetric key"),
            _ => Err("'kty' is not RSA, EC or OKP"),
        }
    }

    fn numbers(&self) -> KeyNumbers<'_> {
        match self {
            JwkNumbers::Rsa { n, e } => KeyNumbers::Rsa { n, e },
            JwkNumbers::Ec { curve, x, y } => KeyNumbers::Ec {
                curve: *curve,
                x,
                y,
            },
            JwkNumbers::Ed25519 { x } => KeyNumbers::Ed25519 { x },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_without_a_keys_array_are_malformed() {
        for document in [&b"[]"[..], b"{}", b"{\"keys\":{}}", b"not json"] {
            assert_eq!(
                KeySet::parse(document, &[Algorithm::RS256]).expect_err("refused"),
                JwksError::Malformed
            );
        }
    }

    #[test]
    fn a_set_of_only_unusable_keys_is_refused() {
        let document = br#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert_eq!(
            KeySet::parse(document, &[Algorithm::RS256]).expect_err("refused"),
            JwksError::NoUsableKeys
        );
    }
}
