//! Properties over generated input: no input panics the signature layer, no change to a valid
//! token survives (RFC 7515 §5.2, RFC 8725 §3.1), and the claims layer reads a payload exactly
//! as serde_json does, refusing a repeated member name at any depth.

use api::auth::{Algorithm, AuthError, AuthOptions, KeySet, validate_payload, verify_jws};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

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

const ISSUER: &str = "https://tenant.example/";

/// The claims layer's answer for `payload`, verified as if signed by `ISSUER`.
fn claims_of(payload: &[u8]) -> Result<api::auth::Claims, AuthError> {
    let options = AuthOptions::new(ISSUER.parse().expect("URL"), AUDIENCE);
    validate_payload(payload, ISSUER, &options, now())
}

/// JSON values of every kind, a few levels deep, with short names that repeat across objects,
/// and strings with escapes.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |number| number.is_finite())
            .prop_map(Value::from),
        r#"[ab"\\é\x01]{0,3}"#.prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[ab]{1,2}", inner, 0..3)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A valid claim set of `ISSUER` with `extra` as its claim `x`, as text.
fn payload_with(extra: &str) -> String {
    let claims = claims(ISSUER).to_string();
    format!("{},\"x\":{extra}}}", &claims[..claims.len() - 1])
}

/// Short strings with spaces, escapes and a character beyond ASCII.
fn arb_words() -> impl Strategy<Value = String> {
    r#"[ab"\\é\x01 ]{0,12}"#
}

/// A `scope` claim: space-separated words, or an array of strings.
fn arb_scope() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_words().prop_map(Value::from),
        prop::collection::vec(arb_words(), 0..4).prop_map(Value::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_claims_layer_reads_what_serde_json_reads(
        extra in arb_json(),
        subject in arb_words(),
        scope in arb_scope(),
    ) {
        let mut claims = claims(ISSUER);
        claims["x"] = extra;
        claims["sub"] = Value::from(subject.as_str());
        claims["scope"] = scope.clone();
        let payload = claims.to_string();

        // Anything within the limits is accepted, and its claims read as serde_json reads them.
        let verified = claims_of(payload.as_bytes()).expect("a valid claim set");

        let expected: Map<String, Value> = serde_json::from_str(&payload).expect("JSON");
        let granted: Vec<String> = match &expected["scope"] {
            Value::String(words) => words.split(' ').filter(|word| !word.is_empty()).map(str::to_owned).collect(),
            array => serde_json::from_value(array.clone()).expect("strings"),
        };
        prop_assert_eq!(verified.subject(), Some(subject.as_str()));
        prop_assert_eq!(verified.scopes(), &granted[..]);
        for word in granted.iter().map(String::as_str).chain(["", "a", "b a", "ab", "é"]) {
            prop_assert_eq!(verified.has_scope(word), granted.iter().any(|g| g == word), "{:?}", word);
        }
        prop_assert_eq!(verified.get("x"), expected.get("x"));
    }
    #[test]
    fn a_repeated_member_name_is_refused_at_any_depth(
        extra in arb_json(),
        depth in 0usize..4,
        in_array in any::<bool>(),
    ) {
        // An object whose first member comes again, wrapped `depth` times.
        let mut value = format!(r#"{{"d":1,"e":{extra},"d":2}}"#);
        for _ in 0..depth {
            value = if in_array { format!("[0,{value}]") } else { format!(r#"{{"w":{value}}}"#) };
        }

        let refusal = claims_of(payload_with(&value).as_bytes()).expect_err("refused");

        prop_assert_eq!(
            refusal,
            AuthError::invalid_token("JWT Claims Set must be a JSON object without duplicate members")
        );
    }

    #[test]
    fn arbitrary_payloads_never_panic_the_claims_layer(payload in any::<Vec<u8>>()) {
        if let Ok(claims) = claims_of(&payload) {
            // What was accepted builds its full claims tree too.
            prop_assert!(!claims.all().is_empty());
        }
    }

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
