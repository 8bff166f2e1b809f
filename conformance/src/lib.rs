//! The conformance suite for resource servers that speak the quickstart's contract
//! (`GET /api/public`, `/api/private`, `/api/private-scoped` behind Auth0 access tokens).
//!
//! It is black-box: it talks to a server only over HTTP and makes its tokens with a
//! [`mock_issuer::MockIssuer`], so it certifies this project's `api`, the Express original or
//! any other implementation the same way.
//!
//! - [`catalogue`]: the cases, as data: how the token is made, where it goes, what must come
//!   back, and whether the rule is the reference contract's or this project's stricter one.
//! - [`forge`]: turns a case's recipe into a token (valid, expired, hostile, …).
//! - [`proof`]: the DPoP client (RFC 9449): fresh keys per run, and a proof per request.
//! - [`runner`]: sends each case to a target and judges the answer; [`runner::Report`] prints
//!   the table and the `N passed, M failed` line.
//! - [`metadata`]: checks the target's Protected Resource Metadata (RFC 9728) against what it
//!   does, when it serves a document; reported after the cases, this project's rule.
//! - [`challenge`]: reads `WWW-Authenticate` into its challenges (`Bearer`, `DPoP`).
//! - [`load`]: the load tools, black-box too: [`load::soak`] (steady load while the mock
//!   issuer fails, judged phase by phase; the `soak` binary) and [`load::wrk`] (one `wrk`
//!   benchmark scenario and its figures).

pub mod catalogue;
pub mod challenge;
pub mod corpus;
pub mod forge;
pub mod load;
pub mod metadata;
pub mod proof;
pub mod runner;

/// The API identifier the suite's tokens are issued for (the mock issuer's default API).
pub const AUDIENCE: &str = "https://quickstarts/api";

/// The tenant the suite's issuer runs: the mock's default one (Auth0's shapes and RSA keys),
/// and beside its API two more that sign with ES256 and EdDSA, so that its JWKS also publishes
/// a P-256 and an Ed25519 key for the per-algorithm cases. Tokens for [`AUDIENCE`] are still
/// RS256, as Auth0 signs them.
pub fn tenant() -> mock_issuer::IssuerConfig {
    use mock_issuer::{ApiConfig, IssuerConfig, SigningAlg};
    let mut config = IssuerConfig::default();
    for (identifier, alg) in [
        ("https://es256.quickstarts/api", SigningAlg::Es256),
        ("https://eddsa.quickstarts/api", SigningAlg::EdDsa),
    ] {
        config.apis.push(
            ApiConfig {
                identifier: identifier.to_owned(),
                ..ApiConfig::default()
            }
            .with_signing_alg(alg),
        );
    }
    config
}
