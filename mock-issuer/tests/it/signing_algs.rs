//! Each API's signing algorithm (RS256, PS256, ES256, EdDSA, HS256): the tokens of every grant
//! and of minting, checked by an independent verifier against the JWKS fetched over HTTP (or the
//! API's secret); the keys each algorithm publishes, with their certificates; rotation, restarts,
//! seeds and older key ring files; and the configuration's errors.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation, decode_header};
use mock_issuer::admin::MintRequest;
use mock_issuer::config::defaults;
use mock_issuer::{ApiConfig, IssuerConfig, SigningAlg, TokenSpec};
use serde_json::Value;
use sha1::Digest as _;
use x509_cert::der::{Decode as _, Encode as _};

use crate::code_grant::spa_tokens;
use crate::helpers::{SHARED_SEED, TestIssuer, decode, keys_of, spawn, spawn_with, temp_dir};
use crate::tenant_file::config_error;

/// The identifier of the extra API that signs with `alg`, in [`tenant`].
fn api_for(alg: SigningAlg) -> String {
    format!("https://{}.example/api", alg.as_str().to_ascii_lowercase())
}

/// The default tenant (shared seed) with its API signing with `first`, plus one API per `others`
/// algorithm, so that their keys are published too.
fn tenant(first: SigningAlg, others: &[SigningAlg]) -> IssuerConfig {
    let mut config = IssuerConfig::default().with_seed(SHARED_SEED);
    config.apis[0].signing_alg = first;
    for &alg in others {
        config.apis.push(
            ApiConfig {
                identifier: api_for(alg),
                ..ApiConfig::default()
            }
            .with_signing_alg(alg),
        );
    }
    config
}

/// Every algorithm but RS256, whose keys are always published.
const OTHERS: [SigningAlg; 4] = [
    SigningAlg::Ps256,
    SigningAlg::Es256,
    SigningAlg::EdDsa,
    SigningAlg::Hs256,
];

/// The JWKS, fetched over HTTP.
async fn jwks(t: &TestIssuer) -> Vec<Value> {
    let (status, jwks) = t.get(".well-known/jwks.json").await;
    assert_eq!(status, 200, "{jwks}");
    jwks["keys"].as_array().expect("keys").clone()
}

