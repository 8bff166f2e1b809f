//! Tokens signed with EC and Ed25519 keys, end to end over real sockets: accepted from an issuer
//! that publishes such keys with no setting beyond the issuer and audience, each key used only
//! with the algorithm of its own type and curve (RFC 8725 §3.1), and keys that break the key
//! policy never used.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::*;
use api::auth::Algorithm;

const NO_KEY: &str = "no applicable key found in the JSON Web Key Set";

/// The algorithms with test keys of their own (RSA has the committed `TestKey`s).
const EC_AND_EDDSA: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES256K,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
];

/// An issuer publishing `jwks` (JWKs as given) behind discovery.
async fn issuer_publishing(jwks: Vec<Value>) -> TestIssuer {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(raw_jwks_response(jwks))
        .mount(&issuer.server)
        .await;
    issuer
}

/// The RSA primary key and every EC and Ed25519 test key, as one issuer publishes them.
fn every_key() -> Vec<Value> {
    let mut keys = vec![TestKey::primary().jwk()];
    keys.extend(EC_AND_EDDSA.map(|alg| SigningKey::for_algorithm(alg).jwk()));
    keys
}

#[tokio::test]
async fn ec_and_eddsa_tokens_are_accepted_with_no_setting_beyond_issuer_and_audience() {
    let issuer = issuer_publishing(every_key()).await;
    let app = spawn_app(options(&issuer)).await;
    for alg in EC_AND_EDDSA {
        let token = SigningKey::for_algorithm(alg).sign(&claims(&issuer.url()));
        assert_eq!(app.status_of("/api/private", &token).await, 200, "{alg}");
        assert_eq!(
            app.status_of("/api/private-scoped", &token).await,
            200,
            "{alg}"
        );
    }
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    assert_eq!(
        issuer.requests_to(JWKS_PATH).await,
        1,
        "one fetch serves all"
    );
}

#[tokio::test]
async fn a_key_verifies_only_the_algorithm_of_its_type_and_curve() {
    let issuer = issuer_publishing(every_key()).await;
    let app = spawn_app(options(&issuer)).await;
    let claims = claims(&issuer.url());
    let p256 = SigningKey::for_algorithm(Algorithm::ES256);
    let ed25519 = SigningKey::for_algorithm(Algorithm::EdDSA);
    let rsa = TestKey::primary();
    let header = |alg: &str, kid: &str| json!({"alg": alg, "typ": "JWT", "kid": kid});
    // Each signed by the key its kid names, under another algorithm's name: another curve's,
    // another key type's.
    let confusions = [
        p256.sign_raw(&header("ES384", p256.kid()), &claims),
        p256.sign_raw(&header("ES256K", p256.kid()), &claims),
        p256.sign_raw(&header("EdDSA", p256.kid()), &claims),
        p256.sign_raw(&header("RS256", p256.kid()), &claims),
        ed25519.sign_raw(&header("ES256", ed25519.kid()), &claims),
        rsa.sign_raw(&header("ES256", rsa.kid()), &claims),
        rsa.sign_raw(&header("EdDSA", rsa.kid()), &claims),
    ];
    for token in &confusions {
        assert_refused(&app, token, NO_KEY).await;
    }
    // The same confusions against keys that name no `alg`: their type and curve still decide.
    let unpinned = every_key()
        .into_iter()
        .map(|mut jwk| {
            jwk.as_object_mut().expect("a JWK").remove("alg");
            jwk
        })
        .collect();
    let issuer = issuer_publishing(unpinned).await;
    let app = spawn_app(options(&issuer)).await;
    let claims = crate::helpers::claims(&issuer.url());
    assert_refused(
        &app,
        &p256.sign_raw(&header("ES384", p256.kid()), &claims),
        NO_KEY,
    )
    .await;
    assert_refused(
        &app,
        &rsa.sign_raw(&header("ES256", rsa.kid()), &claims),
        NO_KEY,
    )
    .await;
    assert_eq!(
        app.status_of("/api/private", &p256.sign(&claims)).await,
        200
    );
}

