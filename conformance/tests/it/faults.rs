//! Issuer faults through the mock issuer's switches: what the api answers while its tenant
//! is down, slow, broken or rotating, and how often it fetches.

use std::time::Duration;

use conformance::catalogue::{Recipe, Val};
use mock_issuer::{Endpoint, Fault};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_cold_api_answers_503_while_the_jwks_is_down_and_recovers_when_it_is_back() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    options.jwks.retry_interval = Duration::ZERO;
    let server = harness.api(options).await;
    let token = harness.forge().token(&Recipe::valid());

    for fault in [Fault::Status(500), Fault::MalformedBody, Fault::EmptyKeySet] {
        harness
            .issuer
            .set_fault(Endpoint::Jwks, fault)
            .expect("fault");
        assert_eq!(private_status(&server, &token).await, 503, "{fault:?}");
        harness.issuer.clear_faults();
    }

    assert_eq!(private_status(&server, &token).await, 200);
}

#[tokio::test]
async fn a_slow_jwks_is_cut_off_by_the_timeout() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    options.jwks.http_timeout = Duration::from_millis(300);
    let server = harness.api(options).await;
    harness
        .issuer
        .set_fault(Endpoint::Jwks, Fault::Latency(Duration::from_secs(5)))
        .expect("fault");

    assert_eq!(
        private_status(&server, &harness.forge().token(&Recipe::valid())).await,
        503
    );
}

#[tokio::test]
async fn discovery_down_is_a_503() {
    let harness = Harness::start().await;
    let server = harness.api(harness.options()).await;
    for endpoint in [
        Endpoint::OpenidConfiguration,
        Endpoint::OauthAuthorizationServer,
    ] {
        harness
            .issuer
            .set_fault(endpoint, Fault::Status(500))
            .expect("fault");
    }

    assert_eq!(
        private_status(&server, &harness.forge().token(&Recipe::valid())).await,
        503
    );
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 0);
}

#[tokio::test]
async fn a_warm_api_keeps_serving_while_every_refresh_fails() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    options.jwks.cache_max_age = Duration::ZERO;
    options.jwks.cooldown = Duration::ZERO;
    let server = harness.api(options).await;
    let token = harness.forge().token(&Recipe::valid());
    assert_eq!(private_status(&server, &token).await, 200);

    for fault in [Fault::Status(500), Fault::MalformedBody, Fault::EmptyKeySet] {
        harness
            .issuer
            .set_fault(Endpoint::Jwks, fault)
            .expect("fault");
        for _ in 0..5 {
            assert_eq!(private_status(&server, &token).await, 200, "{fault:?}");
        }
        harness.issuer.clear_faults();
    }

    assert!(
        harness.issuer.request_count(Endpoint::Jwks) > 1,
        "refreshes were attempted"
    );
}

#[tokio::test]
async fn a_rotation_is_picked_up_without_a_restart() {
    let harness = Harness::start().await;
    let mut options = harness.options();
    options.jwks.cooldown = Duration::ZERO;
    let server = harness.api(options).await;
    let before = harness.forge().token(&Recipe::valid());
    assert_eq!(private_status(&server, &before).await, 200);
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 1);

    // Auth0 publishes the next key ahead of time: after one rotation the new current key is
    // already cached, so tokens signed with it verify without a refetch.
    harness.issuer.rotate().expect("rotate");
    let after_one = harness.forge().token(&Recipe::valid());
    assert_eq!(private_status(&server, &after_one).await, 200);
    assert_eq!(
        private_status(&server, &before).await,
        200,
        "the previous key is still published"
    );
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 1);

    // Two rotations on: a key the api has never seen, found by one refetch.
    harness.issuer.rotate().expect("rotate");
    harness.issuer.rotate().expect("rotate");
    let after_three = harness.forge().token(&Recipe::valid());
    assert_eq!(private_status(&server, &after_three).await, 200);
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 2);
}

#[tokio::test]
async fn an_unknown_kid_flood_costs_the_issuer_one_fetch_per_cooldown() {
    let harness = Harness::start().await;
    let server = harness.api(harness.options()).await;
    assert_eq!(
        private_status(&server, &harness.forge().token(&Recipe::valid())).await,
        200
    );

    for n in 0..50 {
        let recipe = Recipe {
            header: vec![("kid", Val::Set(json!(format!("flood-{n}"))))],
            ..Recipe::valid()
        };
        assert_eq!(
            private_status(&server, &harness.forge().token(&recipe)).await,
            401
        );
    }

    // The load, and nothing for the flood: it came within the 30 s cooldown of that load.
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 1);
    assert_eq!(
        harness.issuer.request_count(Endpoint::OpenidConfiguration),
        1
    );
}
