//! `IssuerClient` over real HTTP against a started issuer: every method, refusals surfacing
//! Auth0's error code, faults round-tripping, counts moving.

use std::time::Duration;

use mock_issuer::config::defaults;
use mock_issuer::{ClientCredentials, ClientError, Endpoint, Fault, FaultTable, IssuerClient};

use crate::helpers::{decode, reader_credentials, spawn, spawn_faulted};

#[tokio::test]
async fn client_credentials_gets_the_readers_token() {
    let t = spawn().await;

    let token = t
        .client()
        .client_credentials(&reader_credentials())
        .await
        .expect("a token");

    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, 86_400);
    assert_eq!(token.scopes().collect::<Vec<_>>(), ["read:messages"]);
    let (header, claims) = decode(token.access_token.expose());
    assert_eq!(header["kid"], t.issuer.current_kid());
    assert_eq!(claims["azp"], "reader");
}

#[tokio::test]
async fn client_credentials_for_a_client_granted_no_scope_has_no_scope() {
    let t = spawn().await;
    let request = ClientCredentials::new(
        defaults::NO_SCOPES_CLIENT_ID,
        defaults::NO_SCOPES_CLIENT_SECRET,
        defaults::API_AUDIENCE,
    );

    let token = t
        .client()
        .client_credentials(&request)
        .await
        .expect("a token");

    assert_eq!(token.scope, None);
    assert_eq!(decode(token.access_token.expose()).1["azp"], "no-scopes");
}

/// The error a fresh issuer answers `request` with.
async fn refusal(request: &ClientCredentials) -> ClientError {
    let t = spawn().await;
    t.client()
        .client_credentials(request)
        .await
        .expect_err("the request is refused")
}

#[tokio::test]
async fn a_refused_token_request_surfaces_auth0s_error_code() {
    let request = ClientCredentials {
        client_secret: "wrong".into(),
        ..reader_credentials()
    };

    let error = refusal(&request).await;

    assert_eq!(error.oauth_error(), Some("access_denied"));
    assert_eq!(error.status(), Some(401));
    assert!(
        matches!(&error, ClientError::Refused { description, .. } if description == "Unauthorized"),
        "{error:?}"
    );
}

#[tokio::test]
async fn asking_for_a_scope_not_granted_is_refused_naming_it() {
    let t = spawn().await;

    let refused = t
        .client()
        .client_credentials(&reader_credentials().scope("write:messages"))
        .await;

    let error = refused.expect_err("write:messages is not granted");
    assert_eq!(error.oauth_error(), Some("access_denied"));
    assert!(error.to_string().contains("write:messages"), "{error}");
}

#[tokio::test]
async fn an_error_message_escapes_the_line_breaks_the_issuer_sent() {
    let mut request = reader_credentials();
    request.audience.push_str("\r\nFORGED\u{2028}line");

    let error = refusal(&request).await;

    assert!(
        matches!(&error, ClientError::Refused { description, .. } if description.contains("\r\nFORGED")),
        "the field holds the text as sent: {error:?}"
    );
    let message = error.to_string();
    assert!(!message.contains(['\r', '\n', '\u{2028}']), "{message:?}");
    assert!(
        message.ends_with(r"api\u{d}\u{a}FORGED\u{2028}line"),
        "{message:?}"
    );
}

#[tokio::test]
async fn a_status_fault_on_the_token_endpoint_is_refused_with_its_error_code() {
    let t = spawn_faulted(Endpoint::Token, Fault::Status(429)).await;

    let refused = t.client().client_credentials(&reader_credentials()).await;

    let error = refused.expect_err("the fault answers 429");
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.oauth_error(), Some("too_many_requests"));
}

