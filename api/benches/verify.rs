//! Micro-benchmarks of token verification: the full pipeline against a bare RSA-2048 PKCS#1
//! v1.5 SHA-256 check with the same backend (aws-lc), the rejection paths, the verified-token
//! cache's hit path, and the bare RS256 signing the mock issuer does per token.
//!
//! `Authenticator::verify` needs its keys cached, so a real JWKS server (wiremock on a port of
//! the OS's choosing) runs inside the benchmark and each authenticator is warmed up once; after
//! that every measured call completes without waiting (checked: see [`ready`]).
//! `cargo xtask bench` runs these and reads the medians from `target/criterion`.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::auth::{AuthError, AuthOptions, Authenticator, Claims};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use std::hint::black_box;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUDIENCE: &str = "https://quickstarts/api";

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A committed test key (FOR TESTING ONLY), its public JWK and its kid.
struct Key {
    encoding: EncodingKey,
    jwk: Value,
}

impl Key {
    fn load(name: &str) -> Key {
        let pem = data(&format!("test-key-{name}.pem"));
        let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(base64).expect("PEM body is base64");
        let jwks: Value = serde_json::from_str(&data("test-keys.jwk.json")).expect("JWK file");
        Key {
            encoding: EncodingKey::from_rsa_der(&der),
            jwk: jwks[name].clone(),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.jwk["kid"]});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::RS256)
                .expect("RS256 signing");
        format!("{input}.{signature}")
    }

    /// The public key parsed once, as the bare baseline uses it.
    fn parsed(&self) -> ParsedPublicKey {
        let component = |name: &str| {
            URL_SAFE_NO_PAD
                .decode(self.jwk[name].as_str().expect("component"))
                .expect("base64url")
        };
        let (n, e) = (component("n"), component("e"));
        RsaPublicKeyComponents { n: &n, e: &e }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .expect("valid key")
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// An Auth0 client-credentials token's claims: the size and shape real tokens have.
fn claims(issuer: &str, changes: Value) -> Value {
    let mut claims = json!({
        "iss": issuer,
        "sub": "reader@clients",
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 3600,
        "scope": "read:messages",
        "azp": "reader",
        "gty": "client-credentials",
    });
    for (name, value) in changes.as_object().expect("object") {
        claims[name] = value.clone();
    }
    claims
}

/// Runs a verification that must not wait: with the keys cached nothing in `verify` awaits a
/// fetch, so polling once completes it. A benchmark that fetched would fail here, not mislead.
fn ready<T>(future: impl Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("verification completed without waiting for the network")
}

struct Setup {
    /// Keeps the JWKS server (and the key store's runtime) alive.
    runtime: tokio::runtime::Runtime,
    _issuer: MockServer,
    cached: Authenticator,
    uncached: Authenticator,
    issuer: String,
}

impl Setup {
    fn new(primary: &Key) -> Setup {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            let issuer = format!("{}/", server.uri());
            Mock::given(method("GET"))
                .and(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                    "issuer": issuer,
                    "jwks_uri": format!("{issuer}.well-known/jwks.json"),
                })))
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path("/.well-known/jwks.json"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"keys": [primary.jwk]})),
                )
                .mount(&server)
                .await;
            server
        });
        let issuer = format!("{}/", server.uri());
        let authenticator = |capacity: usize| {
            let mut options = AuthOptions::new(issuer.parse().expect("URL"), AUDIENCE);
            // An unknown kid refetches once, while warming up; the rest of the run is inside
            // the cooldown, which is the steady state an attacker's invented kids meet.
            options.jwks.cooldown = Duration::from_secs(3600);
            options.token_cache.capacity = capacity;
            Authenticator::new(options).expect("options")
        };
        let setup = Setup {
            cached: authenticator(4096),
            uncached: authenticator(0),
            issuer,
            _issuer: server,
            runtime,
        };
        let warm_up = primary.sign(&claims(&setup.issuer, json!({})));
        for authenticator in [&setup.cached, &setup.uncached] {
            setup
                .runtime
                .block_on(authenticator.verify(&warm_up))
                .expect("warm-up token verifies");
        }
        setup
    }

    fn verify(&self, authenticator: &Authenticator, token: &str) -> Result<Claims, AuthError> {
        let _context = self.runtime.enter();
        ready(authenticator.verify(token))
    }
}

fn benchmarks(c: &mut Criterion) {
    let primary = Key::load("primary");
    let secondary = Key::load("secondary");
    let setup = Setup::new(&primary);
    let valid = primary.sign(&claims(&setup.issuer, json!({})));
    let expired = primary.sign(&claims(
        &setup.issuer,
        json!({"iat": now() - 7200, "exp": now() - 3600}),
    ));
    let (signing_input, signature) = valid.rsplit_once('.').expect("three segments");
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let bad_signature = format!("{signing_input}.{flipped}{}", &signature[1..]);
    let unknown_kid = secondary.sign(&claims(&setup.issuer, json!({})));
    let malformed = format!("{signing_input}.");
    let signature_bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let parsed = primary.parsed();

    // Each refusal is checked once outside the loop, so a path that stopped refusing (or
    // refused for another reason) fails the run instead of timing the wrong thing.
    let refusal = |token: &str| match setup.verify(&setup.cached, token) {
        Err(AuthError::InvalidToken(description)) => description.into_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refusal(&expired).contains("exp"));
    assert!(refusal(&bad_signature).contains("signature"));
    // The first unknown kid refetches the JWKS (once, then the cooldown holds).
    let _ = setup.runtime.block_on(setup.cached.verify(&unknown_kid));
    assert!(refusal(&unknown_kid).contains("no applicable key"));
    assert!(refusal(&malformed).contains("signature"));
    assert!(
        parsed
            .verify_sig(signing_input.as_bytes(), &signature_bytes)
            .is_ok()
    );

    let mut group = c.benchmark_group("verify");
    group.bench_function("bare_rsa", |b| {
        b.iter(|| {
            parsed
                .verify_sig(
                    black_box(signing_input.as_bytes()),
                    black_box(&signature_bytes),
                )
                .is_ok()
        })
    });
    group.bench_function("full", |b| {
        b.iter(|| setup.verify(&setup.uncached, black_box(&valid)).is_ok())
    });
    setup.verify(&setup.cached, &valid).expect("cached");
    group.bench_function("cache_hit", |b| {
        b.iter(|| setup.verify(&setup.cached, black_box(&valid)).is_ok())
    });
    group.finish();

    let mut group = c.benchmark_group("reject");
    for (name, token) in [
        ("expired", &expired),
        ("bad_signature", &bad_signature),
        ("unknown_kid", &unknown_kid),
        ("malformed", &malformed),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| setup.verify(&setup.cached, black_box(token)).is_err())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sign");
    // What the mock issuer's token endpoint does per token (jsonwebtoken over aws-lc).
    group.bench_function("bare_rsa", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::sign(
                black_box(signing_input.as_bytes()),
                &primary.encoding,
                Algorithm::RS256,
            )
            .is_ok()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the machine is small and shared; medians over 50 samples are stable enough
    // for ratios taken within one run.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benchmarks
}
criterion_main!(benches);
