//! Fault injection on discovery, JWKS and the token endpoint, by library call and over the admin
//! surface; request counting; reset.

use std::time::{Duration, Instant};

use mock_issuer::{Endpoint, Fault};
use serde_json::json;

use crate::helpers::{read, spawn};

#[tokio::test]
async fn a_status_fault_answers_that_status_with_a_json_error() {
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::Jwks, Fault::Status(503))
        .expect("fault");

    let (status, body) = t.get(".well-known/jwks.json").await;

    assert_eq!(status, 503);
    assert_eq!(body["error"], "server_error");
}

#[tokio::test]
async fn a_malformed_body_fault_answers_200_with_invalid_json() {
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::OpenidConfiguration, Fault::MalformedBody)
        .expect("fault");

    let (status, body) = t.get(".well-known/openid-configuration").await;

    assert_eq!(status, 200);
    assert!(body.is_string(), "not JSON: {body}");
}

#[tokio::test]
async fn an_empty_key_set_fault_publishes_no_key() {
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::Jwks, Fault::EmptyKeySet)
        .expect("fault");

    let (status, body) = t.get(".well-known/jwks.json").await;

    assert_eq!(status, 200);
    assert_eq!(body, json!({ "keys": [] }));
}

#[tokio::test]
async fn an_empty_key_set_fault_is_refused_outside_the_jwks() {
    let t = spawn().await;

    let result = t
        .issuer
        .set_fault(Endpoint::OpenidConfiguration, Fault::EmptyKeySet);

    assert!(matches!(
        result,
        Err(mock_issuer::Error::UnsupportedFault { .. })
    ));
}

#[tokio::test]
async fn a_latency_fault_delays_the_answer_and_combines_with_a_status() {
    // Arrange
    let t = spawn().await;
    t.issuer
        .set_fault(
            Endpoint::OauthAuthorizationServer,
            Fault::Latency(Duration::from_millis(300)),
        )
        .expect("fault");
    t.issuer
        .set_fault(Endpoint::OauthAuthorizationServer, Fault::Status(500))
        .expect("fault");

    // Act
    let started = Instant::now();
    let (status, _) = t.get(".well-known/oauth-authorization-server").await;

    // Assert
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(status, 500);
}

#[tokio::test]
async fn a_fault_on_one_endpoint_leaves_the_others_alone_and_clearing_restores_it() {
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::Jwks, Fault::Status(500))
        .expect("fault");

    let (discovery, _) = t.get(".well-known/openid-configuration").await;
    t.issuer.clear_faults();
    let (jwks, _) = t.get(".well-known/jwks.json").await;

    assert_eq!(discovery, 200);
    assert_eq!(jwks, 200);
}

#[tokio::test]
async fn a_429_on_the_token_endpoint_looks_like_auth0s_rate_limit() {
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::Token, Fault::Status(429))
        .expect("fault");

    let (status, body) = t
        .token_json(&json!({ "grant_type": "client_credentials" }))
        .await;

    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test]
async fn requests_are_counted_per_endpoint_faulted_ones_included() {
    // Arrange
    let t = spawn().await;
    t.issuer
        .set_fault(Endpoint::Jwks, Fault::Status(500))
        .expect("fault");

    // Act
    t.get(".well-known/jwks.json").await;
    t.get(".well-known/jwks.json").await;
    t.get(".well-known/openid-configuration").await;

    // Assert
    assert_eq!(t.issuer.request_count(Endpoint::Jwks), 2);
    assert_eq!(t.issuer.request_count(Endpoint::OpenidConfiguration), 1);
    assert_eq!(
        t.issuer.request_count(Endpoint::OauthAuthorizationServer),
        0
    );
    assert_eq!(t.issuer.request_count(Endpoint::Token), 0);
}

#[tokio::test]
async fn the_admin_surface_sets_lists_counts_and_resets_faults() {
    // Arrange
    let t = spawn().await;
    let admin = |path: &str| format!("{}_mock/{path}", t.issuer.url());

    // Act
    let set = read(
        t.http
            .put(admin("faults/jwks"))
            .json(&json!({ "type": "status", "code": 502 }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let (faulted, _) = t.get(".well-known/jwks.json").await;
    let (_, listed) = t.get("_mock/faults").await;
    let (_, counted) = t.get("_mock/requests").await;
    let reset = t
        .http
        .post(admin("reset"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16();
    let (restored, _) = t.get(".well-known/jwks.json").await;
    let (_, recounted) = t.get("_mock/requests").await;

    // Assert
    assert_eq!(set.0, 200, "{}", set.1);
    assert_eq!(faulted, 502);
    assert_eq!(listed["jwks"], json!([{ "type": "status", "code": 502 }]));
    assert_eq!(listed["openid_configuration"], json!([]));
    assert_eq!(counted["jwks"], 1);
    assert_eq!(reset, 204);
    assert_eq!(restored, 200);
    assert_eq!(recounted["jwks"], 1, "counts restart from zero at reset");
}

#[tokio::test]
async fn the_admin_surface_refuses_unknown_endpoints_and_faults() {
    let t = spawn().await;
    let put = |path: &str, body: serde_json::Value| {
        t.http
            .put(format!("{}_mock/{path}", t.issuer.url()))
            .json(&body)
            .send()
    };

    let endpoint = put("faults/nowhere", json!({ "type": "malformed_body" }))
        .await
        .expect("sent");
    let fault = put("faults/jwks", json!({ "type": "explode" }))
        .await
        .expect("sent");
    let misplaced = put("faults/token", json!({ "type": "empty_key_set" }))
        .await
        .expect("sent");

    assert_eq!(endpoint.status().as_u16(), 400);
    assert_eq!(fault.status().as_u16(), 400);
    assert_eq!(misplaced.status().as_u16(), 400);
}
