//! Discovery: lazy, OpenID then RFC 8414, issuer-checked (RFC 8414 §3.3), timed out, never
//! caching a failure, and skipped entirely when the issuer and JWKS URI are configured.

use std::time::Duration;

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::helpers::*;

#[tokio::test]
async fn starting_the_app_contacts_nobody() {
    let issuer = TestIssuer::start().await;

    let app = spawn_app(options(&issuer)).await;
    assert_eq!(app.get("/api/public").await.status(), 200);

    issuer.assert_never_called().await;
}

#[tokio::test]
async fn the_rfc_8414_path_is_used_when_openid_discovery_is_absent() {
    let issuer = TestIssuer::bare().await;
    issuer_answer(OPENID_PATH, ResponseTemplate::new(404))
        .mount(&issuer.server)
        .await;
    issuer_answer(
        OAUTH_METADATA_PATH,
        ResponseTemplate::new(200).set_body_json(issuer.discovery_document()),
    )
    .mount(&issuer.server)
    .await;
    issuer.mount_jwks(&[TestKey::primary()]).await;
    let app = spawn_app(options(&issuer)).await;

    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    assert_eq!(
        issuer.requested_paths().await,
        [OPENID_PATH, OAUTH_METADATA_PATH, JWKS_PATH]
    );
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_refused() {
    let issuer = TestIssuer::bare().await;
    let mut document = issuer.discovery_document();
    document["issuer"] = json!("https://evil.example/");
    issuer_answer(
        OPENID_PATH,
        ResponseTemplate::new(200).set_body_json(document),
    )
    .mount(&issuer.server)
    .await;
    issuer.mount_jwks(&[TestKey::primary()]).await;
    let app = spawn_app(options(&issuer)).await;

    let evil_token = TestKey::primary().sign(&claims("https://evil.example/"));
    assert_unavailable(app.get_with_token("/api/private", &evil_token).await).await;
    assert_eq!(
        issuer.requests_to(JWKS_PATH).await,
        0,
        "keys of a wrong issuer"
    );
}

/// Serves `document` as the issuer's OpenID metadata, and the app against it.
async fn app_with_metadata(issuer: &TestIssuer, document: serde_json::Value) -> TestApp {
    issuer_answer(
        OPENID_PATH,
        ResponseTemplate::new(200).set_body_json(document),
    )
    .mount(&issuer.server)
    .await;
    spawn_app(options(issuer)).await
}

#[tokio::test]
async fn metadata_that_is_not_usable_is_refused() {
    for document in [
        json!({"jwks_uri": "http://127.0.0.1:1/jwks"}),
        json!({"issuer": 7}),
        json!("just a string"),
    ] {
        let issuer = TestIssuer::bare().await;
        let app = app_with_metadata(&issuer, document).await;
        assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
    }
    // A remote plain-http jwks_uri is refused too.
    let issuer = TestIssuer::bare().await;
    let mut document = issuer.discovery_document();
    document["jwks_uri"] = json!("http://keys.example/jwks.json");
    let app = app_with_metadata(&issuer, document).await;
    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
}

#[tokio::test]
async fn a_discovery_failure_is_not_cached() {
    let issuer = TestIssuer::bare().await;
    for route in [OPENID_PATH, OAUTH_METADATA_PATH] {
        issuer_answer(route, ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&issuer.server)
            .await;
    }
    issuer.mount_discovery().await;
    issuer.mount_jwks(&[TestKey::primary()]).await;
    let mut options = options(&issuer);
    options.jwks.retry_interval = Duration::ZERO;
    let app = spawn_app(options).await;

    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
}

#[tokio::test]
async fn a_slow_discovery_is_timed_out() {
    let issuer = TestIssuer::bare().await;
    issuer_answer(
        OPENID_PATH,
        ResponseTemplate::new(200)
            .set_body_json(issuer.discovery_document())
            .set_delay(Duration::from_secs(5)),
    )
    .mount(&issuer.server)
    .await;
    let mut options = options(&issuer);
    options.jwks.http_timeout = Duration::from_millis(300);
    let app = spawn_app(options).await;

    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
}

#[tokio::test]
async fn a_configured_issuer_and_jwks_uri_skip_discovery() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.issuer_base_url = None;
    options.issuer = Some(issuer.url());
    options.jwks_uri = Some(
        format!("{}.well-known/jwks.json", issuer.url())
            .parse()
            .expect("url"),
    );
    let app = spawn_app(options).await;

    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    assert_eq!(issuer.requested_paths().await, [JWKS_PATH]);
}

#[tokio::test]
async fn a_configured_jwks_uri_overrides_the_discovered_one() {
    let issuer = TestIssuer::start().await;
    let keys_elsewhere = TestIssuer::bare().await;
    keys_elsewhere.mount_jwks(&[TestKey::secondary()]).await;
    let mut options = options(&issuer);
    options.jwks_uri = Some(
        format!("{}.well-known/jwks.json", keys_elsewhere.url())
            .parse()
            .expect("url"),
    );
    let app = spawn_app(options).await;

    let token = TestKey::secondary().sign(&claims(&issuer.url()));
    assert_eq!(app.status_of("/api/private", &token).await, 200);
    assert_eq!(issuer.requested_paths().await, [OPENID_PATH]);
    assert_eq!(keys_elsewhere.requested_paths().await, [JWKS_PATH]);
}

#[tokio::test]
async fn the_base_url_may_omit_the_trailing_slash_but_iss_must_match_the_metadata_exactly() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.issuer_base_url = Some(issuer.server.uri().parse().expect("url"));
    let app = spawn_app(options).await;

    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    let without_slash = issuer.token_with(json!({"iss": issuer.server.uri()}));
    let answer = answer(app.get_with_token("/api/private", &without_slash).await).await;
    assert_eq!(answer, refused("Unexpected 'iss' value"));
}

/// An issuer whose document at `from` is only reachable through a 302 to `to`, where `target`
/// would answer.
async fn redirecting(issuer: &TestIssuer, from: &str, to: &str, target: ResponseTemplate) {
    let redirect = ResponseTemplate::new(302).insert_header("location", to);
    issuer_answer(from, redirect).mount(&issuer.server).await;
    issuer_answer(to, target).mount(&issuer.server).await;
}

#[tokio::test]
async fn redirects_are_never_followed_for_metadata_or_keys() {
    // A redirect would let whoever answers the first URL choose where keys come from
    // (RFC 8414 §6).
    let metadata_elsewhere = TestIssuer::bare().await;
    let document = metadata_elsewhere.discovery_document();
    redirecting(
        &metadata_elsewhere,
        OPENID_PATH,
        "/elsewhere/openid",
        ResponseTemplate::new(200).set_body_json(document),
    )
    .await;
    metadata_elsewhere.mount_jwks(&[TestKey::primary()]).await;

    let keys_elsewhere = TestIssuer::bare().await;
    keys_elsewhere.mount_discovery().await;
    redirecting(
        &keys_elsewhere,
        JWKS_PATH,
        "/elsewhere/jwks",
        jwks_response(&[TestKey::primary()]),
    )
    .await;

    for (issuer, target) in [
        (&metadata_elsewhere, "/elsewhere/openid"),
        (&keys_elsewhere, "/elsewhere/jwks"),
    ] {
        let app = spawn_app(options(issuer)).await;
        assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
        assert_eq!(issuer.requests_to(target).await, 0, "followed to {target}");
    }
}
