//! The JWKS: Auth0's members for each key, never a private part, and an x5c that matches.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha1::Digest as _;
use x509_cert::der::{Decode as _, Encode as _};

use crate::helpers::{keys_of, spawn};

#[tokio::test]
async fn the_jwks_publishes_current_then_next_with_auth0s_members() {
    // Arrange
    let t = spawn().await;
    let summary = t.issuer.key_summary();

    // Act
    let (status, jwks) = t.get(".well-known/jwks.json").await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(keys_of(&jwks), ["keys"]);
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], summary.current.as_str());
    assert_eq!(keys[1]["kid"], summary.next.as_str());
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    for key in keys {
        assert_eq!(
            keys_of(key),
            ["alg", "e", "kid", "kty", "n", "use", "x5c", "x5t"]
        );
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["e"], "AQAB");
        let n = URL_SAFE_NO_PAD
            .decode(key["n"].as_str().expect("n"))
            .expect("base64url n");
        assert_eq!(n.len(), 256, "a 2048-bit modulus");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    }
}

#[tokio::test]
async fn no_private_key_member_is_ever_published() {
    // Arrange: all three roles present.
    let t = spawn().await;
    t.issuer.rotate().expect("rotate");

    // Act
    let (_, jwks) = t.get(".well-known/jwks.json").await;

    // Assert
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 3);
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "{private} published in {key}");
        }
    }
}

#[tokio::test]
async fn x5t_is_the_sha1_thumbprint_of_the_x5c_certificate() {
    let t = spawn().await;

    let (_, jwks) = t.get(".well-known/jwks.json").await;

    for key in jwks["keys"].as_array().expect("keys array") {
        let chain = key["x5c"].as_array().expect("x5c array");
        assert_eq!(chain.len(), 1);
        let der = STANDARD
            .decode(chain[0].as_str().expect("x5c[0]"))
            .expect("plain base64");
        let thumbprint = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der));
        assert_eq!(key["x5t"], thumbprint);
    }
}

#[tokio::test]
async fn the_x5c_certificate_is_self_signed_for_the_same_public_key() {
    let t = spawn().await;

    let (_, jwks) = t.get(".well-known/jwks.json").await;

    for key in jwks["keys"].as_array().expect("keys array") {
        let der = STANDARD
            .decode(key["x5c"][0].as_str().expect("x5c[0]"))
            .expect("base64");
        let cert = x509_cert::Certificate::from_der(&der).expect("an X.509 certificate");
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.issuer(), tbs.subject(), "self-issued");
        let spki = tbs.subject_public_key_info().to_der().expect("SPKI");
        let public = rsa::PublicKey::from_public_key_der(&spki).expect("an RSA key");
        assert_eq!(key["n"], URL_SAFE_NO_PAD.encode(public.n_bytes()));
        assert_eq!(key["e"], URL_SAFE_NO_PAD.encode(public.e_bytes()));
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
        let signature = rsa::pkcs1v15::Signature::try_from(cert.signature().raw_bytes())
            .expect("an RSA signature");
        verifier
            .verify(&tbs.to_der().expect("TBS"), &signature)
            .expect("signed by its own key");
    }
}
