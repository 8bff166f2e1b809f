//! `POST /oauth/token`: Auth0's success shape, each way to send credentials, every error row.

use serde_json::{Value, json};

use crate::helpers::{TestIssuer, decode, keys_of, read, spawn};

const AUDIENCE: &str = "https://quickstarts/api";

fn reader_body() -> Value {
    json!({
        "grant_type": "client_credentials",
        "client_id": "reader",
        "client_secret": "reader-secret",
        "audience": AUDIENCE,
    })
}

fn with(mut body: Value, name: &str, value: Value) -> Value {
    body[name] = value;
    body
}

fn without(mut body: Value, name: &str) -> Value {
    body.as_object_mut().expect("object").remove(name);
    body
}

fn assert_error(answer: &(u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(keys_of(&answer.1), ["error", "error_description"]);
    assert_eq!(answer.1["error"], error);
    assert_eq!(answer.1["error_description"], description);
}

#[tokio::test]
async fn a_json_request_gets_auth0s_success_shape() {
    // Arrange
    let t = spawn().await;

    // Act
    let response = t
        .http
        .post(t.issuer.token_url())
        .json(&reader_body())
        .send()
        .await
        .expect("sent");
    let cache_control = response.headers().get("cache-control").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys_of(&body),
        ["access_token", "expires_in", "scope", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], "read:messages");
    assert_eq!(
        cache_control.as_ref().and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let (header, claims) = decode(body["access_token"].as_str().expect("token"));
    assert_eq!(header["kid"], t.issuer.current_kid());
    assert_eq!(claims["scope"], "read:messages");
}

#[tokio::test]
async fn a_form_request_with_the_secret_in_the_body_succeeds() {
    let t = spawn().await;

    let (status, body) = t
        .token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "reader"),
            ("client_secret", "reader-secret"),
            ("audience", AUDIENCE),
        ])
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn http_basic_credentials_are_accepted_with_a_form_or_json_body() {
    // Arrange
    let t = spawn().await;
    let form = t
        .http
        .post(t.issuer.token_url())
        .basic_auth("reader", Some("reader-secret"))
        .form(&[("grant_type", "client_credentials"), ("audience", AUDIENCE)]);
    let json = t
        .http
        .post(t.issuer.token_url())
        .basic_auth("reader", Some("reader-secret"))
        .json(&json!({ "grant_type": "client_credentials", "audience": AUDIENCE }));

    // Act
    let form = read(form.send().await.expect("sent")).await;
    let json = read(json.send().await.expect("sent")).await;

    // Assert
    assert_eq!(form.0, 200, "{}", form.1);
    assert_eq!(json.0, 200, "{}", json.1);
}

#[tokio::test]
async fn a_client_granted_no_scope_gets_a_token_without_scope() {
    let t = spawn().await;

    let (status, body) = t
        .token_json(&json!({
            "grant_type": "client_credentials",
            "client_id": "no-scopes",
            "client_secret": "no-scopes-secret",
            "audience": AUDIENCE,
        }))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(keys_of(&body), ["access_token", "expires_in", "token_type"]);
    let (_, claims) = decode(body["access_token"].as_str().expect("token"));
    assert!(claims.get("scope").is_none(), "{claims}");
}

#[tokio::test]
async fn requesting_a_granted_scope_returns_exactly_it() {
    let t = spawn().await;

    let (status, body) = t
        .token_json(&with(reader_body(), "scope", json!("read:messages")))
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:messages");
}

#[tokio::test]
async fn an_unknown_client_is_401_access_denied() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(reader_body(), "client_id", json!("nobody")))
        .await;

    assert_error(&answer, 401, "access_denied", "Unauthorized");
}

#[tokio::test]
async fn a_wrong_secret_is_401_access_denied_in_the_body_or_in_basic() {
    // Arrange
    let t = spawn().await;
    let basic = t
        .http
        .post(t.issuer.token_url())
        .basic_auth("reader", Some("wrong"))
        .json(&json!({ "grant_type": "client_credentials", "audience": AUDIENCE }));

    // Act
    let in_body = t
        .token_json(&with(reader_body(), "client_secret", json!("wrong")))
        .await;
    let in_basic = read(basic.send().await.expect("sent")).await;
    let missing = t.token_json(&without(reader_body(), "client_secret")).await;

    // Assert
    assert_error(&in_body, 401, "access_denied", "Unauthorized");
    assert_error(&in_basic, 401, "access_denied", "Unauthorized");
    assert_error(&missing, 401, "access_denied", "Unauthorized");
}

#[tokio::test]
async fn an_unknown_audience_is_403_service_not_found() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(reader_body(), "audience", json!("https://other/api")))
        .await;

    assert_error(
        &answer,
        403,
        "access_denied",
        "Service not found: https://other/api",
    );
}

