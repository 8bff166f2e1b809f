//! The JWKS cache against a scripted issuer: fetch counts (from the issuer's request log),
//! single flight, cooldown, stale-on-error, refused documents and the 503 path.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::helpers::*;

/// The refusal of a token whose key the JWKS does not hold.
const NO_KEY: &str = "no applicable key found in the JSON Web Key Set";

#[tokio::test]
async fn many_requests_share_one_discovery_and_one_jwks_fetch() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;

    for _ in 0..20 {
        assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    }

    assert_eq!(issuer.requested_paths().await, [OPENID_PATH, JWKS_PATH]);
}

#[tokio::test]
async fn a_hundred_concurrent_requests_on_a_cold_cache_cause_one_fetch() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(jwks_response(&[TestKey::primary()]).set_delay(Duration::from_millis(300)))
        .mount(&issuer.server)
        .await;
    let app = spawn_app(options(&issuer)).await;
    let token = issuer.token();

    let answers = join_all((0..100).map(|_| app.get_with_token("/api/private", &token))).await;

    assert!(answers.iter().all(|response| response.status() == 200));
    assert_eq!(issuer.requested_paths().await, [OPENID_PATH, JWKS_PATH]);
}

/// Options whose unknown-kid cooldown is short enough for a test to let it pass.
fn short_cooldown(issuer: &TestIssuer) -> api::auth::AuthOptions {
    let mut options = options(issuer);
    options.jwks.cooldown = COOLDOWN;
    options
}

const COOLDOWN: Duration = Duration::from_millis(300);

/// Lets the cooldown pass: passing time is the point here, not waiting for a server.
async fn let_the_cooldown_pass() {
    tokio::time::sleep(COOLDOWN + Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_new_kid_triggers_one_refetch_however_many_requests_carry_it() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_mock(&[TestKey::primary()])
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    let rotated = jwks_response(&[TestKey::primary(), TestKey::secondary()]);
    jwks_answer(rotated.set_delay(Duration::from_millis(100)))
        .mount(&issuer.server)
        .await;
    let app = spawn_app(short_cooldown(&issuer)).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    let_the_cooldown_pass().await;

    let new_key_token = TestKey::secondary().sign(&claims(&issuer.url()));
    let answers =
        join_all((0..100).map(|_| app.get_with_token("/api/private", &new_key_token))).await;

    let statuses: Vec<u16> = answers
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|&status| status == 200), "{statuses:?}");
    assert_eq!(
        issuer.requests_to(JWKS_PATH).await,
        2,
        "the load, then one refetch"
    );
}

#[tokio::test]
async fn within_the_cooldown_an_unknown_kid_causes_no_fetch() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(options(&issuer)).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);

    let unknown = TestKey::secondary().sign(&claims(&issuer.url()));
    let answer = answer(app.get_with_token("/api/private", &unknown).await).await;

    assert_eq!(answer, refused(NO_KEY));
    assert_eq!(
        issuer.requests_to(JWKS_PATH).await,
        1,
        "only the first load"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_once_per_cooldown() {
    let issuer = TestIssuer::start().await;
    let app = spawn_app(short_cooldown(&issuer)).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);

    for _round in 0..2 {
        let_the_cooldown_pass().await;
        let before = issuer.requests_to(JWKS_PATH).await;
        let started = std::time::Instant::now();
        for n in 0..20 {
            let token = TestKey::secondary().sign_raw(
                &json!({"alg": "RS256", "typ": "JWT", "kid": format!("unknown-{n}")}),
                &claims(&issuer.url()),
            );
            let answer = answer(app.get_with_token("/api/private", &token).await).await;
            assert_eq!(answer, refused(NO_KEY));
        }
        // One refetch when the flood starts, then at most one more per cooldown that the
        // flood itself lasted (a loaded machine may stretch it past one): never one per token.
        let fetched = issuer.requests_to(JWKS_PATH).await - before;
        let cooldowns = started.elapsed().as_millis() / COOLDOWN.as_millis();
        let allowed = 1 + usize::try_from(cooldowns).expect("a short flood");
        assert!(
            (1..=allowed).contains(&fetched),
            "{fetched} fetches, at most {allowed} allowed"
        );
    }
}

