//! Micro-benchmarks of token verification: the full pipeline against a bare RSA-2048 PKCS#1
//! v1.5 SHA-256 check with the same backend (aws-lc), ES256 and EdDSA tokens each against its
//! own bare check ([`algorithms`]), the rejection paths (among them the costliest hostile
//! tokens of the largest size accepted), the verified-token cache's hit path, and the bare
//! RS256 signing the mock issuer does per token; and DPoP's costs: the proof check, a DPoP
//! request against a bearer one ([`dpop`]) and the replay store's ([`replay_cost`]).
//!
//! `Authenticator::verify` needs its keys cached, so a real JWKS server (wiremock on a port of
//! the OS's choosing) runs inside the benchmark and each authenticator is warmed up once; after
//! that every measured call completes without waiting (checked: see [`ready`]).
//! `cargo xtask bench` runs these and reads the medians from `target/criterion`, the paired
//! ratios from `target/bench/paired.txt` and the replay store's figures from
//! `target/bench/replay.txt`.
//!
//! Time is the benchmark thread's CPU time, not wall time: the machines this runs on have two
//! cores shared with compilers and test suites, and wall time would count every preemption.
//! Everything measured runs on that one thread (the JWKS server's runtime sits idle once warm).

use std::future::Future;
use std::hint::black_box;
use std::time::Duration;

use api::auth::{AuthError, AuthOptions, Authenticator, Claims};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;
use serde_json::json;

/// The test keys, claims and scriptable issuer the integration tests use.
#[path = "../tests/support/mod.rs"]
#[allow(
    dead_code,
    reason = "the benchmarks use only part of the support they share with the tests"
)]
mod support;

/// The `redis-server` harness of the replay store's tests, for the Redis store's figures.
#[path = "../src/auth/dpop_replay/redis_server.rs"]
mod redis_server;

// In a directory of their own: a file directly in `benches/` would be a benchmark target.
#[path = "verify/algorithms.rs"]
mod algorithms;
#[path = "verify/dpop.rs"]
mod dpop;
#[path = "verify/replay_cost.rs"]
mod replay_cost;

use support::claims::{AUDIENCE, claims, now, with};
use support::issuer::TestIssuer;
use support::keys::TestKey;

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