#[tokio::test]
async fn an_api_the_client_has_no_grant_for_is_403_access_denied() {
    // Arrange: a second API nobody is granted.
    let config = mock_issuer::IssuerConfig {
        apis: vec![
            mock_issuer::ApiConfig::default(),
            mock_issuer::ApiConfig {
                identifier: "https://billing/api".to_owned(),
                ..mock_issuer::ApiConfig::default()
            },
        ],
        ..mock_issuer::IssuerConfig::default().with_seed(crate::helpers::SHARED_SEED)
    };
    let t = crate::helpers::spawn_with(config).await;

    // Act
    let answer = t
        .token_json(&with(
            reader_body(),
            "audience",
            json!("https://billing/api"),
        ))
        .await;

    // Assert
    assert_error(
        &answer,
        403,
        "access_denied",
        "Client is not authorized to access \"https://billing/api\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants",
    );
}

#[tokio::test]
async fn a_scope_not_granted_is_403_naming_the_scopes() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(
            reader_body(),
            "scope",
            json!("read:messages write:messages delete:all"),
        ))
        .await;

    assert_error(
        &answer,
        403,
        "access_denied",
        "Client has not been granted scopes: write:messages, delete:all",
    );
}

#[tokio::test]
async fn each_missing_parameter_is_400_invalid_request() {
    let t = spawn().await;

    let grant_type = t.token_json(&without(reader_body(), "grant_type")).await;
    let client_id = t.token_json(&without(reader_body(), "client_id")).await;
    let audience = t.token_json(&without(reader_body(), "audience")).await;

    assert_error(
        &grant_type,
        400,
        "invalid_request",
        "Missing required parameter: grant_type",
    );
    assert_error(
        &client_id,
        400,
        "invalid_request",
        "Missing required parameter: client_id",
    );
    assert_error(
        &audience,
        400,
        "invalid_request",
        "Missing required parameter: audience",
    );
}

#[tokio::test]
async fn a_non_string_parameter_is_400_invalid_request() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(reader_body(), "audience", json!(["a", "b"])))
        .await;

    assert_error(
        &answer,
        400,
        "invalid_request",
        "Invalid parameter: audience must be a string",
    );
}

#[tokio::test]
async fn a_disallowed_grant_type_is_403_unauthorized_client() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(reader_body(), "grant_type", json!("password")))
        .await;

    assert_error(
        &answer,
        403,
        "unauthorized_client",
        "Grant type 'password' not allowed for the client.",
    );
}

#[tokio::test]
async fn an_unknown_grant_type_is_400_unsupported_grant_type() {
    let t = spawn().await;

    let answer = t
        .token_json(&with(reader_body(), "grant_type", json!("magic")))
        .await;

    assert_error(
        &answer,
        400,
        "unsupported_grant_type",
        "Unsupported grant type: magic",
    );
}

async fn post_raw(t: &TestIssuer, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = t
        .http
        .post(t.issuer.token_url())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent");
    read(response).await
}

#[tokio::test]
async fn a_malformed_body_is_400_invalid_request() {
    let t = spawn().await;

    let json = post_raw(&t, "application/json", b"{\"grant_type\":".to_vec()).await;
    let not_object = post_raw(&t, "application/json", b"[1,2]".to_vec()).await;
    let unknown_type = post_raw(&t, "text/plain", b"grant_type=client_credentials".to_vec()).await;
    let duplicate = post_raw(
        &t,
        "application/x-www-form-urlencoded",
        b"grant_type=client_credentials&audience=a&audience=b".to_vec(),
    )
    .await;

    assert_error(
        &json,
        400,
        "invalid_request",
        "Malformed JSON body: expected an object",
    );
    assert_error(
        &not_object,
        400,
        "invalid_request",
        "Malformed JSON body: expected an object",
    );
    assert_eq!(unknown_type.0, 400);
    assert_eq!(unknown_type.1["error"], "invalid_request");
    assert_error(
        &duplicate,
        400,
        "invalid_request",
        "Duplicate parameter: audience",
    );
}

#[tokio::test]
async fn credentials_in_both_basic_and_body_are_400_invalid_request() {
    let t = spawn().await;

    let answer = read(
        t.http
            .post(t.issuer.token_url())
            .basic_auth("reader", Some("reader-secret"))
            .json(&reader_body())
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_error(
        &answer,
        400,
        "invalid_request",
        "Only one client authentication method may be used",
    );
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    // Arrange: larger than the default 16 KiB limit.
    let t = spawn().await;
    let padding = "x".repeat(20 * 1024);

    // Act
    let answer = t
        .token_json(&with(reader_body(), "padding", json!(padding)))
        .await;

    // Assert
    assert_error(&answer, 413, "invalid_request", "Request body too large");
}

#[tokio::test]
async fn the_token_endpoint_only_accepts_post() {
    let t = spawn().await;

    let (status, _) = t.get("oauth/token").await;

    assert_eq!(status, 405);
}
