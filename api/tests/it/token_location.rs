//! Where the token may be (RFC 6750 §2) and the 400s for everything else.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use api::ServerLimits;
use api::auth::{self, Claims};

use crate::helpers::*;

#[tokio::test]
async fn malformed_authorization_headers_are_400_with_a_bare_challenge() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let token = issuer.token();

    for header in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        format!("Bearer  {token}"),
        format!("Bearer {token} extra"),
        format!("Token {token}"),
        format!("Bearer \"{token}\""),
    ] {
        for route in ["/api/private", "/api/private-scoped"] {
            let response = app
                .request(reqwest::Method::GET, route)
                .header("authorization", &header)
                .send()
                .await
                .expect("request");
            assert_eq!(
                answer(response).await,
                malformed_authorization(),
                "{header:?} on {route}"
            );
        }
    }
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let response = app
            .request(reqwest::Method::GET, "/api/private")
            .header("authorization", format!("{scheme} {}", issuer.token()))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn two_authorization_headers_are_an_invalid_request() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    let response = app
        .request(reqwest::Method::GET, "/api/private")
        .header("authorization", format!("Bearer {}", issuer.token()))
        .header("authorization", format!("Bearer {}", issuer.token()))
        .send()
        .await
        .expect("request");

    assert_eq!(
        answer(response).await,
        invalid_request("More than one Authorization header")
    );
}

#[tokio::test]
async fn query_tokens_are_refused_by_default() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    let answer = answer(
        app.get(&format!("/api/private?access_token={}", issuer.token()))
            .await,
    )
    .await;

    assert_eq!(
        answer,
        invalid_request(
            "Access tokens in the query string are not accepted; send an Authorization: Bearer header"
        )
    );
    issuer.assert_never_called().await;
}

#[tokio::test]
async fn query_tokens_work_when_allowed_but_never_together_with_a_header() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.allow_query_token = true;
    let app = spawn_app(options).await;
    let token = issuer.token();

    assert_eq!(
        app.get(&format!("/api/private?access_token={token}"))
            .await
            .status(),
        200
    );
    let both = app
        .get_with_token(&format!("/api/private?access_token={token}"), &token)
        .await;
    assert_eq!(
        answer(both).await,
        invalid_request("More than one method used for authentication")
    );
}

/// A router with a POST route, to exercise the form-body token location, served with this
/// body limit.
async fn form_app(issuer: &TestIssuer, max_body_bytes: usize) -> TestApp {
    let authenticator = authenticator(issuer);
    let router = Router::new()
        .route(
            "/echo",
            post(|claims: Claims, body: String| async move {
                format!("{} {body}", claims.subject().unwrap_or_default())
            }),
        )
        .route("/read", get(|_claims: Claims| async { "ok" }))
        .route_layer(from_fn_with_state(authenticator, auth::require_auth));
    let limits = ServerLimits {
        max_body_bytes,
        ..ServerLimits::default()
    };
    spawn_router_with(router, limits).await
}

#[tokio::test]
async fn a_form_body_may_carry_the_token_and_the_handler_still_reads_the_body() {
    let issuer = TestIssuer::start().await;
    let app = form_app(&issuer, 64 * 1024).await;
    let body = format!("access_token={}&note=hi", issuer.token());

    let response = app
        .request(reqwest::Method::POST, "/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.expect("text"),
        format!("reader@clients {body}")
    );
}

#[tokio::test]
async fn a_form_body_token_with_a_header_token_is_an_invalid_request() {
    let issuer = TestIssuer::start().await;
    let app = form_app(&issuer, 64 * 1024).await;

    let response = app
        .request(reqwest::Method::POST, "/echo")
        .bearer_auth(issuer.token())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={}", issuer.token()))
        .send()
        .await
        .expect("request");

    assert_eq!(
        answer(response).await,
        invalid_request("More than one method used for authentication")
    );
}

#[tokio::test]
async fn a_form_body_token_on_a_get_request_is_refused() {
    let issuer = TestIssuer::start().await;
    let app = form_app(&issuer, 64 * 1024).await;

    let response = app
        .request(reqwest::Method::GET, "/read")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={}", issuer.token()))
        .send()
        .await
        .expect("request");

    assert_eq!(
        answer(response).await,
        invalid_request("The access token may not be sent in the body of a GET or HEAD request")
    );
}

#[tokio::test]
async fn an_oversized_form_body_is_413() {
    let issuer = TestIssuer::start().await;
    let app = form_app(&issuer, 1024).await;

    let response = app
        .request(reqwest::Method::POST, "/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "access_token={}&pad={}",
            issuer.token(),
            "x".repeat(2048)
        ))
        .send()
        .await
        .expect("request");

    assert_eq!(
        answer(response).await,
        Answer {
            status: 413,
            challenge: None,
            message: "Request body too large".into()
        }
    );
}
