//! The refresh_token grant: rotation, reuse detection revoking the family, non-rotating clients,
//! the ID token in every answer, narrowing the scope.

use mock_issuer::config::defaults;
use mock_issuer::{ApiConfig, IssuerConfig};
use serde_json::Value;

use crate::code_grant::{assert_refused, redeem_as_spa, redeem_as_webapp, spa_tokens};
use crate::helpers::{SHARED_SEED, TestIssuer, decode, spawn, spawn_with};
use crate::user_login::{AuthorizeParams, Pkce, log_in, log_in_manager};

const INVALID_REFRESH: &str = "Unknown or invalid refresh token.";

/// `grant_type=refresh_token` for the SPA (no secret), with `extra` parameters.
async fn refresh_as_spa(t: &TestIssuer, token: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("client_id", defaults::SPA_CLIENT_ID),
        ("refresh_token", token),
    ];
    pairs.extend_from_slice(extra);
    t.token_form(&pairs).await
}

/// The refresh token of a token answer.
fn refresh_token(answer: &Value) -> String {
    answer["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a refresh token in {answer}"))
        .to_owned()
}

#[tokio::test]
async fn with_rotation_each_refresh_spends_the_token_and_answers_a_new_one() {
    // Arrange
    let t = spawn().await;
    let first = refresh_token(&spa_tokens(&t, |_| {}).await);

    // Act: auth0-spa-js sends redirect_uri too; it is ignored.
    let (status, answer) = refresh_as_spa(
        &t,
        &first,
        &[("redirect_uri", "http://localhost:3000/callback")],
    )
    .await;
    let second = refresh_token(&answer);
    let (again_status, again) = refresh_as_spa(&t, &second, &[]).await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_ne!(second, first);
    assert_eq!(again_status, 200, "{again}");
    assert_ne!(refresh_token(&again), second);
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["access_token"].is_string(), "{answer}");
}

#[tokio::test]
async fn reusing_a_spent_token_revokes_its_family_the_newest_included() {
    // Arrange
    let t = spawn().await;
    let first = refresh_token(&spa_tokens(&t, |_| {}).await);
    let (_, answer) = refresh_as_spa(&t, &first, &[]).await;
    let newest = refresh_token(&answer);

    // Act
    let reused = refresh_as_spa(&t, &first, &[]).await;
    let newest_after = refresh_as_spa(&t, &newest, &[]).await;

    // Assert
    assert_refused(&reused, 403, "invalid_grant", INVALID_REFRESH);
    assert_refused(&newest_after, 403, "invalid_grant", INVALID_REFRESH);
}

#[tokio::test]
async fn a_non_rotating_client_keeps_its_refresh_token_and_must_authenticate() {
    // Arrange: the web app rotates no refresh token (Auth0's default outside single-page apps).
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &AuthorizeParams::webapp()).await;
    let (status, tokens) = redeem_as_webapp(&t, &login.code).await;
    assert_eq!(status, 200, "{tokens}");
    let token = refresh_token(&tokens);
    let refresh = |secret: Option<&'static str>| {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("client_id", defaults::WEBAPP_CLIENT_ID),
            ("refresh_token", token.as_str()),
        ];
        pairs.extend(secret.map(|s| ("client_secret", s)));
        let t = &t;
        async move { t.token_form(&pairs).await }
    };

    // Act
    let first = refresh(Some(defaults::WEBAPP_CLIENT_SECRET)).await;
    let second = refresh(Some(defaults::WEBAPP_CLIENT_SECRET)).await;
    let without_secret = refresh(None).await;

    // Assert
    for (status, answer) in [&first, &second] {
        assert_eq!(*status, 200, "{answer}");
        assert!(answer.get("refresh_token").is_none(), "{answer}");
        assert!(answer["id_token"].is_string(), "{answer}");
    }
    assert_refused(&without_secret, 401, "access_denied", "Unauthorized");
}

#[tokio::test]
async fn every_answer_carries_an_id_token_of_the_same_login() {
    // Arrange
    let t = spawn().await;
    let tokens = spa_tokens(&t, |_| {}).await;
    let (_, original) = decode(tokens["id_token"].as_str().expect("an ID token"));

    // Act
    let (status, answer) = refresh_as_spa(&t, &refresh_token(&tokens), &[]).await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    let (_, refreshed) = decode(answer["id_token"].as_str().expect("an ID token"));
    assert_eq!(refreshed["sub"], original["sub"]);
    assert_eq!(refreshed["aud"], defaults::SPA_CLIENT_ID);
    assert_eq!(refreshed["sid"], original["sid"]);
    assert_eq!(refreshed["auth_time"], original["auth_time"]);
    assert_eq!(original["nonce"], "nonce-1");
    assert!(
        refreshed.get("nonce").is_none(),
        "the nonce belonged to the authorization request: {refreshed}"
    );
}

