//! DPoP through the whole api: the scheme, the proof header, the binding of the token to the
//! proof's key, the challenges, replay, the request URL behind a proxy, and configuration.
//! Every request goes over real HTTP to the quickstart's app; proofs are made with
//! [`ProofKey`], tokens bound with a `cnf.jkt` claim as the mock tenant binds them.

use std::collections::HashMap;
use std::time::Duration;

use api::auth::dpop::ProofError;
use api::auth::{AuthOptions, Authenticator, DpopOptions, OptionsError, ReplayStore};
use api::config::{Config, ConfigError, ReplayStoreSetting};
use api::routes::{CorsOrigins, PRIVATE_MESSAGE, SCOPED_MESSAGE};
use reqwest::Response;
use serde_json::json;

use crate::dpop_proof::{ProofKey, claims};
use crate::helpers::*;

/// The proof algorithm of these tests; `dpop_proof.rs` covers every other.
const ALG: &str = "ES256";

/// Every protected route of the quickstart.
const PROTECTED: [&str; 2] = ["/api/private", "/api/private-scoped"];

/// The refusal of a bearer token with a `cnf` claim.
const BOUND_AS_BEARER: &str = "A DPoP-bound access token must be sent with the DPoP scheme";

/// The quickstart app with `options`, and its authenticator (for the cache's counters).
pub(crate) async fn spawn(options: AuthOptions) -> (TestApp, Authenticator) {
    let authenticator = Authenticator::new(options).expect("valid options");
    let app = spawn_router(api::app(authenticator.clone(), &CorsOrigins::default())).await;
    (app, authenticator)
}

/// A client with a DPoP key, a token bound to it, and the app it calls.
pub(crate) struct Client {
    pub(crate) app: TestApp,
    pub(crate) authenticator: Authenticator,
    pub(crate) issuer: TestIssuer,
    pub(crate) key: ProofKey,
    pub(crate) token: String,
}

impl Client {
    /// The app with the default options but `dpop`, and a client with a bound token.
    pub(crate) async fn start(dpop: DpopOptions) -> Client {
        let issuer = TestIssuer::start().await;
        let mut options = options(&issuer);
        options.dpop = dpop;
        let (app, authenticator) = spawn(options).await;
        let key = ProofKey::new(ALG);
        let token = bound_token(&issuer, &key);
        Client {
            app,
            authenticator,
            issuer,
            key,
            token,
        }
    }

    /// The URL the client addresses: the one its proofs name.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    /// A fresh, valid proof for GET `path` with the client's token.
    fn proof(&self, path: &str) -> String {
        self.key
            .proof("GET", &self.url(path), &self.token, unix_now())
    }

    /// GET `path` with `Authorization: DPoP <token>` and these `DPoP` headers.
    pub(crate) async fn send(&self, path: &str, token: &str, proofs: &[&str]) -> Response {
        let mut request = self
            .app
            .request(reqwest::Method::GET, path)
            .header("authorization", format!("DPoP {token}"));
        for proof in proofs {
            request = request.header("dpop", *proof);
        }
        request.send().await.expect("request")
    }

    /// GET `path` with the client's token and a fresh proof.
    pub(crate) async fn get(&self, path: &str) -> Response {
        self.get_with(path, &self.token).await
    }

    /// GET `path` with `token` and a fresh, valid proof for it.
    async fn get_with(&self, path: &str, token: &str) -> Response {
        let proof = self.key.proof("GET", &self.url(path), token, unix_now());
        self.send(path, token, &[&proof]).await
    }
}

/// A valid token bound to `key` (its `cnf.jkt`), as the mock tenant issues one.
fn bound_token(issuer: &TestIssuer, key: &ProofKey) -> String {
    issuer.token_with(json!({"cnf": {"jkt": key.thumbprint()}}))
}

pub(crate) fn unix_now() -> u64 {
    u64::try_from(now()).expect("a clock after 1970")
}

/// The challenges of a refusal of a DPoP request: the error on the DPoP challenge, which comes
/// first, then the bare Bearer one (the reference's order).
fn dpop_error(code: &str, description: &str) -> String {
    let algs = DPOP_CHALLENGE
        .strip_prefix("DPoP ")
        .expect("a DPoP challenge");
    format!(
        "DPoP error=\"{code}\", error_description=\"{}\", {algs}, {BEARER_CHALLENGE}",
        description.replace('"', "'")
    )
}

/// The answer to a DPoP request refused with `code` and `description`: 401.
pub(crate) fn dpop_refused(code: &str, description: &str) -> Answer {
    Answer {
        status: 401,
        challenge: Some(dpop_error(code, description)),
        message: description.into(),
    }
}

