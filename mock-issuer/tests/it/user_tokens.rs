//! What a user's login earns: access tokens under RBAC with permissions, the `/userinfo`
//! audience, ID tokens (verified against the JWKS), and `/userinfo` itself, with bearer tokens
//! and with DPoP-bound tokens and their proofs (RFC 9449 §7).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode_header};
use mock_issuer::config::defaults;
use mock_issuer::oauth::dpop::{DpopKey, access_token_hash};
use mock_issuer::{IssuerConfig, MockIssuer, TokenSpec};
use serde_json::{Value, json};

use crate::code_grant::{redeem_as_spa, spa_tokens};
use crate::helpers::{SHARED_SEED, TestIssuer, decode, read, spawn};
use crate::user_login::{AuthorizeParams, Pkce, log_in};

/// The default tenant's user `email`.
fn user(email: &str) -> mock_issuer::UserConfig {
    IssuerConfig::default()
        .user_by_email(email)
        .expect("a default user")
        .clone()
}

/// The claims of `token`, verified as a standard client would: RS256 with the JWKS key named by
/// its `kid`, issuer and audience checked.
async fn verify(t: &TestIssuer, token: &str, audience: &str) -> Value {
    let (_, jwks) = t.get(".well-known/jwks.json").await;
    let jwks: JwkSet = serde_json::from_value(jwks).expect("a JWKS");
    let kid = decode_header(token).expect("a header").kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[t.issuer.url()]);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_jwk(jwk).expect("an RSA key"),
        &validation,
    )
    .expect("the token verifies")
    .claims
}

#[tokio::test]
async fn the_manager_gets_read_messages_and_its_permissions() {
    // Arrange
    let t = spawn().await;
    let manager = user(defaults::MANAGER_EMAIL);

    // Act
    let tokens = spa_tokens(&t, |_| {}).await;

    // Assert
    let token = tokens["access_token"].as_str().expect("a token");
    let claims = verify(&t, token, defaults::API_AUDIENCE).await;
    assert_eq!(claims["sub"], manager.id.as_str());
    assert_eq!(claims["azp"], defaults::SPA_CLIENT_ID);
    assert_eq!(
        claims["scope"],
        "openid profile email offline_access read:messages"
    );
    assert_eq!(claims["permissions"], json!(["read:messages"]));
    assert_eq!(
        claims["aud"],
        json!([
            defaults::API_AUDIENCE,
            format!("{}userinfo", t.issuer.url())
        ])
    );
    assert!(claims.get("gty").is_none(), "a user's token has no gty");
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        86_400
    );
}

#[tokio::test]
async fn a_user_without_the_role_gets_neither_the_scope_nor_the_permission() {
    // Arrange: RBAC is on for the default API.
    let t = spawn().await;
    let pkce = Pkce::random();
    let login = log_in(
        &t.issuer,
        &AuthorizeParams::spa(&pkce),
        defaults::USER_EMAIL,
        defaults::USER_PASSWORD,
    )
    .await;

    // Act
    let (status, tokens) = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;

    // Assert
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile email offline_access");
    let (_, claims) = decode(tokens["access_token"].as_str().expect("a token"));
    assert_eq!(claims["sub"], user(defaults::USER_EMAIL).id.as_str());
    assert_eq!(claims["scope"], "openid profile email offline_access");
    assert_eq!(claims["permissions"], json!([]));
}

#[tokio::test]
async fn without_openid_there_is_no_id_token_and_the_audience_is_the_api_alone() {
    // Arrange
    let t = spawn().await;

    // Act
    let tokens = spa_tokens(&t, |p| p.scope = Some("read:messages".to_owned())).await;

    // Assert
    assert!(tokens.get("id_token").is_none(), "{tokens}");
    let (_, claims) = decode(tokens["access_token"].as_str().expect("a token"));
    assert_eq!(claims["aud"], defaults::API_AUDIENCE);
    assert_eq!(claims["scope"], "read:messages");
}

