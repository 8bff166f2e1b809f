//! Every catalogue case against this project's api: all must pass, and the answers are
//! snapshotted so any change to them is seen in review.

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
