//! What DPoP costs: a proof check against the bare ES256 verification inside it, and a whole
//! DPoP request through the api's router against a bearer request of the same token, the
//! token's own check coming from the verified-token cache either way.
//!
//! Requests go through the quickstart's router in this process (`oneshot`, polled once: with
//! the token cached, the keys cached and the replay store in memory nothing waits), so their
//! whole cost is this thread's CPU time, as for the other benchmarks. Every DPoP request
//! carries a proof made for it (a fresh `jti`, `iat` now) by the mock issuer's client side,
//! outside the time measured: a proof is accepted once, and replaying one would time the
//! refusal instead.

use std::hint::black_box;
use std::time::Duration;

use api::auth::dpop::{ProofCheck, check_proof};
use api::auth::{Algorithm, Authenticator, DpopOptions};
use api::routes::CorsOrigins;
use axum::Router;
use axum::body::Body;
use criterion::{BatchSize, Criterion};
use http::{Request, StatusCode};
use mock_issuer::oauth::dpop::DpopKey;
use serde_json::json;
use tower::ServiceExt;

use super::algorithms::parsed_key;
use super::{Bare, Setup, ThreadCpu, paired, paired_with, ready, unix_now};

/// The `Host` every request names, and so the origin every proof's `htu` does.
const HOST: &str = "api.test";
/// The route requested: the quickstart's protected route without a scope check.
const PATH: &str = "/api/private";
/// What a proof for [`PATH`] names in `htu`.
const URL: &str = "http://api.test/api/private";

/// A client with a DPoP key, a bearer token and a token bound to the key.
pub struct Client {
    key: DpopKey,
    bearer_token: String,
    bound_token: String,
}

impl Client {
    pub fn new(setup: &Setup) -> Client {
        let key = DpopKey::generate().expect("a P-256 key");
        let bound_token = setup
            .issuer
            .token_with(json!({"cnf": {"jkt": key.thumbprint()}}));
        Client {
            bearer_token: setup.issuer.token(),
            bound_token,
            key,
        }
    }

    /// A fresh proof (new `jti`, `iat` now) for GET [`URL`] with the bound token.
    pub fn proof(&self) -> String {
        self.key
            .proof("GET", URL, Some(&self.bound_token))
            .expect("a proof")
    }

    /// GET [`PATH`] with the bearer token.
    fn bearer_request(&self) -> Request<Body> {
        request(&format!("Bearer {}", self.bearer_token), None)
    }

    /// GET [`PATH`] with the bound token and `proof`.
    pub fn dpop_request(&self, proof: String) -> Request<Body> {
        request(&format!("DPoP {}", self.bound_token), Some(proof))
    }

    /// What the api checks `proof` against, the clock read now.
    fn proof_check(&self) -> ProofCheck<'_> {
        ProofCheck {
            method: "GET",
            url: URL,
            access_token: &self.bound_token,
            now: unix_now(),
            iat_offset: Duration::from_secs(300),
            iat_leeway: Duration::from_secs(30),
            nonces: None,
        }
    }
}

fn request(authorization: &str, proof: Option<String>) -> Request<Body> {
    let mut request = Request::get(PATH)
        .header("host", HOST)
        .header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    request.body(Body::empty()).expect("a request")
}

/// The quickstart's router with the token cache on and the DPoP `options` given (the defaults:
/// the memory replay store), warmed up: the keys fetched, both of the client's tokens cached.
pub struct App {
    pub router: Router,
    authenticator: Authenticator,
}

impl App {
    pub fn new(setup: &Setup, client: &Client, dpop: DpopOptions) -> App {
        let mut options = setup.options(4096);
        options.dpop = dpop;
        let authenticator = Authenticator::new(options).expect("options");
        let router = api::app(authenticator.clone(), &CorsOrigins::default());
        for request in [client.bearer_request(), client.dpop_request(client.proof())] {
            let answer = setup
                .runtime
                .block_on(router.clone().oneshot(request))
                .expect("an answer");
            assert_eq!(answer.status(), StatusCode::OK, "the warm-up request");
        }
        App {
            router,
            authenticator,
        }
    }

