//! Fresh EC and Ed25519 signing keys, one per algorithm and process, and JWS signed with them by
//! aws-lc: what an issuer that signs with ES256, ES384, ES512, ES256K or EdDSA publishes and
//! issues. FOR TESTING ONLY.

use std::sync::OnceLock;

use api::auth::{Algorithm, KeyType};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P256K1_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// An EC or Ed25519 key pair with its `kid` and public JWK.
pub struct SigningKey {
    alg: Algorithm,
    pair: Pair,
    jwk: Value,
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// aws-lc's signing for an ECDSA algorithm, with the fixed-length signature JWS uses.
fn ecdsa_signing(alg: Algorithm) -> &'static EcdsaSigningAlgorithm {
    match alg {
        Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
        Algorithm::ES384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
        Algorithm::ES512 => &ECDSA_P521_SHA512_FIXED_SIGNING,
        Algorithm::ES256K => &ECDSA_P256K1_SHA256_FIXED_SIGNING,
        other => panic!("{other} is not ECDSA"),
    }
}

impl SigningKey {
    /// A new key for `alg` (an ES algorithm or EdDSA), with `kid` `test-{alg}`.
    pub fn generate(alg: Algorithm) -> Self {
        let kid = format!("test-{alg}");
        let (pair, jwk) = match alg.key_type() {
            KeyType::Ec(curve) => {
                let pair = EcdsaKeyPair::generate(ecdsa_signing(alg)).expect("EC key generation");
                let point = pair.public_key().as_ref();
                let length = curve.coordinate_bytes();
                let jwk = json!({
                    "kty": "EC", "crv": curve.name(), "use": "sig", "alg": alg.name(), "kid": kid,
                    "x": b64(&point[1..=length]), "y": b64(&point[1 + length..]),
                });
                (Pair::Ecdsa(pair), jwk)
            }
            KeyType::Ed25519 => {
                let pair = Ed25519KeyPair::generate().expect("Ed25519 key generation");
                let jwk = json!({
                    "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                    "x": b64(pair.public_key().as_ref()),
                });
                (Pair::Ed25519(pair), jwk)
            }
            KeyType::Rsa | KeyType::Secret => {
                panic!("RSA test keys are `TestKey`s; no secrets here")
            }
        };
        SigningKey { alg, pair, jwk }
    }

    /// This process's key for `alg`, made on first use.
    pub fn for_algorithm(alg: Algorithm) -> &'static SigningKey {
        static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
        KEYS.get_or_init(|| {
            [
                Algorithm::ES256,
                Algorithm::ES256K,
                Algorithm::ES384,
                Algorithm::ES512,
                Algorithm::EdDSA,
            ]
            .into_iter()
            .map(SigningKey::generate)
            .collect()
        })
        .iter()
        .find(|key| key.alg == alg)
        .unwrap_or_else(|| panic!("no test key for {alg}"))
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().expect("kid")
    }

    /// The public JWK, as an issuer publishes it.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The signature of `input`, base64url-encoded.
    pub fn signature(&self, input: &[u8]) -> String {
        let signature = match &self.pair {
            Pair::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), input)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
            Pair::Ed25519(pair) => pair.sign(input).as_ref().to_vec(),
        };
        b64(&signature)
    }

    /// Signs `header` and `claims` exactly as given, for hostile and unusual tokens.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.signature(input.as_bytes());
        format!("{input}.{signature}")
    }

    /// A token as the issuer makes it: header `{"alg":…,"typ":"JWT","kid":…}` over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(
            &json!({"alg": self.alg.name(), "typ": "JWT", "kid": self.kid()}),
            claims,
        )
    }
}
