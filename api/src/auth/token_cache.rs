//! The verified-token cache: a token verified once is not verified again while it stays
//! cached, which takes the RSA signature check off the path of every repeated request.
//!
//! # What it trades
//!
//! An RSA-2048 check costs about 20 µs, most of a protected request; a client sends the same
//! token for minutes or hours. [`TokenCache`] keeps the claims of tokens that passed the whole
//! pipeline, so a repeated token costs a hash lookup and a few comparisons (about 0.4 µs).
//! Only what does not change with time is cached: the token was signed by a key of the
//! issuer's JWKS and its claims passed the static checks (`iss`, `aud`, types, strict mode).
//!
//! - **What is re-checked on every hit:** `exp`, `nbf`, `iat` and `MAX_TOKEN_AGE` with the
//!   same code a fresh token meets (`TimeClaims::check`); the entry's age against
//!   `TOKEN_CACHE_MAX_TTL`; that the key which verified it is still in the current JWKS, by
//!   fingerprint; that the JWKS is within its stale limit. A hit also starts the background
//!   JWKS refresh a miss would, so a server answering from the cache still learns of
//!   rotations. Route checks (scopes, permissions) run after authentication on every request,
//!   cached or not. A failed re-check drops the entry and the token is verified afresh, so the
//!   answer (which error, a refetch, a 503) is the uncached one: a cache hit never answers
//!   differently from a fresh verification.
//! - **What it trades:** a key removed from the JWKS stops its cached tokens only once the api
//!   has fetched the new JWKS (on an unknown `kid` after the cooldown, or at the max age,
//!   10 min), exactly as for uncached tokens, whose key stays cached that long too. A token
//!   cannot be revoked before `exp` either way (JWTs are bearer tokens); the TTL (default
//!   5 min) bounds how long one entry lives whatever its `exp`. A configuration change needs a
//!   restart, which empties the cache. Nothing is cached for a refused token, so a flood of bad
//!   tokens costs what it did.
//! - **Forgery:** the map hashes the token (foldhash, seeded per process) only to find the
//!   slot; a hit compares the full token bytes, so a hash collision cannot authenticate another
//!   token. Only tokens the issuer signed can be inserted, so an attacker cannot fill the cache
//!   with made-up entries; the weigher and capacity bound what valid tokens can take.
//! - **Memory:** at most `TOKEN_CACHE_CAPACITY` units of 4 KiB (entries of estimated size: the
//!   token, its parsed claims, fixed overhead), so the default 4096 holds at most about 16 MiB
//!   of entries; tokens over `TOKEN_CACHE_MAX_TOKEN_BYTES` (4 KiB) are never cached.
//!   `TOKEN_CACHE_CAPACITY=0` turns it off.
//!
//! # Why `quick_cache`
//!
//! The map is `quick_cache`'s sharded cache rather than a `Mutex<HashMap>` or an LRU: reads take
//! one shard's read lock (shards ≈ 4 × cores), so concurrent hits do not serialise, and its
//! CLOCK-PRO-like eviction admits a new token as "cold" and keeps tokens seen twice, so a flood
//! of one-off valid tokens (only those are inserted) cycles through the cold part without
//! evicting the entries of regular clients. Its weigher bounds memory, not just entries.

use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::claims::Claims;
use super::issuers::IssuerKeys;
use super::jwks::KeyFingerprint;
use super::options::{TOKEN_CACHE_UNIT_BYTES, TokenCachePolicy};

/// Which key verified a token: its fingerprint, and the store of the issuer that published it.
#[derive(Clone)]
pub(crate) struct VerifiedBy {
    pub keys: IssuerKeys,
    pub fingerprint: KeyFingerprint,
}

/// A cached verification: the claims, which key verified them, and since when.
#[derive(Clone)]
pub(crate) struct Entry {
    pub claims: Claims,
    pub key: VerifiedBy,
    cached_at: Instant,
    /// Capacity units charged for this entry (≥ 1), computed once: the weigher must be cheap.
    units: u32,
}

#[derive(Clone)]
struct EntryUnits;

impl Weighter<Box<str>, Entry> for EntryUnits {
    fn weight(&self, _token: &Box<str>, entry: &Entry) -> u64 {
        u64::from(entry.units)
    }
}

/// Verified tokens, bounded in entries, memory and token size. `None` where capacity is 0.
pub(crate) struct TokenCache {
    entries: Cache<Box<str>, Entry, EntryUnits>,
    max_ttl: Duration,
    max_token_bytes: usize,
}

/// Fixed memory of one entry beyond the token and the claims: the slot, the boxed key's header
/// and the entry itself, rounded up.
const ENTRY_OVERHEAD: usize = 128;

impl TokenCache {
    /// A cache with `policy`'s limits, or `None` when its capacity is 0 (caching off).
    pub(crate) fn new(policy: &TokenCachePolicy) -> Option<Self> {
        if policy.capacity == 0 {
            return None;
        }
        // Our own shard count, so each shard's capacity is a whole share of the total and the
        // shards together never exceed it (quick_cache rounds each share up).
        let mut shards = std::thread::available_parallelism()
            .map_or(4, |cores| cores.get() * 4)
            .next_power_of_two();
        while shards > 1 && policy.capacity / shards < 32 {
            shards /= 2;
        }
        let capacity = (policy.capacity / shards * shards) as u64;
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(policy.capacity)
            .weight_capacity(capacity)
            .shards(shards)
            .build()
            .ok()?;
        Some(TokenCache {
            entries: Cache::with_options(
                options,
                EntryUnits,
                quick_cache::DefaultHashBuilder::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            ),
            max_ttl: policy.max_ttl,
            max_token_bytes: policy.max_token_bytes,
        })
    }

    /// Whether `token` may be cached at all: larger tokens are not even looked up.
    pub(crate) fn admits(&self, token: &str) -> bool {
        token.len() <= self.max_token_bytes
    }

    /// The entry for exactly this token, unless it is older than the maximum TTL (then it is
    /// dropped). The caller re-checks the time claims and the key.
    pub(crate) fn get(&self, token: &str, now: Instant) -> Option<Entry> {
        let entry = self.entries.get(token)?;
        if now.saturating_duration_since(entry.cached_at) >= self.max_ttl {
            self.remove(token);
            return None;
        }
        Some(entry)
    }

    /// Caches a verified token. Entries heavier than a shard can hold are skipped by the map.
    pub(crate) fn insert(&self, token: &str, claims: Claims, key: VerifiedBy) {
        let bytes = ENTRY_OVERHEAD + token.len() + claims.estimated_heap_bytes();
        let units = u32::try_from(bytes.div_ceil(TOKEN_CACHE_UNIT_BYTES)).unwrap_or(u32::MAX);
        self.entries.insert(
            token.into(),
            Entry {
                claims,
                key,
                cached_at: Instant::now(),
                units: units.max(1),
            },
        );
    }

    /// Drops the entry of `token`, if any.
    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(token);
    }

    /// Entries held now.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Capacity units used now.
    pub(crate) fn units(&self) -> u64 {
        self.entries.weight()
    }

    /// Capacity units available.
    pub(crate) fn capacity(&self) -> u64 {
        self.entries.capacity()
    }
}
