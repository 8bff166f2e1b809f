//! CORS on the endpoints a browser app calls (token, userinfo): preflights and answers for the
//! clients' Allowed Web Origins only.

use mock_issuer::config::defaults;
use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::helpers::{TestIssuer, spawn};

const APP_ORIGIN: &str = "http://localhost:3000";

/// A preflight for `POST path` from `origin`, asking for auth0-spa-js's headers.
async fn preflight(t: &TestIssuer, path: &str, origin: &str) -> (u16, HeaderMap) {
    let response = t
        .http
        .request(Method::OPTIONS, format!("{}{path}", t.issuer.url()))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,auth0-client",
        )
        .send()
        .await
        .expect("request sent");
    (response.status().as_u16(), response.headers().clone())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().expect("ASCII"))
}

#[tokio::test]
async fn a_preflight_from_an_allowed_web_origin_gets_exactly_auth0s_allowances() {
    // Arrange
    let t = spawn().await;

    // Act
    let (status, headers) = preflight(&t, "oauth/token", APP_ORIGIN).await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("GET,POST")
    );
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        Some("content-type,auth0-client,authorization,dpop")
    );
    assert_eq!(header(&headers, "access-control-max-age"), Some("86400"));
    assert_eq!(header(&headers, "access-control-allow-credentials"), None);
    let vary: Vec<&str> = headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("origin")),
        "answers differ by origin, so caches must know: {vary:?}"
    );
}

#[tokio::test]
async fn userinfo_answers_preflights_from_every_listed_origin() {
    // Arrange
    let t = spawn().await;

    // Act and assert
    for origin in defaults::SPA_ORIGINS {
        let (status, headers) = preflight(&t, "userinfo", origin).await;
        assert_eq!(status, 200, "{origin}");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            Some(origin)
        );
    }
}

#[tokio::test]
async fn an_origin_not_listed_gets_no_allow_origin() {
    // Arrange
    let t = spawn().await;

    // Act and assert: another host, another port, a trailing slash: each is another origin.
    for origin in [
        "http://evil.example",
        "http://localhost:3001",
        "http://localhost:3000/",
        "null",
    ] {
        let (_, headers) = preflight(&t, "oauth/token", origin).await;
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn an_actual_request_from_an_allowed_origin_is_allowed_and_exposes_dpop_nonce_and_the_challenge()
 {
    // Arrange
    let t = spawn().await;

    // Act: even a refusal must be readable by the app, to show the error.
    let response = t
        .http
        .post(t.issuer.token_url())
        .header("origin", APP_ORIGIN)
        .header("auth0-client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0")
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", defaults::SPA_CLIENT_ID),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .expect("request sent");

    // Assert
    assert_eq!(response.status(), 403);
    let headers = response.headers();
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    assert_eq!(
        header(headers, "access-control-expose-headers"),
        Some("dpop-nonce,www-authenticate")
    );
}

#[tokio::test]
async fn a_userinfo_refusal_lets_the_app_read_its_challenge() {
    // Arrange
    let t = spawn().await;

    // Act: a DPoP client tells a refused proof from a refused token by the challenge alone.
    // (Written out like the test above, not shared: each test shows its request and answer whole.)
    let response = t
        .http
        .get(format!("{}userinfo", t.issuer.url()))
        .header("origin", APP_ORIGIN)
        .header("authorization", "DPoP not-a-token")
        .send()
        .await
        .expect("request sent");

    // Assert
    assert_eq!(response.status(), 401);
    let headers = response.headers();
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(APP_ORIGIN)
    );
    let exposed = header(headers, "access-control-expose-headers").unwrap_or_default();
    assert!(
        exposed.split(',').any(|name| name == "www-authenticate"),
        "{exposed}"
    );
    let challenge = header(headers, "www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(r#"DPoP error="invalid_dpop_proof""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_admin_surface_answers_no_cors_even_to_the_apps_origin() {
    // Arrange: a page on the app's origin must not be able to read what minting answers.
    let t = spawn().await;

    // Act
    let (_, headers) = preflight(&t, "_mock/mint", APP_ORIGIN).await;

    // Assert
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
}
