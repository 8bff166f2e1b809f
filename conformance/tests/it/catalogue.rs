//! Every catalogue case against this project's api: all must pass, and the answers are
//! snapshotted so any change to them is seen in review; again with DPoP nonces on, when the
//! nonce cases are asked too.

use std::time::Duration;

use api::auth::dpop::{DpopNonces, MIN_NONCE_SECRET_BYTES};
use conformance::catalogue::catalogue;
use conformance::runner;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn our_api_passes_every_case_of_the_catalogue() {
    let harness = Harness::start().await;
    let server = harness.api(harness.options()).await;

    let report = runner::run(&server.url, &harness.forge(), &catalogue()).await;

    assert!(report.failed_names().is_empty(), "{}", report.table());
    assert!(report.metadata.served_at.is_some(), "{}", report.table());
    assert!(!report.is_failure(true), "{}", report.table());
    let answers: Vec<_> = report
        .verdicts
        .iter()
        .map(|verdict| {
            json!({
                "case": verdict.case.name,
                "status": verdict.outcome.status,
                "challenge": verdict.outcome.challenge,
                "body": verdict.outcome.body,
            })
        })
        .collect();
    insta::assert_json_snapshot!("answers", answers);
}

#[tokio::test]
async fn our_api_with_dpop_nonces_passes_every_case_nonce_cases_included() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    options.dpop.nonces = Some(
        DpopNonces::new(&[9; MIN_NONCE_SECRET_BYTES], Duration::from_secs(60)).expect("nonces"),
    );
    let server = harness.api(options).await;

    let report = runner::run(&server.url, &harness.forge(), &catalogue()).await;

    assert!(report.nonces_required, "the probe learned no nonce");
    assert_eq!(report.not_applicable, 0);
    assert!(report.failed_names().is_empty(), "{}", report.table());
    let nonce_cases: Vec<_> = report
        .verdicts
        .iter()
        .filter(|verdict| verdict.case.needs_nonces())
        .collect();
    assert_eq!(nonce_cases.len(), 6, "three cases on two routes");
    for verdict in nonce_cases {
        assert_eq!(verdict.outcome.status, 401, "{}", verdict.case.name);
        assert!(
            verdict.outcome.dpop_nonce.is_some(),
            "{}",
            verdict.case.name
        );
    }
}

#[tokio::test]
async fn without_nonces_the_nonce_cases_are_not_asked() {
    let harness = Harness::start().await;
    let server = harness.api(harness.options()).await;
    let nonce_cases = catalogue()
        .into_iter()
        .filter(|case| case.needs_nonces())
        .collect::<Vec<_>>();

    let report = runner::run(&server.url, &harness.forge(), &nonce_cases).await;

    assert!(!report.nonces_required);
    assert_eq!((report.verdicts.len(), report.not_applicable), (0, 6));
    assert!(
        report.table().contains("6 nonce cases not asked"),
        "{}",
        report.table()
    );
}