/// The bytes of `jwk`'s base64url member `name`.
fn jwk_bytes(jwk: &serde_json::Value, name: &str) -> Vec<u8> {
    let text = jwk[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {jwk}"));
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// The public key parsed once, as the bare baseline uses it.
fn parsed(key: &TestKey) -> ParsedPublicKey {
    let jwk = key.jwk();
    let (n, e) = (jwk_bytes(&jwk, "n"), jwk_bytes(&jwk, "e"));
    RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .expect("valid key")
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
    /// Serves discovery and the primary key.
    issuer: TestIssuer,
    cached: Authenticator,
    uncached: Authenticator,
}

impl Setup {
    fn new() -> Setup {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let issuer = runtime.block_on(TestIssuer::start());
        let authenticator =
            |capacity| Authenticator::new(options(&issuer, capacity)).expect("options");
        let setup = Setup {
            cached: authenticator(4096),
            uncached: authenticator(0),
            issuer,
            runtime,
        };
        let warm_up = setup.issuer.token();
        for authenticator in [&setup.cached, &setup.uncached] {
            setup
                .runtime
                .block_on(authenticator.verify(&warm_up))
                .expect("warm-up token verifies");
        }
        setup
    }

    /// The options of an authenticator of this issuer's tokens, with a token cache of
    /// `capacity` (0: none).
    fn options(&self, capacity: usize) -> AuthOptions {
        options(&self.issuer, capacity)
    }

    fn verify(&self, authenticator: &Authenticator, token: &str) -> Result<Claims, AuthError> {
        let _context = self.runtime.enter();
        ready(authenticator.verify(token))
    }

    /// The description `token` is refused with by the caching authenticator.
    fn refusal(&self, token: &str) -> String {
        match self.verify(&self.cached, token) {
            Err(AuthError::InvalidToken(description)) => description.into_owned(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

/// The options of an authenticator of `issuer`'s tokens, with a token cache of `capacity`.
fn options(issuer: &TestIssuer, capacity: usize) -> AuthOptions {
    let mut options = AuthOptions::new(issuer.url().parse().expect("URL"), AUDIENCE);
    // An unknown kid refetches once, while warming up; the rest of the run is inside the
    // cooldown, which is the steady state an attacker's invented kids meet.
    options.jwks.cooldown = Duration::from_secs(3600);
    options.token_cache.capacity = capacity;
    options
}

/// Seconds since the epoch, unsigned.
fn unix_now() -> u64 {
    u64::try_from(now()).expect("a clock after 1970")
}

/// The largest token `verify` takes: `AuthOptions::max_token_bytes`' default.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The tokens measured: one valid, one for each rejection path, and the largest tokens: a valid
/// one and the hostile ones whose refusal costs the most.
struct Tokens {
    valid: String,
    expired: String,
    bad_signature: String,
    unknown_kid: String,
    malformed: String,
    /// A valid token of the largest size, its payload padded with a plain string.
    valid_16k: String,
    /// The token that once cost 100 times a valid one: a header of as many distinct members as
    /// fit in the largest token (about 1,300), refused by the header's member limit.
    header_members: String,
    /// A signed payload of as many `aud` strings as fit, refused by the claims' value limit
    /// after the signature and the parse up to it.
    payload_values: String,
}

/// `open`, then as many of `items` as keep the base64url of the whole within `encoded`
/// characters, then `close`.
fn json_within(
    encoded: usize,
    open: &str,
    items: impl Iterator<Item = String>,
    close: &str,
) -> String {
    let budget = encoded * 3 / 4;
    let mut json = open.to_owned();
    for item in items {
        if json.len() + item.len() + close.len() > budget {
            break;
        }
        json.push_str(&item);
    }
    json + close
}

/// The largest tokens: a valid one, and the hostile header and payload.
fn largest(issuer: &str) -> [String; 3] {
    let key = TestKey::primary();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid()}).to_string();
    // The header's base64url, two dots and a 2048-bit signature's 342 characters.
    let payload_room = MAX_TOKEN_BYTES - URL_SAFE_NO_PAD.encode(&header).len() - 2 - 342;
    let open = |claims: serde_json::Value| {
        let text = claims.to_string();
        text[..text.len() - 1].to_owned()
    };
    let padded = json_within(
        payload_room,
        &format!("{},\"padding\":\"", open(claims(issuer))),
        std::iter::repeat_with(|| "x".to_owned()),
        "\"}",
    );
    let audiences = json_within(
        payload_room,
        &format!(
            "{},\"aud\":[\"x\"",
            open(with(claims(issuer), json!({"aud": null})))
        ),
        std::iter::repeat_with(|| r#","x""#.to_owned()),
        &format!(r#","{AUDIENCE}"]}}"#),
    );
    // Refused before any key is used, so the signature is a stand-in.
    const REST: &str = ".e30.AAAA";
    let members = json_within(
        MAX_TOKEN_BYTES - REST.len(),
        r#"{"alg":"RS256""#,
        (0..).map(|index| format!(r#","m{index}":0"#)),
        "}",
    );
    [
        key.sign_bytes(header.as_bytes(), padded.as_bytes()),
        format!("{}{REST}", URL_SAFE_NO_PAD.encode(members)),
        key.sign_bytes(header.as_bytes(), audiences.as_bytes()),
    ]
}

impl Tokens {
    fn new(setup: &Setup) -> Tokens {
        let valid = setup.issuer.token();
        let (signing_input, signature) = valid.rsplit_once('.').expect("three segments");
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let [valid_16k, header_members, payload_values] = largest(&setup.issuer.url());
        Tokens {
            valid_16k,
            header_members,
            payload_values,
            expired: setup
                .issuer
                .token_with(json!({"iat": now() - 7200, "exp": now() - 3600})),
            bad_signature: format!("{signing_input}.{flipped}{}", &signature[1..]),
            unknown_kid: TestKey::secondary().sign(&claims(&setup.issuer.url())),
            malformed: format!("{signing_input}."),
            valid,
        }
    }

    /// Checks each refusal once outside the loop, so a path that stopped refusing (or refused
    /// for another reason) fails the run instead of timing the wrong thing.
    fn check_refusals(&self, setup: &Setup) {
        // The first unknown kid refetches the JWKS (once, then the cooldown holds).
        let _ = setup
            .runtime
            .block_on(setup.cached.verify(&self.unknown_kid));
        for (token, description) in [
            (&self.expired, "\"exp\" claim timestamp check failed"),
            (&self.bad_signature, "signature verification failed"),
            (
                &self.unknown_kid,
                "no applicable key found in the JSON Web Key Set",
            ),
            (&self.malformed, "Missing signature"),
            (
                &self.header_members,
                "Protected Header has an object with too many members",
            ),
            (&self.payload_values, "JWT Claims Set has too many values"),
        ] {
            assert_eq!(setup.refusal(token), description);
        }
        for token in [&self.valid_16k, &self.header_members, &self.payload_values] {
            assert!(token.len() <= MAX_TOKEN_BYTES, "{} bytes", token.len());
        }
        setup
            .verify(&setup.uncached, &self.valid_16k)
            .expect("the largest valid token verifies");
    }
}

/// The bare signature verification of one JWS, its key parsed once: the baselines. RSA-2048
/// PKCS #1 v1.5 SHA-256 of the valid token for verification; ES256 and EdDSA of a valid token
/// of each for theirs; ES256 of a proof for DPoP.
struct Bare {
    key: ParsedPublicKey,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl Bare {
    /// The valid token's RSA verification.
    fn rsa(valid: &str) -> Bare {
        Bare::new(parsed(TestKey::primary()), valid)
    }

    /// `jws`'s verification with `key`.
    fn new(key: ParsedPublicKey, jws: &str) -> Bare {
        let (signing_input, signature) = jws.rsplit_once('.').expect("three segments");
        let bare = Bare {
            key,
            signing_input: signing_input.as_bytes().to_vec(),
            signature: URL_SAFE_NO_PAD.decode(signature).expect("base64url"),
        };
        assert!(bare.verify(), "the baseline verifies");
        bare
    }

    fn verify(&self) -> bool {
        self.key
            .verify_sig(black_box(&self.signing_input), black_box(&self.signature))
            .is_ok()
    }
}

fn benchmarks(c: &mut Criterion<ThreadCpu>) {
    // First, while no other benchmark has left freed memory for the store to reuse.
    let memory_bytes_per_proof = replay_cost::memory_bytes_per_proof();
    let setup = Setup::new();
    let tokens = Tokens::new(&setup);
    tokens.check_refusals(&setup);
    let bare = Bare::rsa(&tokens.valid);

    bench_verify(c, &setup, &tokens, &bare);
    let algorithms = algorithms::Algorithms::new(&setup);
    let by_algorithm = algorithms.benchmarks(c, &setup);
    bench_reject(c, &setup, &tokens);
    let mut paired = paired_ratios(&setup, &tokens, &bare);
    paired.push_str(&by_algorithm);
    bench_sign(c, &bare);
    let client = dpop::Client::new(&setup);
    paired.push_str(&dpop::benchmarks(c, &setup, &client));
    let redis = replay_cost::redis_cost(&setup, &client);
    write_figures(
        "paired.txt",
        "paired ratios (ES256 and EdDSA: to their bare verification; DPoP: see the names; the others: to bare RSA verification)",
        &paired,
    );
    write_figures(
        "replay.txt",
        "the DPoP replay store's costs",
        &replay_cost::lines(memory_bytes_per_proof, redis.as_ref()),
    );
}

fn bench_verify(c: &mut Criterion<ThreadCpu>, setup: &Setup, tokens: &Tokens, bare: &Bare) {
    let mut group = c.benchmark_group("verify");
    group.bench_function("bare_rsa", |b| b.iter(|| bare.verify()));
    group.bench_function("full", |b| {
        b.iter(|| {
            setup
                .verify(&setup.uncached, black_box(&tokens.valid))
                .is_ok()
        })
    });
    group.bench_function("full_16k", |b| {
        b.iter(|| {
            setup
                .verify(&setup.uncached, black_box(&tokens.valid_16k))
                .is_ok()
        })
    });
    setup.verify(&setup.cached, &tokens.valid).expect("cached");
    group.bench_function("cache_hit", |b| {
        b.iter(|| {
            setup
                .verify(&setup.cached, black_box(&tokens.valid))
                .is_ok()
        })
    });
    group.finish();
}

fn bench_reject(c: &mut Criterion<ThreadCpu>, setup: &Setup, tokens: &Tokens) {
    let mut group = c.benchmark_group("reject");
    for (name, token) in [
        ("expired", &tokens.expired),
        ("bad_signature", &tokens.bad_signature),
        ("unknown_kid", &tokens.unknown_kid),
        ("malformed", &tokens.malformed),
        ("header_members", &tokens.header_members),
        ("payload_values", &tokens.payload_values),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| setup.verify(&setup.cached, black_box(token)).is_err())
        });
    }
    group.finish();
}

/// The ratios to bare verification, measured in alternating batches (see [`paired`]), as
/// `paired.txt` lines.
fn paired_ratios(setup: &Setup, tokens: &Tokens, bare: &Bare) -> String {
    let mut report = String::new();
    for (name, authenticator, token) in [
        ("verify/full", &setup.uncached, &tokens.valid),
        ("verify/cache_hit", &setup.cached, &tokens.valid),
        ("verify/full_16k", &setup.uncached, &tokens.valid_16k),
        ("reject/expired", &setup.cached, &tokens.expired),
        ("reject/bad_signature", &setup.cached, &tokens.bad_signature),
        ("reject/unknown_kid", &setup.cached, &tokens.unknown_kid),
        ("reject/malformed", &setup.cached, &tokens.malformed),
        (
            "reject/header_members",
            &setup.cached,
            &tokens.header_members,
        ),
        (
            "reject/payload_values",
            &setup.cached,
            &tokens.payload_values,
        ),
    ] {
        let ratio = paired_to_bare(setup, bare, authenticator, token);
        report.push_str(&format!("{name} {ratio:.4}\n"));
    }
    report
}

/// The paired ratio (see [`paired`]) of `authenticator`'s verification of `token`, accepted or
/// refused, to `bare`.
fn paired_to_bare(setup: &Setup, bare: &Bare, authenticator: &Authenticator, token: &str) -> f64 {
    paired(
        || {
            black_box(bare.verify());
        },
        || {
            let _ = black_box(setup.verify(authenticator, black_box(token)));
        },
    )
}

/// Writes `lines` to `target/bench/{file}` for `cargo xtask bench`, and prints them.
fn write_figures(file: &str, what: &str, lines: &str) {
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench");
    std::fs::create_dir_all(out).expect("target/bench");
    std::fs::write(format!("{out}/{file}"), lines)
        .unwrap_or_else(|error| panic!("{file}: {error}"));
    print!("{what}:\n{lines}");
}

/// What the mock issuer's token endpoint does per token (jsonwebtoken over aws-lc).
fn bench_sign(c: &mut Criterion<ThreadCpu>, bare: &Bare) {
    let key = TestKey::primary();
    let mut group = c.benchmark_group("sign");
    group.bench_function("bare_rsa", |b| {
        b.iter(|| key.signature(black_box(&bare.signing_input)))
    });
    group.finish();
}

/// The median over rounds of (CPU time of a batch of `subject`) / (CPU time of a batch of
/// `baseline`), the batches alternating. Criterion measures one function after another, so on
/// a shared machine a load that comes and goes skews ratios between its medians; here each
/// round's two batches see the same load, and the median ratio is what the targets compare.
fn paired(baseline: impl FnMut(), mut subject: impl FnMut()) -> f64 {
    paired_with(baseline, |n| vec![(); n], |()| subject())
}

/// [`paired`] for a subject that uses each of its inputs once: before each round, `inputs(n)`
/// makes the round's `n` inputs, outside the time measured.
fn paired_with<T>(
    mut baseline: impl FnMut(),
    mut inputs: impl FnMut(usize) -> Vec<T>,
    mut subject: impl FnMut(T),
) -> f64 {
    const ROUNDS: usize = 301;
    let batch = |f: &mut dyn FnMut(), n: usize| {
        let start = ThreadTime::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_nanos() as f64 / n as f64
    };
    // Batches of about a millisecond of baseline work, whatever the subject costs.
    let per_call = batch(&mut baseline, 50);
    let n = ((1e6 / per_call) as usize).clamp(10, 10_000);
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let inputs = inputs(n);
            let base = batch(&mut baseline, n);
            let start = ThreadTime::now();
            inputs.into_iter().for_each(&mut subject);
            (start.elapsed().as_nanos() as f64 / n as f64) / base
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