#[tokio::test]
async fn a_failing_refresh_keeps_the_good_keys_serving() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_mock(&[TestKey::primary()])
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    let mut options = options(&issuer);
    // Every request finds the cache expired and starts a background refresh.
    options.jwks.cache_max_age = Duration::ZERO;
    options.jwks.cooldown = Duration::ZERO;
    let app = spawn_app(options).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);

    for failure in [
        ResponseTemplate::new(500),
        ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
        jwks_response(&[]),
        jwks_response(&[TestKey::weak()]),
    ] {
        let failing = jwks_answer(failure).mount_as_scoped(&issuer.server).await;
        // Requests until a refresh has met this failure, then a few more: all are served.
        let mut requests = 0;
        while failing.received_requests().await.is_empty() {
            assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
            requests += 1;
            assert!(requests < 100, "no refresh met the failure");
        }
        for _ in 0..3 {
            assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
        }
    }
}

#[tokio::test]
async fn keys_older_than_the_stale_limit_are_not_used_when_the_issuer_fails() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_mock(&[TestKey::primary()])
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    jwks_answer(ResponseTemplate::new(503))
        .mount(&issuer.server)
        .await;
    let mut options = options(&issuer);
    options.jwks.stale_max_age = Duration::ZERO;
    options.jwks.retry_interval = Duration::ZERO;
    let app = spawn_app(options).await;

    // The first request loads the keys and uses them at once.
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    // From then on they are too old, and the issuer cannot give new ones.
    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_503_not_the_clients_fault_and_recovery_is_automatic() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    issuer.mount_jwks(&[TestKey::primary()]).await;
    let mut options = options(&issuer);
    options.jwks.retry_interval = Duration::ZERO;
    let app = spawn_app(options).await;

    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
}

#[tokio::test]
async fn a_dead_issuer_address_is_a_503() {
    // Bind a port, then free it: nothing listens there any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let mut options =
        api::auth::AuthOptions::new(format!("http://{address}/").parse().expect("url"), AUDIENCE);
    options.jwks.http_timeout = Duration::from_secs(2);
    let app = spawn_app(options).await;
    let token = TestKey::primary().sign(&claims(&format!("http://{address}/")));

    assert_unavailable(app.get_with_token("/api/private", &token).await).await;
    assert_eq!(app.get("/api/public").await.status(), 200);
}

#[tokio::test]
async fn a_slow_jwks_times_out_into_a_503() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(jwks_response(&[TestKey::primary()]).set_delay(Duration::from_secs(5)))
        .mount(&issuer.server)
        .await;
    let mut options = options(&issuer);
    options.jwks.http_timeout = Duration::from_millis(300);
    let app = spawn_app(options).await;

    assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
}

/// A JWKS holding only the primary key, its `member` set to `value`.
fn primary_with(member: &str, value: serde_json::Value) -> ResponseTemplate {
    let mut jwk = TestKey::primary().jwk();
    jwk[member] = value;
    raw_jwks_response(vec![jwk])
}

