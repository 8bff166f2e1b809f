//! What a user's login earns: access tokens under RBAC with permissions, the `/userinfo`
//! audience, ID tokens (verified against the JWKS), and `/userinfo` itself.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode_header};
use mock_issuer::config::defaults;
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
    let mut request = t
        .http
        .request(method, format!("{}userinfo", t.issuer.url()));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
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