    /// Checks that every request after the warm-up took its token from the cache: the two
    /// tokens' signatures were checked once each, so what was measured is the cached path.
    pub fn assert_tokens_came_from_the_cache(&self) {
        assert_eq!(self.authenticator.cache_stats().signature_checks, 2);
    }
}

/// Serves `request` without waiting (see [`ready`]) and says the status.
fn serve(setup: &Setup, router: &Router, request: Request<Body>) -> StatusCode {
    let _context = setup.runtime.enter();
    ready(router.clone().oneshot(request))
        .expect("an answer")
        .status()
}

/// The bare ES256 verification of `proof`, with its key parsed once: the baseline of the
/// proof check, which parses the key, the header and the claims around it.
fn bare_es256(client: &Client, proof: &str) -> Bare {
    let key = parsed_key(Algorithm::ES256, client.key.public_jwk());
    Bare::new(key, proof)
}

/// The DPoP benchmarks: criterion's medians of each part, then the paired ratios the targets
/// compare, as `paired.txt` lines: the proof check to its bare signature check, and a DPoP
/// request to a bearer request, to a bearer request plus a proof check, and to a bearer request
/// plus a bare signature check (the bound a DPoP request's cost is held to).
pub fn benchmarks(c: &mut Criterion<ThreadCpu>, setup: &Setup, client: &Client) -> String {
    let proof = client.proof();
    let check = client.proof_check();
    check_proof(&proof, &check).expect("the proof is valid");
    let bare = bare_es256(client, &proof);

    let mut group = c.benchmark_group("dpop");
    group.bench_function("bare_es256", |b| b.iter(|| bare.verify()));
    group.bench_function("proof_check", |b| {
        b.iter(|| check_proof(black_box(&proof), &check).is_ok())
    });
    group.finish();
    bench_requests(c, setup, client);

    // A router of its own, so the criterion runs' proofs do not fill this one's replay store.
    let app = App::new(setup, client, DpopOptions::default());
    let bearer = || {
        assert_eq!(
            serve(setup, &app.router, client.bearer_request()),
            StatusCode::OK
        );
    };
    let dpop = |proof: String| {
        assert_eq!(
            serve(setup, &app.router, client.dpop_request(proof)),
            StatusCode::OK
        );
    };
    let proofs = |n| (0..n).map(|_| client.proof()).collect::<Vec<_>>();
    let proof_check = paired(
        || {
            black_box(bare.verify());
        },
        || {
            let _ = black_box(check_proof(black_box(&proof), &check));
        },
    );
    let over_bearer = paired_with(bearer, proofs, dpop);
    let over_bearer_and_proof = paired_with(
        || {
            bearer();
            let _ = black_box(check_proof(black_box(&proof), &check));
        },
        proofs,
        dpop,
    );
    // What a DPoP request may cost at most: a bearer request plus one signature check.
    let over_bearer_and_signature = paired_with(
        || {
            bearer();
            black_box(bare.verify());
        },
        proofs,
        dpop,
    );
    app.assert_tokens_came_from_the_cache();
    format!(
        "dpop/proof_check {proof_check:.4}\nrequest/dpop {over_bearer:.4}\nrequest/dpop_over_bearer_and_proof_check {over_bearer_and_proof:.4}\nrequest/dpop_over_bearer_and_bare_es256 {over_bearer_and_signature:.4}\n"
    )
}

/// Criterion's medians of a bearer and a DPoP request, each built (and for DPoP, its proof
/// made) outside the time measured. Each must be served: a refusal (a full replay store, an
/// expired proof) fails the run instead of timing the wrong path.
fn bench_requests(c: &mut Criterion<ThreadCpu>, setup: &Setup, client: &Client) {
    let app = App::new(setup, client, DpopOptions::default());
    let router = &app.router;
    let mut group = c.benchmark_group("request");
    group.bench_function("bearer", |b| {
        b.iter_batched(
            || client.bearer_request(),
            |request| assert_eq!(serve(setup, router, request), StatusCode::OK),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("dpop", |b| {
        b.iter_batched(
            || client.dpop_request(client.proof()),
            |request| assert_eq!(serve(setup, router, request), StatusCode::OK),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    app.assert_tokens_came_from_the_cache();
}