#[tokio::test]
async fn oversized_malformed_and_hostile_key_sets_are_refused() {
    let oversized = format!(
        r#"{{"keys":[{}],"padding":"{}"}}"#,
        TestKey::primary().jwk(),
        "x".repeat(300 * 1024)
    );
    let too_many = (0..101).map(|_| TestKey::primary().jwk()).collect();

    let documents = [
        ResponseTemplate::new(200).set_body_string(oversized),
        ResponseTemplate::new(200).set_body_string("{\"keys\": [tru"),
        raw_jwks_response(too_many),
        jwks_response(&[TestKey::weak()]),
        primary_with("use", json!("enc")),
        // An RSA key pinned to an algorithm of another key type, or to HMAC.
        primary_with("alg", json!("ES256")),
        primary_with("alg", json!("HS256")),
        primary_with("key_ops", json!(["encrypt"])),
        // e = 65536, then e = 1.
        primary_with("e", json!("AQAA")),
        primary_with("e", json!("AQ")),
        // A key published with its private part is never trusted.
        primary_with("d", json!("AQAB")),
        jwks_response(&[]),
    ];
    for document in documents {
        let issuer = TestIssuer::bare().await;
        issuer.mount_discovery().await;
        jwks_answer(document).mount(&issuer.server).await;
        let app = spawn_app(options(&issuer)).await;
        assert_unavailable(app.get_with_token("/api/private", &issuer.token()).await).await;
    }
}

#[tokio::test]
async fn a_token_signed_by_a_weak_key_finds_no_key_even_if_published() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    issuer
        .mount_jwks(&[TestKey::primary(), TestKey::weak()])
        .await;
    let app = spawn_app(options(&issuer)).await;

    // Signed by the primary key: the point is that the weak key's kid finds nothing.
    let token = TestKey::primary().sign_raw(
        &json!({"alg": "RS256", "typ": "JWT", "kid": TestKey::weak().kid()}),
        &claims(&issuer.url()),
    );
    let answer = answer(app.get_with_token("/api/private", &token).await).await;

    assert_eq!(answer, refused(NO_KEY));
}

#[tokio::test]
async fn a_slow_background_refresh_never_delays_requests_with_a_cached_key() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_mock(&[TestKey::primary()])
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    jwks_answer(jwks_response(&[TestKey::primary()]).set_delay(Duration::from_secs(30)))
        .mount(&issuer.server)
        .await;
    let mut options = options(&issuer);
    options.jwks.cache_max_age = Duration::ZERO;
    options.jwks.cooldown = Duration::ZERO;
    options.jwks.http_timeout = Duration::from_secs(30);
    let app = spawn_app(options).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);

    // The refresh now hangs for 30 s; each request must still be answered from the cache. The
    // generous per-request limit only turns a regression into a failure instead of a hang.
    for _ in 0..10 {
        let response = app
            .request(reqwest::Method::GET, "/api/private")
            .bearer_auth(issuer.token())
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .expect("answered from the cache while the refresh hangs");
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        issuer.requests_to(JWKS_PATH).await,
        2,
        "the load, then one single-flight refresh still in flight"
    );
}

#[tokio::test]
async fn while_the_last_refresh_failed_an_unknown_kid_is_the_issuers_outage_not_the_clients() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_mock(&[TestKey::primary()])
        .up_to_n_times(1)
        .mount(&issuer.server)
        .await;
    let outage = jwks_answer(ResponseTemplate::new(500))
        .mount_as_scoped(&issuer.server)
        .await;
    // Mounted after the outage, so it answers only once the outage is dropped.
    issuer.mount_jwks(&[TestKey::primary()]).await;
    let app = spawn_app(short_cooldown(&issuer)).await;
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);
    let rotated = TestKey::secondary().sign(&claims(&issuer.url()));

    // The refetch for the new kid fails; within the cooldown no other is tried, and the key may
    // well exist: both answers say "try again", neither blames the token.
    let_the_cooldown_pass().await;
    for _ in 0..2 {
        assert_unavailable(app.get_with_token("/api/private", &rotated).await).await;
    }
    // Known keys keep working through the outage.
    assert_eq!(app.status_of("/api/private", &issuer.token()).await, 200);

    // Once the issuer answers again (without that key), the same token is plainly unknown.
    drop(outage);
    let_the_cooldown_pass().await;
    let answer = answer(app.get_with_token("/api/private", &rotated).await).await;
    assert_eq!(answer, refused(NO_KEY));
}
