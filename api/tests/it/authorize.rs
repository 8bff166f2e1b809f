//! Scope, permission and claim requirements, optional authentication, and the extractor's
//! fail-closed default, on a router of the tests' own.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use serde_json::json;

use api::auth::{self, Claims, Requirement};

use crate::helpers::*;

/// A test issuer, and `/guarded` guarded by `requirement` behind `require_auth` against it.
async fn guarded(requirement: Requirement) -> (TestIssuer, TestApp) {
    let issuer = TestIssuer::start().await;
    let authenticator = authenticator(&issuer);
    let router = Router::new()
        .route("/guarded", get(|| async { "ok" }))
        .route_layer(from_fn_with_state(requirement, auth::authorize))
        .route_layer(from_fn_with_state(authenticator, auth::require_auth));
    (issuer, spawn_router(router).await)
}

/// The answer of the guarded route to a refused `token`.
async fn refusal(app: &TestApp, token: &str) -> Answer {
    answer(app.get_with_token("/guarded", token).await).await
}

#[tokio::test]
async fn all_scopes_must_be_granted_for_a_scopes_requirement() {
    let (issuer, app) = guarded(Requirement::scopes(["read:messages", "write:messages"])).await;

    let both = issuer.token_with(json!({"scope": "write:messages read:messages"}));
    assert_eq!(app.status_of("/guarded", &both).await, 200);
    let as_array = issuer.token_with(json!({"scope": ["read:messages", "write:messages"]}));
    assert_eq!(app.status_of("/guarded", &as_array).await, 200);
    assert_eq!(
        refusal(&app, &issuer.token()).await,
        forbidden("Insufficient Scope", "read:messages write:messages")
    );
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"scope": null}))).await,
        forbidden("Missing 'scope' claim", "read:messages write:messages")
    );
}

#[tokio::test]
async fn any_scope_is_enough_for_an_any_scope_requirement() {
    let (issuer, app) = guarded(Requirement::any_scope(["admin", "read:messages"])).await;

    assert_eq!(app.status_of("/guarded", &issuer.token()).await, 200);
    let admin = issuer.token_with(json!({"scope": "admin"}));
    assert_eq!(app.status_of("/guarded", &admin).await, 200);
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"scope": "other"}))).await,
        forbidden("Insufficient Scope", "admin read:messages")
    );
}

/// The two permissions the permission requirements below name, as a 403 lists them.
const BOTH_PERMISSIONS: [&str; 2] = ["read:messages", "write:messages"];
const REQUIRED_PERMISSIONS: &str = "read:messages write:messages";

/// A token from `issuer` carrying `permissions` and no scope.
fn with_permissions(issuer: &TestIssuer, permissions: serde_json::Value) -> String {
    issuer.token_with(json!({"scope": null, "permissions": permissions}))
}

#[tokio::test]
async fn every_permission_must_be_granted_for_a_permissions_requirement() {
    let (issuer, app) = guarded(Requirement::permissions(BOTH_PERMISSIONS)).await;

    let both = with_permissions(&issuer, json!(["write:messages", "read:messages"]));
    assert_eq!(app.status_of("/guarded", &both).await, 200);
    for permissions in [json!(["read:messages"]), json!(["other"]), json!([])] {
        assert_eq!(
            refusal(&app, &with_permissions(&issuer, permissions.clone())).await,
            forbidden("Insufficient Permissions", REQUIRED_PERMISSIONS),
            "{permissions}"
        );
    }
    // The scope claim does not stand in for permissions.
    let scoped = issuer.token_with(json!({"scope": REQUIRED_PERMISSIONS}));
    assert_eq!(
        refusal(&app, &scoped).await,
        forbidden("Missing 'permissions' claim", REQUIRED_PERMISSIONS)
    );
}