/// The answer to a refused proof: 401 `invalid_dpop_proof` (RFC 9449 §7.1).
fn invalid_proof(error: ProofError) -> Answer {
    dpop_refused("invalid_dpop_proof", error.description())
}

#[tokio::test]
async fn a_dpop_request_with_a_valid_proof_is_served_on_both_protected_routes() {
    let client = Client::start(DpopOptions::default()).await;

    for (path, message) in PROTECTED.into_iter().zip([PRIVATE_MESSAGE, SCOPED_MESSAGE]) {
        let response = client.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["message"], message, "{path}");
    }
}

#[tokio::test]
async fn each_broken_proof_is_401_invalid_dpop_proof_on_the_dpop_challenge() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let (url, token, now) = (client.url(path), &client.token, unix_now());
    let other = ProofKey::other(ALG);
    let cases = [
        (
            "signed by another key than its jwk",
            other.sign(&client.key.header(), &claims("GET", &url, token, now)),
            ProofError::Signature,
        ),
        (
            "for another path",
            client
                .key
                .proof("GET", &client.url("/api/private-scoped"), token, now),
            ProofError::Htu,
        ),
        (
            "for another host",
            client
                .key
                .proof("GET", "http://api.example.com/api/private", token, now),
            ProofError::Htu,
        ),
        (
            "for another method",
            client.key.proof("POST", &url, token, now),
            ProofError::Htm,
        ),
        (
            "made too long ago",
            client.key.proof("GET", &url, token, now - 400),
            ProofError::IatOutsideWindow,
        ),
        (
            "made in the future",
            client.key.proof("GET", &url, token, now + 120),
            ProofError::IatOutsideWindow,
        ),
        (
            "for another token",
            client.key.proof("GET", &url, "another-token", now),
            ProofError::Ath,
        ),
        ("not a JWS", "not-a-proof".to_owned(), ProofError::Malformed),
    ];
    for (case, proof, error) in cases {
        let response = client.send(path, token, &[&proof]).await;
        assert_eq!(answer(response).await, invalid_proof(error), "{case}");
    }
}

#[tokio::test]
async fn the_dpop_scheme_needs_exactly_one_dpop_header_before_any_network_call() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let (first, second) = (client.proof(path), client.proof(path));

    let none = client.send(path, &client.token, &[]).await;
    let two = client.send(path, &client.token, &[&first, &second]).await;

    assert_eq!(
        answer(none).await,
        dpop_refused(
            "invalid_dpop_proof",
            "The DPoP scheme needs a DPoP proof header"
        )
    );
    assert_eq!(
        answer(two).await,
        dpop_refused("invalid_dpop_proof", "More than one DPoP header")
    );
    client.issuer.assert_never_called().await;
}

#[tokio::test]
async fn a_proof_by_another_key_than_the_token_is_bound_to_is_invalid_token() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let thief = ProofKey::other(ALG);

    let proof = thief.proof("GET", &client.url(path), &client.token, unix_now());
    let response = client.send(path, &client.token, &[&proof]).await;

    assert_eq!(
        answer(response).await,
        dpop_refused("invalid_token", "JWT Access Token confirmation mismatch")
    );
}

#[tokio::test]
async fn tokens_must_be_sent_with_the_scheme_their_binding_calls_for() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";

    // A bound token as a bearer token: the downgrade RFC 9449 §7.2 forbids.
    let as_bearer = client.app.get_with_token(path, &client.token).await;
    assert_eq!(answer(as_bearer).await, refused(BOUND_AS_BEARER));

    // A token without `cnf` with the DPoP scheme, however valid its proof.
    let unbound = client.issuer.token();
    let response = client.get_with(path, &unbound).await;
    assert_eq!(
        answer(response).await,
        dpop_refused(
            "invalid_token",
            "JWT Access Token has no jkt confirmation claim"
        )
    );
    // A `cnf` without a usable `jkt`.
    for cnf in [json!("jkt"), json!({"jkt": 7}), json!({"jkt": ""})] {
        let token = client.issuer.token_with(json!({ "cnf": cnf }));
        let response = client.get_with(path, &token).await;
        assert_eq!(
            answer(response).await,
            dpop_refused("invalid_token", "Malformed 'jkt' confirmation claim"),
            "{cnf}"
        );
    }
}

