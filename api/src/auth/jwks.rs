//! JSON Web Key Sets: which published keys may verify tokens, parsed once per load; and the
//! sets made from a configured key or secret (`static_key.rs`), under the same policy.
//!
//! A key is usable when its type is one an allowed algorithm needs (`RSA`; `EC` on P-256,
//! P-384, P-521 or secp256k1; `OKP` on Ed25519), it is meant for signatures (`use` absent or
//! `sig`, `key_ops` absent or containing `verify`), it publishes no private member, its `alg` is
//! absent or an allowed algorithm of its own type and curve, and its numbers pass the key
//! policy (`public_key.rs`: RSA moduli of 2048 to 8192 bits with an odd exponent of at least 3,
//! EC points on their curve at full length). Unusable keys are skipped, not fatal: an issuer may
//! publish encryption keys, or keys of a type not allowed here, beside its signing keys. A
//! JWKS never yields a secret (`oct`): an HMAC key is only ever made from a configured secret.

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::signature::ParsedPublicKey;
use aws_lc_rs::{digest, hmac};
use serde_json::Value;

use super::algorithm::{Algorithm, Curve};
use super::error::AuthError;
use super::jose::decode_base64url;
use super::public_key::{KeyNumbers, KeyRefusal};

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

    /// A secret's identity: a tag the secret itself computes, so the fingerprint tells nothing
    /// of a weak secret to whoever sees it (a plain hash could be searched).
    fn of_secret(key: &hmac::Key) -> Self {
        let tag = hmac::sign(key, b"key fingerprint");
        let mut bytes = [0; 32];
        bytes.copy_from_slice(&tag.as_ref()[..32]);
        KeyFingerprint(bytes)
    }
}

/// What checks a signature for one algorithm.
enum Verifier {
    /// A public key, parsed by aws-lc.
    Public(ParsedPublicKey),
    /// A shared secret, compared in constant time by aws-lc (boxed: aws-lc's HMAC state is
    /// large, and public keys are the common case).
    Hmac(Box<hmac::Key>),
}

impl Verifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Verifier::Public(key) => key.verify_sig(message, signature).is_ok(),
            Verifier::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

/// Whose `kid` a key answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyId {
    /// A JWK's `kid`, or none: a token naming a `kid` finds only a key with that `kid`.
    Jwk(Option<String>),
    /// A key configured without a JWK (a PEM key, a secret): it has no `kid` and serves tokens
    /// whatever `kid` they name, as the reference does with a configured key.
    Configured,
}

