//! Protected Resource Metadata (RFC 9728) over HTTP: the document's members under each
//! configuration, served without a token, and the `resource_metadata` parameter that 401
//! challenges carry only when asked to, at the URL `PUBLIC_URL` or the `Host` names.

use api::auth::{AuthOptions, Authenticator, DpopOptions, OptionsError};
use api::config::{Config, ConfigError};
use serde_json::{Value, json};

use crate::helpers::*;

/// Where the document of the default resource (`https://quickstarts/api`) is: the well-known
/// path with the resource's path after it (RFC 9728 §3.1).
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/api";

/// The proof algorithms the document lists with DPoP on.
const DPOP_ALGS: [&str; 11] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384", "ES512",
    "EdDSA",
];

/// The document `options` publish at `path`, after checking it is served as cacheable JSON.
async fn document(options: AuthOptions, path: &str) -> Value {
    let app = spawn_app(options).await;
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    response.json().await.expect("JSON document")
}

/// The document of the default configuration against `issuer`, with `changes` merged in.
fn expected(issuer: &TestIssuer, changes: Value) -> Value {
    let mut document = json!({
        "resource": AUDIENCE,
        "authorization_servers": [issuer.url()],
        "scopes_supported": ["read:messages"],
        "bearer_methods_supported": ["header", "body"],
        "dpop_signing_alg_values_supported": DPOP_ALGS,
        "dpop_bound_access_tokens_required": false,
        "tls_client_certificate_bound_access_tokens": false,
    });
    let (Value::Object(document_members), Value::Object(changes)) = (&mut document, changes) else {
        panic!("objects");
    };
    for (name, value) in changes {
        if value.is_null() {
            document_members.remove(&name);
        } else {
            document_members.insert(name, value);
        }
    }
    document
}

#[tokio::test]
async fn the_default_document_names_the_audience_the_issuer_the_scope_and_the_methods() {
    let issuer = TestIssuer::bare().await;
    for path in ["/.well-known/oauth-protected-resource", METADATA_PATH] {
        let served = document(options(&issuer), path).await;
        assert_eq!(served, expected(&issuer, json!({})), "{path}");
    }
    // Publishing the document needs nothing from the issuer.
    issuer.assert_never_called().await;
}

#[tokio::test]
async fn the_document_follows_the_dpop_query_token_and_resource_settings() {
    let issuer = TestIssuer::bare().await;
    let with = |change: &dyn Fn(&mut AuthOptions)| {
        let mut options = options(&issuer);
        change(&mut options);
        options
    };
    let required = with(&|o| o.dpop.required = true);
    let disabled = with(&|o| o.dpop.enabled = false);
    let query = with(&|o| o.allow_query_token = true);
    let resource = with(&|o| {
        o.resource_metadata.resource = Some("https://api.example.com".to_owned());
    });
    let cases = [
        (
            required,
            METADATA_PATH,
            json!({"dpop_bound_access_tokens_required": true}),
        ),
        (
            disabled,
            METADATA_PATH,
            json!({"dpop_signing_alg_values_supported": null}),
        ),
        (
            query,
            METADATA_PATH,
            json!({"bearer_methods_supported": ["header", "body", "query"]}),
        ),
        (
            resource,
            "/.well-known/oauth-protected-resource",
            json!({"resource": "https://api.example.com"}),
        ),
    ];
    for (options, path, changes) in cases {
        let served = document(options, path).await;
        assert_eq!(served, expected(&issuer, changes.clone()), "{changes}");
    }
}