#[tokio::test]
async fn a_malformed_token_answer_is_a_decode_error() {
    let t = spawn_faulted(Endpoint::Token, Fault::MalformedBody).await;

    let result = t.client().client_credentials(&reader_credentials()).await;

    assert!(
        matches!(result, Err(ClientError::Decode { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn keys_rotate_and_revoke_previous_report_the_kids_by_role() {
    // Arrange
    let t = spawn().await;
    let client = t.client();

    // Act
    let before = client.keys().await.expect("keys");
    let rotated = client.rotate().await.expect("rotate");
    let listed = client.keys().await.expect("keys");
    let revoked = client.revoke_previous().await.expect("revoke");

    // Assert
    assert_ne!(before.current, before.next);
    assert_eq!(before.previous, None);
    assert_eq!(rotated.current, before.next);
    assert_eq!(rotated.previous.as_deref(), Some(before.current.as_str()));
    assert_ne!(rotated.next, before.next);
    assert_eq!(listed, rotated);
    assert_eq!(revoked.current, rotated.current);
    assert_eq!(revoked.next, rotated.next);
    assert_eq!(revoked.previous, None);
    assert_eq!(t.issuer.current_kid(), rotated.current);
    assert_eq!(t.issuer.key_summary(), revoked);
}

#[tokio::test]
async fn set_fault_round_trips_and_faults_lists_every_endpoint() {
    // Arrange
    let t = spawn().await;
    let client = t.client();
    let slow = Fault::Latency(Duration::from_millis(1500));

    // Act
    let set_status = client
        .set_fault(Endpoint::Jwks, Fault::Status(503))
        .await
        .expect("set");
    let set_latency = client.set_fault(Endpoint::Token, slow).await.expect("set");
    let listed = client.faults().await.expect("faults");
    client.clear_faults().await.expect("clear");
    let cleared = client.faults().await.expect("faults");

    // Assert
    assert_eq!(set_status, Fault::Status(503));
    assert_eq!(set_latency, slow);
    assert_eq!(
        listed,
        FaultTable {
            jwks: vec![Fault::Status(503)],
            token: vec![slow],
            ..FaultTable::default()
        }
    );
    assert_eq!(cleared, FaultTable::default());
}

#[tokio::test]
async fn a_fault_that_does_not_apply_is_a_400_with_the_admin_message() {
    let t = spawn().await;

    let refused = t
        .client()
        .set_fault(Endpoint::Token, Fault::EmptyKeySet)
        .await;

    let error = refused.expect_err("empty_key_set is for the JWKS only");
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.oauth_error(), None);
    assert!(
        matches!(&error, ClientError::Status { message, .. } if message.contains("does not apply")),
        "{error:?}"
    );
}

#[tokio::test]
async fn request_counts_move_and_reset_clears_counts_and_faults() {
    // Arrange
    let t = spawn().await;
    let client = t.client();
    client
        .set_fault(Endpoint::Jwks, Fault::Status(500))
        .await
        .expect("set");

    // Act
    t.get(".well-known/jwks.json").await;
    t.get(".well-known/jwks.json").await;
    client
        .client_credentials(&reader_credentials())
        .await
        .expect("a token");
    let counted = client.requests().await.expect("requests");
    client.reset().await.expect("reset");
    let recounted = client.requests().await.expect("requests");
    let faults = client.faults().await.expect("faults");

    // Assert
    assert_eq!(counted.count(Endpoint::Jwks), 2);
    assert_eq!(counted.count(Endpoint::Token), 1);
    assert_eq!(counted.count(Endpoint::OpenidConfiguration), 0);
    assert_eq!(counted.count(Endpoint::OauthAuthorizationServer), 0);
    assert_eq!(recounted, mock_issuer::RequestCounts::default());
    assert_eq!(faults, FaultTable::default());
}

#[tokio::test]
async fn health_is_ok_while_serving_and_a_transport_error_once_stopped() {
    // Arrange
    let t = spawn().await;
    let client = t.client();

    // Act
    let serving = client.health().await;
    t.issuer.shutdown().await.expect("clean shutdown");
    let stopped = client.health().await;

    // Assert
    assert!(serving.is_ok(), "{serving:?}");
    assert!(
        matches!(stopped, Err(ClientError::Transport(_))),
        "{stopped:?}"
    );
}

#[tokio::test]
async fn the_base_url_gets_its_trailing_slash_and_must_be_http() {
    let t = spawn().await;
    let without_slash = t.issuer.url().trim_end_matches('/');

    let client = IssuerClient::new(without_slash).expect("an http URL");
    let keys = client.keys().await;
    let ftp = IssuerClient::new("ftp://example.com/");
    let garbage = IssuerClient::new("not a url");

    assert_eq!(client.base().as_str(), t.issuer.url());
    assert!(keys.is_ok(), "{keys:?}");
    assert!(matches!(ftp, Err(ClientError::InvalidBase { .. })));
    assert!(matches!(garbage, Err(ClientError::InvalidBase { .. })));
}

#[tokio::test]
async fn a_base_with_a_path_keeps_it() {
    let client = IssuerClient::new("https://tenant.example/prefix").expect("an https URL");

    assert_eq!(client.base().as_str(), "https://tenant.example/prefix/");
}
