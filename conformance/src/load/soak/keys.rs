//! The signing keys the run has seen, the rule that decides which valid requests are judged,
//! how the driver gets tokens of the issuer's current key, and how it measures when the api
//! accepts or refuses a key's tokens.
//!
//! The rule the valid stream follows (and the report checks): a key is *known* from the moment
//! the api first answered 200 to a token signed with it (the api then holds it in its cache,
//! and nothing but a successful refresh without that key removes it: failed and empty
//! refreshes keep the old set until the stale limit, far beyond any outage here). A key is
//! *retired* from the moment the script sends the rotation or revocation that stops the issuer
//! publishing it. The load only uses tokens of a known key, switches to a new key only after a
//! probe saw it accepted, and every valid request sent after its key was known and answered
//! before it was retired must get the contract's answer, whatever the issuer is doing.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use mock_issuer::KeySummary;
use mock_issuer::client::IssuerClient;
use mock_issuer::config::defaults;
use mock_issuer::oauth::ClientCredentials;

use super::dpop::DpopClient;
use super::traffic::{self, Active};

/// A signing key the run has seen, with the times (µs since the origin) that decide whether a
/// valid request with its token is judged.
#[derive(Debug)]
pub struct KeyInfo {
    /// The key's `kid`.
    pub kid: String,
    /// When a token of this key was first answered 200 (the api has it cached).
    pub known_us: Option<u64>,
    /// When the script sent the request that stopped the issuer publishing it.
    pub retired_us: Option<u64>,
    /// A scoped token signed with it, to see when the api stops accepting it once revoked.
    pub token: String,
}

impl KeyInfo {
    /// Whether a valid request with this key's token, sent at `sent_us` and answered at
    /// `done_us`, is judged: the key was known when it was sent and not yet retired when it
    /// was answered.
    pub fn covers(&self, sent_us: u64, done_us: u64) -> bool {
        self.known_us.is_some_and(|known| known <= sent_us)
            && self.retired_us.is_none_or(|retired| retired > done_us)
    }
}

/// Every key the run has seen, by registry index (the index [`Record`](super::traffic::Record)s
/// and [`Active`](super::traffic::Active) name).
#[derive(Debug, Default)]
pub struct Keys(Vec<KeyInfo>);

impl Keys {
    /// The key at registry index `index`.
    pub fn get(&self, index: usize) -> Option<&KeyInfo> {
        self.0.get(index)
    }

    /// The key whose `kid` is `kid`.
    pub fn find(&self, kid: &str) -> Option<&KeyInfo> {
        self.0.iter().find(|key| key.kid == kid)
    }

    /// The registry index of `kid`, added with `token` (a scoped token signed by it) if new.
    pub fn register(&mut self, kid: &str, token: &str) -> usize {
        if let Some(index) = self.0.iter().position(|key| key.kid == kid) {
            return index;
        }
        self.0.push(KeyInfo {
            kid: kid.to_owned(),
            known_us: None,
            retired_us: None,
            token: token.to_owned(),
        });
        self.0.len() - 1
    }

    /// Marks the key at `index` known at `at_us`.
    pub fn mark_known(&mut self, index: usize, at_us: u64) {
        if let Some(key) = self.0.get_mut(index) {
            key.known_us = Some(at_us);
        }
    }

    /// Marks every key `published` leaves out as retired at `at_us` (when the change was
    /// sent), so no request answered after that counts against the api.
    pub fn retire_unpublished(&mut self, published: &KeySummary, at_us: u64) {
        for key in &mut self.0 {
            if key.retired_us.is_none() && !published.published().any(|kid| kid == key.kid) {
                key.retired_us = Some(at_us);
            }
        }
    }
}

/// What a key change measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    /// A rotation's new current key, published as next long before, was accepted.
    RotatedPrePublished,
    /// The same while the issuer's JWKS was down: pre-publication is for exactly this.
    RotatedPrePublishedIssuerDown,
    /// A rotation's new current key that was never served to the api was accepted: only a
    /// refresh after an unknown `kid` can have brought it.
    RotatedNeverServed,
    /// A revoked key's token was refused.
    RevokedRefused,
}

impl KeyChange {
    /// The words for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            KeyChange::RotatedPrePublished => "rotated key (pre-published)",
            KeyChange::RotatedPrePublishedIssuerDown => "rotated key (pre-published, issuer down)",
            KeyChange::RotatedNeverServed => "rotated key (never served before)",
            KeyChange::RevokedRefused => "revoked key refused",
        }
    }

    /// Whether it is a new key's first acceptance (else a revoked key's first refusal).
    pub fn is_rotation(self) -> bool {
        !matches!(self, KeyChange::RevokedRefused)
    }
}

/// One measured key change: a new key's first acceptance, or a revoked key's first refusal.
#[derive(Debug, Clone)]
pub struct KeyEvent {
    /// The phase it happened in.
    pub phase: usize,
    /// What was measured.
    pub change: KeyChange,
    /// The key's `kid`.
    pub kid: String,
    /// From the moment the api could learn of the change to the answer that showed it had,
    /// or `None` if it never did within the wait.
    pub latency: Option<Duration>,
    /// The most the check allows.
    pub bound: Duration,
    /// Statuses seen while waiting, as (status, count); 0 is no answer.
    pub seen: Vec<(u16, u64)>,
}

