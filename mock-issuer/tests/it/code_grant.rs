//! The authorization_code grant: PKCE, single use, expiry, redirect_uri binding, client
//! authentication. Its helpers (log in, redeem, refresh) serve the other user-token tests too.

use std::time::Duration;

use mock_issuer::IssuerConfig;
use mock_issuer::config::defaults;
use serde_json::Value;

use crate::helpers::{SHARED_SEED, TestIssuer, spawn, spawn_with};
use crate::user_login::{AuthorizeParams, Login, Pkce, SPA_CALLBACK, log_in_manager};

/// The manager logged in to the SPA with auth0-spa-js's request ([`AuthorizeParams::spa`]),
/// changed by `adjust`; with the verifier of the code's challenge.
pub async fn spa_login(t: &TestIssuer, adjust: impl FnOnce(&mut AuthorizeParams)) -> (Login, Pkce) {
    let pkce = Pkce::random();
    let mut params = AuthorizeParams::spa(&pkce);
    adjust(&mut params);
    (log_in_manager(&t.issuer, &params).await, pkce)
}

/// The code exchange auth0-spa-js sends (a form, no secret), from `pairs` with `replace`d values
/// (a `None` value leaves that parameter out).
pub async fn redeem_as_spa(
    t: &TestIssuer,
    code: &str,
    verifier: &str,
    replace: &[(&str, Option<&str>)],
) -> (u16, Value) {
    let mut pairs = vec![
        ("grant_type", Some("authorization_code")),
        ("client_id", Some(defaults::SPA_CLIENT_ID)),
        ("code", Some(code)),
        ("redirect_uri", Some(SPA_CALLBACK)),
        ("code_verifier", Some(verifier)),
    ];
    for &(name, value) in replace {
        match pairs.iter_mut().find(|(n, _)| *n == name) {
            Some(pair) => pair.1 = value,
            None => pairs.push((name, value)),
        }
    }
    let sent: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    t.token_form(&sent).await
}