/// One usable verification key, parsed once for each algorithm it may verify: a public key,
/// or a secret for exactly one HMAC algorithm.
pub struct VerificationKey {
    kid: KeyId,
    fingerprint: KeyFingerprint,
    /// One entry per allowed algorithm this key may be used with.
    parsed: Vec<(Algorithm, Verifier)>,
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
    /// The public key `numbers`, parsed for each of `algorithms` under the key policy
    /// (`public_key.rs`): the one path every public key takes, from a JWKS or configured.
    fn public(
        kid: KeyId,
        numbers: &KeyNumbers<'_>,
        algorithms: Vec<Algorithm>,
    ) -> Result<Self, Unusable> {
        let named = match &kid {
            KeyId::Jwk(kid) => kid.as_deref(),
            KeyId::Configured => None,
        };
        let fingerprint = KeyFingerprint::of(named, numbers, &algorithms);
        let parsed = algorithms
            .into_iter()
            .map(|alg| {
                numbers
                    .parse_for(alg)
                    .map(|key| (alg, Verifier::Public(key)))
                    .map_err(Unusable::Policy)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VerificationKey {
            kid,
            fingerprint,
            parsed,
        })
    }

    /// A configured public key (a PEM one: no `kid`, no `alg`), for every algorithm of
    /// `allowed` that uses its type (and curve), under the same policy as a JWKS key.
    pub(crate) fn configured(
        numbers: &KeyNumbers<'_>,
        allowed: &[Algorithm],
    ) -> Result<Self, Unusable> {
        let algorithms = algorithms_for(numbers, None, allowed)?;
        Self::public(KeyId::Configured, numbers, algorithms)
    }

    /// A secret for the HMAC algorithm `alg`, refused when `alg` is not HMAC or the secret is
    /// shorter than its hash's output (RFC 7518 §3.2).
    pub(crate) fn secret(alg: Algorithm, secret: &[u8]) -> Result<Self, SecretRefusal> {
        let hmac = alg.hmac().ok_or(SecretRefusal::NotHmac)?;
        if secret.len() < hmac.tag_len() {
            return Err(SecretRefusal::TooShort);
        }
        let key = hmac::Key::new(hmac, secret);
        Ok(VerificationKey {
            kid: KeyId::Configured,
            fingerprint: KeyFingerprint::of_secret(&key),
            parsed: vec![(alg, Verifier::Hmac(Box::new(key)))],
        })
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        match &self.kid {
            KeyId::Jwk(kid) => kid.as_deref(),
            KeyId::Configured => None,
        }
    }

    /// Whether a token naming `kid` (or none) may use this key.
    fn answers_to(&self, kid: Option<&str>) -> bool {
        match &self.kid {
            KeyId::Jwk(own) => kid.is_none() || own.as_deref() == kid,
            KeyId::Configured => true,
        }
    }

    pub(crate) fn fingerprint(&self) -> KeyFingerprint {
        self.fingerprint
    }

    fn verifier_for(&self, alg: Algorithm) -> Option<&Verifier> {
        self.parsed
            .iter()
            .find_map(|(candidate, key)| (*candidate == alg).then_some(key))
    }

    /// Checks `signature` over `message` with this key and `alg`. False for a wrong signature
    /// and for an algorithm this key may not be used with.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.verifier_for(alg)
            .is_some_and(|key| key.verify(message, signature))
    }
}

/// Why a secret cannot be an HMAC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretRefusal {
    /// The algorithm is not HS256, HS384 or HS512.
    NotHmac,
    /// Shorter than the hash's output.
    TooShort,
}

/// The usable keys of one JWKS response, and when it was fetched; or a configured key or
/// secret (`static_key.rs`), which is never fetched again.
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
        let keys = key_entries(&value)?
            .iter()
            .filter_map(|entry| usable_key(entry, allowed).map_err(skipped(entry)).ok())
            .collect();
        KeySet::of(keys).ok_or(JwksError::NoUsableKeys)
    }

    /// A set of `keys` made now, or `None` when there are none. A configured set is made once
    /// and never fetched again, so its age means nothing: whoever holds one must not refresh it
    /// or let it go stale.
    pub(crate) fn of(keys: Vec<VerificationKey>) -> Option<Self> {
        (!keys.is_empty()).then(|| KeySet {
            keys: keys.into_iter().map(Arc::new).collect(),
            fetched_at: Instant::now(),
        })
    }

    /// When this set was fetched (for a configured set: made).
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

    /// Every algorithm some key of the set may verify, in [`Algorithm::ALL`] order (HMAC last):
    /// what a fixed key set's allow-list follows from.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        Algorithm::ALL
            .iter()
            .chain(&Algorithm::HMAC)
            .copied()
            .filter(|&alg| self.keys.iter().any(|key| key.verifier_for(alg).is_some()))
            .collect()
    }

    /// Looks a key up by `kid` and algorithm. A token without `kid` is matched only when exactly
    /// one key of the set fits its algorithm; keys are never tried one after another. A key
    /// configured without a JWK (a PEM key, a secret) has no `kid` and fits whatever the token
    /// names.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection {
        let mut fitting = self
            .keys
            .iter()
            .filter(|key| key.verifier_for(alg).is_some())
            .filter(|key| key.answers_to(kid));
        match (fitting.next(), fitting.next()) {
            (Some(key), None) => Selection::Found(key.clone()),
            _ => Selection::NoApplicableKey,
        }
    }
}