impl KeyEvent {
    /// Whether it came too late, or never.
    pub fn is_late(&self) -> bool {
        self.latency.is_none_or(|latency| latency > self.bound)
    }
}

/// A scoped and an unscoped bearer token and a DPoP-bound scoped token, all signed with the
/// key `kid`.
pub struct TokenPair {
    /// The key's `kid`.
    pub kid: String,
    /// A `read:messages` token.
    pub scoped: String,
    /// A token without scopes.
    pub unscoped: String,
    /// A `read:messages` token bound to the run's DPoP key.
    pub dpop: String,
}

impl TokenPair {
    /// The pair as the valid stream's tokens, `key` being `kid`'s registry index.
    pub fn into_active(self, key: usize) -> Active {
        Active {
            key,
            scoped: self.scoped,
            unscoped: self.unscoped,
            dpop: self.dpop,
        }
    }
}

/// Mints the valid stream's tokens from the mock's default tenant, as any client gets them.
pub struct Minter<'a> {
    issuer: &'a IssuerClient,
    /// Gets the DPoP-bound token, for the run's DPoP key.
    dpop: &'a DpopClient,
    /// The reader client: a `read:messages` token.
    scoped: ClientCredentials,
    /// The client granted no scope.
    unscoped: ClientCredentials,
}

impl<'a> Minter<'a> {
    /// A minter for the issuer's default tenant, through `issuer`, binding its DPoP tokens to
    /// `dpop`'s key.
    pub fn new(issuer: &'a IssuerClient, dpop: &'a DpopClient) -> Self {
        let request = |id, secret| ClientCredentials::new(id, secret, defaults::API_AUDIENCE);
        Minter {
            issuer,
            dpop,
            scoped: request(defaults::READER_CLIENT_ID, defaults::READER_CLIENT_SECRET),
            unscoped: request(
                defaults::NO_SCOPES_CLIENT_ID,
                defaults::NO_SCOPES_CLIENT_SECRET,
            ),
        }
    }

    /// A scoped, an unscoped and a DPoP-bound token from the current key.
    pub async fn pair(&self) -> Result<TokenPair> {
        let scoped = self.mint(&self.scoped).await?;
        let unscoped = self.mint(&self.unscoped).await?;
        let dpop = self.dpop.bound_token(&self.scoped).await?;
        let kid = traffic::kid_of(&scoped).context("a token without a kid")?;
        if [&unscoped, &dpop]
            .iter()
            .any(|token| traffic::kid_of(token).as_deref() != Some(kid.as_str()))
        {
            // A rotation between the mints: the caller tries again.
            bail!("the tokens were signed with different keys");
        }
        Ok(TokenPair {
            kid,
            scoped,
            unscoped,
            dpop,
        })
    }

    /// A token, as `client` gets one.
    async fn mint(&self, client: &ClientCredentials) -> Result<String> {
        let response = self.issuer.client_credentials(client).await?;
        Ok(response.access_token.into_inner())
    }
}

/// What a [`Poll`] saw.
pub struct Wait {
    /// From the poll's origin to the wanted answer; `None` if it never came.
    pub latency: Option<Duration>,
    /// Statuses seen, as (status, count); 0 is no answer.
    pub seen: Vec<(u16, u64)>,
}

/// Sends a token to `/api/private` again and again until the api gives a wanted answer.
pub struct Poll {
    client: reqwest::Client,
    url: String,
    /// The pause between two requests.
    every: Duration,
    /// How long after its origin a poll gives up.
    limit: Duration,
}

impl Poll {
    /// Polls `api`'s `/api/private` every `every`, for at most `limit` from a poll's origin.
    pub fn new(api: &str, every: Duration, limit: Duration) -> Result<Self> {
        Ok(Poll {
            client: traffic::client(Duration::from_secs(5))?,
            url: format!("{api}/api/private"),
            every,
            limit,
        })
    }

    /// Polls with `token` until the answer is `want` or the limit has passed since `from`.
    pub async fn until(&self, token: &str, want: u16, from: Instant) -> Wait {
        let mut seen: Vec<(u16, u64)> = Vec::new();
        while from.elapsed() < self.limit {
            let status = traffic::status_of(self.client.get(&self.url).bearer_auth(token)).await;
            match seen.iter_mut().find(|(s, _)| *s == status) {
                Some((_, count)) => *count += 1,
                None => seen.push((status, 1)),
            }
            if status == want {
                return Wait {
                    latency: Some(from.elapsed()),
                    seen,
                };
            }
            tokio::time::sleep(self.every).await;
        }
        Wait {
            latency: None,
            seen,
        }
    }
}

/// Statuses seen, as `503×3 200×1`.
pub fn seen_text(seen: &[(u16, u64)]) -> String {
    let seen: Vec<String> = seen.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    seen.join(" ")
}
