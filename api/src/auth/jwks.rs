//! JSON Web Key Sets: which published keys may verify tokens, parsed once per load.
//!
//! A key is usable when it is RSA, meant for signatures (`use` absent or `sig`, `key_ops`
//! absent or containing `verify`), its `alg` is absent or an allowed algorithm, its modulus
//! has 2048 to 8192 bits and its public exponent is odd and at least 3. Unusable keys are
//! skipped, not fatal: an issuer may publish encryption or EC keys beside its signing keys.

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use serde_json::Value;

use super::algorithm::Algorithm;
use super::error::AuthError;
use super::jose::decode_base64url;

/// The most keys a set may list; a JWKS with more is refused as hostile or broken.
pub const MAX_KEYS: usize = 100;
/// Smallest accepted modulus (RFC 7518 §3.3, RFC 8725 §3.5).
pub const MIN_MODULUS_BITS: usize = 2048;
/// Largest accepted modulus: verification cost grows with it, so the issuer cannot make us slow.
pub const MAX_MODULUS_BITS: usize = 8192;

/// A key's identity across JWKS loads: SHA-256 over its `kid`, modulus, exponent and
/// algorithms. Two loads that publish the same key give the same fingerprint, so a refresh that
/// keeps a key keeps the cached tokens it verified; any change counts as a different key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFingerprint([u8; 32]);

impl KeyFingerprint {
    fn of(kid: Option<&str>, n: &[u8], e: &[u8], algorithms: &[Algorithm]) -> Self {
        let mut context = digest::Context::new(&digest::SHA256);
        // Length-prefixed fields, so no two different keys share an encoding.
        let mut field = |bytes: &[u8]| {
            context.update(&(bytes.len() as u64).to_be_bytes());
            context.update(bytes);
        };
        field(kid.map_or(&[0xff][..], str::as_bytes));
        field(n);
        field(e);
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
    #[error("the JWKS has no usable RSA signing key for the allowed algorithms")]
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

/// RSA private key members (RFC 7518 §6.3.2).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// Builds a [`VerificationKey`] from one JWK, or says why it is not usable.
fn usable_key(jwk: &Value, allowed: &[Algorithm]) -> Result<VerificationKey, &'static str> {
    let field = |name: &str| jwk.get(name);
    if field("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("not an RSA key");
    }
    // A published private key means anyone can sign: the issuer is misconfigured or
    // compromised, and the key must not be trusted.
    if PRIVATE_MEMBERS.iter().any(|member| field(member).is_some()) {
        return Err("the JWK publishes private key material");
    }
    match field("use") {
        None => {}
        Some(Value::String(usage)) if usage == "sig" => {}
        Some(_) => return Err("'use' is not 'sig'"),
    }
    if let Some(ops) = field("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("'key_ops' does not include 'verify'");
        }
    }
    let kid = match field("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err("'kid' is not a string"),
    };
    let algorithms: Vec<Algorithm> = match field("alg") {
        None => allowed.to_vec(),
        Some(Value::String(name)) => match Algorithm::from_name(name) {
            Some(alg) if allowed.contains(&alg) => vec![alg],
            _ => return Err("'alg' is not an allowed algorithm"),
        },
        Some(_) => return Err("'alg' is not a string"),
    };
    let component = |name: &str| {
        field(name)
            .and_then(Value::as_str)
            .and_then(decode_base64url)
            .map(strip_leading_zeros)
    };
    let (Some(n), Some(e)) = (component("n"), component("e")) else {
        return Err("'n' or 'e' is missing or not base64url");
    };
    let bits = bit_length(&n);
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err("modulus size outside 2048..=8192 bits");
    }
    if !exponent_is_acceptable(&e) {
        return Err("public exponent must be odd, at least 3 and at most 32 bits");
    }
    let fingerprint = KeyFingerprint::of(kid.as_deref(), &n, &e, &algorithms);
    let components = RsaPublicKeyComponents { n: &n, e: &e };
    let parsed = algorithms
        .into_iter()
        .map(|alg| {
            components
                .to_parsed_public_key(alg.parameters())
                .map(|key| (alg, key))
                .map_err(|_| "aws-lc rejected the key")
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VerificationKey {
        kid,
        fingerprint,
        parsed,
    })
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
pub(crate) fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(&first) => (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// An RSA public exponent must be odd and at least 3; aws-lc also caps it at 33 bits, and real
/// keys use 65537, so anything wider than 32 bits is refused.
pub(crate) fn exponent_is_acceptable(e: &[u8]) -> bool {
    if e.is_empty() || e.len() > 4 {
        return false;
    }
    let value = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    value >= 3 && value % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_highest_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
    }

    #[test]
    fn exponents_must_be_odd_and_at_least_three() {
        assert!(exponent_is_acceptable(&[1, 0, 1]));
        assert!(exponent_is_acceptable(&[3]));
        assert!(!exponent_is_acceptable(&[1]));
        assert!(!exponent_is_acceptable(&[2]));
        assert!(!exponent_is_acceptable(&[1, 0, 0]));
        assert!(!exponent_is_acceptable(&[]));
        assert!(!exponent_is_acceptable(&[1, 0, 0, 0, 1]));
    }

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
