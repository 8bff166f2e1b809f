//! DPoP at the token endpoint: bound tokens (`cnf.jkt`, `token_type` DPoP), invalid proofs, refresh tokens bound to the key.
//!
//! Proofs are signed here with aws-lc-rs keys of every algorithm the mock accepts, and their
//! thumbprints computed here from RFC 7638's rule, independently of the mock's code.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair as _, RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaEncoding, RsaKeyPair,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::config::defaults;
use mock_issuer::oauth::dpop::DpopKey;
use rand::RngExt as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::code_grant::{assert_refused, spa_login};
use crate::helpers::{TestIssuer, decode, read, spawn, temp_dir};
use crate::served::{BIN, output};
use crate::user_login::{AuthorizeParams, SPA_CALLBACK, log_in_manager};

/// A proof key of one algorithm, made and used with aws-lc-rs directly.
enum TestKey {
    Ecdsa(EcdsaKeyPair, &'static str, &'static str),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding, &'static str),
}

impl TestKey {
    fn es256() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
        Self::Ecdsa(key, "ES256", "P-256")
    }

    fn es384() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).expect("P-384 key");
        Self::Ecdsa(key, "ES384", "P-384")
    }

    fn eddsa() -> Self {
        Self::Ed25519(Ed25519KeyPair::generate().expect("Ed25519 key"))
    }

    fn rsa(encoding: &'static dyn RsaEncoding, alg: &'static str) -> Self {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        Self::Rsa(key, encoding, alg)
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Ecdsa(_, alg, _) | Self::Rsa(_, _, alg) => alg,
            Self::Ed25519(_) => "EdDSA",
        }
    }

    /// The public JWK, its members in RFC 7638's lexicographic order.
    fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match self {
            Self::Ecdsa(key, _, crv) => {
                let point = key.public_key().as_ref();
                let (x, y) = point[1..].split_at((point.len() - 1) / 2);
                json!({ "crv": crv, "kty": "EC", "x": b64(x), "y": b64(y) })
            }
            Self::Ed25519(key) => {
                json!({ "crv": "Ed25519", "kty": "OKP", "x": b64(key.public_key().as_ref()) })
            }
            Self::Rsa(key, _, _) => {
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public_key());
                json!({ "e": b64(&public.e), "kty": "RSA", "n": b64(&public.n) })
            }
        }
    }

    /// RFC 7638: SHA-256 of the required members, sorted, without whitespace (serde_json writes
    /// `json!` objects sorted and compact).
    fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.jwk().to_string().as_bytes()))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Ecdsa(key, _, _) => key.sign(&rng, message).expect("signed").as_ref().to_vec(),
            Self::Ed25519(key) => key.sign(message).as_ref().to_vec(),
            Self::Rsa(key, encoding, _) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(*encoding, &rng, message, &mut signature)
                    .expect("signed");
                signature
            }
        }
    }

    /// The standard proof header: `typ`, `alg`, `jwk`.
    fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk() })
    }

    /// `header` and `claims` signed with this key, whatever they say.
    fn sign_proof(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.sign(message.as_bytes()));
        format!("{message}.{signature}")
    }

    /// A valid proof for a `POST` to `t`'s token endpoint.
    fn proof(&self, t: &TestIssuer) -> String {
        self.sign_proof(&self.header(), &claims(t))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Fresh claims for a `POST` to `t`'s token endpoint, with a unique `jti`.
fn claims(t: &TestIssuer) -> Value {
    let jti: [u8; 16] = rand::rng().random();
    json!({
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "htm": "POST",
        "htu": t.issuer.token_url(),
        "iat": now(),
    })
}

/// `POST /oauth/token` with the form `pairs` and one `DPoP` header per proof.
async fn token_with_proofs(
    t: &TestIssuer,
    pairs: &[(&str, &str)],
    proofs: &[&str],
) -> (u16, Value) {
    let mut request = t.http.post(t.issuer.token_url()).form(pairs);
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    read(request.send().await.expect("request sent")).await
}

/// The client-credentials request of `reader`, as pairs.
fn reader_pairs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", defaults::READER_CLIENT_ID),
        ("client_secret", defaults::READER_CLIENT_SECRET),
        ("audience", defaults::API_AUDIENCE),
    ]
}

/// `reader`'s client-credentials request with `proofs`.
async fn reader_token(t: &TestIssuer, proofs: &[&str]) -> (u16, Value) {
    token_with_proofs(t, &reader_pairs(), proofs).await
}

