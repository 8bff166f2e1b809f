//! A key set fixed at start-up instead of an issuer's JWKS (`AuthOptions::static_keys`, what
//! `PUBLIC_KEY` and `SECRET` configure): tokens verified with no network at all, the exact
//! issuer still required, and no way to mix it with fetched keys.

use std::sync::Arc;

use api::auth::{Algorithm, AuthOptions, Authenticator, KeySet, OptionsError};
use serde_json::json;

use crate::helpers::*;

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