/// The kids of the published keys whose `alg` is `alg`, in JWKS order.
fn kids_of(keys: &[Value], alg: SigningAlg) -> Vec<String> {
    keys.iter()
        .filter(|key| key["alg"] == alg.as_str())
        .map(|key| key["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// `token`'s claims, verified as an independent client would: for a key pair, jsonwebtoken with
/// the JWK the header's `kid` names in the JWKS fetched over HTTP, which must be published for
/// the header's `alg` with the matching key type; for HS256, the API's signing secret. The
/// audience must be `audience`.
async fn verify(t: &TestIssuer, token: &str, audience: &str) -> Value {
    let header = decode_header(token).expect("a header");
    let alg: SigningAlg = serde_json::from_value(serde_json::to_value(header.alg).expect("alg"))
        .expect("one of the mock's algorithms");
    let key = match header.kid {
        Some(kid) => {
            let keys = jwks(t).await;
            let jwk = keys
                .iter()
                .find(|key| key["kid"] == kid.as_str())
                .expect("the kid is published");
            assert_eq!(jwk["alg"], alg.as_str(), "{jwk}");
            let (kty, crv) = match alg {
                SigningAlg::Rs256 | SigningAlg::Ps256 => ("RSA", None),
                SigningAlg::Es256 => ("EC", Some("P-256")),
                SigningAlg::EdDsa => ("OKP", Some("Ed25519")),
                SigningAlg::Hs256 => panic!("an HS256 token has a kid: {jwk}"),
            };
            assert_eq!(jwk["kty"], kty, "{jwk}");
            assert_eq!(jwk["crv"].as_str(), crv, "{jwk}");
            let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
            DecodingKey::from_jwk(&jwk).expect("a public key")
        }
        None => {
            assert_eq!(alg, SigningAlg::Hs256, "only HS256 tokens have no kid");
            let secret = t.issuer.signing_secret(audience).expect("the API's secret");
            DecodingKey::from_secret(secret.expose().as_bytes()).expect("an HMAC key")
        }
    };
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[t.issuer.url()]);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies")
        .claims
}

#[tokio::test]
async fn every_algorithm_signs_client_credentials_tokens_that_verify_against_what_it_publishes() {
    for alg in SigningAlg::ALL {
        // Arrange
        let t = spawn_with(tenant(alg, &[])).await;

        // Act
        let token = t.reader_token().await;

        // Assert
        let (header, _) = decode(&token);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(
            header.get("kid").and_then(Value::as_str),
            t.issuer.current_kid_for(alg).as_deref(),
            "{alg}: the current key's kid, none for HS256"
        );
        let claims = verify(&t, &token, defaults::API_AUDIENCE).await;
        assert_eq!(claims["sub"], "reader@clients", "{alg}");
        let keys = jwks(&t).await;
        assert!(
            keys.iter()
                .all(|key| key.get("k").is_none() && key["kty"] != "oct"),
            "{alg}: a secret is never published: {keys:?}"
        );
    }
}

#[tokio::test]
async fn user_grants_sign_access_tokens_as_the_api_and_id_tokens_rs256() {
    // Arrange
    let t = spawn_with(tenant(SigningAlg::Es256, &[])).await;

    // Act
    let tokens = spa_tokens(&t, |_| {}).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");
    let (status, refreshed) = t
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("client_id", defaults::SPA_CLIENT_ID),
            ("refresh_token", refresh_token),
        ])
        .await;

    // Assert
    let access_token = tokens["access_token"].as_str().expect("an access token");
    assert_eq!(decode(access_token).0["alg"], "ES256");
    verify(&t, access_token, defaults::API_AUDIENCE).await;
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    assert_eq!(decode(id_token).0["alg"], "RS256", "the client's algorithm");
    verify(&t, id_token, defaults::SPA_CLIENT_ID).await;
    assert_eq!(status, 200, "{refreshed}");
    let access_token = refreshed["access_token"].as_str().expect("an access token");
    assert_eq!(decode(access_token).0["alg"], "ES256");
    verify(&t, access_token, defaults::API_AUDIENCE).await;
}

#[tokio::test]
async fn userinfo_accepts_an_es256_user_access_token() {
    // Arrange
    let t = spawn_with(tenant(SigningAlg::Es256, &[])).await;
    let tokens = spa_tokens(&t, |_| {}).await;
    let access_token = tokens["access_token"].as_str().expect("an access token");
    assert_eq!(decode(access_token).0["alg"], "ES256");

    // Act
    let response = t
        .http
        .get(format!("{}userinfo", t.issuer.url()))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("sent");

    // Assert
    let (status, profile) = crate::helpers::read(response).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["email"], defaults::MANAGER_EMAIL);
}

#[tokio::test]
async fn one_tenant_mints_a_valid_token_of_every_algorithm_for_one_audience_and_inspects_it() {
    // Arrange: one more API per algorithm, so each ring is published.
    let t = spawn_with(tenant(SigningAlg::Rs256, &OTHERS)).await;

    for alg in SigningAlg::ALL {
        // Act
        let minted = t
            .issuer
            .mint(&TokenSpec::for_client("reader").signing_alg(alg));
        let over_http = t
            .client()
            .mint(&MintRequest::for_client("reader").signing_alg(alg))
            .await
            .expect("minted over HTTP");
        let inspection = t.client().inspect(&minted).await.expect("inspected");

        // Assert
        assert_eq!(decode(&minted).0["alg"], alg.as_str());
        verify(&t, &minted, defaults::API_AUDIENCE).await;
        assert_eq!(over_http.alg, alg);
        assert_eq!(over_http.kid, t.issuer.current_kid_for(alg));
        verify(&t, over_http.token.expose(), defaults::API_AUDIENCE).await;
        let verdict = serde_json::to_value(&inspection.verification).expect("JSON");
        match t.issuer.current_kid_for(alg) {
            Some(kid) => {
                assert_eq!(verdict["status"], "verified", "{alg}: {verdict}");
                assert_eq!(verdict["kid"], kid.as_str());
                assert_eq!(verdict["key"], "current");
            }
            None => {
                assert_eq!(verdict["status"], "verified_with_secret", "{verdict}");
                assert_eq!(verdict["audience"], defaults::API_AUDIENCE);
            }
        }
    }
    // Without a choice, each API's own algorithm.
    for alg in OTHERS {
        let token = t
            .issuer
            .mint(&TokenSpec::for_client("reader").audience(api_for(alg)));
        assert_eq!(decode(&token).0["alg"], alg.as_str());
        verify(&t, &token, &api_for(alg)).await;
    }
}

