//! A key set fixed at start-up instead of an issuer's JWKS (`AuthOptions::static_keys`, what
//! `PUBLIC_KEY` and `SECRET` configure): tokens verified with no network at all, the exact
//! issuer still required, no way to mix it with fetched keys, the variables' rules, and the
//! binary running from a key file.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;

use api::auth::{Algorithm, AuthOptions, Authenticator, KeySet, OptionsError};
use api::config::{Config, ConfigError};
use serde_json::json;

use crate::helpers::*;
use crate::static_keys::rsa_pem;

/// An issuer that does not exist: nothing may ever be fetched from it.
const ISSUER: &str = "https://issuer.invalid/";

/// Options with the primary RSA key and the ES256 test key fixed, for [`ISSUER`].
fn fixed_options() -> AuthOptions {
    let jwks = json!({"keys": [
        TestKey::primary().jwk(),
        SigningKey::for_algorithm(Algorithm::ES256).jwk(),
    ]});
    let keys = KeySet::parse(jwks.to_string().as_bytes(), &Algorithm::ALL).expect("usable");
    let mut options = AuthOptions::new(ISSUER.parse().expect("URL"), AUDIENCE);
    options.issuer_base_url = None;
    options.issuer = Some(ISSUER.to_owned());
    options.static_keys = Some(Arc::new(keys));
    options
}

#[tokio::test]
async fn fixed_keys_verify_tokens_with_no_issuer_to_ask() {
    let app = spawn_app(fixed_options()).await;
    let rsa = TestKey::primary().sign(&claims(ISSUER));
    let ec = SigningKey::for_algorithm(Algorithm::ES256).sign(&claims(ISSUER));
    for token in [&rsa, &ec] {
        assert_eq!(app.status_of("/api/private", token).await, 200);
    }
    // A key the set does not hold is the token's fault, never an outage: 401, not 503.
    let unknown = TestKey::secondary().sign(&claims(ISSUER));
    let unknown_key = answer(app.get_with_token("/api/private", &unknown).await).await;
    assert_eq!(
        unknown_key,
        refused("no applicable key found in the JSON Web Key Set")
    );
    // The issuer is still checked exactly.
    let other = TestKey::primary().sign(&claims("https://issuer.invalid"));
    let other_issuer = answer(app.get_with_token("/api/private", &other).await).await;
    assert_eq!(other_issuer, refused("Unexpected 'iss' value"));
}

#[test]
fn fixed_keys_do_not_mix_with_fetched_ones_and_need_the_issuer() {
    let with_base = {
        let mut options = fixed_options();
        options.issuer_base_url = Some(ISSUER.parse().expect("URL"));
        options
    };
    let with_jwks_uri = {
        let mut options = fixed_options();
        options.jwks_uri = Some("https://issuer.invalid/jwks".parse().expect("URL"));
        options
    };
    let with_more = {
        let mut options = fixed_options();
        options.more_issuers = vec!["https://other.invalid/".parse().expect("URL")];
        options
    };
    let without_issuer = {
        let mut options = fixed_options();
        options.issuer = None;
        options
    };
    for options in [with_base, with_jwks_uri, with_more, without_issuer] {
        assert_eq!(
            Authenticator::new(options).map(|_| ()),
            Err(OptionsError::StaticKeysWithFetching)
        );
    }
}

/// The configuration from exactly these variables.
fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let variables: HashMap<&str, &str> = pairs.iter().copied().collect();
    Config::from_lookup(|name| variables.get(name).map(|value| (*value).to_owned()))
}

