//! ES256 and EdDSA tokens: the full verification of each against a bare aws-lc verification of
//! the same token's signature, as `verify/full` is measured against `verify/bare_rsa`.
//!
//! A second issuer (wiremock, on the benchmark's runtime) publishes a P-256 and an Ed25519 key,
//! fresh for this run (`SigningKey`), and an authenticator without a token cache verifies one
//! valid token of each, so every call checks the signature. It is warmed up once; after that
//! every measured call completes without waiting (see [`ready`](super::ready)).

use std::hint::black_box;

use api::auth::{Algorithm, Authenticator};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey};
use criterion::Criterion;
use serde_json::Value;

use super::support::claims::claims;
use super::support::issuer::{TestIssuer, jwks_answer, raw_jwks_response};
use super::support::signing_keys::SigningKey;
use super::{Bare, Setup, ThreadCpu, jwk_bytes, options, paired_to_bare};

/// The algorithms measured beside RS256: the EC and Edwards ones an issuer is likeliest to use.
const MEASURED: [Algorithm; 2] = [Algorithm::ES256, Algorithm::EdDSA];

/// `jwk`'s public key parsed by aws-lc for `alg` (ES256: a P-256 point; EdDSA: an Ed25519 key),
/// with the fixed-length signatures JWS uses.
pub fn parsed_key(alg: Algorithm, jwk: &Value) -> ParsedPublicKey {
    match alg {
        Algorithm::ES256 => {
            // An uncompressed point: 0x04, then x and y.
            let point = [vec![0x04], jwk_bytes(jwk, "x"), jwk_bytes(jwk, "y")].concat();
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        }
        Algorithm::EdDSA => ParsedPublicKey::new(&ED25519, jwk_bytes(jwk, "x")),
        other => panic!("no bare baseline for {other}"),
    }
    .expect("a valid public key")
}

/// One algorithm's valid token and its bare baseline.
struct Measured {
    /// `es256` or `eddsa`: the benchmarks' names end with it.
    suffix: String,
    token: String,
    bare: Bare,
}

/// The issuer of the EC and Ed25519 tokens and an authenticator of them without a token cache.
pub struct Algorithms {
    /// Keeps the JWKS server alive.
    _issuer: TestIssuer,
    uncached: Authenticator,
    measured: Vec<Measured>,
}

impl Algorithms {
    /// Starts the issuer, signs a token with each key and verifies each once: the keys
    /// fetched, the verification checked to complete without the network.
    pub fn new(setup: &Setup) -> Algorithms {
        let keys = MEASURED.map(SigningKey::for_algorithm);
        let issuer = setup.runtime.block_on(async {
            let issuer = TestIssuer::bare().await;
            issuer.mount_discovery().await;
            jwks_answer(raw_jwks_response(
                keys.iter().map(|key| key.jwk()).collect(),
            ))
            .mount(&issuer.server)
            .await;
            issuer
        });
        let uncached = Authenticator::new(options(&issuer, 0)).expect("options");
        let measured = MEASURED
            .into_iter()
            .zip(keys)
            .map(|(alg, key)| {
                let token = key.sign(&claims(&issuer.url()));
                setup
                    .runtime
                    .block_on(uncached.verify(&token))
                    .unwrap_or_else(|error| panic!("the {alg} warm-up token: {error:?}"));
                setup
                    .verify(&uncached, &token)
                    .unwrap_or_else(|error| panic!("the {alg} token, warm: {error:?}"));
                Measured {
                    suffix: alg.name().to_lowercase(),
                    bare: Bare::new(parsed_key(alg, &key.jwk()), &token),
                    token,
                }
            })
            .collect();
        Algorithms {
            _issuer: issuer,
            uncached,
            measured,
        }
    }

    /// Criterion's medians of each algorithm's bare and full verification
    /// (`verify/bare_es256`, `verify/full_es256`, and the same for `eddsa`), then the paired
    /// ratios full / bare, as `paired.txt` lines.
    pub fn benchmarks(&self, c: &mut Criterion<ThreadCpu>, setup: &Setup) -> String {
        let mut group = c.benchmark_group("verify");
        for Measured {
            suffix,
            token,
            bare,
        } in &self.measured
        {
            group.bench_function(format!("bare_{suffix}"), |b| b.iter(|| bare.verify()));
            group.bench_function(format!("full_{suffix}"), |b| {
                b.iter(|| setup.verify(&self.uncached, black_box(token)).is_ok())
            });
        }
        group.finish();
        self.measured
            .iter()
            .map(
                |Measured {
                     suffix,
                     token,
                     bare,
                 }| {
                    let ratio = paired_to_bare(setup, bare, &self.uncached, token);
                    format!("verify/full_{suffix} {ratio:.4}\n")
                },
            )
            .collect()
    }
}