#[tokio::test]
async fn without_an_audience_the_access_token_is_for_userinfo_alone() {
    // Arrange
    let t = spawn().await;

    // Act: API scopes asked for without an API mean nothing.
    let tokens = spa_tokens(&t, |p| p.audience = None).await;

    // Assert
    let (_, claims) = decode(tokens["access_token"].as_str().expect("a token"));
    assert_eq!(claims["aud"], format!("{}userinfo", t.issuer.url()));
    assert_eq!(claims["scope"], "openid profile email offline_access");
    assert!(claims.get("permissions").is_none(), "{claims}");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
}

#[tokio::test]
async fn the_id_token_verifies_and_states_the_login_and_the_profile() {
    // Arrange
    let t = spawn().await;
    let manager = user(defaults::MANAGER_EMAIL);
    let before = now();

    // Act
    let tokens = spa_tokens(&t, |_| {}).await;

    // Assert
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let (header, _) = decode(id_token);
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "kid": t.issuer.current_kid()})
    );
    let claims = verify(&t, id_token, defaults::SPA_CLIENT_ID).await;
    assert_eq!(claims["iss"], t.issuer.url());
    assert_eq!(claims["sub"], manager.id.as_str());
    assert_eq!(claims["nonce"], "nonce-1");
    let iat = claims["iat"].as_u64().expect("iat");
    assert_eq!(
        claims["exp"].as_u64(),
        Some(iat + defaults::ID_TOKEN_LIFETIME)
    );
    let auth_time = claims["auth_time"].as_u64().expect("auth_time");
    assert!(before <= auth_time && auth_time <= iat, "{claims}");
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(claims["name"], manager.name.as_str());
    assert_eq!(claims["nickname"], manager.nickname.as_str());
    assert_eq!(claims["picture"], manager.picture.as_str());
    assert!(
        claims["updated_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert_eq!(claims["email"], defaults::MANAGER_EMAIL);
    assert_eq!(claims["email_verified"], true);
    assert!(
        claims.get("azp").is_none(),
        "one audience, no azp: {claims}"
    );
}

#[tokio::test]
async fn the_id_token_reveals_only_what_the_scopes_ask_for() {
    // Arrange
    let t = spawn().await;

    // Act
    let tokens = spa_tokens(&t, |p| {
        p.scope = Some("openid email".to_owned());
        p.nonce = None;
    })
    .await;

    // Assert
    let (_, claims) = decode(tokens["id_token"].as_str().expect("an ID token"));
    assert_eq!(claims["email"], defaults::MANAGER_EMAIL);
    for absent in ["name", "nickname", "picture", "updated_at", "nonce"] {
        assert!(claims.get(absent).is_none(), "{absent}: {claims}");
    }
}

#[tokio::test]
async fn a_login_with_max_age_gets_auth_time() {
    // Arrange
    let t = spawn().await;

    // Act
    let tokens = spa_tokens(&t, |p| p.max_age = Some("3600".to_owned())).await;

    // Assert
    let (_, claims) = decode(tokens["id_token"].as_str().expect("an ID token"));
    assert!(
        claims["auth_time"].as_u64().is_some_and(|t| t <= now()),
        "{claims}"
    );
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// `method /userinfo` with `authorization` as the `Authorization` header, if any.
async fn userinfo(
    t: &TestIssuer,
    method: reqwest::Method,
    authorization: Option<&str>,
) -> (u16, Option<String>, Value) {
    let headers: Vec<(&str, &str)> = authorization
        .map(|value| ("authorization", value))
        .into_iter()
        .collect();
    userinfo_with(t, method, &headers).await
}

/// `method /userinfo` with `headers` (each sent as given, so a name may repeat): the status, the
/// `WWW-Authenticate` challenge and the body.
async fn userinfo_with(
    t: &TestIssuer,
    method: reqwest::Method,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut request = t
        .http
        .request(method, format!("{}userinfo", t.issuer.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let (status, body) = read(response).await;
    (status, challenge, body)
}

#[tokio::test]
async fn userinfo_answers_the_profile_the_token_scopes_reveal() {
    // Arrange
    let t = spawn().await;
    let manager = user(defaults::MANAGER_EMAIL);
    let full = spa_tokens(&t, |_| {}).await;
    let email_only = spa_tokens(&t, |p| p.scope = Some("openid email".to_owned())).await;
    let bearer =
        |tokens: &Value| format!("Bearer {}", tokens["access_token"].as_str().unwrap_or(""));

    // Act
    let (status, _, profile) = userinfo(&t, reqwest::Method::GET, Some(&bearer(&full))).await;
    let (post_status, _, posted) =
        userinfo(&t, reqwest::Method::POST, Some(&bearer(&email_only))).await;

    // Assert
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["sub"], manager.id.as_str());
    assert_eq!(profile["name"], manager.name.as_str());
    assert_eq!(profile["email"], defaults::MANAGER_EMAIL);
    assert_eq!(profile["email_verified"], true);
    assert_eq!(post_status, 200, "{posted}");
    assert_eq!(
        posted,
        json!({"sub": manager.id, "email": manager.email, "email_verified": true})
    );
}

#[tokio::test]
async fn userinfo_refuses_what_is_not_a_users_valid_token_for_it() {
    // Arrange
    let t = spawn().await;
    let manager = user(defaults::MANAGER_EMAIL);
    let userinfo_audience = format!("{}userinfo", t.issuer.url());
    let for_user = || {
        TokenSpec::for_user(&manager.id, defaults::SPA_CLIENT_ID)
            .audience(userinfo_audience.clone())
            .scopes(["openid"])
    };
    let foreign = MockIssuer::start(IssuerConfig::default().with_seed(SHARED_SEED + 1))
        .await
        .expect("another tenant starts");
    let cases = [
        (
            "a client's token for userinfo",
            t.issuer.mint(
                &TokenSpec::for_client(defaults::READER_CLIENT_ID)
                    .audience(userinfo_audience.clone()),
            ),
            "not issued to a user",
        ),
        (
            "a client's token for the API",
            t.reader_token().await,
            "audience",
        ),
        (
            "an expired token",
            t.issuer.mint(&for_user().expired()),
            "expired",
        ),
        (
            "a token for the API alone",
            t.issuer.mint(&for_user().audience(defaults::API_AUDIENCE)),
            "audience",
        ),
        ("another tenant's key", foreign.mint(&for_user()), "kid"),
        (
            "another issuer",
            t.issuer
                .mint(&for_user().claim("iss", "https://elsewhere/")),
            "not issued by this tenant",
        ),
        ("not a JWS", "not-a-token".to_owned(), "not a compact JWS"),
    ];

    // Act and assert
    for (case, token, why) in cases {
        let (status, challenge, body) =
            userinfo(&t, reqwest::Method::GET, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(body, "Unauthorized", "{case}");
        let challenge = challenge.unwrap_or_default();
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token", error_description=""#)
                && challenge.contains(why),
            "{case}: {challenge}"
        );
    }
    let (status, challenge, _) = userinfo(&t, reqwest::Method::GET, None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
}

#[tokio::test]
async fn a_users_minted_token_for_userinfo_is_answered() {
    // Arrange: the console mints such tokens; the check is the token's, not how it was made.
    let t = spawn().await;
    let manager = user(defaults::MANAGER_EMAIL);
    let token = t.issuer.mint(
        &TokenSpec::for_user(&manager.id, defaults::SPA_CLIENT_ID)
            .audience(format!("{}userinfo", t.issuer.url()))
            .scopes(["openid", "profile"]),
    );

    // Act
    let (status, _, profile) =
        userinfo(&t, reqwest::Method::GET, Some(&format!("bearer {token}"))).await;

    // Assert
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["nickname"], manager.nickname.as_str());
    assert!(profile.get("email").is_none(), "{profile}");
}

/// The manager's token for `/userinfo` (`openid email`), bound to `key` when given.
fn manager_token(t: &TestIssuer, key: Option<&DpopKey>) -> String {
    let manager = user(defaults::MANAGER_EMAIL);
    let mut spec = TokenSpec::for_user(&manager.id, defaults::SPA_CLIENT_ID)
        .audience(format!("{}userinfo", t.issuer.url()))
        .scopes(["openid", "email"]);
    if let Some(key) = key {
        spec = spec.bound_to_key(key.thumbprint());
    }
    t.issuer.mint(&spec)
}

/// A fresh proof by `key` for `method /userinfo` with `token`.
fn proof(t: &TestIssuer, key: &DpopKey, method: &str, token: &str) -> String {
    key.proof(method, &format!("{}userinfo", t.issuer.url()), Some(token))
        .expect("a proof")
}

/// `GET /userinfo` with `Authorization: DPoP <token>` and `proofs` as `DPoP` headers.
async fn userinfo_dpop(
    t: &TestIssuer,
    token: &str,
    proofs: &[&str],
) -> (u16, Option<String>, Value) {
    let authorization = format!("DPoP {token}");
    let mut headers = vec![("authorization", authorization.as_str())];
    headers.extend(proofs.iter().map(|proof| ("dpop", *proof)));
    userinfo_with(t, reqwest::Method::GET, &headers).await
}

/// A 401 whose challenge puts `error` on `scheme` with a description containing `why`; the DPoP
/// challenge lists the proof algorithms. `case` names the request in a failure.
fn assert_refused(
    case: &str,
    answer: &(u16, Option<String>, Value),
    [scheme, error, why]: [&str; 3],
) {
    let (status, challenge, body) = answer;
    assert_eq!(
        (*status, body.as_str()),
        (401, Some("Unauthorized")),
        "{challenge:?}"
    );
    let challenge = challenge.as_deref().unwrap_or_default();
    let prefix = format!(r#"{scheme} error="{error}", error_description=""#);
    assert!(
        challenge.starts_with(&prefix) && challenge.contains(why),
        "{case}: expected {error} on {scheme} ({why}): {challenge}"
    );
    assert_eq!(
        challenge.contains(r#"algs="ES256 "#),
        scheme == "DPoP",
        "{challenge}"
    );
}

#[tokio::test]
async fn a_bound_token_is_refused_as_a_bearer_token() {
    // Arrange
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let bound = manager_token(&t, Some(&key));
    let unbound = manager_token(&t, None);
    let with_proof = proof(&t, &key, "GET", &bound);
    let bearer = |token: &str| format!("Bearer {token}");

    // Act: a thief holding the token alone, with or without someone's proof beside it.
    let alone = userinfo(&t, reqwest::Method::GET, Some(&bearer(&bound))).await;
    let beside_a_proof = userinfo_with(
        &t,
        reqwest::Method::GET,
        &[("authorization", &bearer(&bound)), ("dpop", &with_proof)],
    )
    .await;
    let unbound_answer = userinfo(&t, reqwest::Method::GET, Some(&bearer(&unbound))).await;

    // Assert
    for answer in [&alone, &beside_a_proof] {
        assert_refused(
            "bound token as Bearer",
            answer,
            ["Bearer", "invalid_token", "bound to a DPoP key"],
        );
    }
    assert_eq!(unbound_answer.0, 200, "{:?}", unbound_answer.2);
}

#[tokio::test]
async fn a_bound_token_with_a_proof_of_its_key_is_answered_on_get_and_post() {
    // Arrange
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let token = manager_token(&t, Some(&key));
    let manager = user(defaults::MANAGER_EMAIL);
    let expected = json!({"sub": manager.id, "email": manager.email, "email_verified": true});

    // Act
    let got = userinfo_dpop(&t, &token, &[&proof(&t, &key, "GET", &token)]).await;
    let authorization = format!("dpop {token}");
    let posted = userinfo_with(
        &t,
        reqwest::Method::POST,
        &[
            ("authorization", authorization.as_str()),
            ("dpop", &proof(&t, &key, "POST", &token)),
        ],
    )
    .await;

    // Assert
    assert_eq!((got.0, &got.2), (200, &expected), "{:?}", got.1);
    assert_eq!((posted.0, &posted.2), (200, &expected), "{:?}", posted.1);
}

#[tokio::test]
async fn each_broken_proof_is_refused_invalid_dpop_proof_on_the_dpop_challenge() {
    // Arrange
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let token = manager_token(&t, Some(&key));
    let url = format!("{}userinfo", t.issuer.url());
    let claims = |htm: &str, htu: &str, iat: u64, ath: Option<String>| {
        let mut claims =
            json!({ "jti": format!("{htm}{htu}{iat}{ath:?}"), "htm": htm, "htu": htu, "iat": iat });
        if let Some(ath) = ath {
            claims["ath"] = ath.into();
        }
        key.sign_claims(&claims).expect("a proof")
    };
    let ath = || Some(access_token_hash(&token));
    let valid = proof(&t, &key, "GET", &token);
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("no DPoP header", vec![], "one DPoP proof header"),
        (
            "two DPoP headers",
            vec![valid.clone(), valid],
            "Only one DPoP header",
        ),
        (
            "not a JWT",
            vec!["not.a-proof".to_owned()],
            "not a well-formed JWT",
        ),
        (
            "htm POST for a GET",
            vec![claims("POST", &url, now(), ath())],
            "htm and htu",
        ),
        (
            "htu the token endpoint",
            vec![claims("GET", &t.issuer.token_url(), now(), ath())],
            "htm and htu",
        ),
        ("no ath", vec![claims("GET", &url, now(), None)], "ath"),
        (
            "ath of another token",
            vec![claims("GET", &url, now(), Some(access_token_hash("other")))],
            "ath",
        ),
        (
            "iat 10 minutes old",
            vec![claims("GET", &url, now() - 600, ath())],
            "iat",
        ),
    ];

    // Act and assert
    for (case, proofs, why) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let answer = userinfo_dpop(&t, &token, &proofs).await;
        assert_refused(case, &answer, ["DPoP", "invalid_dpop_proof", why]);
    }
}

#[tokio::test]
async fn a_proof_is_accepted_once() {
    // Arrange
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let token = manager_token(&t, Some(&key));
    let once = proof(&t, &key, "GET", &token);

    // Act
    let first = userinfo_dpop(&t, &token, &[&once]).await;
    let again = userinfo_dpop(&t, &token, &[&once]).await;

    // Assert
    assert_eq!(first.0, 200, "{:?}", first.1);
    assert_refused(
        "replayed",
        &again,
        ["DPoP", "invalid_dpop_proof", "already been used"],
    );
}

#[tokio::test]
async fn a_token_must_be_bound_to_the_proofs_key_and_valid() {
    // Arrange
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let other = DpopKey::generate().expect("another key");
    let bound_to_other = manager_token(&t, Some(&other));
    let unbound = manager_token(&t, None);
    let manager = user(defaults::MANAGER_EMAIL);
    let expired = t.issuer.mint(
        &TokenSpec::for_user(&manager.id, defaults::SPA_CLIENT_ID)
            .audience(format!("{}userinfo", t.issuer.url()))
            .bound_to_key(key.thumbprint())
            .expired(),
    );
    let cases = [
        (
            "bound to another key",
            bound_to_other,
            "bound to another DPoP key",
        ),
        ("not bound", unbound, "not bound to a DPoP key"),
        ("expired", expired, "expired"),
    ];

    // Act and assert: each with a valid proof by `key`.
    for (case, token, why) in cases {
        let answer = userinfo_dpop(&t, &token, &[&proof(&t, &key, "GET", &token)]).await;
        assert_refused(case, &answer, ["DPoP", "invalid_token", why]);
    }
}

#[tokio::test]
async fn a_proof_refused_for_its_binding_is_not_spent() {
    // Arrange: two proofs by one key with one `jti`, the first for a token bound to another key.
    let t = spawn().await;
    let key = DpopKey::generate().expect("a key");
    let bound_to_other = manager_token(&t, Some(&DpopKey::generate().expect("another key")));
    let token = manager_token(&t, Some(&key));
    let url = format!("{}userinfo", t.issuer.url());
    let with_jti = |token: &str| {
        let claims = json!({
            "jti": "one-jti", "htm": "GET", "htu": url, "iat": now(),
            "ath": access_token_hash(token),
        });
        key.sign_claims(&claims).expect("a proof")
    };

    // Act
    let refused = userinfo_dpop(&t, &bound_to_other, &[&with_jti(&bound_to_other)]).await;
    let accepted = userinfo_dpop(&t, &token, &[&with_jti(&token)]).await;

    // Assert: only a proof that passed every check is remembered.
    assert_refused(
        "other key",
        &refused,
        ["DPoP", "invalid_token", "another DPoP key"],
    );
    assert_eq!(accepted.0, 200, "{:?}", accepted.1);
}
