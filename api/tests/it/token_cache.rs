//! The verified-token cache over real HTTP: hits skip the signature check (seen in the
//! authenticator's counters), expiry and the maximum TTL and age are re-checked on every hit,
//! a key leaving the JWKS ends its tokens' entries, the bounds hold, and capacity 0 turns it off.

use std::time::Duration;

use api::auth::{AuthOptions, Authenticator, TokenCacheStats};
use api::routes::CorsOrigins;
use serde_json::json;

use crate::helpers::*;

/// The app with `options`, and a handle on its authenticator to read the cache's counters.
async fn spawn_with_handle(options: AuthOptions) -> (TestApp, Authenticator) {
    let authenticator = Authenticator::new(options).expect("valid options");
    let app = spawn_router(api::app(authenticator.clone(), &CorsOrigins::default())).await;
    (app, authenticator)
}

/// Waits until the Unix clock (whole seconds, as the claim checks read it) is past `instant`:
/// the passing of time is what these tests are about.
async fn wait_until_after(instant: i64) {
    while now() <= instant {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A valid token made distinct from every other by its `jti`.
fn distinct_token(issuer: &TestIssuer, n: usize) -> String {
    issuer.token_with(json!({"jti": format!("token-{n}")}))
}

#[tokio::test]
async fn a_repeated_token_is_answered_from_the_cache_without_a_signature_check() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(options(&issuer)).await;
    let token = issuer.token();

    for _ in 0..3 {
        assert_eq!(app.status_of("/api/private", &token).await, 200);
    }

    let stats = authenticator.cache_stats();
    assert_eq!(stats.signature_checks, 1);
    assert_eq!(stats.insertions, 1);
    assert_eq!(stats.hits, 2);
    assert_eq!(stats.misses, 1);
    assert_eq!(stats.entries, 1);
    assert_eq!(issuer.requested_paths().await, [OPENID_PATH, JWKS_PATH]);
}

#[tokio::test]
async fn route_checks_still_run_on_a_cached_token() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(options(&issuer)).await;
    let unscoped = issuer.token_with(json!({"scope": null}));

    assert_eq!(app.status_of("/api/private", &unscoped).await, 200);
    let response = app.get_with_token("/api/private-scoped", &unscoped).await;

    assert_eq!(
        answer(response).await,
        forbidden("Missing 'scope' claim", "read:messages")
    );
    assert_eq!(
        authenticator.cache_stats().hits,
        1,
        "the 403 came from a hit"
    );
}

#[tokio::test]
async fn a_cached_token_past_its_expiry_is_refused() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.clock_tolerance = Duration::ZERO;
    let (app, authenticator) = spawn_with_handle(options).await;
    let expires_at = now() + 2;
    let token = issuer.token_with(json!({"exp": expires_at}));
    assert_eq!(app.status_of("/api/private", &token).await, 200);
    assert_eq!(authenticator.cache_stats().entries, 1);

    wait_until_after(expires_at).await;
    let refusal = answer(app.get_with_token("/api/private", &token).await).await;

    assert_eq!(refusal, refused("\"exp\" claim timestamp check failed"));
    let stats = authenticator.cache_stats();
    assert_eq!(stats.hits, 0);
    assert_eq!(stats.entries, 0, "the expired entry was dropped");
    assert_eq!(stats.insertions, 1, "a refusal is never cached");
}

#[tokio::test]
async fn a_cached_token_older_than_the_maximum_age_is_refused() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.clock_tolerance = Duration::ZERO;
    options.max_token_age = Some(Duration::from_secs(1));
    let (app, authenticator) = spawn_with_handle(options).await;
    let issued_at = now();
    let token = issuer.token_with(json!({"iat": issued_at}));
    assert_eq!(app.status_of("/api/private", &token).await, 200);

    wait_until_after(issued_at + 1).await;
    let refusal = answer(app.get_with_token("/api/private", &token).await).await;

    assert_eq!(
        refusal,
        refused("\"iat\" claim timestamp check failed (too far in the past)")
    );
    assert_eq!(authenticator.cache_stats().hits, 0);
}

#[tokio::test]
async fn an_entry_is_verified_afresh_after_the_maximum_ttl() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.token_cache.max_ttl = Duration::from_millis(300);
    let (app, authenticator) = spawn_with_handle(options).await;
    let token = issuer.token();
    assert_eq!(app.status_of("/api/private", &token).await, 200);

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.status_of("/api/private", &token).await, 200);

    let stats = authenticator.cache_stats();
    assert_eq!(stats.hits, 0);
    assert_eq!(stats.signature_checks, 2);
    assert_eq!(stats.insertions, 2);
}

/// Options whose unknown-`kid` cooldown is short enough for a test to let it pass.
fn short_cooldown(issuer: &TestIssuer) -> AuthOptions {
    let mut options = options(issuer);
    options.jwks.cooldown = Duration::from_millis(300);
    options
}

