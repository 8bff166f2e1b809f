//! Token validation end to end: every way a token can be wrong gets 401 `invalid_token` with a
//! specific description (RFC 7515, 7519, 8725, 9068), and the header-only refusals cost no
//! network call.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn claim_violations_are_refused_with_specific_descriptions() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let now = now();
    let bare_issuer = issuer.url().trim_end_matches('/').to_owned();

    let cases = [
        (
            json!({"exp": now - 60}),
            "\"exp\" claim timestamp check failed",
        ),
        (json!({"exp": null}), "Missing 'exp' claim"),
        (json!({"exp": "tomorrow"}), "'exp' claim must be a number"),
        (
            json!({"nbf": now + 60}),
            "\"nbf\" claim timestamp check failed",
        ),
        (
            json!({"iat": now + 60}),
            "\"iat\" claim timestamp check failed (in the future)",
        ),
        (
            json!({"aud": "https://other/api"}),
            "Unexpected 'aud' value",
        ),
        (
            json!({"aud": ["https://other/api"]}),
            "Unexpected 'aud' value",
        ),
        (json!({"aud": null}), "Missing 'aud' claim"),
        (
            json!({"aud": 42}),
            "'aud' claim must be a string or an array of strings",
        ),
        (
            json!({"iss": "https://evil.example/"}),
            "Unexpected 'iss' value",
        ),
        (json!({"iss": bare_issuer}), "Unexpected 'iss' value"),
        (json!({"iss": null}), "Missing 'iss' claim"),
        (json!({"iss": 1}), "'iss' claim must be a string"),
        (json!({"sub": 1}), "'sub' claim must be a string"),
        (
            json!({"client_id": ["a"]}),
            "'client_id' claim must be a string",
        ),
        (json!({"jti": 7}), "'jti' claim must be a string"),
        (
            json!({"scope": {"read": true}}),
            "'scope' claim must be a string or an array of strings",
        ),
    ];
    for (changes, description) in cases {
        assert_refused(&app, &issuer.token_with(changes), description).await;
    }
}

#[tokio::test]
async fn tokens_within_the_clock_tolerance_and_audience_arrays_with_ours_are_accepted() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let now = now();

    for changes in [
        json!({"exp": now - 2}),
        json!({"nbf": now + 2, "iat": now + 2}),
        json!({"aud": ["https://other/api", AUDIENCE]}),
        json!({"aud": [AUDIENCE, format!("{}userinfo", issuer.url())]}),
        json!({"exp": now as f64 + 100.5}),
    ] {
        let response = app
            .get_with_token("/api/private", &issuer.token_with(changes.clone()))
            .await;
        assert_eq!(response.status(), 200, "{changes}");
    }
}

/// Starts the app against `issuer`, asserts each token is refused with its description, and
/// that none of it cost the issuer a request: these refusals need no key.
async fn assert_refused_without_the_issuer(issuer: &TestIssuer, cases: &[(String, &str)]) {
    let app = spawn_app(options(issuer)).await;
    for (token, description) in cases {
        assert_refused(&app, token, description).await;
    }
    issuer.assert_never_called().await;
}

/// A valid token's payload and signature segments, to put behind a forged header.
fn payload_and_signature(issuer: &TestIssuer) -> String {
    let valid = issuer.token();
    let (_header, rest) = valid.split_once('.').expect("dot");
    rest.to_owned()
}