#[tokio::test]
async fn hmac_with_a_public_key_as_secret_and_der_ecdsa_signatures_are_refused() {
    let issuer = issuer_publishing(every_key()).await;
    let app = spawn_app(options(&issuer)).await;
    let claims = claims(&issuer.url());
    let p256 = SigningKey::for_algorithm(Algorithm::ES256);

    // RFC 8725 §2.1: HS256 keyed with the published EC key's text.
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": p256.kid()});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, p256.jwk().to_string().as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&key, input.as_bytes()));
    assert_refused(
        &app,
        &format!("{input}.{tag}"),
        "Symmetric algorithms (HMAC) are not accepted",
    )
    .await;

    // RFC 7518 §3.4: an ES256 signature is R || S, 64 bytes. A DER (ASN.1) signature by the
    // very key the JWKS publishes is refused.
    let der_key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a key");
    let point = der_key.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "der", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    });
    let issuer = issuer_publishing(vec![jwk]).await;
    let app = spawn_app(options(&issuer)).await;
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": "der"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(crate::helpers::claims(&issuer.url()).to_string())
    );
    let der = der_key
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("signing");
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(der.as_ref()));
    assert_refused(&app, &token, "signature verification failed").await;
}

#[tokio::test]
async fn ec_keys_that_break_the_key_policy_are_never_used() {
    let p256 = SigningKey::for_algorithm(Algorithm::ES256);
    let with = |member: &str, value: Value| {
        let mut jwk = p256.jwk();
        jwk[member] = value;
        jwk
    };
    let y = URL_SAFE_NO_PAD
        .decode(p256.jwk()["y"].as_str().expect("y"))
        .expect("base64url");
    let mut off_curve = y.clone();
    off_curve[31] ^= 1;
    let variants = [
        with("y", json!(URL_SAFE_NO_PAD.encode(&off_curve))),
        with("y", json!(URL_SAFE_NO_PAD.encode(&y[1..]))),
        with("d", json!(URL_SAFE_NO_PAD.encode([7; 32]))),
        with("crv", json!("P-384")),
        with("crv", json!("secp256k1")),
        with("use", json!("enc")),
        with("alg", json!("ES384")),
    ];
    for variant in variants {
        // Beside a sound RSA key, so the set is usable and the EC key alone is skipped.
        let issuer = issuer_publishing(vec![TestKey::primary().jwk(), variant.clone()]).await;
        let app = spawn_app(options(&issuer)).await;
        let token = p256.sign(&claims(&issuer.url()));
        assert_refused(&app, &token, NO_KEY).await;
        assert_eq!(
            app.status_of("/api/private", &issuer.token()).await,
            200,
            "{variant}"
        );
    }
}

#[tokio::test]
async fn a_narrowed_allow_list_leaves_the_other_key_types_unused() {
    let issuer = issuer_publishing(every_key()).await;
    let mut options = options(&issuer);
    options.algorithms = vec![Algorithm::ES256];
    let app = spawn_app(options).await;
    let claims = claims(&issuer.url());
    let es256 = SigningKey::for_algorithm(Algorithm::ES256).sign(&claims);
    assert_eq!(app.status_of("/api/private", &es256).await, 200);
    for token in [
        issuer.token(),
        SigningKey::for_algorithm(Algorithm::EdDSA).sign(&claims),
    ] {
        assert_refused(&app, &token, "Unsupported 'alg' value").await;
    }
}

#[tokio::test]
async fn a_mock_tenant_signing_es256_or_eddsa_is_served_with_only_issuer_and_audience() {
    use mock_issuer::client::IssuerClient;
    use mock_issuer::config::defaults::{API_AUDIENCE, READER_CLIENT_ID, READER_CLIENT_SECRET};
    use mock_issuer::{ClientCredentials, IssuerConfig, MockIssuer, SigningAlg};

    for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
        let mut config = IssuerConfig::default();
        config.apis[0] = config.apis[0].clone().with_signing_alg(alg);
        let tenant = MockIssuer::start(config).await.expect("the mock tenant");
        let client = IssuerClient::new(tenant.url()).expect("client");
        let token = client
            .client_credentials(&ClientCredentials::new(
                READER_CLIENT_ID,
                READER_CLIENT_SECRET,
                API_AUDIENCE,
            ))
            .await
            .expect("a token from the token endpoint")
            .access_token
            .into_inner();
        let options = api::auth::AuthOptions::new(tenant.url().parse().expect("URL"), API_AUDIENCE);
        let app = spawn_app(options).await;
        assert_eq!(app.status_of("/api/private", &token).await, 200, "{alg:?}");
        assert_eq!(
            app.status_of("/api/private-scoped", &token).await,
            200,
            "{alg:?}"
        );
    }
}