/// A manager's SPA login redeemed: the token answer, which must be a `200`.
pub async fn spa_tokens(t: &TestIssuer, adjust: impl FnOnce(&mut AuthorizeParams)) -> Value {
    let (login, pkce) = spa_login(t, adjust).await;
    let (status, body) = redeem_as_spa(t, &login.code, &pkce.verifier, &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The `webapp` client's exchange, authenticated with its secret in the body.
pub async fn redeem_as_webapp(t: &TestIssuer, code: &str) -> (u16, Value) {
    t.token_form(&[
        ("grant_type", "authorization_code"),
        ("client_id", defaults::WEBAPP_CLIENT_ID),
        ("client_secret", defaults::WEBAPP_CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", SPA_CALLBACK),
    ])
    .await
}

/// Asserts an OAuth error answer.
pub fn assert_refused(answer: &(u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], error, "{}", answer.1);
    assert_eq!(answer.1["error_description"], description, "{}", answer.1);
}

const INVALID_CODE: &str = "Invalid authorization code";
const BAD_VERIFIER: &str = "Failed to verify code verifier";

#[tokio::test]
async fn a_spa_code_with_its_verifier_earns_access_id_and_refresh_tokens() {
    // Arrange
    let t = spawn().await;
    let (login, pkce) = spa_login(&t, |_| {}).await;

    // Act
    let response = t
        .http
        .post(t.issuer.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", defaults::SPA_CLIENT_ID),
            ("code", login.code.as_str()),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .expect("request sent");

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("JSON");
    for token in ["access_token", "id_token", "refresh_token"] {
        assert!(
            body[token].as_str().is_some_and(|s| !s.is_empty()),
            "{token}: {body}"
        );
    }
    assert_eq!(
        body["scope"],
        "openid profile email offline_access read:messages"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86_400);
}

#[tokio::test]
async fn a_json_body_is_accepted_as_auth0_spa_js_can_send_it() {
    // Arrange
    let t = spawn().await;
    let (login, pkce) = spa_login(&t, |_| {}).await;

    // Act
    let (status, body) = t
        .token_json(&serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": defaults::SPA_CLIENT_ID,
            "code": login.code,
            "redirect_uri": SPA_CALLBACK,
            "code_verifier": pkce.verifier,
        }))
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_verifier_that_does_not_match_the_challenge_is_refused() {
    // Arrange
    let t = spawn().await;
    let (login, _) = spa_login(&t, |_| {}).await;
    let other = Pkce::random();

    // Act
    let answer = redeem_as_spa(&t, &login.code, &other.verifier, &[]).await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", BAD_VERIFIER);
}

#[tokio::test]
async fn a_code_issued_with_a_challenge_needs_a_verifier() {
    // Arrange
    let t = spawn().await;
    let (login, _) = spa_login(&t, |_| {}).await;

    // Act
    let answer = redeem_as_spa(&t, &login.code, "", &[("code_verifier", None)]).await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", BAD_VERIFIER);
}

#[tokio::test]
async fn a_verifier_outside_rfc_7636s_alphabet_is_refused_even_if_its_hash_matches() {
    // Arrange: a challenge computed from a verifier with a character PKCE does not allow.
    let t = spawn().await;
    let verifier = format!("{}+", "a".repeat(42));
    let pkce = Pkce {
        challenge: Pkce::challenge_of(&verifier),
        verifier,
    };
    let login = log_in_manager(&t.issuer, &AuthorizeParams::spa(&pkce)).await;

    // Act
    let answer = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", BAD_VERIFIER);
}

#[tokio::test]
async fn a_second_use_of_a_code_is_refused_and_revokes_what_the_first_earned() {
    // Arrange
    let t = spawn().await;
    let (login, pkce) = spa_login(&t, |_| {}).await;
    let (status, first) = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;
    assert_eq!(status, 200, "{first}");
    let refresh_token = first["refresh_token"].as_str().expect("a refresh token");

    // Act
    let again = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;
    let refreshed = t
        .token_form(&[
            ("grant_type", "refresh_token"),
            ("client_id", defaults::SPA_CLIENT_ID),
            ("refresh_token", refresh_token),
        ])
        .await;

    // Assert
    assert_refused(&again, 403, "invalid_grant", INVALID_CODE);
    assert_refused(
        &refreshed,
        403,
        "invalid_grant",
        "Unknown or invalid refresh token.",
    );
}

#[tokio::test]
async fn the_redirect_uri_must_be_exactly_the_one_the_code_was_sent_to() {
    // Arrange: the other URI is registered too; binding is to the one used, not to the list.
    let t = spawn().await;
    let (login, pkce) = spa_login(&t, |_| {}).await;
    let (second, second_pkce) = spa_login(&t, |_| {}).await;

    // Act
    let other = redeem_as_spa(
        &t,
        &login.code,
        &pkce.verifier,
        &[("redirect_uri", Some("http://localhost:3000"))],
    )
    .await;
    let missing = redeem_as_spa(
        &t,
        &second.code,
        &second_pkce.verifier,
        &[("redirect_uri", None)],
    )
    .await;

    // Assert
    assert_refused(&other, 403, "invalid_grant", INVALID_CODE);
    assert_refused(&missing, 403, "invalid_grant", INVALID_CODE);
}

#[tokio::test]
async fn a_code_expires() {
    // Arrange
    let t = spawn_with(IssuerConfig {
        code_lifetime: Duration::from_secs(1),
        ..IssuerConfig::default().with_seed(SHARED_SEED)
    })
    .await;
    let (login, pkce) = spa_login(&t, |_| {}).await;

    // Act
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = redeem_as_spa(&t, &login.code, &pkce.verifier, &[]).await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", INVALID_CODE);
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_refused() {
    // Arrange: the SPA's code, presented by the web app with its valid secret.
    let t = spawn().await;
    let (login, _) = spa_login(&t, |_| {}).await;

    // Act
    let answer = redeem_as_webapp(&t, &login.code).await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", INVALID_CODE);
}

#[tokio::test]
async fn a_public_client_sending_a_secret_is_refused() {
    // Arrange
    let t = spawn().await;
    let (login, pkce) = spa_login(&t, |_| {}).await;

    // Act
    let answer = redeem_as_spa(
        &t,
        &login.code,
        &pkce.verifier,
        &[("client_secret", Some("anything"))],
    )
    .await;

    // Assert
    assert_refused(&answer, 401, "access_denied", "Unauthorized");
}

#[tokio::test]
async fn a_confidential_client_must_send_its_secret() {
    // Arrange
    let t = spawn().await;
    let webapp = AuthorizeParams::webapp();
    let without = log_in_manager(&t.issuer, &webapp).await;
    let with = log_in_manager(&t.issuer, &webapp).await;

    // Act
    let refused = t
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", defaults::WEBAPP_CLIENT_ID),
            ("code", &without.code),
            ("redirect_uri", SPA_CALLBACK),
        ])
        .await;
    let (status, body) = redeem_as_webapp(&t, &with.code).await;

    // Assert
    assert_refused(&refused, 401, "access_denied", "Unauthorized");
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    // Arrange: RFC 9700 §2.1.1, a PKCE downgrade attempt.
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &AuthorizeParams::webapp()).await;

    // Act
    let answer = t
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", defaults::WEBAPP_CLIENT_ID),
            ("client_secret", defaults::WEBAPP_CLIENT_SECRET),
            ("code", &login.code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", &Pkce::random().verifier),
        ])
        .await;

    // Assert
    assert_refused(&answer, 403, "invalid_grant", BAD_VERIFIER);
}

#[tokio::test]
async fn an_unknown_code_or_a_missing_one_is_refused() {
    // Arrange
    let t = spawn().await;
    let verifier = Pkce::random().verifier;

    // Act
    let unknown = redeem_as_spa(&t, "not-a-code", &verifier, &[]).await;
    let missing = redeem_as_spa(&t, "", &verifier, &[("code", None)]).await;

    // Assert
    assert_refused(&unknown, 403, "invalid_grant", INVALID_CODE);
    assert_refused(
        &missing,
        400,
        "invalid_request",
        "Missing required parameter: code",
    );
}

#[tokio::test]
async fn a_machine_to_machine_client_may_not_redeem_codes() {
    // Arrange
    let t = spawn().await;

    // Act
    let answer = t
        .token_form(&[
            ("grant_type", "authorization_code"),
            ("client_id", defaults::READER_CLIENT_ID),
            ("client_secret", defaults::READER_CLIENT_SECRET),
            ("code", "whatever"),
            ("redirect_uri", SPA_CALLBACK),
        ])
        .await;

    // Assert
    assert_refused(
        &answer,
        403,
        "unauthorized_client",
        "Grant type 'authorization_code' not allowed for the client.",
    );
}