#[tokio::test]
async fn the_default_tenant_publishes_rsa_keys_only_and_an_es256_api_adds_ec_keys() {
    let default = spawn().await;
    let es256 = spawn_with(tenant(SigningAlg::Rs256, &[SigningAlg::Es256])).await;

    let default_keys = jwks(&default).await;
    let es256_keys = jwks(&es256).await;

    assert_eq!(default_keys.len(), 2);
    assert!(
        default_keys
            .iter()
            .all(|key| key["kty"] == "RSA" && key["alg"] == "RS256"),
        "{default_keys:?}"
    );
    let types: Vec<(&str, &str)> = es256_keys
        .iter()
        .map(|key| {
            (
                key["kty"].as_str().expect("kty"),
                key["alg"].as_str().expect("alg"),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("RSA", "RS256"),
            ("RSA", "RS256"),
            ("EC", "ES256"),
            ("EC", "ES256")
        ]
    );
}

#[tokio::test]
async fn ps256_has_rsa_keys_of_its_own_published_for_ps256() {
    let t = spawn_with(tenant(SigningAlg::Ps256, &[])).await;

    let keys = jwks(&t).await;

    let rs256 = kids_of(&keys, SigningAlg::Rs256);
    let ps256 = kids_of(&keys, SigningAlg::Ps256);
    assert_eq!((rs256.len(), ps256.len()), (2, 2));
    assert!(
        ps256.iter().all(|kid| !rs256.contains(kid)),
        "{rs256:?} {ps256:?}"
    );
    assert!(
        keys.iter()
            .filter(|key| key["alg"] == "PS256")
            .all(|key| key["kty"] == "RSA")
    );
}

#[tokio::test]
async fn ec_and_okp_keys_have_auth0s_members_and_certificates_of_their_own_key() {
    let t = spawn_with(tenant(SigningAlg::Es256, &[SigningAlg::EdDsa])).await;

    let keys = jwks(&t).await;

    let mut checked = 0;
    for key in keys.iter().filter(|key| key["kty"] != "RSA") {
        let b64url = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(key[name].as_str().expect("a member"))
                .expect("base64url")
        };
        let (members, public, signature_check): (
            &[&str],
            Vec<u8>,
            &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
        ) = match key["kty"].as_str() {
            Some("EC") => {
                let (x, y) = (b64url("x"), b64url("y"));
                assert_eq!((x.len(), y.len()), (32, 32), "full-length coordinates");
                let point = [&[0x04][..], &x, &y].concat();
                (
                    &["alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t", "y"],
                    point,
                    &ECDSA_P256_SHA256_ASN1,
                )
            }
            Some("OKP") => {
                assert_eq!(key["crv"], "Ed25519");
                let x = b64url("x");
                assert_eq!(x.len(), 32);
                (
                    &["alg", "crv", "kid", "kty", "use", "x", "x5c", "x5t"],
                    x,
                    &ED25519,
                )
            }
            other => panic!("an unexpected kty {other:?}"),
        };
        assert_eq!(keys_of(key), members, "{key}");
        assert_eq!(key["use"], "sig");
        let der = STANDARD
            .decode(key["x5c"][0].as_str().expect("x5c[0]"))
            .expect("plain base64");
        assert_eq!(key["x5t"], URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der)));
        let cert = x509_cert::Certificate::from_der(&der).expect("an X.509 certificate");
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.issuer(), tbs.subject(), "self-issued");
        let spki = tbs.subject_public_key_info();
        assert_eq!(
            spki.subject_public_key.raw_bytes(),
            public.as_slice(),
            "the certificate holds the JWK's key"
        );
        UnparsedPublicKey::new(signature_check, &public)
            .verify(&tbs.to_der().expect("TBS"), cert.signature().raw_bytes())
            .expect("signed by its own key");
        checked += 1;
    }
    assert_eq!(checked, 4, "two EC and two OKP keys");
}

