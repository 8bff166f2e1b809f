//! The contract's routes, bodies and CORS, over HTTP.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_public_route_answers_everyone_with_the_reference_body() {
    let issuer = TestIssuer::bare().await;
    let app = spawn_app(options(&issuer)).await;

    let response = app.get("/api/public").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"message": "Hello from a public endpoint! You don't need to be authenticated to see this."})
    );
    // The public route never needs the issuer.
    issuer.assert_never_called().await;
}

#[tokio::test]
async fn the_private_route_answers_a_valid_token() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    let response = app.get_with_token("/api/private", &issuer.token()).await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"message": "Hello from a private endpoint! You need to be authenticated to see this."})
    );
}

#[tokio::test]
async fn the_protected_routes_without_a_token_answer_401_with_a_bare_challenge() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    for route in ["/api/private", "/api/private-scoped"] {
        let answer = answer(app.get(route).await).await;
        assert_eq!(answer, unauthorized(), "{route}");
    }
}

#[tokio::test]
async fn the_scoped_route_admits_a_token_with_read_messages() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let token = issuer.token_with(json!({"scope": "openid read:messages write:messages"}));

    let response = app.get_with_token("/api/private-scoped", &token).await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"message": "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."})
    );
}

#[tokio::test]
async fn the_scoped_route_refuses_a_token_without_the_scope_with_403() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    for scope in ["write:messages", "read:message", "read:messages:all", ""] {
        let token = issuer.token_with(json!({ "scope": scope }));
        let answer = answer(app.get_with_token("/api/private-scoped", &token).await).await;
        assert_eq!(
            answer,
            forbidden("Insufficient Scope", "read:messages"),
            "scope {scope:?}"
        );
    }
}

#[tokio::test]
async fn a_token_without_a_scope_claim_is_told_the_claim_is_missing() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    let token = issuer.token_with(json!({"scope": null}));

    let answer = answer(app.get_with_token("/api/private-scoped", &token).await).await;

    assert_eq!(answer, forbidden("Missing 'scope' claim", "read:messages"));
    // The same token is fine where no scope is needed.
    assert_eq!(app.status_of("/api/private", &token).await, 200);
}

#[tokio::test]
async fn cors_allows_the_spa_origin_on_successes_and_errors() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    for route in ["/api/public", "/api/private"] {
        let response = app
            .request(reqwest::Method::GET, route)
            .header("origin", "http://localhost:3000")
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "http://localhost:3000",
            "{route}"
        );
    }
}

#[tokio::test]
async fn a_cors_preflight_for_the_authorization_header_is_allowed() {
    let issuer = TestIssuer::bare().await;
    let app = spawn_app(options(&issuer)).await;

    let response = app
        .request(reqwest::Method::OPTIONS, "/api/private")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .expect("ascii")
            .contains("GET")
    );
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .expect("ascii")
            .contains("authorization")
    );
    issuer.assert_never_called().await;
}

#[tokio::test]
async fn unknown_routes_answer_a_json_404() {
    let issuer = TestIssuer::bare().await;
    let app = spawn_app(options(&issuer)).await;

    let answer = answer(app.get("/api/nope").await).await;

    assert_eq!(
        answer,
        Answer {
            status: 404,
            challenge: None,
            message: "Not Found".into()
        }
    );
}
