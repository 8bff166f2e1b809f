//! The suite must catch broken servers and name the cases they fail.

use std::time::Duration;

use api::auth::AuthOptions;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use conformance::catalogue::catalogue;
use conformance::runner::{self, Report};

use crate::helpers::*;

/// Runs the whole catalogue against our api with `change` made to its options.
async fn report_for(change: impl FnOnce(&mut AuthOptions)) -> Report {
    let harness = Harness::start().await;
    let mut options = harness.options();
    change(&mut options);
    let server = harness.api(options).await;
    runner::run(&server.url, &harness.forge(), &catalogue()).await
}

/// The names of the cases `report` failed, sorted.
fn failed_sorted(report: &Report) -> Vec<&str> {
    let mut failed = report.failed_names();
    failed.sort_unstable();
    failed
}

#[tokio::test]
async fn a_server_that_skips_the_audience_check_fails_exactly_the_audience_cases() {
    // Accepting the audience the catalogue uses as "wrong" is skipping the check for it.
    let report = report_for(|options| options.audiences.push("https://other/api".into())).await;

    assert_eq!(
        failed_sorted(&report),
        [
            "private/audience-array-without-ours",
            "private/wrong-audience",
            "scoped/audience-array-without-ours",
            "scoped/wrong-audience",
        ],
        "{}",
        report.table()
    );
    assert!(
        report.is_failure(false),
        "audience cases are the reference contract's"
    );
    assert!(report.table().ends_with(&format!("{}\n", report.summary())));
    assert!(report.summary().ends_with(", 4 failed"));
}

/// Middleware that answers 401 wherever the server would have answered 400.
async fn four_hundred_as_401(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::BAD_REQUEST {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response
}

#[tokio::test]
async fn a_server_that_answers_401_for_malformed_requests_fails_every_400_case() {
    let harness = Harness::start().await;
    let authenticator = api::auth::Authenticator::new(harness.options()).expect("options");
    let router = api::app(authenticator, &api::routes::CorsOrigins::default())
        .layer(from_fn(four_hundred_as_401));
    let server = serve(router).await;
    let cases = catalogue();

    let report = runner::run(&server.url, &harness.forge(), &cases).await;

    let expected: Vec<&str> = cases
        .iter()
        .filter(|case| case.expect.status == 400)
        .map(|case| case.name.as_str())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(report.failed_names(), expected, "{}", report.table());
    for verdict in report.failures() {
        assert_eq!(
            verdict.failure.as_deref(),
            Some("status 401 instead of 400")
        );
    }
}

#[tokio::test]
async fn a_server_without_dpop_fails_exactly_the_dpop_cases_as_expected() {
    // The original with `dpop: { enabled: false }`: the DPoP scheme is malformed, a DPoP-bound
    // token is accepted as a bearer one, and no challenge advertises DPoP.
    let report = report_for(|options| options.dpop.enabled = false).await;
    let cases = catalogue();

    assert!(!report.dpop_advertised, "{}", report.table());
    let expected: Vec<&str> = cases
        .iter()
        // The nonce cases are not asked of a server that hands out no nonces.
        .filter(|case| case.needs_dpop() && !case.needs_nonces())
        .map(|case| case.name.as_str())
        .collect();
    assert!(expected.len() > 50);
    assert_eq!(report.failed_names(), expected, "{}", report.table());
    assert!(
        !report.is_failure(false),
        "DPoP cases are expected to fail where DPoP is not advertised"
    );
    assert!(report.is_failure(true), "but count with --strict");
}

#[tokio::test]
async fn a_server_with_a_lax_proof_window_fails_exactly_the_stale_and_future_proof_cases() {
    let report = report_for(|options| {
        options.dpop.iat_offset = Duration::from_secs(3600);
        options.dpop.iat_leeway = Duration::from_secs(3600);
    })
    .await;

    assert_eq!(
        failed_sorted(&report),
        [
            "private/dpop-iat-in-the-future",
            "private/dpop-iat-stale",
            "scoped/dpop-iat-in-the-future",
            "scoped/dpop-iat-stale",
        ],
        "{}",
        report.table()
    );
    assert!(report.is_failure(true));
}