/// The kids of every published algorithm, in JWKS order, by algorithm.
async fn kids_by_alg(t: &TestIssuer) -> Vec<(SigningAlg, Vec<String>)> {
    let keys = jwks(t).await;
    SigningAlg::ALL
        .into_iter()
        .filter(|&alg| alg != SigningAlg::Hs256)
        .map(|alg| (alg, kids_of(&keys, alg)))
        .collect()
}

#[tokio::test]
async fn rotation_moves_every_ring_and_revocation_drops_every_previous_key() {
    // Arrange
    let t = spawn_with(tenant(SigningAlg::Rs256, &OTHERS)).await;
    let before = kids_by_alg(&t).await;

    // Act
    t.issuer.rotate().expect("rotate");
    let rotated = kids_by_alg(&t).await;
    t.issuer.revoke_previous().expect("revoke");
    let revoked = kids_by_alg(&t).await;

    // Assert
    for ((alg, before), ((_, rotated), (_, revoked))) in
        before.iter().zip(rotated.iter().zip(&revoked))
    {
        assert_eq!(before.len(), 2, "{alg}");
        assert_eq!(rotated.len(), 3, "{alg}");
        assert_eq!(rotated[0], before[1], "{alg}: next became current");
        assert!(!before.contains(&rotated[1]), "{alg}: a new next");
        assert_eq!(rotated[2], before[0], "{alg}: current became previous");
        assert_eq!(revoked[..], rotated[..2], "{alg}: previous revoked");
        assert_eq!(t.issuer.current_kid_for(*alg).as_ref(), Some(&rotated[0]));
    }
}