#[tokio::test]
async fn other_confirmation_members_beside_jkt_are_allowed() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let token = client
        .issuer
        .token_with(json!({"cnf": {"jkt": client.key.thumbprint(), "x5t#S256": "abc"}}));

    let response = client.get_with(path, &token).await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_dpop_header_beside_a_bearer_token_is_an_invalid_request() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let token = client.issuer.token();

    let response = client
        .app
        .request(reqwest::Method::GET, path)
        .bearer_auth(&token)
        .header(
            "dpop",
            client
                .key
                .proof("GET", &client.url(path), &token, unix_now()),
        )
        .send()
        .await
        .expect("request");

    assert_eq!(
        answer(response).await,
        invalid_request("A DPoP proof was sent, but the access token not with the DPoP scheme")
    );
}

#[tokio::test]
async fn a_replayed_proof_is_refused_even_though_its_token_is_cached() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let proof = client.proof(path);

    let first = client.send(path, &client.token, &[&proof]).await;
    let again = client.send(path, &client.token, &[&proof]).await;

    assert_eq!(first.status(), 200);
    assert_eq!(
        answer(again).await,
        dpop_refused("invalid_dpop_proof", "DPoP proof has already been used")
    );
    let stats = client.authenticator.cache_stats();
    assert_eq!(
        (stats.signature_checks, stats.hits),
        (1, 1),
        "the replay was refused after the token came from the cache"
    );
    // A fresh proof for the cached token is served.
    assert_eq!(client.get(path).await.status(), 200);
}

#[tokio::test]
async fn a_replay_store_that_cannot_answer_fails_closed_with_503_and_bearer_tokens_still_pass() {
    // Room for one proof: the second fresh one finds the store full of unexpired proofs.
    let client = Client::start(DpopOptions {
        replay_store: ReplayStore::memory(1),
        ..DpopOptions::default()
    })
    .await;
    let path = "/api/private";

    assert_eq!(client.get(path).await.status(), 200);
    let full = client.get(path).await;

    assert_retry_later(
        full,
        "DPoP proofs cannot be checked right now; try again later",
    )
    .await;
    let bearer = client.issuer.token();
    assert_eq!(client.app.status_of(path, &bearer).await, 200);
}

#[tokio::test]
async fn challenges_offer_both_schemes_and_insufficient_scope_keeps_bearer_alone() {
    let client = Client::start(DpopOptions::default()).await;
    let path = "/api/private";
    let with_header = |value: &'static str| {
        client
            .app
            .request(reqwest::Method::GET, path)
            .header("authorization", value)
            .send()
    };

    assert_eq!(answer(client.app.get(path).await).await, unauthorized());
    for value in ["Basic dXNlcjpwYXNz", "DPoP", "DPoP a b", "Bearer  x"] {
        let response = with_header(value).await.expect("request");
        assert_eq!(answer(response).await, malformed_authorization(), "{value}");
    }
    // The scheme was DPoP: the bare challenges, DPoP first.
    let response = with_header("DPoP a=b").await.expect("request");
    assert_eq!(
        answer(response).await,
        Answer {
            challenge: Some(format!("{DPOP_CHALLENGE}, {BEARER_CHALLENGE}")),
            ..malformed_authorization()
        }
    );
    // A bearer token's refusal names its error on the Bearer challenge.
    let expired = client.issuer.token_with(json!({"exp": now() - 60}));
    let response = client.app.get_with_token(path, &expired).await;
    assert_eq!(
        answer(response).await,
        refused("\"exp\" claim timestamp check failed")
    );

    let unscoped = client
        .issuer
        .token_with(json!({"cnf": {"jkt": client.key.thumbprint()}, "scope": "other"}));
    let scoped = "/api/private-scoped";
    let response = client.get_with(scoped, &unscoped).await;
    assert_eq!(
        answer(response).await,
        forbidden("Insufficient Scope", "read:messages")
    );
}

#[tokio::test]
async fn with_dpop_required_only_dpop_is_offered_and_accepted() {
    let client = Client::start(DpopOptions {
        required: true,
        ..DpopOptions::default()
    })
    .await;
    let path = "/api/private";
    let only_dpop = |status, message: &str| Answer {
        status,
        challenge: Some(DPOP_CHALLENGE.into()),
        message: message.into(),
    };

    assert_eq!(
        answer(client.app.get(path).await).await,
        only_dpop(401, "Unauthorized")
    );
    let bearer = client.issuer.token();
    assert_eq!(
        answer(client.app.get_with_token(path, &bearer).await).await,
        only_dpop(400, "Invalid Authorization header: expected 'DPoP <token>'")
    );
    assert_eq!(client.get(path).await.status(), 200);
    // A refused token names its error on the DPoP challenge, the only one.
    let expired = client.issuer.token_with(json!({
        "exp": now() - 60,
        "cnf": {"jkt": client.key.thumbprint()},
    }));
    let response = client.get_with(path, &expired).await;
    let algs = DPOP_CHALLENGE.strip_prefix("DPoP ").expect("DPoP");
    assert_eq!(
        answer(response).await,
        Answer {
            status: 401,
            challenge: Some(format!(
                "DPoP error=\"invalid_token\", error_description=\"'exp' claim timestamp check failed\", {algs}"
            )),
            message: "\"exp\" claim timestamp check failed".into(),
        }
    );
}

