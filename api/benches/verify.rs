//! Micro-benchmarks of token verification: the full pipeline against a bare RSA-2048 PKCS#1
//! v1.5 SHA-256 check with the same backend (aws-lc), the rejection paths, the verified-token
//! cache's hit path, and the bare RS256 signing the mock issuer does per token.
//!
//! `Authenticator::verify` needs its keys cached, so a real JWKS server (wiremock on a port of
//! the OS's choosing) runs inside the benchmark and each authenticator is warmed up once; after
//! that every measured call completes without waiting (checked: see [`ready`]).
//! `cargo xtask bench` runs these and reads the medians from `target/criterion`.
//!
//! Time is the benchmark thread's CPU time, not wall time: the machines this runs on have two
//! cores shared with compilers and test suites, and wall time would count every preemption.
//! Everything measured runs on that one thread (the JWKS server's runtime sits idle once warm).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::auth::{AuthError, AuthOptions, Authenticator, Claims};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use std::hint::black_box;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUDIENCE: &str = "https://quickstarts/api";

/// The benchmark thread's CPU time, in nanoseconds.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = ThreadTime;
    type Value = u64;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }
    fn end(&self, start: ThreadTime) -> u64 {
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Shows nanoseconds as ns, µs or ms, as criterion's own wall-time formatter does.
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e-3, "µs"),
            _ => (1e-6, "ms"),
        };
        values.iter_mut().for_each(|value| *value *= factor);
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iteration = match throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) => {
                *n as f64
            }
            _ => 1.0,
        };
        values
            .iter_mut()
            .for_each(|ns| *ns = per_iteration * 1e9 / *ns);
        "per second"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

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

fn benchmarks(c: &mut Criterion<ThreadCpu>) {
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

    // The ratios to bare verification, measured in alternating batches (see `paired`).
    let bare = || {
        black_box(parsed.verify_sig(black_box(signing_input.as_bytes()), &signature_bytes)).ok();
    };
    let mut report = String::new();
    for (name, authenticator, token) in [
        ("verify/full", &setup.uncached, &valid),
        ("verify/cache_hit", &setup.cached, &valid),
        ("reject/expired", &setup.cached, &expired),
        ("reject/bad_signature", &setup.cached, &bad_signature),
        ("reject/unknown_kid", &setup.cached, &unknown_kid),
        ("reject/malformed", &setup.cached, &malformed),
    ] {
        let ratio = paired(bare, || {
            let _ = black_box(setup.verify(authenticator, black_box(token)));
        });
        report.push_str(&format!("{name} {ratio:.4}\n"));
    }
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(out).expect("target/bench");
    std::fs::write(format!("{out}/paired.txt"), &report).expect("paired.txt");
    print!("ratios to bare RSA verification (paired):\n{report}");

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

/// The median over rounds of (CPU time of a batch of `subject`) / (CPU time of a batch of
/// `baseline`), the batches alternating. Criterion measures one function after another, so on
/// a shared machine a load that comes and goes skews ratios between its medians; here each
/// round's two batches see the same load, and the median ratio is what the targets compare.
fn paired(mut baseline: impl FnMut(), mut subject: impl FnMut()) -> f64 {
    const ROUNDS: usize = 301;
    let batch = |f: &mut dyn FnMut(), n: u32| {
        let start = ThreadTime::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(n)
    };
    // Batches of about a millisecond of baseline work, whatever the subject costs.
    let per_call = batch(&mut baseline, 50);
    let n = ((1e6 / per_call) as u32).clamp(10, 10_000);
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let base = batch(&mut baseline, n);
            batch(&mut subject, n) / base
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ROUNDS / 2]
}

criterion_group! {
    name = benches;
    // Short runs: the machine is small and shared; medians over 50 samples of CPU time are
    // stable enough for ratios taken within one run.
    config = Criterion::default()
        .with_measurement(ThreadCpu)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benchmarks
}
criterion_main!(benches);