#[tokio::test]
async fn a_restart_with_the_same_data_dir_keeps_every_key_and_the_signing_secret() {
    // Arrange: random keys, rotated once, so only the data dir can reproduce them.
    let dir = temp_dir("every-ring");
    let config = || IssuerConfig {
        seed: None,
        ..tenant(SigningAlg::Rs256, &OTHERS).with_data_dir(&dir)
    };
    let first = spawn_with(config()).await;
    first.issuer.rotate().expect("rotate");
    let keys_before = jwks(&first).await;
    let secret_before = first.issuer.signing_secret(&api_for(SigningAlg::Hs256));
    first.issuer.shutdown().await.expect("clean shutdown");

    // Act
    let second = spawn_with(config()).await;

    // Assert
    assert_eq!(keys_before.len(), 12, "three keys for each of four rings");
    assert_eq!(jwks(&second).await, keys_before);
    let secret = second.issuer.signing_secret(&api_for(SigningAlg::Hs256));
    assert_eq!(secret, secret_before);
    assert!(
        secret.is_some_and(|s| s.expose().len() >= 32),
        "a generated secret of 32 bytes or more"
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ec_and_ed25519_keys_and_secret() {
    let config = |seed| IssuerConfig {
        seed: Some(seed),
        ..tenant(SigningAlg::Es256, &[SigningAlg::EdDsa, SigningAlg::Hs256])
    };
    let a = spawn_with(config(SHARED_SEED)).await;
    let b = spawn_with(config(SHARED_SEED)).await;
    let other = spawn_with(config(SHARED_SEED + 1)).await;
    let hs256 = api_for(SigningAlg::Hs256);

    let (keys_a, keys_b, keys_other) = (jwks(&a).await, jwks(&b).await, jwks(&other).await);

    assert_eq!(keys_a, keys_b);
    assert_eq!(kids_of(&keys_a, SigningAlg::Es256).len(), 2);
    assert_eq!(kids_of(&keys_a, SigningAlg::EdDsa).len(), 2);
    assert_eq!(
        a.issuer.signing_secret(&hs256),
        b.issuer.signing_secret(&hs256)
    );
    for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
        assert_ne!(kids_of(&keys_a, alg), kids_of(&keys_other, alg), "{alg}");
    }
    assert_ne!(
        a.issuer.signing_secret(&hs256),
        other.issuer.signing_secret(&hs256)
    );
}

#[tokio::test]
async fn an_rsa_only_key_ring_file_gains_the_other_rings_and_keeps_its_rsa_keys() {
    // Arrange: a key ring file as it was before the other rings existed.
    let dir = temp_dir("rsa-only");
    let first = spawn_with(IssuerConfig::default().with_data_dir(&dir)).await;
    let rsa_before = jwks(&first).await;
    first.issuer.shutdown().await.expect("clean shutdown");
    let path = dir.join("keyring.json");
    let mut file: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the key ring")).expect("JSON");
    let members = file.as_object_mut().expect("an object");
    members.remove("rings").expect("rings");
    members.remove("signing_secrets").expect("signing_secrets");
    std::fs::write(&path, file.to_string()).expect("rewritten, its mode kept");

    // Act
    let config = IssuerConfig {
        seed: None,
        ..tenant(SigningAlg::Rs256, &[SigningAlg::Es256, SigningAlg::Hs256]).with_data_dir(&dir)
    };
    let second = spawn_with(config).await;

    // Assert
    let keys = jwks(&second).await;
    assert_eq!(keys[..2], rsa_before[..], "the RSA keys are kept");
    assert_eq!(kids_of(&keys, SigningAlg::Es256).len(), 2);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the key ring")).expect("JSON");
    assert_eq!(keys_of(&saved["rings"]), ["ES256", "EdDSA", "PS256"]);
    assert_eq!(
        saved["signing_secrets"][api_for(SigningAlg::Hs256)],
        second
            .issuer
            .signing_secret(&api_for(SigningAlg::Hs256))
            .expect("a secret")
            .expose()
    );
}

#[test]
fn an_unknown_signing_alg_and_a_short_secret_are_config_errors_naming_their_line() {
    // The second API's lines, the line the error names, and what it must say.
    let cases: [(&str, &str, &[&str]); 2] = [
        ("signing_alg = \"ES512\"\n", "line 6: ", &["ES512"]),
        (
            "signing_alg = \"HS256\"\nsigning_secret = \"0123456789012345678901234567890\"\n",
            "line 4: ",
            &["31 bytes", "32"],
        ),
    ];
    for (lines, line, fragments) in cases {
        let message = config_error(&format!(
            "[[apis]]\nidentifier = \"https://a\"\n\n[[apis]]\nidentifier = \"https://b\"\n{lines}"
        ));
        assert!(message.starts_with(line), "{message}");
        for fragment in fragments {
            assert!(message.contains(fragment), "{message}");
        }
    }
}

#[test]
fn a_tenant_file_sets_an_apis_algorithm_and_secret() {
    let secret = "a signing secret of thirty-two bytes";
    let config = IssuerConfig::default()
        .with_tenant_toml(&format!(
            "[[apis]]\nidentifier = \"https://a\"\nsigning_alg = \"HS256\"\nsigning_secret = \"{secret}\"\n\n[[apis]]\nidentifier = \"https://b\"\nsigning_alg = \"EdDSA\"\n"
        ))
        .expect("a valid tenant");
    let api = |id: &str| config.api(id).expect("the API");
    assert_eq!(api("https://a").signing_alg, SigningAlg::Hs256);
    assert_eq!(
        api("https://a").signing_secret.as_ref().map(|s| s.expose()),
        Some(secret)
    );
    assert_eq!(api("https://b").signing_alg, SigningAlg::EdDsa);
    assert_eq!(api("https://b").signing_secret, None);
}