#[tokio::test]
async fn without_a_url_for_a_resource_no_document_is_published() {
    let issuer = TestIssuer::bare().await;
    let mut options = options(&issuer);
    options.audiences = vec!["my-api".to_owned()];
    let app = spawn_app(options).await;

    let response = app.get("/.well-known/oauth-protected-resource").await;

    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_library_refuses_a_bad_resource_and_challenges_naming_a_missing_one() {
    let issuer = TestIssuer::bare().await;
    let mut bad_resource = options(&issuer);
    bad_resource.resource_metadata.resource = Some("https://api.example.com/?v=1".to_owned());
    let mut no_resource = options(&issuer);
    no_resource.audiences = vec!["my-api".to_owned()];
    no_resource.resource_metadata.in_challenges = true;

    assert_eq!(
        Authenticator::new(bad_resource).err(),
        Some(OptionsError::Resource)
    );
    assert_eq!(
        Authenticator::new(no_resource).err(),
        Some(OptionsError::NoResource)
    );
}

/// The app against `issuer` with 401 challenges naming the metadata, and `dpop` options.
async fn naming_the_metadata(issuer: &TestIssuer, dpop: DpopOptions) -> TestApp {
    let mut options = options(issuer);
    options.resource_metadata.in_challenges = true;
    options.dpop = dpop;
    spawn_app(options).await
}

/// The answer to GET `/api/private` with this `Authorization` header.
async fn with_authorization(app: &TestApp, authorization: &str) -> Answer {
    let response = app
        .request(reqwest::Method::GET, "/api/private")
        .header("authorization", authorization)
        .send()
        .await
        .expect("request");
    answer(response).await
}

#[tokio::test]
async fn when_asked_every_401_challenge_names_the_metadata_at_the_host_addressed() {
    let issuer = TestIssuer::start().await;
    let app = naming_the_metadata(&issuer, DpopOptions::default()).await;
    let host = app.address.trim_start_matches("http://");
    let named = format!("resource_metadata=\"http://{host}{METADATA_PATH}\"");

    let missing = answer(app.get("/api/private").await).await;
    let invalid = answer(app.get_with_token("/api/private", "not-a-jwt").await).await;
    let no_proof = with_authorization(&app, "DPoP not-a-jwt").await;

    let algs = DPOP_CHALLENGE.trim_start_matches("DPoP ");
    let cases = [
        (
            missing,
            format!("{BEARER_CHALLENGE}, {named}, {DPOP_CHALLENGE}, {named}"),
        ),
        (
            invalid,
            format!(
                "{BEARER_CHALLENGE}, error=\"invalid_token\", error_description=\"Invalid Compact JWS\", \
                 {named}, {DPOP_CHALLENGE}, {named}"
            ),
        ),
        (
            no_proof,
            format!(
                "DPoP error=\"invalid_dpop_proof\", error_description=\"The DPoP scheme needs a DPoP \
                 proof header\", {algs}, {named}, {BEARER_CHALLENGE}, {named}"
            ),
        ),
    ];
    for (answer, challenge) in cases {
        assert_eq!(answer.status, 401, "{}", answer.message);
        assert_eq!(answer.challenge, Some(challenge), "{}", answer.message);
    }
}

#[tokio::test]
async fn the_metadata_url_follows_the_public_url_and_400_challenges_do_not_name_it() {
    let issuer = TestIssuer::start().await;
    let dpop = DpopOptions {
        public_url: Some("https://API.example.com:443".parse().expect("URL")),
        required: true,
        ..DpopOptions::default()
    };
    let app = naming_the_metadata(&issuer, dpop).await;

    let missing = answer(app.get("/api/private").await).await;
    let malformed = with_authorization(&app, "Basic abc").await;

    assert_eq!(
        missing.challenge.as_deref(),
        Some(
            format!(
                "{DPOP_CHALLENGE}, resource_metadata=\"https://api.example.com{METADATA_PATH}\""
            )
            .as_str()
        )
    );
    // A 400 is a malformed request: the reference's bare challenge, nothing more.
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.challenge.as_deref(), Some(DPOP_CHALLENGE));
}

#[tokio::test]
async fn insufficient_scope_keeps_its_challenge_when_401s_name_the_metadata() {
    let issuer = TestIssuer::start().await;
    let app = naming_the_metadata(&issuer, DpopOptions::default()).await;
    let token = issuer.token_with(json!({"scope": "openid"}));

    let response = app.get_with_token("/api/private-scoped", &token).await;

    assert_eq!(
        answer(response).await,
        forbidden("Insufficient Scope", "read:messages")
    );
}

/// The configuration from the two required variables and `pairs`.
fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let required = [
        ("ISSUER_BASE_URL", "https://tenant.auth0.com"),
        ("AUDIENCE", "https://quickstarts/api"),
    ];
    let all = [&required[..], pairs].concat();
    Config::from_lookup(|name| {
        all.iter()
            .rev()
            .find(|(variable, _)| *variable == name)
            .map(|(_, value)| (*value).to_owned())
    })
}

#[test]
fn resource_and_resource_metadata_are_read_from_the_environment() {
    let defaults = config(&[]).expect("defaults").auth.resource_metadata;
    assert_eq!((defaults.resource, defaults.in_challenges), (None, false));

    let set = config(&[
        ("RESOURCE", "https://api.example.com/v1"),
        ("RESOURCE_METADATA", "true"),
    ])
    .expect("valid")
    .auth
    .resource_metadata;
    assert_eq!(set.resource.as_deref(), Some("https://api.example.com/v1"));
    assert!(set.in_challenges);
}

#[test]
fn a_resource_that_is_not_a_url_is_refused_in_one_line_naming_the_variable() {
    for value in ["api", "ftp://api.example.com", "https://api.example.com/#x"] {
        let error = config(&[("RESOURCE", value)]).expect_err(value);
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    variable: "RESOURCE",
                    ..
                }
            ),
            "{value}: {error:?}"
        );
        let line = error.to_string();
        assert!(
            line.starts_with("RESOURCE: expected ") && !line.contains('\n'),
            "{line}"
        );
    }
    let no_resource = config(&[("AUDIENCE", "my-api"), ("RESOURCE_METADATA", "true")]);
    let Err(ConfigError::Conflict(message)) = no_resource else {
        panic!("expected a conflict, got {no_resource:?}");
    };
    assert!(message.contains("RESOURCE"), "{message}");
}
