//! Fuzz target: authorization server metadata parsing (`parse_metadata`) never panics, and
//! never accepts a document that names another issuer.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use url::Url;

static BASE: LazyLock<Url> = LazyLock::new(|| Url::parse("https://tenant.example").expect("url"));

fuzz_target!(|data: &[u8]| {
    for expected in [None, Some("https://tenant.example/")] {
        if let Ok(metadata) = api::auth::parse_metadata(data, &BASE, expected, false) {
            assert_eq!(metadata.issuer.trim_end_matches('/'), "https://tenant.example");
            assert!(metadata.jwks_uri.scheme() == "https" || metadata.jwks_uri.scheme() == "http");
        }
    }
});
