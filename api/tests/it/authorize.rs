//! Scope, permission and claim requirements, optional authentication, and the extractor's
//! fail-closed default, on a router of the tests' own.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use serde_json::json;

use api::auth::{self, Authenticator, Claims, Requirement};

use crate::helpers::*;

/// A route guarded by `requirement` behind `require_auth`.
async fn guarded(issuer: &TestIssuer, requirement: Requirement) -> TestApp {
    let authenticator = Authenticator::new(options(issuer)).expect("options");
    let router = Router::new()
        .route("/guarded", get(|| async { "ok" }))
        .route_layer(from_fn_with_state(requirement, auth::authorize))
        .route_layer(from_fn_with_state(authenticator, auth::require_auth));
    spawn_router(router).await
}

async fn status_for(app: &TestApp, token: &str) -> (u16, Option<String>) {
    let answer = app.get_with_token("/guarded", token).await;
    let status = answer.status().as_u16();
    let challenge = answer
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (status, challenge)
}

#[tokio::test]
async fn all_scopes_must_be_granted_for_a_scopes_requirement() {
    let issuer = TestIssuer::start().await;
    let app = guarded(
        &issuer,
        Requirement::scopes(["read:messages", "write:messages"]),
    )
    .await;

    let both = issuer.token_with(json!({"scope": "write:messages read:messages"}));
    assert_eq!(status_for(&app, &both).await.0, 200);
    let (status, challenge) = status_for(&app, &issuer.token()).await;
    assert_eq!(status, 403);
    assert!(
        challenge
            .expect("challenge")
            .ends_with("scope=\"read:messages write:messages\"")
    );
    let as_array = issuer.token_with(json!({"scope": ["read:messages", "write:messages"]}));
    assert_eq!(status_for(&app, &as_array).await.0, 200);
}

#[tokio::test]
async fn any_scope_is_enough_for_an_any_scope_requirement() {
    let issuer = TestIssuer::start().await;
    let app = guarded(&issuer, Requirement::any_scope(["admin", "read:messages"])).await;

    assert_eq!(status_for(&app, &issuer.token()).await.0, 200);
    assert_eq!(
        status_for(&app, &issuer.token_with(json!({"scope": "other"})))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn rbac_permissions_are_checked_with_a_403() {
    let issuer = TestIssuer::start().await;
    let app = guarded(&issuer, Requirement::permissions(["read:messages"])).await;

    let permitted = issuer.token_with(json!({"scope": null, "permissions": ["read:messages"]}));
    assert_eq!(status_for(&app, &permitted).await.0, 200);
    let (status, challenge) =
        status_for(&app, &issuer.token_with(json!({"permissions": ["other"]}))).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"Insufficient Permissions\", scope=\"read:messages\""
        )
    );
    // The scope claim does not stand in for permissions.
    let (status, challenge) = status_for(&app, &issuer.token()).await;
    assert_eq!(status, 403);
    assert!(
        challenge
            .expect("challenge")
            .contains("Missing 'permissions' claim")
    );
}

#[tokio::test]
async fn claim_requirements_answer_401_invalid_token() {
    let issuer = TestIssuer::start().await;
    let equals = guarded(
        &issuer,
        Requirement::claim_equals("gty", "client-credentials"),
    )
    .await;
    let includes = guarded(
        &issuer,
        Requirement::claim_includes("roles", ["editor", "viewer"]),
    )
    .await;
    let check = guarded(
        &issuer,
        Requirement::claim_check(
            |claims: &Claims| claims.subject().is_some_and(|s| s.ends_with("@clients")),
            "Machine tokens only",
        ),
    )
    .await;

    assert_eq!(status_for(&equals, &issuer.token()).await.0, 200);
    assert_eq!(
        status_for(&equals, &issuer.token_with(json!({"gty": "password"}))).await,
        (401, invalid_token("Unexpected 'gty' value"))
    );
    assert_eq!(
        status_for(&equals, &issuer.token_with(json!({"gty": null}))).await,
        (401, invalid_token("Missing 'gty' claim"))
    );
    assert_eq!(
        status_for(
            &includes,
            &issuer.token_with(json!({"roles": ["viewer", "editor", "x"]}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        status_for(
            &includes,
            &issuer.token_with(json!({"roles": "editor viewer"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        status_for(&includes, &issuer.token_with(json!({"roles": ["viewer"]}))).await,
        (401, invalid_token("Unexpected 'roles' value"))
    );
    assert_eq!(status_for(&check, &issuer.token()).await.0, 200);
    assert_eq!(
        status_for(&check, &issuer.token_with(json!({"sub": "auth0|user"}))).await,
        (401, invalid_token("Machine tokens only"))
    );
}

#[tokio::test]
async fn optional_authentication_admits_anonymous_requests_but_not_bad_tokens() {
    let issuer = TestIssuer::start().await;
    let authenticator = Authenticator::new(options(&issuer)).expect("options");
    let router = Router::new()
        .route(
            "/maybe",
            get(|claims: Option<Claims>| async move {
                claims
                    .and_then(|c| c.subject().map(str::to_owned))
                    .unwrap_or_else(|| "anonymous".into())
            }),
        )
        .route_layer(from_fn_with_state(authenticator, auth::optional_auth));
    let app = spawn_router(router).await;

    assert_eq!(
        app.get("/maybe").await.text().await.expect("text"),
        "anonymous"
    );
    assert_eq!(
        app.get_with_token("/maybe", &issuer.token())
            .await
            .text()
            .await
            .expect("text"),
        "reader@clients"
    );
    let expired = issuer.token_with(json!({"exp": now() - 3600}));
    assert_eq!(app.status_of("/maybe", &expired).await, 401);
}

#[tokio::test]
async fn the_claims_extractor_fails_closed_without_the_middleware() {
    let issuer = TestIssuer::start().await;
    let router = Router::new()
        .route("/forgot-the-layer", get(|_claims: Claims| async { "leak" }))
        .route(
            "/authorize-without-authentication",
            get(|| async { "leak" }),
        )
        .route_layer(from_fn_with_state(
            Requirement::scopes(["read:messages"]),
            auth::authorize,
        ));
    let app = spawn_router(router).await;

    assert_eq!(
        app.status_of("/forgot-the-layer", &issuer.token()).await,
        401
    );
    assert_eq!(
        app.status_of("/authorize-without-authentication", &issuer.token())
            .await,
        401
    );
}
