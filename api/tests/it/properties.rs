//! Properties of the signature layer over generated input: no input panics it, and no change
//! to a valid token survives (RFC 7515 §5.2, RFC 8725 §3.1).

use api::auth::{Algorithm, AuthError, KeySet, verify_jws};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::json;

use crate::helpers::*;

fn key_set() -> KeySet {
    let document = json!({"keys": [TestKey::primary().jwk()]}).to_string();
    KeySet::parse(document.as_bytes(), &[Algorithm::RS256]).expect("the test key is usable")
}

fn valid_token() -> String {
    TestKey::primary().sign(&claims("https://tenant.example/"))
}

/// Whether the signature layer refuses `token` as an invalid token: a refusal of any other
/// kind (a 5xx, a missing key) would blame the issuer for the client's bytes.
fn refused_as_invalid(token: &str) -> bool {
    matches!(
        verify_jws(token, &key_set(), &[Algorithm::RS256]),
        Err(AuthError::InvalidToken(_))
    )
}

/// Strings over the compact serialization's own alphabet, so generated input gets past the
/// first checks and exercises the deeper ones.
fn arb_compact_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9_=+/.-]{0,400}").expect("regex")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_is_refused_and_never_panics(input in any::<String>()) {
        prop_assert!(refused_as_invalid(&input));
    }

    #[test]
    fn arbitrary_compact_like_text_is_refused(input in arb_compact_like()) {
        prop_assert!(refused_as_invalid(&input));
    }

    #[test]
    fn arbitrary_signed_headers_and_payloads_never_panic(header in any::<Vec<u8>>(), payload in any::<Vec<u8>>()) {
        // Signed with the real key, so parsing is reached however odd the bytes are.
        let token = TestKey::primary().sign_bytes(&header, &payload);
        let _ = verify_jws(&token, &key_set(), &[Algorithm::RS256]);
    }

    #[test]
    fn changing_any_character_of_a_valid_token_makes_it_refused(
        index in 0usize..4096,
        replacement in proptest::char::range('!', '~'),
    ) {
        let token = valid_token();
        let index = index % token.len();
        let original = token.as_bytes()[index] as char;
        prop_assume!(replacement != original);
        let mut tampered = token.clone();
        tampered.replace_range(index..=index, &replacement.to_string());

        prop_assert!(refused_as_invalid(&tampered));
    }

    #[test]
    fn truncating_or_extending_a_valid_token_makes_it_refused(cut in 1usize..4096, extra in "[A-Za-z0-9_-]{1,8}") {
        let token = valid_token();
        // Remove between 1 and len - 1 characters: never none, never all.
        let truncated = &token[..token.len() - (1 + cut % (token.len() - 1))];
        prop_assert!(refused_as_invalid(truncated));
        let extended = format!("{token}{extra}");
        prop_assert!(refused_as_invalid(&extended));
    }
}

#[test]
fn the_untampered_token_verifies_to_its_own_payload() {
    // The properties above would pass vacuously if the valid token did not verify.
    let token = valid_token();
    let payload = token.split('.').nth(1).expect("a payload segment");

    let verified = verify_jws(&token, &key_set(), &[Algorithm::RS256]).expect("verifies");

    assert_eq!(
        verified,
        URL_SAFE_NO_PAD.decode(payload).expect("base64url")
    );
}
