//! Fuzz target: JWKS parsing (`KeySet::parse`) never panics on anything an issuer may serve.
#![no_main]

use api::auth::{Algorithm, KeySet, Selection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(keys) = KeySet::parse(data, &Algorithm::ALL) {
        // Lookups on whatever was accepted must not panic either.
        for key in keys.keys() {
            let _ = keys.select(key.kid(), Algorithm::RS256);
        }
        assert!(matches!(keys.select(None, Algorithm::PS512), Selection::Found(_) | Selection::NoApplicableKey));
    }
});