/// Asserts a `200` answer whose access token is bound to `jkt`.
fn assert_bound(answer: &(u16, Value), jkt: &str) {
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["token_type"], "DPoP", "{}", answer.1);
    let (_, claims) = decode(answer.1["access_token"].as_str().expect("an access token"));
    assert_eq!(claims["cnf"], json!({ "jkt": jkt }), "{claims}");
}

/// Asserts a `200` answer with a bearer token (no `cnf`).
fn assert_bearer(answer: &(u16, Value)) {
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["token_type"], "Bearer", "{}", answer.1);
    let (_, claims) = decode(answer.1["access_token"].as_str().expect("an access token"));
    assert!(claims.get("cnf").is_none(), "{claims}");
}

fn assert_invalid_proof(answer: &(u16, Value), description: &str) {
    assert_refused(answer, 400, "invalid_dpop_proof", description);
}

#[tokio::test]
async fn client_credentials_with_a_proof_of_each_algorithm_is_bound_to_its_key() {
    // Arrange
    let t = spawn().await;
    let keys = [
        TestKey::es256(),
        TestKey::es384(),
        TestKey::eddsa(),
        TestKey::rsa(&RSA_PKCS1_SHA256, "RS256"),
        TestKey::rsa(&RSA_PSS_SHA256, "PS256"),
    ];

    for key in &keys {
        // Act
        let answer = reader_token(&t, &[&key.proof(&t)]).await;

        // Assert
        assert_bound(&answer, &key.thumbprint());
    }
}

#[tokio::test]
async fn without_a_proof_the_token_stays_a_bearer_token() {
    let t = spawn().await;
    let answer = reader_token(&t, &[]).await;
    assert_bearer(&answer);
}

/// Removes the member `name` of the object `value`.
fn without(value: &mut Value, name: &str) {
    if let Some(object) = value.as_object_mut() {
        object.remove(name);
    }
}

/// RFC 7638's thumbprint of an EC public JWK, from its members as the JSON shows them.
fn ec_thumbprint(jwk: &Value) -> String {
    let canonical = json!({ "crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"] });
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

const MALFORMED: &str = "DPoP proof is not a well-formed JWT";
const TYP: &str = "DPoP proof typ must be dpop+jwt";
const ALG: &str = "DPoP proof alg is not supported";
const JWK: &str = "DPoP proof jwk must be a public key of the proof's alg";
const SIGNATURE: &str = "DPoP proof signature is invalid";
const JTI: &str = "DPoP proof must have a jti";
const HTM: &str = "DPoP proof htm must be POST";
const HTU: &str = "DPoP proof htu must be the token endpoint";
const IAT: &str = "DPoP proof iat is missing, too old or in the future";
const ATH: &str = "DPoP proof for the token endpoint must not have ath";

/// The part of a proof a [`BROKEN`] row edits.
#[derive(Debug, Clone, Copy)]
enum Part {
    Header,
    Claims,
}

/// How a [`BROKEN`] row changes the part it edits.
type Edit = fn(&mut Value);

/// Proofs broken in one way each: what, the part edited and how, the description answered.
const BROKEN: &[(&str, Part, Edit, &str)] = &[
    ("typ JWT", Part::Header, |h| h["typ"] = "JWT".into(), TYP),
    ("no typ", Part::Header, |h| without(h, "typ"), TYP),
    ("alg none", Part::Header, |h| h["alg"] = "none".into(), ALG),
    (
        "alg HS256",
        Part::Header,
        |h| h["alg"] = "HS256".into(),
        ALG,
    ),
    (
        "alg ES512",
        Part::Header,
        |h| h["alg"] = "ES512".into(),
        ALG,
    ),
    ("no jwk", Part::Header, |h| without(h, "jwk"), JWK),
    (
        "private jwk",
        Part::Header,
        |h| h["jwk"]["d"] = "AAAA".into(),
        JWK,
    ),
    (
        "jwk of another alg",
        Part::Header,
        |h| h["alg"] = "ES384".into(),
        JWK,
    ),
    (
        "jwk alg member",
        Part::Header,
        |h| h["jwk"]["alg"] = "RS256".into(),
        JWK,
    ),
    ("no jti", Part::Claims, |c| without(c, "jti"), JTI),
    ("htm GET", Part::Claims, |c| c["htm"] = "GET".into(), HTM),
    ("htm post", Part::Claims, |c| c["htm"] = "post".into(), HTM),
    (
        "htu other path",
        Part::Claims,
        |c| edit_htu(c, "/oauth/token", "/oauth/tokens"),
        HTU,
    ),
    (
        "htu other origin",
        Part::Claims,
        |c| edit_htu(c, "127.0.0.1", "localhost"),
        HTU,
    ),
    (
        "iat stale",
        Part::Claims,
        |c| c["iat"] = (now() - 400).into(),
        IAT,
    ),
    (
        "iat ahead",
        Part::Claims,
        |c| c["iat"] = (now() + 120).into(),
        IAT,
    ),
    (
        "iat a string",
        Part::Claims,
        |c| c["iat"] = now().to_string().into(),
        IAT,
    ),
    ("ath", Part::Claims, |c| c["ath"] = "x".into(), ATH),
];