/// A 32-byte HS256 secret.
const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn a_public_key_in_each_form_or_a_secret_is_taken_with_the_issuer() {
    let jwk = TestKey::primary().jwk().to_string();
    let pem = rsa_pem();
    let escaped = pem.trim_end().replace('\n', "\\n");
    for key in [jwk.as_str(), pem.as_str(), escaped.as_str()] {
        let config = config_from(&[
            ("PUBLIC_KEY", key),
            ("ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
        ])
        .unwrap_or_else(|error| panic!("{key}: {error}"));
        assert!(config.auth.static_keys.is_some());
        assert_eq!(config.auth.issuer.as_deref(), Some(ISSUER));
        assert_eq!(config.auth.issuer_base_url, None);
        // The key's type decides, and the JWK's `alg` narrows to RS256.
        assert!(
            config
                .auth
                .algorithms
                .iter()
                .all(|alg| alg.name().starts_with(['R', 'P']))
        );
    }
    let secret = config_from(&[
        ("SECRET", SECRET),
        ("TOKEN_SIGNING_ALG", "HS256"),
        ("ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
    ])
    .expect("valid");
    assert_eq!(secret.auth.algorithms, [Algorithm::HS256]);
}

#[test]
fn combinations_that_cannot_be_meant_stop_start_up_naming_both_variables() {
    let jwk = TestKey::primary().jwk().to_string();
    let refused = |pairs: &[(&str, &str)]| {
        config_from(&[&[("ISSUER", ISSUER), ("AUDIENCE", AUDIENCE)][..], pairs].concat())
            .expect_err("refused")
            .to_string()
    };
    let cases: [(&[(&str, &str)], &str); 9] = [
        (
            &[("PUBLIC_KEY", &jwk), ("SECRET", SECRET)],
            "PUBLIC_KEY and SECRET",
        ),
        (
            &[
                ("PUBLIC_KEY", &jwk),
                ("ISSUER_BASE_URL", "https://t.example.com"),
            ],
            "PUBLIC_KEY and ISSUER_BASE_URL",
        ),
        (
            &[
                ("SECRET", SECRET),
                ("TOKEN_SIGNING_ALG", "HS256"),
                ("JWKS_URI", "https://t.example.com/jwks"),
            ],
            "SECRET and JWKS_URI",
        ),
        (&[("SECRET", SECRET)], "SECRET needs TOKEN_SIGNING_ALG"),
        (
            &[("SECRET", SECRET), ("TOKEN_SIGNING_ALG", "RS256")],
            "SECRET needs TOKEN_SIGNING_ALG",
        ),
        (
            &[("SECRET", "too short"), ("TOKEN_SIGNING_ALG", "HS256")],
            "SECRET:",
        ),
        (
            &[("PUBLIC_KEY", &jwk), ("TOKEN_SIGNING_ALG", "HS256")],
            "PUBLIC_KEY and TOKEN_SIGNING_ALG",
        ),
        (&[("PUBLIC_KEY", "/no/such/key.pem")], "PUBLIC_KEY:"),
        (
            &[
                ("PUBLIC_KEY", &jwk),
                ("ALGORITHMS", "RS256"),
                ("TOKEN_SIGNING_ALG", "RS256"),
            ],
            "ALGORITHMS and TOKEN_SIGNING_ALG",
        ),
    ];
    for (pairs, expected) in cases {
        let message = refused(pairs);
        assert!(message.starts_with(expected), "{pairs:?}: {message}");
        assert!(
            !message.contains(SECRET),
            "a secret is never echoed: {message}"
        );
    }
    let without_issuer = config_from(&[("PUBLIC_KEY", &jwk), ("AUDIENCE", AUDIENCE)])
        .expect_err("refused")
        .to_string();
    assert!(
        without_issuer.starts_with("PUBLIC_KEY needs ISSUER"),
        "{without_issuer}"
    );
    // HMAC only with a secret, never with a JWKS.
    let with_jwks = config_from(&[
        ("ISSUER_BASE_URL", "https://t.example.com"),
        ("AUDIENCE", AUDIENCE),
        ("TOKEN_SIGNING_ALG", "HS256"),
    ])
    .expect_err("refused")
    .to_string();
    assert!(
        with_jwks.starts_with("TOKEN_SIGNING_ALG needs SECRET"),
        "{with_jwks}"
    );
}

#[tokio::test]
async fn the_binary_runs_from_a_public_key_file_with_no_network() {
    let dir = std::env::temp_dir().join(format!("api-public-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("key.pem");
    std::fs::write(&file, rsa_pem()).expect("write the key");
    let path = file.to_str().expect("UTF-8 path");
    let (mut child, address) = start_api_binary(
        &[
            ("PUBLIC_KEY", path),
            ("ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            ("PORT", "0"),
        ],
        Stdio::null(),
    );
    let client = reqwest::Client::new();
    let status = |token: String| {
        let request = client
            .get(format!("{address}/api/private"))
            .bearer_auth(token)
            .send();
        async move { request.await.expect("the api answers").status().as_u16() }
    };
    // A PEM key has no kid: it serves whatever the token names.
    assert_eq!(status(TestKey::primary().sign(&claims(ISSUER))).await, 200);
    assert_eq!(
        status(TestKey::secondary().sign(&claims(ISSUER))).await,
        401
    );
    child.kill().expect("kill");
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_secret_verifies_its_hs256_tokens_and_nothing_else() {
    let config = config_from(&[
        ("SECRET", SECRET),
        ("TOKEN_SIGNING_ALG", "HS256"),
        ("ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
    ])
    .expect("valid");
    let app = spawn_app(config.auth).await;
    let hs256 = |secret: &str| {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let input = format!(
            "{}.{}",
            b64(json!({"alg": "HS256", "typ": "JWT"}).to_string().as_bytes()),
            b64(claims(ISSUER).to_string().as_bytes())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", b64(tag.as_ref()))
    };
    assert_eq!(app.status_of("/api/private", &hs256(SECRET)).await, 200);
    let wrong = answer(
        app.get_with_token("/api/private", &hs256("another secret of thirty-two b."))
            .await,
    )
    .await;
    assert_eq!(wrong, refused("signature verification failed"));
    let rs256 = answer(
        app.get_with_token("/api/private", &TestKey::primary().sign(&claims(ISSUER)))
            .await,
    )
    .await;
    assert_eq!(rs256, refused("Unsupported 'alg' value"));
}