/// The `keys` array of a JWKS document, refused when missing or longer than [`MAX_KEYS`].
pub(crate) fn key_entries(document: &Value) -> Result<&[Value], JwksError> {
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(JwksError::Malformed);
    };
    if entries.len() > MAX_KEYS {
        return Err(JwksError::TooManyKeys);
    }
    Ok(entries)
}

/// Logs (at debug: per fetch, from a remote document) why a JWKS entry was skipped.
fn skipped(entry: &Value) -> impl Fn(Unusable) + '_ {
    move |reason| {
        let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
        tracing::debug!(kid, reason = reason.description(), "skipping a JWKS key");
    }
}

/// Why a JWK cannot verify tokens here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// It has private members: whoever has it can sign.
    PrivateMaterial,
    /// `kty` `oct`: a secret, which a JWK never provides here.
    Symmetric,
    /// `use` or `key_ops` say it is not for verifying signatures.
    NotForVerification(&'static str),
    /// A member is missing, of the wrong type, or names a type or curve not supported.
    Malformed(&'static str),
    /// No allowed algorithm may use it (its `alg` included).
    NoAllowedAlgorithm(&'static str),
    /// Its numbers fail the key policy.
    Policy(KeyRefusal),
}

impl Unusable {
    /// What a log line (or a configuration error) says.
    pub(crate) const fn description(self) -> &'static str {
        match self {
            Unusable::PrivateMaterial => "the JWK publishes private key material",
            Unusable::Symmetric => "a symmetric key",
            Unusable::NotForVerification(reason)
            | Unusable::Malformed(reason)
            | Unusable::NoAllowedAlgorithm(reason) => reason,
            Unusable::Policy(refusal) => refusal.description(),
        }
    }
}

/// Private key members of every key type (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Builds a [`VerificationKey`] from one JWK, or says why it is not usable.
pub(crate) fn usable_key(jwk: &Value, allowed: &[Algorithm]) -> Result<VerificationKey, Unusable> {
    let field = |name: &str| jwk.get(name);
    // A secret first: its `k` is a private member too, but "a secret" says more.
    if field("kty").and_then(Value::as_str) == Some("oct") {
        return Err(Unusable::Symmetric);
    }
    // A published private key means anyone can sign: the issuer is misconfigured or
    // compromised, and the key must not be trusted.
    if PRIVATE_MEMBERS.iter().any(|member| field(member).is_some()) {
        return Err(Unusable::PrivateMaterial);
    }
    check_usage(jwk)?;
    let kid = match field("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(Unusable::Malformed("'kid' is not a string")),
    };
    let decoded = JwkNumbers::read(jwk)?;
    let numbers = decoded.numbers();
    let named = match field("alg") {
        None => None,
        Some(Value::String(name)) => Some(name.as_str()),
        Some(_) => return Err(Unusable::Malformed("'alg' is not a string")),
    };
    let algorithms = algorithms_for(&numbers, named, allowed)?;
    VerificationKey::public(KeyId::Jwk(kid), &numbers, algorithms)
}

/// The algorithms a key may verify: its `alg` when it names one (which must be allowed and of
/// its type and curve), else every allowed algorithm of its type and curve; never none.
fn algorithms_for(
    numbers: &KeyNumbers<'_>,
    named: Option<&str>,
    allowed: &[Algorithm],
) -> Result<Vec<Algorithm>, Unusable> {
    let of_its_type = |alg: &Algorithm| alg.key_type() == numbers.key_type();
    let algorithms: Vec<Algorithm> = match named.map(Algorithm::from_name) {
        None => allowed.iter().copied().filter(of_its_type).collect(),
        Some(Some(alg)) if allowed.contains(&alg) && of_its_type(&alg) => vec![alg],
        Some(Some(alg)) if allowed.contains(&alg) => {
            return Err(Unusable::NoAllowedAlgorithm(
                "'alg' is for another key type",
            ));
        }
        Some(_) => {
            return Err(Unusable::NoAllowedAlgorithm(
                "'alg' is not an allowed algorithm",
            ));
        }
    };
    if algorithms.is_empty() {
        return Err(Unusable::NoAllowedAlgorithm(
            "no allowed algorithm uses this type of key",
        ));
    }
    Ok(algorithms)
}

/// `use` absent or `sig`, and `key_ops` absent or containing `verify` (RFC 7517 §4.2, §4.3).
fn check_usage(jwk: &Value) -> Result<(), Unusable> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(usage)) if usage == "sig" => {}
        Some(_) => return Err(Unusable::NotForVerification("'use' is not 'sig'")),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err(Unusable::NotForVerification(
                "'key_ops' does not include 'verify'",
            ));
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
    fn read(jwk: &Value) -> Result<Self, Unusable> {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        let bytes = |name: &str| text(name).and_then(decode_base64url);
        let malformed = Unusable::Malformed;
        match text("kty") {
            Some("RSA") => match (bytes("n"), bytes("e")) {
                (Some(n), Some(e)) => Ok(JwkNumbers::Rsa { n, e }),
                _ => Err(malformed("'n' or 'e' is missing or not base64url")),
            },
            Some("EC") => {
                let curve = text("crv")
                    .and_then(Curve::from_name)
                    .ok_or(malformed("'crv' is not a supported curve"))?;
                match (bytes("x"), bytes("y")) {
                    (Some(x), Some(y)) => Ok(JwkNumbers::Ec { curve, x, y }),
                    _ => Err(malformed("'x' or 'y' is missing or not base64url")),
                }
            }
            Some("OKP") if text("crv") == Some("Ed25519") => bytes("x")
                .map(|x| JwkNumbers::Ed25519 { x })
                .ok_or(malformed("'x' is missing or not base64url")),
            Some("OKP") => Err(malformed("'crv' is not Ed25519")),
            _ => Err(malformed("'kty' is not RSA, EC or OKP")),
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
    fn a_secret_verifies_its_own_algorithm_only_and_answers_any_kid() {
        let secret = [7; 32];
        let key = VerificationKey::secret(Algorithm::HS256, &secret).expect("a key");
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), b"message");
        assert!(key.verify(Algorithm::HS256, b"message", tag.as_ref()));
        assert!(!key.verify(Algorithm::HS256, b"messages", tag.as_ref()));
        assert!(!key.verify(Algorithm::HS256, b"message", &tag.as_ref()[..31]));
        assert!(!key.verify(Algorithm::HS384, b"message", tag.as_ref()));
        assert!(key.answers_to(Some("any")) && key.answers_to(None));
        assert_eq!(key.kid(), None);
        assert_eq!(
            VerificationKey::secret(Algorithm::HS256, &secret[..31]).err(),
            Some(SecretRefusal::TooShort)
        );
        assert_eq!(
            VerificationKey::secret(Algorithm::ES256, &secret).err(),
            Some(SecretRefusal::NotHmac)
        );
    }

    #[test]
    fn a_secrets_fingerprint_is_stable_and_not_its_hash() {
        let fingerprint = |secret: &[u8]| {
            VerificationKey::secret(Algorithm::HS256, secret)
                .expect("a key")
                .fingerprint()
        };
        let secret = [7; 32];
        assert_eq!(fingerprint(&secret), fingerprint(&secret));
        assert_ne!(fingerprint(&secret), fingerprint(&[8; 32]));
        let hash = digest::digest(&digest::SHA256, &secret);
        assert_ne!(fingerprint(&secret).0, hash.as_ref());
    }

    #[test]
    fn a_set_is_never_empty() {
        assert!(KeySet::of(Vec::new()).is_none());
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
