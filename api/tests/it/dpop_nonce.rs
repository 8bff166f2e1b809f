//! Server-provided DPoP nonces (RFC 9449 §9) through the whole api: a proof without the
//! current nonce is answered 401 `use_dpop_nonce` with the nonce in `DPoP-Nonce`, replicas
//! given one secret accept each other's nonces, a nonce about to expire is followed by the next
//! one, and the settings that turn it on.

use std::time::Duration;

use api::auth::dpop::{DpopNonces, MIN_NONCE_SECRET_BYTES, ProofError};
use api::auth::{AuthOptions, Authenticator, DpopOptions, OptionsError};
use api::config::ConfigError;
use reqwest::Response;
use serde_json::json;

use crate::dpop::{Client, config, dpop_refused, spawn, unix_now};
use crate::dpop_proof::{ProofKey, claims};
use crate::helpers::*;

const PRIVATE: &str = "/api/private";

/// DPoP options handing out nonces keyed with `[secret; 32]`, in windows of `lifetime`.
fn with_nonces(secret: u8, lifetime: Duration) -> DpopOptions {
    DpopOptions {
        nonces: Some(
            DpopNonces::new(&[secret; MIN_NONCE_SECRET_BYTES], lifetime)
                .expect("a valid nonce setting"),
        ),
        ..DpopOptions::default()
    }
}

/// A fresh proof by `key` for GET `url` with `token`, carrying `nonce`.
fn proof_with_nonce(key: &ProofKey, url: &str, token: &str, nonce: &str) -> String {
    let mut claims = claims("GET", url, token, unix_now());
    claims["nonce"] = json!(nonce);
    key.sign(&key.header(), &claims)
}

/// GET `path` on `client`'s app with a fresh proof carrying `nonce`.
async fn get_with_nonce(client: &Client, path: &str, nonce: &str) -> Response {
    let proof = proof_with_nonce(&client.key, &client.url(path), &client.token, nonce);
    client.send(path, &client.token, &[&proof]).await
}

/// The `DPoP-Nonce` header of `response`, if any.
fn nonce_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get("dpop-nonce")
        .map(|value| value.to_str().expect("an ASCII nonce").to_owned())
}

/// Asks `client`'s app for a nonce the way a client learns it: a proof without one.
async fn learn_nonce(client: &Client) -> String {
    let response = client.get(PRIVATE).await;
    assert_eq!(response.status(), 401);
    nonce_of(&response).expect("a DPoP-Nonce header")
}

#[tokio::test]
async fn a_proof_without_the_nonce_is_answered_use_dpop_nonce_with_the_nonce_to_use() {
    let client = Client::start(with_nonces(1, Duration::from_secs(60))).await;
    let response = client.get(PRIVATE).await;
    let nonce = nonce_of(&response).expect("a DPoP-Nonce header");
    assert_eq!(nonce.len(), 32, "{nonce}");
    assert_eq!(
        answer(response).await,
        dpop_refused(
            "use_dpop_nonce",
            "Resource server requires nonce in DPoP proof"
        )
    );
    // RFC 9449 §8: at most one DPoP-Nonce header.
    let again = client.get(PRIVATE).await;
    assert_eq!(again.headers().get_all("dpop-nonce").iter().count(), 1);

    let served = get_with_nonce(&client, PRIVATE, &nonce).await;
    assert_eq!(served.status(), 200);
    assert_eq!(
        nonce_of(&served),
        None,
        "a current nonce needs no successor"
    );
    // Nonces are for proofs: a bearer token is served as before.
    let bearer = client.issuer.token();
    assert_eq!(client.app.status_of(PRIVATE, &bearer).await, 200);
}

#[tokio::test]
async fn a_nonce_that_is_not_ours_is_answered_with_ours() {
    let client = Client::start(with_nonces(1, Duration::from_secs(60))).await;
    let ours = learn_nonce(&client).await;
    let theirs = DpopNonces::new(&[2; MIN_NONCE_SECRET_BYTES], Duration::from_secs(60))
        .unwrap()
        .current(unix_now());
    let invalid = dpop_refused("use_dpop_nonce", ProofError::NonceInvalid.description());
    for nonce in [theirs.as_str(), "made-up", &ours[..31], &format!("{ours}x")] {
        let response = get_with_nonce(&client, PRIVATE, nonce).await;
        assert_eq!(
            nonce_of(&response).as_deref(),
            Some(ours.as_str()),
            "{nonce}"
        );
        assert_eq!(answer(response).await, invalid, "{nonce}");
    }
}

