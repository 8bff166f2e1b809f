//! The committed RSA test keys and signing with them. FOR TESTING ONLY: the private keys are
//! in the repository under `tests/data` and must never protect anything real.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

/// An RSA test key with a fixed `kid`: its private half for signing, its public JWK for a JWKS.
pub struct TestKey {
    encoding: EncodingKey,
    jwk: Value,
}

/// A file of `tests/data`.
fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// `test-key-{name}.pem` (PKCS #1 DER in PEM armour) and the `{name}` entry of
/// `test-keys.jwk.json`.
fn load(name: &str) -> TestKey {
    let pem = data(&format!("test-key-{name}.pem"));
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(base64).expect("PEM body is base64");
    let jwks: Value =
        serde_json::from_str(&data("test-keys.jwk.json")).expect("test-keys.jwk.json");
    TestKey {
        encoding: EncodingKey::from_rsa_der(&der),
        jwk: jwks[name].clone(),
    }
}

impl TestKey {
    /// The issuer's signing key (`kid` `test-key-primary`).
    pub fn primary() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load("primary"))
    }

    /// Another 2048-bit key (`kid` `test-key-secondary`), for rotation and wrong-key cases.
    pub fn secondary() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load("secondary"))
    }

    /// A 1024-bit key, too short to be trusted. Only its JWK is used: aws-lc will not sign
    /// with it either.
    pub fn weak() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load("weak-1024"))
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().expect("kid")
    }

    /// The public JWK, as an issuer publishes it.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The RS256 signature of `signing_input`, base64url-encoded: the bare signing an issuer
    /// does per token.
    pub fn signature(&self, signing_input: &[u8]) -> String {
        jsonwebtoken::crypto::sign(signing_input, &self.encoding, Algorithm::RS256)
            .expect("RS256 signing")
    }

    /// Signs raw header and payload bytes (RS256).
    pub fn sign_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.signature(input.as_bytes());
        format!("{input}.{signature}")
    }

    /// Signs `header` and `claims` exactly as given (RS256), for hostile and unusual tokens.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// An Auth0-style token: header `{"alg":"RS256","typ":"JWT","kid":…}` over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid()}),
            claims,
        )
    }
}