#[tokio::test]
async fn with_dpop_disabled_the_scheme_is_malformed_and_bound_tokens_pass_as_bearer() {
    let client = Client::start(DpopOptions {
        enabled: false,
        ..DpopOptions::default()
    })
    .await;
    let path = "/api/private";
    assert_eq!(
        answer(client.app.get(path).await).await,
        bearer_alone(unauthorized())
    );
    assert_eq!(
        answer(client.get(path).await).await,
        bearer_alone(malformed_authorization())
    );
    // As the reference: the `cnf` claim is not read, a `DPoP` header is ignored.
    assert_eq!(client.app.status_of(path, &client.token).await, 200);
    let with_proof = client
        .app
        .request(reqwest::Method::GET, path)
        .bearer_auth(&client.token)
        .header("dpop", client.proof(path))
        .send()
        .await
        .expect("request");
    assert_eq!(with_proof.status(), 200);
}

#[tokio::test]
async fn with_a_public_url_proofs_name_it_and_not_the_address_the_api_sees() {
    let client = Client::start(DpopOptions {
        public_url: Some("https://API.example.com:443".parse().expect("URL")),
        ..DpopOptions::default()
    })
    .await;
    let path = "/api/private";
    let proof_for = |url: &str| client.key.proof("GET", url, &client.token, unix_now());

    let external = proof_for("https://api.example.com/api/private?page=2");
    let inner = proof_for(&client.url(path));

    assert_eq!(
        client
            .send(path, &client.token, &[&external])
            .await
            .status(),
        200
    );
    assert_eq!(
        answer(client.send(path, &client.token, &[&inner]).await).await,
        invalid_proof(ProofError::Htu)
    );
}

/// GET `/api/private` from `client` through a proxy that says the client addressed
/// `https://{host}`, with a proof for `https://api.example.com/api/private`.
async fn through_proxy(client: &Client, host: &str) -> Answer {
    let path = "/api/private";
    let proof = client.key.proof(
        "GET",
        "https://api.example.com/api/private",
        &client.token,
        unix_now(),
    );
    let response = client
        .app
        .request(reqwest::Method::GET, path)
        .header("authorization", format!("DPoP {}", client.token))
        .header("dpop", proof)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", host)
        .send()
        .await
        .expect("request");
    if response.status() == 200 {
        return Answer {
            status: 200,
            challenge: None,
            message: PRIVATE_MESSAGE.into(),
        };
    }
    answer(response).await
}

#[tokio::test]
async fn forwarded_headers_name_the_url_when_trusted() {
    let client = Client::start(DpopOptions {
        trust_forwarded_headers: true,
        ..DpopOptions::default()
    })
    .await;

    assert_eq!(through_proxy(&client, "api.example.com").await.status, 200);
    assert_eq!(
        through_proxy(&client, "user@api.example.com").await,
        Answer {
            status: 400,
            challenge: Some(dpop_error("invalid_request", "Invalid Host header")),
            message: "Invalid Host header".into(),
        }
    );
}

#[tokio::test]
async fn forwarded_headers_are_ignored_unless_trusted() {
    let client = Client::start(DpopOptions::default()).await;

    // The proof names the forwarded URL; the api compares with the one it was sent to.
    for host in ["api.example.com", "user@api.example.com"] {
        assert_eq!(
            through_proxy(&client, host).await,
            invalid_proof(ProofError::Htu),
            "{host}"
        );
    }
}

/// The configuration from the required variables and `pairs`.
pub(crate) fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut variables: HashMap<&str, &str> = [
        ("ISSUER_BASE_URL", "https://tenant.auth0.com"),
        ("AUDIENCE", "https://quickstarts/api"),
    ]
    .into();
    variables.extend(pairs.iter().copied());
    Config::from_lookup(|name| variables.get(name).map(|value| (*value).to_owned()))
}