/// The issuer now publishes `keys`; the cached metadata stays valid.
async fn publish(issuer: &TestIssuer, keys: &[&TestKey]) {
    issuer.server.reset().await;
    issuer.mount_discovery().await;
    issuer.mount_jwks(keys).await;
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_jwks() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(short_cooldown(&issuer)).await;
    let old = issuer.token();
    assert_eq!(app.status_of("/api/private", &old).await, 200);
    assert_eq!(app.status_of("/api/private", &old).await, 200);
    assert_eq!(authenticator.cache_stats().hits, 1);

    // The issuer rotates: the primary key is gone. A token of the new key makes the API
    // refetch the JWKS once the cooldown has passed.
    publish(&issuer, &[TestKey::secondary()]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let new = TestKey::secondary().sign(&claims(&issuer.url()));
    assert_eq!(app.status_of("/api/private", &new).await, 200);
    let refusal = answer(app.get_with_token("/api/private", &old).await).await;

    assert_eq!(
        refusal,
        refused("no applicable key found in the JSON Web Key Set")
    );
    assert_eq!(
        authenticator.cache_stats().hits,
        1,
        "no hit after the rotation"
    );
}

#[tokio::test]
async fn a_refetch_that_keeps_the_key_keeps_its_cached_tokens() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(short_cooldown(&issuer)).await;
    let old = issuer.token();
    assert_eq!(app.status_of("/api/private", &old).await, 200);

    publish(&issuer, &[TestKey::primary(), TestKey::secondary()]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let new = TestKey::secondary().sign(&claims(&issuer.url()));
    assert_eq!(app.status_of("/api/private", &new).await, 200);
    assert_eq!(app.status_of("/api/private", &old).await, 200);

    let stats = authenticator.cache_stats();
    assert_eq!(stats.hits, 1, "the old token still hits");
    assert_eq!(stats.signature_checks, 2);
}

#[tokio::test]
async fn refusals_are_never_cached() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(options(&issuer)).await;
    let wrong_audience = issuer.token_with(json!({"aud": "https://elsewhere"}));
    let valid = issuer.token();
    let (input, signature) = valid.rsplit_once('.').expect("three segments");
    let flipped = if signature.ends_with('A') { 'Q' } else { 'A' };
    let forged = format!("{input}.{}{flipped}", &signature[..signature.len() - 1]);

    assert_eq!(app.status_of("/api/private", &valid).await, 200);
    for _ in 0..2 {
        let response = app.get_with_token("/api/private", &wrong_audience).await;
        assert_eq!(answer(response).await, refused("Unexpected 'aud' value"));
        let response = app.get_with_token("/api/private", &forged).await;
        assert_eq!(
            answer(response).await,
            refused("signature verification failed")
        );
    }

    let stats = authenticator.cache_stats();
    assert_eq!(stats.insertions, 1, "only the valid token");
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.hits, 0, "a token one byte off a cached one is no hit");
}

#[tokio::test]
async fn the_cache_never_holds_more_than_its_capacity() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.token_cache.capacity = 3;
    let (app, authenticator) = spawn_with_handle(options).await;

    for n in 0..10 {
        assert_eq!(
            app.status_of("/api/private", &distinct_token(&issuer, n))
                .await,
            200
        );
    }

    let stats = authenticator.cache_stats();
    assert_eq!(stats.capacity, 3);
    assert_eq!(stats.insertions, 10);
    assert!(stats.entries <= 3, "{stats:?}");
    assert!(stats.units <= 3, "{stats:?}");
}

#[tokio::test]
async fn an_entry_is_charged_for_its_memory_not_just_counted() {
    let issuer = TestIssuer::start().await;
    let (app, authenticator) = spawn_with_handle(options(&issuer)).await;
    // Many short permissions: a 3 KB token whose parsed claims take several 4 KiB units.
    let permissions: Vec<String> = (0..300).map(|n| format!("p{n}")).collect();
    let token = issuer.token_with(json!({"permissions": permissions}));
    assert!(token.len() < 4096, "cacheable: {} bytes", token.len());

    assert_eq!(app.status_of("/api/private", &token).await, 200);

    let stats = authenticator.cache_stats();
    assert_eq!(stats.entries, 1);
    assert!(stats.units >= 3, "{stats:?}");
}

#[tokio::test]
async fn tokens_larger_than_the_limit_are_never_cached() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.token_cache.max_token_bytes = 1024;
    let (app, authenticator) = spawn_with_handle(options).await;
    let large = issuer.token_with(json!({"padding": "x".repeat(1024)}));

    for _ in 0..2 {
        assert_eq!(app.status_of("/api/private", &large).await, 200);
    }

    let stats = authenticator.cache_stats();
    assert_eq!(stats.signature_checks, 2);
    assert_eq!(stats.entries, 0);
    assert_eq!(stats.misses, 0, "not even looked up");
    assert_eq!(stats.insertions, 0);
}

#[tokio::test]
async fn capacity_zero_turns_the_cache_off() {
    let issuer = TestIssuer::start().await;
    let mut options = options(&issuer);
    options.token_cache.capacity = 0;
    let (app, authenticator) = spawn_with_handle(options).await;
    let token = issuer.token();

    for _ in 0..3 {
        assert_eq!(app.status_of("/api/private", &token).await, 200);
    }

    let stats: TokenCacheStats = authenticator.cache_stats();
    assert_eq!(stats.signature_checks, 3);
    assert_eq!(
        (
            stats.hits,
            stats.misses,
            stats.insertions,
            stats.entries,
            stats.capacity
        ),
        (0, 0, 0, 0, 0)
    );
}
