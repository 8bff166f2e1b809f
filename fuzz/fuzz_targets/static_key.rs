//! Fuzz target: reading a configured public key (`public_key_set`: PEM, JWK or JWKS) never
//! panics, whatever an operator pastes, and whatever it accepts verifies no HMAC token.
#![no_main]

use api::auth::{Algorithm, Selection, public_key_set};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // HS256 on the allow-list too: even then a public key must never become an HMAC key.
    let allowed = [&Algorithm::ALL[..], &[Algorithm::HS256]].concat();
    if let Ok(keys) = public_key_set(text, &allowed) {
        assert!(!keys.keys().is_empty());
        assert!(matches!(
            keys.select(None, Algorithm::HS256),
            Selection::NoApplicableKey
        ));
    }
});
