//! Fuzz target: the claims layer (`validate_payload`) never panics, and whatever it accepts
//! has our issuer, one of our audiences and an unexpired `exp`.
#![no_main]

use std::sync::LazyLock;

use api::auth::{AuthOptions, validate_payload};
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://tenant.example/";
const AUDIENCE: &str = "https://quickstarts/api";
/// A fixed "now", so seeds minted at any time keep their meaning.
const NOW: i64 = 1_800_000_000;

static OPTIONS: LazyLock<AuthOptions> =
    LazyLock::new(|| AuthOptions::new(ISSUER.parse().expect("url"), AUDIENCE));

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = validate_payload(data, ISSUER, &OPTIONS, NOW) {
        assert_eq!(claims.issuer(), ISSUER);
        assert!(claims.audiences().iter().any(|aud| aud == AUDIENCE));
        assert!(claims.expires_at() > NOW - 6);
    }
});
