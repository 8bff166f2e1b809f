//! Fuzz target: the DPoP proof check (`check_proof`) never panics on any `DPoP` header value,
//! with and without server nonces; the nonce check never panics on any text and accepts only
//! what it issued; and the `htu` normal form it compares is stable: normalising a normal form
//! changes nothing.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use api::auth::dpop::{
    DpopNonces, MIN_NONCE_SECRET_BYTES, NonceStatus, ProofCheck, check_proof, normalize_htu,
};
use libfuzzer_sys::fuzz_target;

/// Nonces with a fixed secret, so a seed carrying one of its nonces reaches past the check.
static NONCES: LazyLock<DpopNonces> = LazyLock::new(|| {
    DpopNonces::new(&[7; MIN_NONCE_SECRET_BYTES], Duration::from_secs(60)).expect("valid")
});

/// A fixed request, so a proof that reaches the claim checks always meets the same one.
const CHECK: ProofCheck<'static> = ProofCheck {
    method: "GET",
    // The origin and route the conformance seeds name in `htu`, so they reach past it.
    url: "http://127.0.0.1:3010/api/private",
    access_token: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    now: 1_800_000_000,
    iat_offset: Duration::from_secs(300),
    iat_leeway: Duration::from_secs(30),
    nonces: None,
};

fuzz_target!(|data: &[u8]| {
    // A header value reaches the check as text; other bytes never do.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(checked) = check_proof(text, &CHECK) {
        assert_eq!(checked.jkt.len(), 43, "a base64url SHA-256");
        assert!(checked.remember_until >= CHECK.now);
    }
    let with_nonces = ProofCheck {
        nonces: Some(&NONCES),
        ..CHECK
    };
    if let Ok(checked) = check_proof(text, &with_nonces) {
        assert!(
            checked
                .nonce
                .is_some_and(|status| status != NonceStatus::Invalid)
        );
    }
    if NONCES.check(text, CHECK.now) != NonceStatus::Invalid {
        // Only our own spelling of a window near now: the text is one we would hand out.
        let window_nonces =
            [CHECK.now - 60, CHECK.now, CHECK.now + 60].map(|at| NONCES.current(at));
        assert!(window_nonces.iter().any(|nonce| nonce == text));
    }
    if let Ok(normal) = normalize_htu(text) {
        assert_eq!(normalize_htu(&normal).as_deref(), Ok(normal.as_str()));
    }
});
