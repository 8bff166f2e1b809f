//! Fault injection on discovery, JWKS and the token endpoint, by library call and over the admin
//! surface; request counting; reset.

use std::time::{Duration, Instant};

use mock_issuer::{AdminError, Endpoint, Fault, FaultTable, RequestCounts};
use serde_json::json;

use crate::helpers::{read, spawn, spawn_faulted};

#[tokio::test]
async fn a_status_fault_answers_that_status_with_a_json_error() {
    let t = spawn_faulted(Endpoint::Jwks, Fault::Status(503)).await;

    let (status, body) = t.get(".well-known/jwks.json").await;

    assert_eq!(status, 503);
    assert_eq!(body["error"], "server_error");
}

#[tokio::test]
async fn a_malformed_body_fault_answers_200_with_invalid_json() {
    let t = spawn_faulted(Endpoint::OpenidConfiguration, Fault::MalformedBody).await;

    let (status, body) = t.get(".well-known/openid-configuration").await;

    assert_eq!(status, 200);
    assert!(body.is_string(), "not JSON: {body}");
}

#[tokio::test]
async fn an_empty_key_set_fault_publishes_no_key() {
    let t = spawn_faulted(Endpoint::Jwks, Fault::EmptyKeySet).await;

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
    let t = spawn_faulted(Endpoint::Jwks, Fault::Status(500)).await;

    let (discovery, _) = t.get(".well-known/openid-configuration").await;
    t.issuer.clear_faults();
    let (jwks, _) = t.get(".well-known/jwks.json").await;

    assert_eq!(discovery, 200);
    assert_eq!(jwks, 200);
}

#[tokio::test]
async fn a_429_on_the_token_endpoint_looks_like_auth0s_rate_limit() {
    let t = spawn_faulted(Endpoint::Token, Fault::Status(429)).await;

    let (status, body) = t
        .token_json(&json!({ "grant_type": "client_credentials" }))
        .await;

    assert_eq!(status, 429);
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test]
async fn requests_are_counted_per_endpoint_faulted_ones_included() {
    // Arrange
    let t = spawn_faulted(Endpoint::Jwks, Fault::Status(500)).await;

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
    let set = t
        .http
        .put(admin("faults/jwks"))
        .json(&json!({ "type": "status", "code": 502 }))
        .send()
        .await
        .expect("sent");
    let set = (set.status().as_u16(), set.text().await.expect("body"));
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
    assert_eq!(set, (200, r#"{"type":"status","code":502}"#.to_owned()));
    assert_eq!(faulted, 502);
    let listed: FaultTable = serde_json::from_value(listed).expect("a fault table");
    assert_eq!(
        listed,
        FaultTable {
            jwks: vec![Fault::Status(502)],
            ..FaultTable::default()
        }
    );
    let counted: RequestCounts = serde_json::from_value(counted).expect("request counts");
    assert_eq!(counted.count(Endpoint::Jwks), 1);
    assert_eq!(reset, 204);
    assert_eq!(restored, 200);
    let recounted: RequestCounts = serde_json::from_value(recounted).expect("request counts");
    assert_eq!(
        recounted,
        RequestCounts {
            jwks: 1,
            ..RequestCounts::default()
        },
        "counts restart from zero at reset"
    );
}

#[tokio::test]
async fn the_admin_surface_lists_every_endpoint_in_alphabetical_order() {
    let t = spawn().await;
    let t = &t;
    let text = |path: &'static str| async move {
        t.http
            .get(format!("{}_mock/{path}", t.issuer.url()))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("body")
    };

    let faults = text("faults").await;
    let requests = text("requests").await;

    assert_eq!(
        faults,
        r#"{"jwks":[],"oauth_authorization_server":[],"openid_configuration":[],"token":[]}"#
    );
    assert_eq!(
        requests,
        r#"{"jwks":0,"oauth_authorization_server":0,"openid_configuration":0,"token":0}"#
    );
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

    let endpoint = read(endpoint).await;
    let fault = read(fault).await;
    let misplaced = read(misplaced).await;
    assert_eq!(endpoint.0, 400);
    assert_eq!(
        endpoint.1,
        json!({ "error": "unknown endpoint `nowhere`" }),
        "an AdminError"
    );
    assert_eq!(fault.0, 400);
    assert!(fault.1["error"].is_string(), "{}", fault.1);
    assert_eq!(misplaced.0, 400);
    let misplaced: AdminError = serde_json::from_value(misplaced.1).expect("an AdminError");
    assert!(
        misplaced.error.contains("does not apply"),
        "{}",
        misplaced.error
    );
}