#[tokio::test]
async fn with_a_nonce_the_proof_is_still_used_once_and_checked_in_full() {
    let client = Client::start(with_nonces(1, Duration::from_secs(60))).await;
    let nonce = learn_nonce(&client).await;
    let mut claims = claims("GET", &client.url(PRIVATE), &client.token, unix_now());
    claims["nonce"] = json!(nonce);
    let proof = client.key.sign(&client.key.header(), &claims);
    let first = client.send(PRIVATE, &client.token, &[&proof]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        answer(client.send(PRIVATE, &client.token, &[&proof]).await).await,
        dpop_refused("invalid_dpop_proof", "DPoP proof has already been used")
    );
    // A proof wrong in another way is told so, nonce or not.
    claims["htm"] = json!("POST");
    let wrong_method = client.key.sign(&client.key.header(), &claims);
    assert_eq!(
        answer(client.send(PRIVATE, &client.token, &[&wrong_method]).await).await,
        dpop_refused("invalid_dpop_proof", ProofError::Htm.description())
    );
}

#[tokio::test]
async fn replicas_given_one_secret_accept_each_others_nonces() {
    let first = Client::start(with_nonces(1, Duration::from_secs(60))).await;
    let nonce = learn_nonce(&first).await;
    // A second replica trusting the same issuer, with the same secret, then another secret.
    for (secret, expected) in [(1, 200), (2, 401)] {
        let mut replica_options = options(&first.issuer);
        replica_options.dpop = with_nonces(secret, Duration::from_secs(60));
        let (replica, _) = spawn(replica_options).await;
        let url = format!("{}{PRIVATE}", replica.address);
        let proof = proof_with_nonce(&first.key, &url, &first.token, &nonce);
        let response = replica
            .request(reqwest::Method::GET, PRIVATE)
            .header("authorization", format!("DPoP {}", first.token))
            .header("dpop", proof)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), expected, "secret {secret}");
    }
}

#[tokio::test]
async fn a_nonce_about_to_expire_is_accepted_and_the_answer_hands_out_the_next() {
    // Windows of 2 s: a nonce is current in its window, accepted with a successor in the next,
    // refused after. Each step waits for a window to begin, then has most of it to act.
    let lifetime = 2;
    let client = Client::start(with_nonces(1, Duration::from_secs(lifetime))).await;
    let window_start = |offset: u64| (unix_now() / lifetime + offset) * lifetime;
    let wait_for = |start: u64| async move {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970");
        let at = Duration::from_secs(start) + Duration::from_millis(100);
        tokio::time::sleep(at.saturating_sub(now)).await;
    };
    wait_for(window_start(1)).await;
    let nonce = learn_nonce(&client).await;
    let issued_in = unix_now() / lifetime;

    wait_for((issued_in + 1) * lifetime).await;
    let response = get_with_nonce(&client, PRIVATE, &nonce).await;
    assert_eq!(response.status(), 200);
    let next = nonce_of(&response).expect("the next nonce with the answer");
    assert_ne!(next, nonce);
    assert_eq!(get_with_nonce(&client, PRIVATE, &next).await.status(), 200);

    wait_for((issued_in + 2) * lifetime).await;
    let response = get_with_nonce(&client, PRIVATE, &nonce).await;
    assert_eq!(response.status(), 401);
    assert_eq!(nonce_of(&response), Some(client_nonce_now(lifetime)));
}

/// The nonce of the current window of `lifetime` seconds under secret `[1; 32]`.
fn client_nonce_now(lifetime: u64) -> String {
    DpopNonces::new(&[1; MIN_NONCE_SECRET_BYTES], Duration::from_secs(lifetime))
        .expect("a valid nonce setting")
        .current(unix_now())
}

