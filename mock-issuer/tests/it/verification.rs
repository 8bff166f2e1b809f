//! A standard resource server accepts the mock's tokens: jsonwebtoken with the JWKS key.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use crate::helpers::spawn;

fn validation(issuer: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&["https://quickstarts/api"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation
}

fn key_for<'a>(jwks: &'a Value, kid: &str) -> &'a Value {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the token's kid is published")
}

#[tokio::test]
async fn a_token_from_the_endpoint_verifies_with_the_published_key() {
    // Arrange
    let t = spawn().await;
    let token = t.reader_token().await;
    let (_, jwks) = t.get(".well-known/jwks.json").await;

    // Act
    let kid = decode_header(&token).expect("header").kid.expect("kid");
    let jwk = key_for(&jwks, &kid);
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("RSA key");
    let verified = decode::<Value>(&token, &key, &validation(t.issuer.url()));

    // Assert
    let claims = verified
        .expect("a standard verifier accepts the token")
        .claims;
    assert_eq!(claims["sub"], "reader@clients");
}

#[tokio::test]
async fn a_token_signed_before_rotation_still_verifies_until_revoked() {
    // Arrange
    let t = spawn().await;
    let token = t.reader_token().await;
    t.issuer.rotate().expect("rotate");
    let kid = decode_header(&token).expect("header").kid.expect("kid");

    // Act
    let (_, rotated) = t.get(".well-known/jwks.json").await;
    let jwk = key_for(&rotated, &kid);
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("RSA key");
    let verified = decode::<Value>(&token, &key, &validation(t.issuer.url()));
    t.issuer.revoke_previous().expect("revoke");
    let (_, revoked) = t.get(".well-known/jwks.json").await;

    // Assert
    assert!(verified.is_ok());
    assert!(
        !revoked["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == kid.as_str())
    );
}

#[tokio::test]
async fn a_token_for_another_issuer_is_rejected_by_the_same_verifier() {
    // Proves the verification above can fail: same key, wrong expected issuer.
    let t = spawn().await;
    let token = t.reader_token().await;
    let (_, jwks) = t.get(".well-known/jwks.json").await;
    let jwk = key_for(&jwks, &t.issuer.current_kid());
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("RSA key");

    let verified = decode::<Value>(&token, &key, &validation("https://elsewhere/"));

    assert!(verified.is_err());
}