/// Replaces `from` with `to` in the claims' `htu`.
fn edit_htu(claims: &mut Value, from: &str, to: &str) {
    let htu = claims["htu"].as_str().unwrap_or_default().replace(from, to);
    claims["htu"] = htu.into();
}

/// A proof for `t`'s token endpoint by `key`, with `edit` applied to its `part`.
fn broken_proof(t: &TestIssuer, key: &TestKey, part: Part, edit: Edit) -> String {
    let (mut header, mut claims) = (key.header(), claims(t));
    match part {
        Part::Header => edit(&mut header),
        Part::Claims => edit(&mut claims),
    }
    key.sign_proof(&header, &claims)
}

#[tokio::test]
async fn each_broken_proof_is_refused_400_invalid_dpop_proof() {
    // Arrange
    let t = spawn().await;
    let key = TestKey::es256();
    let mut cases: Vec<(&str, String, &str)> = BROKEN
        .iter()
        .map(|&(name, part, edit, description)| {
            (name, broken_proof(&t, &key, part, edit), description)
        })
        .collect();
    cases.push(("not a JWS", "abc.def".to_owned(), MALFORMED));
    let mut parts: Vec<String> = key.proof(&t).split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims(&t).to_string());
    cases.push(("claims not signed", parts.join("."), SIGNATURE));

    for (name, proof, description) in cases {
        // Act
        let answer = reader_token(&t, &[&proof]).await;

        // Assert
        assert_eq!(answer.0, 400, "{name}: {}", answer.1);
        assert_invalid_proof(&answer, description);
    }
}

#[tokio::test]
async fn two_dpop_headers_are_refused_even_when_both_are_valid() {
    let t = spawn().await;
    let key = TestKey::es256();
    let answer = reader_token(&t, &[&key.proof(&t), &key.proof(&t)]).await;
    assert_invalid_proof(&answer, "Only one DPoP header may be sent");
}

#[tokio::test]
async fn a_proof_is_accepted_once() {
    // Arrange
    let t = spawn().await;
    let key = TestKey::es256();
    let proof = key.proof(&t);

    // Act
    let first = reader_token(&t, &[&proof]).await;
    let again = reader_token(&t, &[&proof]).await;

    // Assert
    assert_bound(&first, &key.thumbprint());
    assert_invalid_proof(&again, "DPoP proof jti has already been used");
}

/// The SPA's code exchange, with `proofs`.
async fn redeem_as_spa_with_proofs(
    t: &TestIssuer,
    code: &str,
    verifier: &str,
    proofs: &[&str],
) -> (u16, Value) {
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", defaults::SPA_CLIENT_ID),
        ("code", code),
        ("redirect_uri", SPA_CALLBACK),
        ("code_verifier", verifier),
    ];
    token_with_proofs(t, &pairs, proofs).await
}

/// The SPA's refresh, with `proofs`.
async fn refresh_as_spa_with_proofs(t: &TestIssuer, token: &str, proofs: &[&str]) -> (u16, Value) {
    let pairs = [
        ("grant_type", "refresh_token"),
        ("client_id", defaults::SPA_CLIENT_ID),
        ("refresh_token", token),
    ];
    token_with_proofs(t, &pairs, proofs).await
}

/// The refresh token of a `200` answer.
fn refresh_token_of(answer: &(u16, Value)) -> String {
    assert_eq!(answer.0, 200, "{}", answer.1);
    let token = answer.1["refresh_token"].as_str();
    token
        .unwrap_or_else(|| panic!("a refresh token in {}", answer.1))
        .to_owned()
}