#[tokio::test]
async fn a_browser_app_on_another_origin_may_read_the_nonce_and_the_challenge() {
    let client = Client::start(with_nonces(1, Duration::from_secs(60))).await;
    let response = client
        .app
        .request(reqwest::Method::GET, PRIVATE)
        .header("origin", "http://localhost:3000")
        .header("authorization", format!("DPoP {}", client.token))
        .header(
            "dpop",
            client
                .key
                .proof("GET", &client.url(PRIVATE), &client.token, unix_now()),
        )
        .send()
        .await
        .expect("request");
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let exposed: Vec<&str> = exposed.split(',').map(str::trim).collect();
    assert!(
        exposed.contains(&"dpop-nonce") && exposed.contains(&"www-authenticate"),
        "{exposed:?}"
    );
}

#[test]
fn nonces_are_off_by_default_and_the_variables_turn_them_on() {
    assert!(config(&[]).expect("valid").auth.dpop.nonces.is_none());
    let secret = "0123456789abcdef0123456789abcdef";
    let on = config(&[
        ("DPOP_NONCE", "true"),
        ("DPOP_NONCE_SECRET", secret),
        ("DPOP_NONCE_LIFETIME", "5m"),
    ])
    .expect("valid");
    let nonces = on.auth.dpop.nonces.as_ref().expect("nonces on");
    assert_eq!(nonces.lifetime(), Duration::from_secs(300));
    let same = DpopNonces::new(secret.as_bytes(), Duration::from_secs(300))
        .expect("a valid nonce setting");
    assert_eq!(nonces.current(unix_now()), same.current(unix_now()));
    assert!(
        !format!("{on:?}").contains(secret),
        "the secret stays out of debug output"
    );
    let default_lifetime = config(&[("DPOP_NONCE", "true")]).expect("a secret of its own");
    assert_eq!(
        default_lifetime
            .auth
            .dpop
            .nonces
            .map(|nonces| nonces.lifetime()),
        Some(Duration::from_secs(60))
    );
}

#[test]
fn unusable_nonce_settings_stop_start_up_naming_the_variables() {
    let conflict = |pairs: &[(&str, &str)], names: [&str; 2]| match config(pairs) {
        Err(error @ ConfigError::Conflict(_)) => {
            let line = error.to_string();
            assert!(names.iter().all(|name| line.contains(name)), "{line}");
        }
        other => panic!("{pairs:?}: {other:?}"),
    };
    let secret = ("DPOP_NONCE_SECRET", "0123456789abcdef0123456789abcdef");
    conflict(&[secret], ["DPOP_NONCE_SECRET", "DPOP_NONCE"]);
    conflict(
        &[("DPOP_NONCE_LIFETIME", "1m")],
        ["DPOP_NONCE_LIFETIME", "DPOP_NONCE"],
    );
    conflict(
        &[("DPOP_NONCE", "true"), ("DPOP_ENABLED", "false")],
        ["DPOP_NONCE", "DPOP_ENABLED"],
    );
    let invalid = |pairs: &[(&str, &str)], variable: &str| match config(pairs) {
        Err(ConfigError::Invalid {
            variable: named, ..
        }) => assert_eq!(named, variable),
        other => panic!("{pairs:?}: {other:?}"),
    };
    invalid(&[("DPOP_NONCE", "sometimes")], "DPOP_NONCE");
    invalid(
        &[("DPOP_NONCE", "true"), ("DPOP_NONCE_SECRET", "too short")],
        "DPOP_NONCE_SECRET",
    );
    invalid(
        &[("DPOP_NONCE", "true"), ("DPOP_NONCE_LIFETIME", "500ms")],
        "DPOP_NONCE_LIFETIME",
    );

    let mut library = AuthOptions::new("https://tenant.auth0.com".parse().expect("URL"), "api");
    library.dpop = with_nonces(1, Duration::from_secs(60));
    library.dpop.enabled = false;
    assert_eq!(
        Authenticator::new(library).map(|_| ()),
        Err(OptionsError::DpopNonceButDisabled)
    );
}

#[test]
fn without_a_shared_secret_the_binary_says_replicas_will_not_agree() {
    let (mut child, _address) = start_api_binary(
        &[
            ("ISSUER_BASE_URL", "http://127.0.0.1:1/"),
            ("AUDIENCE", "x"),
            ("PORT", "0"),
            ("DPOP_NONCE", "true"),
        ],
        std::process::Stdio::piped(),
    );
    child.kill().expect("stop the api");
    let output = child.wait_with_output().expect("the api's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DPOP_NONCE=true without DPOP_NONCE_SECRET"),
        "{stderr}"
    );
}
