//! The Protected Resource Metadata probe: our api's document passes every check in each of its
//! configurations, a server that serves none is "not served" and not failed, and a broken
//! document fails exactly the checks it breaks.

use api::auth::AuthOptions;
use axum::Json;
use axum::Router;
use axum::http::header::{CONTENT_TYPE, HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use conformance::AUDIENCE;
use conformance::metadata::{self, MetadataReport, WELL_KNOWN_PATH};
use conformance::runner;
use serde_json::json;

use crate::helpers::*;

/// The probe's report on our api with `change` made to its options.
async fn probe_our_api(change: impl FnOnce(&mut AuthOptions)) -> MetadataReport {
    let harness = Harness::start().await;
    let mut options = harness.options();
    change(&mut options);
    let server = harness.api(options).await;
    metadata::probe(&client(), &server.url, &harness.forge()).await
}

/// The names of the checks that failed.
fn failed(report: &MetadataReport) -> Vec<&str> {
    report.failures().map(|check| check.name).collect()
}

#[tokio::test]
async fn our_api_naming_its_metadata_in_challenges_passes_every_check() {
    let report = probe_our_api(|options| options.resource_metadata.in_challenges = true).await;

    let served_at = report.served_at.as_deref().expect("a document");
    assert!(served_at.ends_with(WELL_KNOWN_PATH), "{served_at}");
    let lines: Vec<_> = report
        .checks
        .iter()
        .map(|check| json!({"check": check.name, "failure": check.failure}))
        .collect();
    insta::assert_json_snapshot!("metadata_checks", lines);
}

#[tokio::test]
async fn our_api_passes_every_check_whatever_its_dpop_and_query_settings() {
    type Change = fn(&mut AuthOptions);
    let settings: [(&str, Change); 4] = [
        ("defaults", |_| {}),
        ("DPOP_REQUIRED", |options| options.dpop.required = true),
        ("DPOP_ENABLED=false", |options| options.dpop.enabled = false),
        ("ALLOW_QUERY_TOKEN", |options| {
            options.allow_query_token = true;
            options.resource_metadata.in_challenges = true;
        }),
    ];
    for (setting, change) in settings {
        let report = probe_our_api(change).await;
        assert!(report.served_at.is_some(), "{setting}: no document");
        assert!(failed(&report).is_empty(), "{setting}: {report:?}");
        let names: Vec<_> = report.checks.iter().map(|check| check.name).collect();
        assert!(names.contains(&"metadata/dpop-required"), "{setting}");
    }
}

#[tokio::test]
async fn a_server_without_a_document_is_reported_not_served_and_counts_nothing() {
    let harness = Harness::start().await;
    // An audience that is not a URL: our api then publishes no document, as the reference.
    let options = AuthOptions::new(harness.issuer.url().parse().expect("url"), "my-api");
    let server = harness.api(options).await;

    let report = runner::run(&server.url, &harness.forge(), &[]).await;

    assert_eq!(report.metadata, MetadataReport::default());
    assert!(!report.is_failure(true));
    let table = report.table();
    assert!(
        table.contains("Protected Resource Metadata (RFC 9728): not served"),
        "{table}"
    );
    assert_eq!(report.summary(), "0 passed, 0 failed");
}

/// A server whose document names another issuer, an unknown bearer method, DPoP algorithms
/// its challenge does not offer and a member of the wrong type; whose path-suffixed document
/// is not JSON; and whose challenge names a metadata URL that answers 404.
fn broken_server() -> Router {
    let document = json!({
        "resource": AUDIENCE,
        "authorization_servers": ["https://someone-else.example/"],
        "scopes_supported": ["read:messages"],
        "bearer_methods_supported": ["header", "cookie"],
        "dpop_signing_alg_values_supported": ["RS256"],
        "dpop_bound_access_tokens_required": true,
        "resource_name": 5,
    });
    let private = |headers: HeaderMap| async move {
        let host = headers
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let challenge = format!(
            "Bearer realm=\"api\", resource_metadata=\"http://{host}/elsewhere\", \
             DPoP algs=\"ES256 EdDSA\""
        );
        let body = Json(json!({"message": "Unauthorized"}));
        (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, challenge)],
            body,
        )
    };
    let suffixed = format!("{WELL_KNOWN_PATH}/api");
    Router::new()
        .route("/api/private", get(private))
        .route(WELL_KNOWN_PATH, get(|| async move { Json(document) }))
        .route(
            &suffixed,
            get(|| async { ([(CONTENT_TYPE, "text/plain")], "{}").into_response() }),
        )
}

#[tokio::test]
async fn a_broken_document_fails_exactly_the_checks_it_breaks() {
    let harness = Harness::start().await;
    let server = serve(broken_server()).await;

    let report = metadata::probe(&client(), &server.url, &harness.forge()).await;

    assert_eq!(
        failed(&report),
        [
            "metadata/member-types",
            "metadata/authorization-servers",
            "metadata/bearer-methods",
            "metadata/dpop-algs",
            "metadata/path-form",
            "metadata/challenge-url",
        ],
        "{report:#?}"
    );
    let why = |name: &str| {
        let check = report.checks.iter().find(|check| check.name == name);
        check
            .and_then(|check| check.failure.clone())
            .unwrap_or_default()
    };
    assert!(why("metadata/member-types").contains("resource_name"));
    assert!(why("metadata/bearer-methods").contains("\"cookie\""));
    assert!(why("metadata/path-form").contains("not application/json"));
    assert!(why("metadata/challenge-url").ends_with("/elsewhere answers 404"));
    // The bearer token was refused, and the document says DPoP is required: consistent.
    assert!(
        failed(&report)
            .iter()
            .all(|name| *name != "metadata/dpop-required")
    );
}