#[tokio::test]
async fn a_refused_proof_spends_no_code() {
    // Arrange
    let t = spawn().await;
    let key = TestKey::es256();
    let (login, pkce) = spa_login(&t, |_| {}).await;
    let mut stale = claims(&t);
    stale["iat"] = (now() - 1000).into();

    // Act
    let refused = redeem_as_spa_with_proofs(
        &t,
        &login.code,
        &pkce.verifier,
        &[&key.sign_proof(&key.header(), &stale)],
    )
    .await;
    let redeemed =
        redeem_as_spa_with_proofs(&t, &login.code, &pkce.verifier, &[&key.proof(&t)]).await;

    // Assert
    assert_eq!(refused.0, 400, "{}", refused.1);
    assert_bound(&redeemed, &key.thumbprint());
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_the_key_of_its_login() {
    // Arrange: the SPA logs in with a proof.
    let t = spawn().await;
    let key = TestKey::es256();
    let other = TestKey::eddsa();
    let (login, pkce) = spa_login(&t, |_| {}).await;
    let tokens =
        redeem_as_spa_with_proofs(&t, &login.code, &pkce.verifier, &[&key.proof(&t)]).await;
    assert_bound(&tokens, &key.thumbprint());
    let bound = refresh_token_of(&tokens);

    // Act
    let without_proof = refresh_as_spa_with_proofs(&t, &bound, &[]).await;
    let other_key = refresh_as_spa_with_proofs(&t, &bound, &[&other.proof(&t)]).await;
    let same_key = refresh_as_spa_with_proofs(&t, &bound, &[&key.proof(&t)]).await;
    let successor = refresh_token_of(&same_key);
    let successor_without_proof = refresh_as_spa_with_proofs(&t, &successor, &[]).await;
    let successor_with_key = refresh_as_spa_with_proofs(&t, &successor, &[&key.proof(&t)]).await;

    // Assert: refusals spend nothing; the successor is bound too.
    assert_invalid_proof(
        &without_proof,
        "The refresh token is bound to a DPoP key: a DPoP proof is required",
    );
    assert_invalid_proof(&other_key, "The refresh token is bound to another DPoP key");
    assert_bound(&same_key, &key.thumbprint());
    assert!(same_key.1["id_token"].is_string(), "{}", same_key.1);
    assert_eq!(
        successor_without_proof.0, 400,
        "{}",
        successor_without_proof.1
    );
    assert_bound(&successor_with_key, &key.thumbprint());
}

#[tokio::test]
async fn a_public_clients_login_without_a_proof_leaves_its_refresh_token_unbound() {
    // Arrange
    let t = spawn().await;
    let key = TestKey::es256();
    let (login, pkce) = spa_login(&t, |_| {}).await;
    let tokens = redeem_as_spa_with_proofs(&t, &login.code, &pkce.verifier, &[]).await;
    assert_bearer(&tokens);

    // Act: a proof at refresh binds the new access token only.
    let with_proof =
        refresh_as_spa_with_proofs(&t, &refresh_token_of(&tokens), &[&key.proof(&t)]).await;
    let without = refresh_as_spa_with_proofs(&t, &refresh_token_of(&with_proof), &[]).await;

    // Assert
    assert_bound(&with_proof, &key.thumbprint());
    assert_bearer(&without);
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_not_bound() {
    // Arrange: the web app logs in with a proof.
    let t = spawn().await;
    let key = TestKey::es256();
    let other = TestKey::es256();
    let login = log_in_manager(&t.issuer, &AuthorizeParams::webapp()).await;
    let webapp = |grant: [(&'static str, String); 2]| {
        let mut pairs = vec![
            ("client_id", defaults::WEBAPP_CLIENT_ID.to_owned()),
            ("client_secret", defaults::WEBAPP_CLIENT_SECRET.to_owned()),
            ("redirect_uri", SPA_CALLBACK.to_owned()),
        ];
        pairs.extend(grant);
        pairs
    };
    let code = webapp([
        ("grant_type", "authorization_code".into()),
        ("code", login.code),
    ]);
    let code: Vec<(&str, &str)> = code.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let tokens = token_with_proofs(&t, &code, &[&key.proof(&t)]).await;
    assert_bound(&tokens, &key.thumbprint());
    let refresh = webapp([
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh_token_of(&tokens)),
    ]);
    let refresh: Vec<(&str, &str)> = refresh.iter().map(|(n, v)| (*n, v.as_str())).collect();

    // Act
    let without_proof = token_with_proofs(&t, &refresh, &[]).await;
    let other_key = token_with_proofs(&t, &refresh, &[&other.proof(&t)]).await;

    // Assert
    assert_bearer(&without_proof);
    assert_bound(&other_key, &other.thumbprint());
}

#[tokio::test]
async fn discovery_lists_the_proof_algorithms_the_token_endpoint_verifies() {
    let t = spawn().await;
    let (status, document) = t.get(".well-known/openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(
        document["dpop_signing_alg_values_supported"],
        json!([
            "ES256", "ES384", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"
        ])
    );
}

/// Runs the binary with `args` (`cli.rs` has the like for the tenant commands, which always pass
/// a data dir; the DPoP client's take none).
fn attempt(args: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.args(args);
    output(command)
}

/// A new key file made by `mock-issuer dpop-key` in a fresh directory `name`, and what the
/// command printed.
fn new_key_file(name: &str) -> (String, Value) {
    let file = temp_dir(name).join("dpop.pem");
    let path = file.to_str().expect("utf-8 path").to_owned();
    let printed = serde_json::from_str(&run(&["dpop-key", &path])).expect("JSON");
    (path, printed)
}

/// Runs the binary with `args`; its stdout, or a panic with its stderr.
fn run(args: &[&str]) -> String {
    let out = attempt(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[tokio::test]
async fn the_cli_makes_an_owner_only_key_and_proofs_the_token_endpoint_accepts() {
    // Arrange
    let t = spawn().await;

    // Act
    let (path, made) = new_key_file("dpop-cli");
    let again = attempt(&["dpop-key", &path]);
    let url = t.issuer.token_url();
    let proof = run(&["proof", "--key", &path, "--method", "POST", "--url", &url]);
    let answer = reader_token(&t, &[proof.trim()]).await;

    // Assert
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        !again.status.success(),
        "an existing key file is never replaced"
    );
    let jwk = &made["jwk"];
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert!(jwk.get("d").is_none(), "{jwk}");
    let jkt = ec_thumbprint(jwk);
    assert_eq!(made["jkt"], jkt.as_str());
    assert_bound(&answer, &jkt);
}

#[cfg(unix)]
#[test]
fn a_key_file_other_users_can_read_signs_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    // Arrange
    let (path, _) = new_key_file("dpop-cli-exposed");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    // Act
    let refused = attempt(&["proof", "--key", &path, "--url", "http://127.0.0.1:3010/"]);

    // Assert
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "no proof is printed");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn a_cli_proof_verifies_and_carries_the_request_the_token_hash_and_a_nonce() {
    // Arrange
    let (path, _) = new_key_file("dpop-cli-proof");
    let path = path.as_str();
    let token = "header.payload.signature";

    // Act
    let proof = run(&[
        "proof",
        "--key",
        path,
        "--url",
        "HTTP://API.example.com:443/api/private?x=1#top",
        "--token",
        token,
        "--nonce",
        "server-nonce-1",
    ]);
    let second = run(&["proof", "--key", path, "--url", "http://a.example/"]);

    // Assert: the signature verifies with the proof's own jwk (jsonwebtoken, not the signer).
    let proof = proof.trim();
    let header = jsonwebtoken::decode_header(proof).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwk = header.jwk.expect("a jwk");
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a public key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    mock_issuer::install_crypto_provider();
    let claims = jsonwebtoken::decode::<Value>(proof, &key, &validation)
        .expect("a valid signature")
        .claims;
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], "http://api.example.com:443/api/private");
    assert_eq!(
        claims["ath"],
        URL_SAFE_NO_PAD
            .encode(Sha256::digest(token.as_bytes()))
            .as_str()
    );
    assert!(claims["iat"].as_u64().expect("iat").abs_diff(now()) < 60);
    assert_eq!(claims["nonce"], "server-nonce-1");
    let (_, second) = decode(second.trim());
    assert!(
        second["jti"].is_string() && second["jti"] != claims["jti"],
        "{second}"
    );
    assert!(second.get("ath").is_none(), "{second}");
    assert!(second.get("nonce").is_none(), "{second}");
}

#[test]
fn the_public_key_api_agrees_with_rfc_7638() {
    let key = DpopKey::generate().expect("a key");
    assert_eq!(key.thumbprint(), ec_thumbprint(key.public_jwk()));
}