#[tokio::test]
async fn forbidden_algorithms_are_refused_before_any_network_call() {
    const UNSECURED: &str = "Unsecured tokens ('alg' none) are not accepted";
    let issuer = TestIssuer::start().await;
    let payload = b64(&claims(&issuer.url()));
    let rest = payload_and_signature(&issuer);
    let kid = TestKey::primary().kid();
    let unsigned = |alg: &str| format!("{}.{payload}.", b64(&json!({"alg": alg, "typ": "JWT"})));
    let forged = |alg: &str| format!("{}.{rest}", b64(&json!({"alg": alg, "kid": kid})));

    assert_refused_without_the_issuer(
        &issuer,
        &[
            (unsigned("none"), UNSECURED),
            (unsigned("NoNe"), UNSECURED),
            (forged("none"), UNSECURED),
            // HS256 "signed" with the public key: the classic algorithm confusion (RFC 8725
            // §2.1).
            (
                forged("HS256"),
                "Symmetric algorithms (HMAC) are not accepted",
            ),
            // Not algorithms at all: names are exact (RFC 7515 §4.1.1), and `EdDSA` is the
            // reference's one name for Ed25519.
            (forged("Ed25519"), "Unsupported 'alg' value"),
            (forged("ES256k"), "Unsupported 'alg' value"),
            (forged("RSA-OAEP"), "Unsupported 'alg' value"),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_narrowed_allow_list_refuses_the_other_algorithms_before_any_network_call() {
    let issuer = TestIssuer::start().await;
    let rest = payload_and_signature(&issuer);
    let kid = TestKey::primary().kid();
    let forged = |alg: &str| format!("{}.{rest}", b64(&json!({"alg": alg, "kid": kid})));
    let mut options = options(&issuer);
    options.algorithms = vec![api::auth::Algorithm::RS256];
    let app = spawn_app(options).await;
    for alg in ["RS384", "PS256", "ES256", "ES256K", "EdDSA"] {
        assert_refused(&app, &forged(alg), "Unsupported 'alg' value").await;
    }
    issuer.assert_never_called().await;
}

#[tokio::test]
async fn unsupported_header_members_are_refused_before_any_network_call() {
    const CRIT: &str = "Unrecognized 'crit' header parameter";
    let issuer = TestIssuer::start().await;
    let claims = claims(&issuer.url());
    let key = TestKey::primary();
    // Validly signed, so only the header member can be what is refused.
    let signed = |members: Value| {
        let mut header = json!({"alg": "RS256", "kid": key.kid()});
        header
            .as_object_mut()
            .expect("object")
            .extend(members.as_object().expect("object").clone());
        key.sign_raw(&header, &claims)
    };

    assert_refused_without_the_issuer(
        &issuer,
        &[
            (signed(json!({"crit": ["exp"]})), CRIT),
            (signed(json!({"b64": false, "crit": ["b64"]})), CRIT),
            (
                signed(json!({"b64": false})),
                "Unsupported 'b64' header parameter",
            ),
            (
                signed(json!({"enc": "A128GCM"})),
                "Encrypted tokens (JWE) are not accepted",
            ),
            (
                signed(json!({"zip": "DEF"})),
                "Unsupported 'zip' header parameter",
            ),
            (signed(json!({"typ": "JOSE"})), "Unexpected 'typ' value"),
            (
                signed(json!({"typ": "id_token+jwt"})),
                "Unexpected 'typ' value",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn malformed_compact_serializations_are_refused_before_any_network_call() {
    const FORMATTING: &str = "Invalid Token or Protected Header formatting";
    let issuer = TestIssuer::start().await;
    let key = TestKey::primary();
    let valid = issuer.token();
    let (input, _signature) = valid.rsplit_once('.').expect("dot");
    let rest = payload_and_signature(&issuer);

    assert_refused_without_the_issuer(
        &issuer,
        &[
            (
                key.sign_bytes(
                    format!(r#"{{"alg":"RS256","alg":"none","kid":"{}"}}"#, key.kid()).as_bytes(),
                    claims(&issuer.url()).to_string().as_bytes(),
                ),
                "Protected Header must be a JSON object without duplicate members",
            ),
            // `{"alg":"RS256" }` is 16 bytes: its last base64url character has 4 unused bits.
            (
                format!(
                    "{}.{rest}",
                    tweak_last_char(&URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256" }"#))
                ),
                FORMATTING,
            ),
            (
                "a.b.c.d.e".into(),
                "Encrypted tokens (JWE) are not accepted",
            ),
            ("abc".into(), "Invalid Compact JWS"),
            (input.to_owned(), "Invalid Compact JWS"),
            (format!("{input}."), "Missing signature"),
            ("e".repeat(16 * 1024 + 1), "Token is too large"),
        ],
    )
    .await;
}

#[tokio::test]
async fn signature_attacks_are_refused() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let claims = claims(&issuer.url());
    let primary = TestKey::primary();
    let valid = issuer.token();
    let (input, signature) = valid.rsplit_once('.').expect("dot");
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    flipped[10] ^= 1;

    let cases: Vec<(String, &str)> = vec![
        // Another key's signature under our kid.
        (
            TestKey::secondary().sign_raw(
                &json!({"alg": "RS256", "typ": "JWT", "kid": primary.kid()}),
                &claims,
            ),
            "signature verification failed",
        ),
        (
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(&flipped)),
            "signature verification failed",
        ),
        // 340 characters are exactly 255 bytes: one byte short of a 2048-bit signature.
        (
            format!("{input}.{}", &signature[..340]),
            "signature verification failed",
        ),
        // The payload changed after signing.
        (
            format!(
                "{}.{}.{signature}",
                input.split('.').next().expect("header"),
                b64(&with(claims.clone(), json!({"scope": "admin"})))
            ),
            "signature verification failed",
        ),
        // Non-canonical base64url of the signature (a set trailing bit).
        (
            format!("{input}.{}", tweak_last_char(signature)),
            "Invalid Compact JWS",
        ),
    ];
    for (token, description) in &cases {
        assert_refused(&app, token, description).await;
    }
}

/// Changes the last base64url character so only the unused low bits differ.
fn tweak_last_char(encoded: &str) -> String {
    let (head, last) = encoded.split_at(encoded.len() - 1);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet
        .iter()
        .position(|&c| c == last.as_bytes()[0])
        .expect("base64url");
    // 2048-bit signatures are 256 bytes: 342 characters whose last one carries 4 unused bits.
    format!("{head}{}", alphabet[index ^ 1] as char)
}

#[tokio::test]
async fn keys_embedded_in_the_header_are_never_used() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let attacker = TestKey::secondary();
    let claims = claims(&issuer.url());

    for embedded in [
        json!({"jwk": attacker.jwk()}),
        json!({"jku": format!("{}attacker/jwks.json", issuer.url())}),
        json!({"x5u": "https://attacker.example/cert.pem"}),
        json!({"x5c": ["MIIB"]}),
    ] {
        let mut header = json!({"alg": "RS256", "typ": "JWT", "kid": TestKey::primary().kid()});
        header
            .as_object_mut()
            .expect("object")
            .extend(embedded.as_object().expect("object").clone());
        let token = attacker.sign_raw(&header, &claims);
        assert_refused(&app, &token, "signature verification failed").await;
    }
    // Only the issuer's own metadata and keys were fetched, once each: no `jku` was followed.
    assert_eq!(issuer.requested_paths().await, [OPENID_PATH, JWKS_PATH]);
}

/// Each way a payload can fail to be a clean JSON object is refused with a description of its
/// own, never another fault's.
#[tokio::test]
async fn payloads_that_are_not_a_clean_json_object_are_refused() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let key = TestKey::primary();
    let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, key.kid());
    let iss = issuer.url();
    let exp = now() + 600;
    // A valid claim set without its closing brace, to add one fault to.
    let open = format!(r#"{{"iss":"{iss}","aud":"{AUDIENCE}","exp":{exp}"#);
    let members =
        |count: usize| -> String { (0..count).map(|i| format!(r#","m{i}":0"#)).collect() };

    for (payload, description) in [
        (
            format!(r#"{open},"aud":"https://other"}}"#).into_bytes(),
            "JWT Claims Set must be a JSON object without duplicate members",
        ),
        (
            format!(r#"{open},"x":[{{"a":1,"\u0061":2}}]}}"#).into_bytes(),
            "JWT Claims Set must be a JSON object without duplicate members",
        ),
        (b"[1,2,3]".to_vec(), "JWT Claims Set must be a JSON object"),
        (b"not json".to_vec(), "JWT Claims Set is not valid JSON"),
        (
            open.clone().into_bytes(),
            "JWT Claims Set is not valid JSON",
        ),
        (
            format!("\u{feff}{open}}}").into_bytes(),
            "JWT Claims Set must not start with a byte-order mark",
        ),
        (
            format!(r#"{open},"x":{}1{}}}"#, "[".repeat(5000), "]".repeat(5000)).into_bytes(),
            "JWT Claims Set is nested too deeply",
        ),
        // Not an object is what is wrong first, however deep it goes.
        (
            format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            "JWT Claims Set must be a JSON object",
        ),
        (
            format!(r#"{open},"x":1e400}}"#).into_bytes(),
            "JWT Claims Set has a number out of range",
        ),
        // Three claims and 126 more: one over the limit of 128 members.
        (
            format!("{open}{}}}", members(126)).into_bytes(),
            "JWT Claims Set has an object with too many members",
        ),
        // Three claims, the array and 1,021 items: one over the limit of 1,024 values.
        (
            format!(r#"{open},"x":[{}0]}}"#, "0,".repeat(1020)).into_bytes(),
            "JWT Claims Set has too many values",
        ),
    ] {
        let token = key.sign_bytes(header.as_bytes(), &payload);
        assert_refused(&app, &token, description).await;
    }

    // Up to the limits, the same shapes are accepted.
    for payload in [
        format!("{open}{}}}", members(125)),
        format!(r#"{open},"x":[{}0]}}"#, "0,".repeat(1019)),
        format!(r#"{open},"x":{}1{}}}"#, "[".repeat(30), "]".repeat(30)),
    ] {
        let token = key.sign_bytes(header.as_bytes(), payload.as_bytes());
        assert_eq!(app.status_of("/api/private", &token).await, 200);
    }
}

/// Each rule of ours a protected header can break is named in its refusal, as the payload's
/// are; a header that is not JSON at all keeps the reference's words.
#[tokio::test]
async fn header_faults_are_refused_each_with_its_own_description_before_any_network_call() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::primary();
    let claims = claims(&issuer.url()).to_string();
    // A header of ours without its closing brace, to add one fault to.
    let open = format!(r#"{{"alg":"RS256","kid":"{}""#, key.kid());
    let signed = |header: String| key.sign_bytes(header.as_bytes(), claims.as_bytes());
    let members =
        |count: usize| -> String { (0..count).map(|i| format!(r#","m{i}":0"#)).collect() };

    assert_refused_without_the_issuer(
        &issuer,
        &[
            (
                signed(format!(r#"{open},"x":{{"a":1,"a":2}}}}"#)),
                "Protected Header must be a JSON object without duplicate members",
            ),
            (
                signed(format!("\u{feff}{open}}}")),
                "Protected Header must not start with a byte-order mark",
            ),
            (
                signed(format!(
                    r#"{open},"x":{}1{}}}"#,
                    "[".repeat(5000),
                    "]".repeat(5000)
                )),
                "Protected Header is nested too deeply",
            ),
            (
                signed(format!(r#"{open},"x":-1e400}}"#)),
                "Protected Header has a number out of range",
            ),
            // Two members and 31 more: one over the limit of 32.
            (
                signed(format!("{open}{}}}", members(31))),
                "Protected Header has an object with too many members",
            ),
            // Two members, the array and 62 items: one over the limit of 64 values.
            (
                signed(format!(r#"{open},"x":[{}0]}}"#, "0,".repeat(61))),
                "Protected Header has too many values",
            ),
            (
                signed(format!("{open},}}")),
                "Invalid Token or Protected Header formatting",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_token_without_kid_is_accepted_only_when_one_key_fits() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let without_kid = json!({"alg": "RS256", "typ": "JWT"});

    let token = TestKey::primary().sign_raw(&without_kid, &claims(&issuer.url()));
    assert_eq!(app.status_of("/api/private", &token).await, 200);

    let two_keys = TestIssuer::bare().await;
    two_keys.mount_discovery().await;
    two_keys
        .mount_jwks(&[TestKey::primary(), TestKey::secondary()])
        .await;
    let app = spawn_app(options(&two_keys)).await;
    let token = TestKey::primary().sign_raw(&without_kid, &claims(&two_keys.url()));
    assert_refused(
        &app,
        &token,
        "no applicable key found in the JSON Web Key Set",
    )
    .await;
}

#[tokio::test]
async fn strict_mode_requires_at_jwt_and_the_rfc_9068_claims() {
    let issuer = TestIssuer::start().await;
    let mut strict = options(&issuer);
    strict.strict = true;
    let app = spawn_app(strict).await;
    let key = TestKey::primary();
    let at_jwt = json!({"alg": "RS256", "typ": "at+jwt", "kid": key.kid()});
    let complete = with(
        claims(&issuer.url()),
        json!({"client_id": "reader", "jti": "id-1"}),
    );

    assert_eq!(
        app.status_of("/api/private", &key.sign_raw(&at_jwt, &complete))
            .await,
        200
    );
    let application = json!({"alg": "RS256", "typ": "application/AT+JWT", "kid": key.kid()});
    assert_eq!(
        app.status_of("/api/private", &key.sign_raw(&application, &complete))
            .await,
        200
    );
    assert_refused(&app, &key.sign(&complete), "Unexpected 'typ' value").await;
    assert_refused(
        &app,
        &key.sign_raw(&at_jwt, &with(complete.clone(), json!({"jti": null}))),
        "Missing 'jti' claim",
    )
    .await;
    assert_refused(
        &app,
        &key.sign_raw(&at_jwt, &with(complete.clone(), json!({"client_id": null}))),
        "Missing 'client_id' claim",
    )
    .await;
    assert_refused(
        &app,
        &key.sign_raw(&at_jwt, &with(complete.clone(), json!({"sub": null}))),
        "Missing 'sub' claim",
    )
    .await;
    assert_refused(
        &app,
        &key.sign_raw(&at_jwt, &with(complete, json!({"iat": null}))),
        "Missing 'iat' claim",
    )
    .await;
}

#[tokio::test]
async fn a_maximum_token_age_refuses_old_tokens() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.max_token_age = Some(std::time::Duration::from_secs(60));
    let app = spawn_app(options).await;

    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    assert_refused(
        &app,
        &issuer.token_with(json!({"iat": now() - 3600})),
        "\"iat\" claim timestamp check failed (too far in the past)",
    )
    .await;
    assert_refused(
        &app,
        &issuer.token_with(json!({"iat": null})),
        "Missing 'iat' claim",
    )
    .await;
}

#[tokio::test]
async fn algorithms_off_the_allow_list_are_refused_even_when_a_key_exists() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.algorithms = vec![api::auth::Algorithm::PS256];
    let app = spawn_app(options).await;

    // The published key says alg RS256, so it may not verify PS256 tokens either.
    assert_refused(&app, &issuer.token(), "Unsupported 'alg' value").await;
}

#[tokio::test]
async fn signed_json_that_is_not_utf_8_and_nested_jwts_are_refused() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let key = TestKey::primary();
    let claims = claims(&issuer.url()).to_string();
    let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, key.kid());

    // RFC 8725 §3.7: JSON must be UTF-8; these bytes are signed, so only parsing can refuse them.
    let mut bad_header = header.clone().into_bytes();
    bad_header.splice(bad_header.len() - 2..bad_header.len() - 2, [0xff, 0xfe]);
    let token = key.sign_bytes(&bad_header, claims.as_bytes());
    assert_refused(&app, &token, "Invalid Token or Protected Header formatting").await;
    let mut bad_payload = claims.clone().into_bytes();
    bad_payload.splice(bad_payload.len() - 2..bad_payload.len() - 2, [0xc3, 0x28]);
    let token = key.sign_bytes(header.as_bytes(), &bad_payload);
    assert_refused(&app, &token, "JWT Claims Set must be UTF-8").await;

    // RFC 7519 §7.2: a nested JWT (`cty` JWT) is not unwrapped; its payload is not claims.
    let inner = issuer.token();
    let nested_header = format!(r#"{{"alg":"RS256","kid":"{}","cty":"JWT"}}"#, key.kid());
    let token = key.sign_bytes(nested_header.as_bytes(), inner.as_bytes());
    assert_refused(&app, &token, "JWT Claims Set is not valid JSON").await;
}