#[tokio::test]
async fn any_one_permission_is_enough_for_an_any_permission_requirement() {
    let (issuer, app) = guarded(Requirement::any_permission(BOTH_PERMISSIONS)).await;

    for permissions in [
        json!(["read:messages"]),
        json!(["write:messages"]),
        json!(["other", "write:messages"]),
        json!(BOTH_PERMISSIONS),
    ] {
        let token = with_permissions(&issuer, permissions.clone());
        assert_eq!(
            app.status_of("/guarded", &token).await,
            200,
            "{permissions}"
        );
    }
    for permissions in [json!(["other"]), json!(["read:message", "messages"])] {
        assert_eq!(
            refusal(&app, &with_permissions(&issuer, permissions.clone())).await,
            forbidden("Insufficient Permissions", REQUIRED_PERMISSIONS),
            "{permissions}"
        );
    }
}

#[tokio::test]
async fn an_empty_or_missing_permissions_claim_meets_no_any_permission_requirement() {
    let (issuer, app) = guarded(Requirement::any_permission(BOTH_PERMISSIONS)).await;

    assert_eq!(
        refusal(&app, &with_permissions(&issuer, json!([]))).await,
        forbidden("Insufficient Permissions", REQUIRED_PERMISSIONS)
    );
    // Without the claim, granted scopes of the same names do not stand in for it.
    let scoped = issuer.token_with(json!({"scope": REQUIRED_PERMISSIONS}));
    assert_eq!(
        refusal(&app, &scoped).await,
        forbidden("Missing 'permissions' claim", REQUIRED_PERMISSIONS)
    );
    // A claim that is not an array of strings is the token's fault, found before any check.
    assert_eq!(
        refusal(&app, &with_permissions(&issuer, json!("read:messages"))).await,
        refused("'permissions' claim must be an array of strings")
    );
}

#[tokio::test]
async fn claim_equals_answers_401_invalid_token() {
    let (issuer, app) = guarded(Requirement::claim_equals("gty", "client-credentials")).await;

    assert_eq!(app.status_of("/guarded", &issuer.token()).await, 200);
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"gty": "password"}))).await,
        bearer_alone(refused("Unexpected 'gty' value"))
    );
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"gty": null}))).await,
        bearer_alone(refused("Missing 'gty' claim"))
    );
}

#[tokio::test]
async fn claim_check_answers_401_with_the_developers_description() {
    let machines_only = Requirement::claim_check(
        |claims: &Claims| claims.subject().is_some_and(|s| s.ends_with("@clients")),
        "Machine tokens only",
    );
    let (issuer, app) = guarded(machines_only).await;

    assert_eq!(app.status_of("/guarded", &issuer.token()).await, 200);
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"sub": "auth0|user"}))).await,
        bearer_alone(refused("Machine tokens only"))
    );
}

#[tokio::test]
async fn claim_includes_accepts_a_string_or_an_array_holding_every_value() {
    let (issuer, app) = guarded(Requirement::claim_includes("roles", ["editor", "viewer"])).await;

    for roles in [json!(["viewer", "editor", "x"]), json!("editor viewer")] {
        let token = issuer.token_with(json!({ "roles": roles }));
        assert_eq!(app.status_of("/guarded", &token).await, 200, "{roles}");
    }
    assert_eq!(
        refusal(&app, &issuer.token_with(json!({"roles": ["viewer"]}))).await,
        bearer_alone(refused("Unexpected 'roles' value"))
    );
    assert_eq!(
        refusal(&app, &issuer.token()).await,
        bearer_alone(refused("Missing 'roles' claim"))
    );
}

#[tokio::test]
async fn optional_authentication_admits_anonymous_requests_but_not_bad_tokens() {
    let issuer = TestIssuer::start().await;
    let authenticator = authenticator(&issuer);
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
    assert_eq!(
        answer(app.get_with_token("/maybe", &expired).await).await,
        refused("\"exp\" claim timestamp check failed")
    );
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

    for route in ["/forgot-the-layer", "/authorize-without-authentication"] {
        let answer = answer(app.get_with_token(route, &issuer.token()).await).await;
        assert_eq!(answer, bearer_alone(unauthorized()), "{route}");
    }
}
