//! Fuzz target: the compact JWS layer (`api::auth::verify_jws`) never panics, and accepts
//! nothing but tokens signed by the key set's key.
#![no_main]

use std::sync::LazyLock;

use api::auth::{Algorithm, KeySet, verify_jws};
use libfuzzer_sys::fuzz_target;

/// The api's committed test keys: random input cannot be signed by them, so any acceptance
/// of a token that is not one of the seeds is a finding.
static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let keys: serde_json::Value = serde_json::from_str(include_str!("../../api/tests/data/test-keys.jwk.json"))
        .expect("test keys JSON");
    let document = serde_json::json!({"keys": [keys["primary"], keys["secondary"], keys["weak-1024"]]});
    KeySet::parse(document.to_string().as_bytes(), &Algorithm::ALL).expect("usable test keys")
});

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = verify_jws(token, &KEYS, &Algorithm::ALL);
    }
});