#[test]
fn dpop_settings_default_to_the_references_and_each_variable_sets_one() {
    let defaults = config(&[]).expect("valid");
    let dpop = &defaults.auth.dpop;
    assert!(dpop.enabled && !dpop.required && !dpop.trust_forwarded_headers);
    assert_eq!(
        (dpop.iat_offset, dpop.iat_leeway),
        (Duration::from_secs(300), Duration::from_secs(30))
    );
    assert_eq!(dpop.public_url, None);
    assert_eq!(defaults.replay_store, ReplayStoreSetting::Memory);

    let set = config(&[
        ("DPOP_REQUIRED", "true"),
        ("DPOP_IAT_OFFSET", "2m"),
        ("DPOP_IAT_LEEWAY", "5"),
        ("PUBLIC_URL", "https://api.example.com/"),
        ("TRUST_FORWARDED_HEADERS", "true"),
        ("DPOP_REPLAY_STORE", "redis://user:secret@127.0.0.1:6379/2"),
    ])
    .expect("valid");
    let dpop = &set.auth.dpop;
    assert!(dpop.enabled && dpop.required && dpop.trust_forwarded_headers);
    assert_eq!(
        (dpop.iat_offset, dpop.iat_leeway),
        (Duration::from_secs(120), Duration::from_secs(5))
    );
    assert_eq!(
        dpop.public_url.as_ref().map(url::Url::as_str),
        Some("https://api.example.com/")
    );
    assert_eq!(
        set.replay_store,
        ReplayStoreSetting::Redis("redis://user:secret@127.0.0.1:6379/2".into())
    );
    assert!(
        !format!("{set:?}").contains("secret"),
        "the Redis password stays out of debug output"
    );
    assert!(
        !config(&[("DPOP_ENABLED", "false")])
            .expect("valid")
            .auth
            .dpop
            .enabled
    );
    assert_eq!(
        config(&[("DPOP_REPLAY_STORE", "Memory")])
            .expect("valid")
            .replay_store,
        ReplayStoreSetting::Memory
    );
}

#[test]
fn unusable_dpop_settings_are_refused_naming_the_variable() {
    let refused = |variable: &str, values: &[&str]| {
        for value in values {
            match config(&[(variable, value)]) {
                Err(ConfigError::Invalid {
                    variable: named, ..
                }) => {
                    assert_eq!(named, variable, "{value:?}");
                }
                other => panic!("{variable}={value:?}: {other:?}"),
            }
        }
    };
    refused("DPOP_ENABLED", &["maybe"]);
    refused("DPOP_REQUIRED", &["2"]);
    refused("DPOP_IAT_OFFSET", &["soon"]);
    refused("DPOP_IAT_LEEWAY", &["-1"]);
    refused("TRUST_FORWARDED_HEADERS", &["trusted"]);
    refused(
        "PUBLIC_URL",
        &[
            "api.example.com",
            "ftp://api.example.com",
            "https://api.example.com/api",
            "https://api.example.com/?x=1",
            "https://api.example.com/#top",
            "https://user@api.example.com",
            "https://",
        ],
    );
    refused(
        "DPOP_REPLAY_STORE",
        &["mem", "http://127.0.0.1:6379", "redis://", "redis:6379"],
    );
}

#[test]
fn dpop_required_while_disabled_stops_start_up_with_one_line_naming_both() {
    let conflict = config(&[("DPOP_ENABLED", "false"), ("DPOP_REQUIRED", "true")]);
    let Err(error @ ConfigError::Conflict(_)) = conflict else {
        panic!("expected a conflict, got {conflict:?}");
    };
    let line = error.to_string();
    assert!(
        line.contains("DPOP_REQUIRED") && line.contains("DPOP_ENABLED"),
        "{line}"
    );

    let output = api_binary(&[
        ("ISSUER_BASE_URL", "http://127.0.0.1:1/"),
        ("AUDIENCE", "x"),
        ("DPOP_ENABLED", "false"),
        ("DPOP_REQUIRED", "true"),
    ])
    .output()
    .expect("run api");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).expect("UTF-8"),
        format!("error: {line}\n")
    );
}

#[test]
fn the_library_refuses_the_same_dpop_options() {
    let base = || AuthOptions::new("https://tenant.auth0.com".parse().expect("URL"), "api");
    let mut required_but_disabled = base();
    required_but_disabled.dpop.enabled = false;
    required_but_disabled.dpop.required = true;
    let mut not_an_origin = base();
    not_an_origin.dpop.public_url = Some("https://api.example.com/v1".parse().expect("URL"));

    assert_eq!(
        Authenticator::new(required_but_disabled).map(|_| ()),
        Err(OptionsError::DpopRequiredButDisabled)
    );
    assert_eq!(
        Authenticator::new(not_an_origin).map(|_| ()),
        Err(OptionsError::PublicUrl)
    );
}
