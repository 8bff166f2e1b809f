//! Several issuers at once (the reference's "MCD"): each with its own discovery and key cache,
//! chosen by the token's `iss` before any network call, one failing without touching the
//! others; and a resolver choosing the issuers per request.

use api::auth::{IssuerRequest, IssuerResolver};
use serde_json::json;
use url::Url;

use crate::helpers::*;

/// A second issuer, signing with the secondary key.
async fn second_issuer() -> TestIssuer {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    issuer.mount_jwks(&[TestKey::secondary()]).await;
    issuer
}

/// A token of the second issuer.
fn second_token(issuer: &TestIssuer) -> String {
    TestKey::secondary().sign(&claims(&issuer.url()))
}

fn url(issuer: &TestIssuer) -> Url {
    issuer.url().parse().expect("issuer URL")
}

#[tokio::test]
async fn two_issuers_are_served_at_once_each_with_its_own_keys() {
    let (first, second) = (TestIssuer::start().await, second_issuer().await);
    let mut options = options(&first);
    options.more_issuers = vec![url(&second)];
    let app = spawn_app(options).await;

    assert_eq!(app.status_of("/api/private", &first.token()).await, 200);
    assert_eq!(
        app.status_of("/api/private", &second_token(&second)).await,
        200
    );
    assert_eq!(first.requests_to(JWKS_PATH).await, 1);
    assert_eq!(second.requests_to(JWKS_PATH).await, 1);

    // Signed by the first issuer's key but claiming the second: only the second's keys are
    // looked at, and none of them has that kid.
    let forged = TestKey::primary().sign(&claims(&second.url()));
    assert_refused(
        &app,
        &forged,
        "no applicable key found in the JSON Web Key Set",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_or_missing_issuer_is_refused_before_any_network_call() {
    let (first, second, unknown) = (
        TestIssuer::start().await,
        second_issuer().await,
        TestIssuer::start().await,
    );
    let mut options = options(&first);
    options.more_issuers = vec![url(&second)];
    let app = spawn_app(options).await;

    assert_refused(&app, &unknown.token(), "Unexpected 'iss' value").await;
    assert_refused(
        &app,
        &first.token_with(json!({"iss": "not a URL"})),
        "Unexpected 'iss' value",
    )
    .await;
    assert_refused(
        &app,
        &first.token_with(json!({"iss": null})),
        "Missing 'iss' claim",
    )
    .await;
    assert_refused(
        &app,
        &first.token_with(json!({"iss": 7})),
        "'iss' claim must be a string",
    )
    .await;
    for issuer in [&first, &second, &unknown] {
        issuer.assert_never_called().await;
    }
}

#[tokio::test]
async fn iss_is_normalised_to_choose_but_the_exact_identifier_is_checked() {
    let (first, second) = (TestIssuer::start().await, second_issuer().await);
    let mut options = options(&first);
    options.more_issuers = vec![url(&second)];
    let app = spawn_app(options).await;

    // The first issuer without its trailing slash: it chooses the first issuer (whose keys are
    // fetched), and is then refused for not being the discovered identifier exactly.
    let unslashed = first.url().trim_end_matches('/').to_owned();
    assert_refused(
        &app,
        &first.token_with(json!({ "iss": unslashed })),
        "Unexpected 'iss' value",
    )
    .await;
    assert_eq!(first.requests_to(JWKS_PATH).await, 1);
    second.assert_never_called().await;
}

#[tokio::test]
async fn one_issuer_down_does_not_affect_the_other() {
    let first = TestIssuer::start().await;
    let down = TestIssuer::bare().await;
    issuer_answer(
        "/.well-known/openid-configuration",
        wiremock::ResponseTemplate::new(503),
    )
    .mount(&down.server)
    .await;
    let mut options = options(&first);
    options.more_issuers = vec![url(&down)];
    let app = spawn_app(options).await;

    assert_unavailable(
        app.get_with_token("/api/private", &second_token(&down))
            .await,
    )
    .await;
    assert_eq!(app.status_of("/api/private", &first.token()).await, 200);
    assert_unavailable(
        app.get_with_token("/api/private", &second_token(&down))
            .await,
    )
    .await;
    assert_eq!(app.status_of("/api/private", &first.token()).await, 200);
}

#[tokio::test]
async fn a_resolver_chooses_the_issuers_of_each_request_cached_tokens_included() {
    let (first, second) = (TestIssuer::start().await, second_issuer().await);
    let (first_url, second_url) = (url(&first), url(&second));
    let mut options = options(&first);
    options.issuer_resolver =
        Some(IssuerResolver::new(
            move |request: IssuerRequest<'_>| match request
                .headers
                .get("x-tenant")
                .map(|value| value.as_bytes())
            {
                Some(b"first") => vec![first_url.clone()],
                Some(b"second") => vec![second_url.clone()],
                _ => Vec::new(),
            },
        ));
    let app = spawn_app(options).await;
    let status = |token: String, tenant: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}/api/private", app.address))
                .bearer_auth(token)
                .header("x-tenant", tenant)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };

    let token = first.token();
    assert_eq!(status(token.clone(), "first").await, 200);
    assert_eq!(status(second_token(&second), "second").await, 200);
    // The first issuer's token is now cached; another tenant's request still may not use it.
    assert_eq!(status(token.clone(), "second").await, 401);
    assert_eq!(status(token.clone(), "nobody").await, 401);
    assert_eq!(status(token, "first").await, 200);
}
