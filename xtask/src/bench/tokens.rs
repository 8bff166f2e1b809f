//! The bench tenant and its tokens: one token every request reuses, and a pool of distinct
//! tokens (with a tampered twin of each) that the cache cannot answer, minted through the mock
//! issuer's `/oauth/token` like any client's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use mock_issuer::config::defaults;
use mock_issuer::{ClientCredentials, ClientError, IssuerClient};
use tokio::task::JoinSet;

use super::CACHE_CAPACITY;
use crate::http::Http;

/// A second API whose tokens follow RFC 9068, which gives each a random `jti`: the mock
/// issuer's Auth0-shaped tokens minted in the same second are byte-identical, and the pool
/// scenario needs thousands of distinct ones.
const POOL_AUDIENCE: &str = "https://quickstarts/api/pool";
/// Twice the cache: each wrk thread cycles through its own half, so a token comes back only
/// after the other requests have pushed it out, and nearly every request is a miss.
pub const POOL_SIZE: usize = 2 * CACHE_CAPACITY;
/// Token requests in flight while the pool is minted.
const MINTING_WORKERS: usize = 4;
/// Attempts per token: a connection reset while thousands are minted should not void a
/// ten-minute run.
const ATTEMPTS: u32 = 3;

/// The bench tenant: the default API and the pool API, and the reader client granted
/// `read:messages` on both.
pub fn tenant_toml() -> String {
    let (api, scope) = (defaults::API_AUDIENCE, defaults::READ_MESSAGES);
    let (id, secret) = (defaults::READER_CLIENT_ID, defaults::READER_CLIENT_SECRET);
    format!(
        r#"[[apis]]
identifier = "{api}"
scopes = ["{scope}"]

[[apis]]
identifier = "{POOL_AUDIENCE}"
scopes = ["{scope}"]
dialect = "rfc9068"

[[clients]]
id = "{id}"
secret = "{secret}"
grants = [
  {{ audience = "{api}", scopes = ["{scope}"] }},
  {{ audience = "{POOL_AUDIENCE}", scopes = ["{scope}"] }},
]
"#
    )
}

/// The api's `AUDIENCE`: both APIs of the bench tenant.
pub fn audiences() -> String {
    format!("{},{POOL_AUDIENCE}", defaults::API_AUDIENCE)
}

/// A token request of the reader client for `audience`. For the bench's requests as for the
/// token endpoint scenario's body.
pub fn reader_request(audience: &str) -> ClientCredentials {
    ClientCredentials::new(
        defaults::READER_CLIENT_ID,
        defaults::READER_CLIENT_SECRET,
        audience,
    )
}

/// The tokens the scenarios send.
pub struct Tokens {
    /// A token for the default API, sent on every request of the one-token scenarios.
    pub one: String,
    /// [`POOL_SIZE`] distinct tokens, one a line.
    pub pool: PathBuf,
    /// The same tokens with a broken signature, one a line.
    pub invalid_pool: PathBuf,
}

impl Tokens {
    /// Mints the tokens from the issuer at `issuer` and writes the pools into `out`.
    pub fn mint(http: &Http, issuer: &str, out: &Path) -> Result<Self> {
        eprintln!("bench: minting {POOL_SIZE} distinct tokens from {issuer}");
        let client = http.issuer(issuer)?;
        let one = http.block_on(mint(&client, &reader_request(defaults::API_AUDIENCE)))?;
        let pool = http.block_on(mint_pool(&client, POOL_SIZE))?;
        let invalid: Vec<String> = pool.iter().map(|token| tamper(token)).collect();
        let tokens = Self {
            one,
            pool: out.join("pool.txt"),
            invalid_pool: out.join("pool-invalid.txt"),
        };
        std::fs::write(&tokens.pool, pool.join("\n") + "\n")?;
        std::fs::write(&tokens.invalid_pool, invalid.join("\n") + "\n")?;
        Ok(tokens)
    }
}

/// One token, retrying a failed connection up to [`ATTEMPTS`] times in all; a refusal is final.
async fn mint(issuer: &IssuerClient, request: &ClientCredentials) -> Result<String> {
    let mut attempt = 1;
    loop {
        match issuer.client_credentials(request).await {
            Ok(answer) => return Ok(answer.access_token.into_inner()),
            Err(error @ ClientError::Transport(_)) if attempt < ATTEMPTS => {
                attempt += 1;
                eprintln!("bench: token request failed ({error}); retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error).context("minting a token"),
        }
    }
}

/// `count` distinct tokens for the pool API, minted over a few connections at once.
async fn mint_pool(issuer: &IssuerClient, count: usize) -> Result<Vec<String>> {
    let mut workers = JoinSet::new();
    for worker in 0..MINTING_WORKERS {
        let issuer = issuer.clone();
        workers.spawn(async move {
            let request = reader_request(POOL_AUDIENCE);
            let mut tokens = Vec::new();
            for _ in (0..count).filter(|n| n % MINTING_WORKERS == worker) {
                tokens.push(mint(&issuer, &request).await?);
            }
            Ok::<_, anyhow::Error>(tokens)
        });
    }
    let mut tokens = Vec::with_capacity(count);
    while let Some(minted) = workers.join_next().await {
        tokens.extend(minted.context("a minting task")??);
    }
    let distinct: HashSet<&String> = tokens.iter().collect();
    if distinct.len() != count {
        bail!(
            "the issuer minted {} distinct tokens of {count}",
            distinct.len()
        );
    }
    Ok(tokens)
}

/// The same token with its signature's first character changed: still canonical base64url,
/// so it reaches the signature check and fails there.
fn tamper(token: &str) -> String {
    let (input, signature) = token.rsplit_once('.').expect("three segments");
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    format!("{input}.{flipped}{}", &signature[1..])
}

#[cfg(test)]
mod tests {
    use mock_issuer::{IssuerConfig, MockIssuer};

    use super::*;

    #[test]
    fn a_pool_of_distinct_tokens_is_minted_from_the_bench_tenant() {
        let http = Http::new().expect("a client");
        let config = IssuerConfig::default()
            .with_tenant_toml(&tenant_toml())
            .expect("a valid tenant");
        // The issuer's server runs on the client's runtime, driven by each `block_on`.
        let issuer = http.block_on(MockIssuer::start(config)).expect("starts");
        let client = http.issuer(issuer.url()).expect("a client");

        let pool = http.block_on(mint_pool(&client, 10)).expect("mints");
        let refused = http.block_on(mint(&client, &reader_request("https://unknown/api")));

        assert_eq!(pool.len(), 10);
        assert_eq!(pool.iter().collect::<HashSet<_>>().len(), 10);
        assert!(refused.is_err());
    }

    #[test]
    fn the_tenant_is_one_the_issuer_accepts() {
        let config = IssuerConfig::default()
            .with_tenant_toml(&tenant_toml())
            .expect("a valid tenant");

        let reader = config
            .client(defaults::READER_CLIENT_ID)
            .expect("the reader client");
        assert!(reader.grant_for(POOL_AUDIENCE).is_some());
        assert!(reader.grant_for(defaults::API_AUDIENCE).is_some());
    }

    #[test]
    fn a_tampered_token_differs_only_in_its_signature() {
        let token = "aGVhZA.Ym9keQ.AAAA";

        assert_eq!(tamper(token), "aGVhZA.Ym9keQ.BAAA");
        assert_eq!(tamper("aGVhZA.Ym9keQ.Qxyz"), "aGVhZA.Ym9keQ.Axyz");
    }
}
