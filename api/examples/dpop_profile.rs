//! A profiling harness for DPoP's CPU cost, to run under `valgrind --tool=callgrind`: instruction
//! counts are stable on a shared machine where times are not. It serves `N` requests of one kind
//! through the quickstart's router (the token from the verified-token cache, as in the bench
//! `verify`), or runs `N` proof checks, inside one function each, so that
//! `--toggle-collect='dpop_profile::measure*'` counts those and nothing of the set-up.
//!
//! ```text
//! cargo build --release -p api --example dpop_profile
//! valgrind --tool=callgrind --toggle-collect='dpop_profile::measure*' \
//!     target/release/examples/dpop_profile dpop 2000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>
//! ```
//!
//! Kinds: `bearer` (bearer requests), `dpop` (DPoP requests, each with a proof made for it),
//! `check` (the proof check alone, of one proof) and `bare` (the bare ES256 verification of
//! one proof's signature, its key parsed once). Each run prints the CPU time per call (noisy on
//! a shared machine); callgrind's total divided by `N` is the instructions per call.

use std::hint::black_box;
use std::time::Duration;

use api::auth::dpop::{ProofCheck, check_proof};
use api::auth::{AuthOptions, Authenticator, DpopOptions};
use api::routes::CorsOrigins;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use axum::Router;
use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cpu_time::ThreadTime;
use futures_util::FutureExt;
use http::{Request, StatusCode};
use mock_issuer::oauth::dpop::DpopKey;
use serde_json::json;
use tower::ServiceExt;

/// The test keys, claims and scriptable issuer the integration tests use.
#[path = "../tests/support/mod.rs"]
#[allow(
    dead_code,
    reason = "the harness uses only part of the support it shares with the tests"
)]
mod support;

use support::claims::AUDIENCE;
use support::issuer::TestIssuer;

/// What every request names, and so every proof's `htu`.
const PATH: &str = "/api/private";
const URL: &str = "http://api.test/api/private";

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "dpop".to_owned());
    let n: usize = args.next().map_or(1000, |n| n.parse().expect("a count"));
    // Serves the issuer's JWKS; everything counted runs on this thread.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let issuer = runtime.block_on(TestIssuer::start());
    let key = DpopKey::generate().expect("a P-256 key");
    let bearer = issuer.token();
    let bound = issuer.token_with(json!({"cnf": {"jkt": key.thumbprint()}}));
    let proof = || key.proof("GET", URL, Some(&bound)).expect("a proof");
    let mut options = AuthOptions::new(issuer.url().parse().expect("URL"), AUDIENCE);
    options.dpop = DpopOptions::default();
    let router = api::app(
        Authenticator::new(options).expect("options"),
        &CorsOrigins::default(),
    );
    let _context = runtime.enter();
    // Warm up: the keys fetched and both tokens cached, outside what is counted.
    for request in [request(&bearer, None), request(&bound, Some(proof()))] {
        let answer = runtime.block_on(router.clone().oneshot(request));
        assert_eq!(answer.expect("an answer").status(), StatusCode::OK);
    }
    let cpu_time = match kind.as_str() {
        "bearer" => measure_requests(&router, (0..n).map(|_| request(&bearer, None)).collect()),
        "dpop" => measure_requests(
            &router,
            (0..n).map(|_| request(&bound, Some(proof()))).collect(),
        ),
        "check" => measure_checks(&proof(), &bound, n),
        "bare" => measure_bare(&bare_es256(&key, &proof()), n),
        other => panic!("unknown kind {other:?}: bearer, dpop, check or bare"),
    };
    println!(
        "{kind}: {:.0} ns of CPU time per call",
        cpu_time.as_nanos() as f64 / n as f64
    );
}

/// GET [`PATH`] with `token`, as a DPoP request when a proof is given.
fn request(token: &str, proof: Option<String>) -> Request<Body> {
    let scheme = if proof.is_some() { "DPoP" } else { "Bearer" };
    let mut request = Request::get(PATH)
        .header("host", "api.test")
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.body(Body::empty()).expect("a request")
}

/// Serves `requests`, and says how much CPU time that took.
#[inline(never)]
fn measure_requests(router: &Router, requests: Vec<Request<Body>>) -> Duration {
    let start = ThreadTime::now();
    for request in requests {
        let answer = router.clone().oneshot(request).now_or_never();
        assert_eq!(
            answer
                .expect("served without waiting")
                .expect("an answer")
                .status(),
            StatusCode::OK
        );
    }
    start.elapsed()
}

/// Checks `proof` `n` times, and says how much CPU time that took.
#[inline(never)]
fn measure_checks(proof: &str, token: &str, n: usize) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let check = ProofCheck {
        method: "GET",
        url: URL,
        access_token: token,
        now,
        iat_offset: Duration::from_secs(300),
        iat_leeway: Duration::from_secs(30),
        nonces: None,
    };
    let start = ThreadTime::now();
    for _ in 0..n {
        assert!(check_proof(black_box(proof), &check).is_ok());
    }
    start.elapsed()
}

/// The key and signature of `proof`, for its bare verification.
fn bare_es256(key: &DpopKey, proof: &str) -> (ParsedPublicKey, Vec<u8>, Vec<u8>) {
    let jwk = key.public_jwk();
    let mut point = vec![0x04];
    for coordinate in ["x", "y"] {
        let text = jwk[coordinate].as_str().expect("a coordinate");
        point.extend(URL_SAFE_NO_PAD.decode(text).expect("base64url"));
    }
    let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).expect("a P-256 point");
    let (signing_input, signature) = proof.rsplit_once('.').expect("three segments");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    (key, signing_input.as_bytes().to_vec(), signature)
}

/// Verifies the signature `n` times, and says how much CPU time that took.
#[inline(never)]
fn measure_bare(
    (key, signing_input, signature): &(ParsedPublicKey, Vec<u8>, Vec<u8>),
    n: usize,
) -> Duration {
    let start = ThreadTime::now();
    for _ in 0..n {
        assert!(
            key.verify_sig(black_box(signing_input), black_box(signature))
                .is_ok()
        );
    }
    start.elapsed()
}
