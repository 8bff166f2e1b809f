//! The body limit is one setting: raising it (the binary's `MAX_BODY_BYTES`, the library's
//! `ServerLimits::max_body_bytes`) raises it for the form body the authentication core reads a
//! token from as well, and a body over the raised limit is still 413. Without the server, the
//! core follows axum's own `DefaultBodyLimit`, as every body extractor does.

use std::process::{Child, Stdio};

use api::ServerLimits;
use api::auth::{self, Authenticator, Claims};
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::{AUDIENCE, TestIssuer, options, spawn_router_with, start_api_binary};

/// Twice the default limit (64 KiB).
const RAISED: usize = 128 * 1024;
/// Over the default limit, within the raised one.
const BETWEEN: usize = 100 * 1024;

/// A urlencoded body of exactly `size` bytes carrying `token` as `access_token`.
fn form_body(token: &str, size: usize) -> String {
    let head = format!("access_token={token}&pad=");
    format!("{head}{}", "x".repeat(size - head.len()))
}

/// POSTs `token` as a form to `url` twice: in a body over the default limit and within the
/// raised one, then in a body over the raised limit.
async fn post_within_and_over(url: &str, token: &str) -> [reqwest::Response; 2] {
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for size in [BETWEEN, RAISED + 1] {
        let response = client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(token, size))
            .send()
            .await
            .expect("request");
        answers.push(response);
    }
    answers.try_into().expect("two answers")
}

/// Asserts the answer to a body over the limit: 413 with the API's body.
async fn assert_too_large(response: reqwest::Response) {
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({"message": "Request body too large"}));
}

/// A router whose `POST /echo` needs a token and answers its subject and the body's length.
fn echo_router(authenticator: Authenticator) -> Router {
    Router::new()
        .route(
            "/echo",
            post(|claims: Claims, body: String| async move {
                format!("{} {}", claims.subject().unwrap_or_default(), body.len())
            }),
        )
        .route_layer(from_fn_with_state(authenticator, auth::require_auth))
}

/// The `api` binary, killed when dropped (a failed assertion must not leave it running).
struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binarys_max_body_bytes_is_the_limit_for_a_form_body_token() {
    let issuer = TestIssuer::start().await;
    let (child, address) = start_api_binary(
        &[
            ("ISSUER_BASE_URL", &issuer.url()),
            ("AUDIENCE", AUDIENCE),
            ("PORT", "0"),
            ("MAX_BODY_BYTES", "128KiB"),
            ("RUST_LOG", "off"),
        ],
        Stdio::null(),
    );
    let _binary = Binary(child);
    let url = format!("{address}/api/private");

    let [within, over] = post_within_and_over(&url, &issuer.token()).await;

    // The token was read from the body and accepted; the route itself takes only GET.
    assert_eq!(within.status(), 405);
    assert_too_large(over).await;
}

#[tokio::test]
async fn the_servers_max_body_bytes_is_the_limit_for_a_form_body_token() {
    let issuer = TestIssuer::start().await;
    let authenticator = Authenticator::new(options(&issuer)).expect("options");
    let limits = ServerLimits {
        max_body_bytes: RAISED,
        ..ServerLimits::default()
    };
    let app = spawn_router_with(echo_router(authenticator), limits).await;
    let url = format!("{}/echo", app.address);

    let [within, over] = post_within_and_over(&url, &issuer.token()).await;

    assert_eq!(within.status(), 200);
    assert_eq!(
        within.text().await.expect("text"),
        format!("reader@clients {BETWEEN}")
    );
    assert_too_large(over).await;
}

#[tokio::test]
async fn without_the_server_a_form_body_token_is_read_within_axums_default_body_limit() {
    let issuer = TestIssuer::start().await;
    let authenticator = Authenticator::new(options(&issuer)).expect("options");
    // The route does not read the body: only the authentication core can refuse it.
    let router = Router::new()
        .route(
            "/whoami",
            post(|claims: Claims| async move { claims.subject().unwrap_or_default().to_owned() }),
        )
        .route_layer(from_fn_with_state(authenticator, auth::require_auth))
        .layer(DefaultBodyLimit::max(4096));
    let request = |size| {
        http::Request::post("/whoami")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form_body(&issuer.token(), size)))
            .expect("request")
    };

    let within = router.clone().oneshot(request(2048)).await.expect("answer");
    let over = router.oneshot(request(4097)).await.expect("answer");

    assert_eq!(within.status(), 200);
    assert_eq!(over.status(), 413);
    let body = axum::body::to_bytes(over.into_body(), 1024)
        .await
        .expect("body");
    assert_eq!(&body[..], br#"{"message":"Request body too large"}"#);
}
