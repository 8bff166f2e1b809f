//! Several issuers behind one api, through two real mock tenants: each served with its own keys,
//! one tenant's outage answered 503 for its tokens only, and a token of a tenant nobody trusts
//! refused without a single fetch.

use std::time::Duration;

use conformance::AUDIENCE;
use conformance::catalogue::Recipe;
use mock_issuer::{Endpoint, Fault, IssuerConfig, MockIssuer, TokenSpec};

use crate::helpers::*;

/// A valid client-credentials token of `tenant`.
fn token_of(tenant: &MockIssuer) -> String {
    tenant.mint(&TokenSpec::for_client("second-tenant-client").audience(AUDIENCE))
}

/// The api trusting the harness's tenant and, beside it, `second`; an unknown `kid` refetches
/// at once (no cooldown), so an outage shows on the next token.
async fn api_for_both(harness: &Harness, second: &MockIssuer) -> Server {
    let mut options = harness.options();
    options.jwks.cooldown = Duration::ZERO;
    options.more_issuers = vec![second.url().parse().expect("issuer URL")];
    harness.api(options).await
}

#[tokio::test]
async fn two_tenants_are_served_and_one_down_leaves_the_other_serving() {
    let harness = Harness::start().await;
    let second = MockIssuer::start(IssuerConfig::default().with_seed(9191))
        .await
        .expect("issuer");
    let server = api_for_both(&harness, &second).await;
    let first_token = harness.forge().token(&Recipe::valid());

    assert_eq!(private_status(&server, &first_token).await, 200);
    assert_eq!(private_status(&server, &token_of(&second)).await, 200);

    // The second tenant signs with a key the api has not seen (twice rotated: the mock
    // publishes its next key ahead) and its JWKS goes down: its tokens are 503 (the outage,
    // not the client's fault), the first tenant's are untouched.
    for _ in 0..2 {
        second.rotate().expect("rotation");
    }
    second
        .set_fault(Endpoint::Jwks, Fault::Status(500))
        .expect("fault");
    assert_eq!(private_status(&server, &token_of(&second)).await, 503);
    assert_eq!(private_status(&server, &first_token).await, 200);
    assert_eq!(harness.issuer.request_count(Endpoint::Jwks), 1);

    second.clear_faults();
    assert_eq!(private_status(&server, &token_of(&second)).await, 200);
}

#[tokio::test]
async fn a_tenant_nobody_trusts_costs_no_fetch() {
    let harness = Harness::start().await;
    let second = MockIssuer::start(IssuerConfig::default().with_seed(9192))
        .await
        .expect("issuer");
    let server = api_for_both(&harness, &second).await;

    for _ in 0..20 {
        assert_eq!(
            private_status(&server, &token_of(&harness.foreign)).await,
            401
        );
    }
    for tenant in [&harness.issuer, &second, &harness.foreign] {
        for endpoint in [
            Endpoint::Jwks,
            Endpoint::OpenidConfiguration,
            Endpoint::OauthAuthorizationServer,
        ] {
            assert_eq!(tenant.request_count(endpoint), 0, "{endpoint:?}");
        }
    }
}