#[tokio::test]
async fn a_scope_parameter_narrows_the_answer_and_never_widens_it() {
    // Arrange
    let t = spawn().await;
    let first = refresh_token(&spa_tokens(&t, |_| {}).await);

    // Act
    let (status, narrowed) = refresh_as_spa(&t, &first, &[("scope", "openid read:messages")]).await;
    let (_, widened) = refresh_as_spa(
        &t,
        &refresh_token(&narrowed),
        &[("scope", "openid write:messages")],
    )
    .await;
    let (_, whole) = refresh_as_spa(&t, &refresh_token(&widened), &[]).await;

    // Assert
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "openid read:messages");
    let (_, claims) = decode(narrowed["access_token"].as_str().expect("a token"));
    assert_eq!(claims["scope"], "openid read:messages");
    assert_eq!(widened["scope"], "openid", "{widened}");
    // The refresh token itself keeps the login's scopes.
    assert_eq!(
        whole["scope"],
        "openid profile email offline_access read:messages"
    );
}

#[tokio::test]
async fn auth0_spa_js_asking_again_for_a_scope_rbac_denied_still_refreshes() {
    // Arrange: the user holds no role; auth0-spa-js sends its whole configured scope, and the
    // audience and redirect_uri, with every refresh.
    let t = spawn().await;
    let pkce = Pkce::random();
    let params = AuthorizeParams::spa(&pkce);
    let login = log_in(
        &t.issuer,
        &params,
        defaults::USER_EMAIL,
        defaults::USER_PASSWORD,
    )
    .await;
    let (status, tokens) = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;
    assert_eq!(status, 200, "{tokens}");
    let scope = params.scope.clone().expect("a scope");

    // Act
    let (status, answer) = refresh_as_spa(
        &t,
        &refresh_token(&tokens),
        &[
            ("scope", &scope),
            ("audience", defaults::API_AUDIENCE),
            ("redirect_uri", &params.redirect_uri),
        ],
    )
    .await;

    // Assert
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["scope"], "openid profile email offline_access");
}

#[tokio::test]
async fn a_refresh_token_works_only_for_the_client_it_was_issued_to() {
    // Arrange
    let t = spawn().await;
    let token = refresh_token(&spa_tokens(&t, |_| {}).await);

    // Act
    let answer = t
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("client_id", defaults::WEBAPP_CLIENT_ID),
            ("client_secret", defaults::WEBAPP_CLIENT_SECRET),
            ("refresh_token", &token),
        ])
        .await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", INVALID_REFRESH);
}

#[tokio::test]
async fn an_unknown_or_missing_refresh_token_is_refused() {
    // Arrange
    let t = spawn().await;

    // Act
    let unknown = refresh_as_spa(&t, "not-a-refresh-token", &[]).await;
    let missing = t
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("client_id", defaults::SPA_CLIENT_ID),
        ])
        .await;

    // Assert
    assert_refused(&unknown, 403, "invalid_grant", INVALID_REFRESH);
    assert_refused(
        &missing,
        400,
        "invalid_request",
        "Missing required parameter: refresh_token",
    );
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    // Arrange
    let t = spawn().await;

    // Act
    let tokens = spa_tokens(&t, |p| {
        p.scope = Some("openid profile read:messages".to_owned());
    })
    .await;

    // Assert
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["scope"], "openid profile read:messages");
}

#[tokio::test]
async fn no_refresh_token_for_an_api_that_does_not_allow_offline_access() {
    // Arrange
    let t = spawn_with(IssuerConfig {
        apis: vec![ApiConfig {
            allow_offline_access: false,
            ..ApiConfig::default()
        }],
        ..IssuerConfig::default().with_seed(SHARED_SEED)
    })
    .await;

    // Act
    let tokens = spa_tokens(&t, |_| {}).await;

    // Assert
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(
        tokens["scope"], "openid profile email read:messages",
        "offline_access is not granted"
    );
}
