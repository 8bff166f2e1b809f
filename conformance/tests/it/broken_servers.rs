//! The suite must catch broken servers and name the cases they fail.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use conformance::catalogue::catalogue;
use conformance::runner;

use crate::helpers::*;

#[tokio::test]
async fn a_server_that_skips_the_audience_check_fails_exactly_the_audience_cases() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    // Accepting the audience the catalogue uses as "wrong" is skipping the check for it.
    options.audiences.push("https://other/api".into());
    let server = harness.api(options).await;

    let report = runner::run(&server.url, &harness.forge(), &catalogue()).await;

    let mut failed = report.failed_names();
    failed.sort_unstable();
    assert_eq!(
        failed,
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
