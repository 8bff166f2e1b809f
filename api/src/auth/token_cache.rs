//! The verified-token cache: a token verified once is not verified again while it stays
//! cached, which takes the RSA signature check (most of a protected request's cost) off the
//! path of every repeated request.
//!
//! Only what does not change with time is cached: the token was signed by a key of the
//! issuer's JWKS and its claims passed the static checks (`iss`, `aud`, types, strict mode).
//! Each hit re-checks what can change: the time claims (`exp`, `nbf`, `iat` and the maximum
//! age), the entry's own age against the maximum TTL, and whether the verifying key is still in
//! the current JWKS (by fingerprint). An entry that fails any of these is dropped and the token
//! goes through the full pipeline, so a cache hit never answers differently from a fresh
//! verification. Route checks (scopes, permissions) run after authentication on every request,
//! cached or not.
//!
//! The map is `quick_cache`'s sharded cache rather than a `Mutex<HashMap>` or an LRU: reads take
//! one shard's read lock (shards ≈ 4 × cores), so concurrent hits do not serialise, and its
//! CLOCK-PRO-like eviction admits a new key as "cold" and keeps keys seen twice, so a flood of
//! one-off tokens (valid ones: only those are inserted) cycles through the cold part without
//! evicting the tokens of regular clients. Its weigher bounds memory, not just entries. Keys are
//! the whole token: the hash (seeded per process) only finds the slot, and a hit compares every
//! byte of the token, so a hash collision can never authenticate a different token.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::claims::Claims;
use super::jwks::KeyFingerprint;
use super::options::{TOKEN_CACHE_UNIT_BYTES, TokenCachePolicy};

/// A cached verification: the claims, which key verified them, and since when.
#[derive(Clone)]
pub(crate) struct Entry {
    pub claims: Claims,
    pub key: KeyFingerprint,
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
    pub(crate) fn insert(&self, token: &str, claims: Claims, key: KeyFingerprint) {
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

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn units(&self) -> u64 {
        self.entries.weight()
    }

    fn capacity(&self) -> u64 {
        self.entries.capacity()
    }
}

/// Counters of the authentication pipeline, for tests, benchmarks and metrics. Relaxed atomics:
/// each is exact on its own, but a snapshot of several may be mid-request. Aligned to their own
/// cache lines, so the writes do not slow the reads of the read-only data beside them.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub insertions: AtomicU64,
    pub signature_checks: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}

/// A snapshot of the verified-token cache and of how many signatures were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TokenCacheStats {
    /// Tokens answered from the cache, with no signature check.
    pub hits: u64,
    /// Lookups that found nothing usable (absent, past the TTL, expired, or its key gone).
    /// Tokens too large to cache are not looked up and not counted.
    pub misses: u64,
    /// Verified tokens put in the cache.
    pub insertions: u64,
    /// RSA signature checks performed, cached or not: what the cache saves.
    pub signature_checks: u64,
    /// Entries held now.
    pub entries: usize,
    /// Capacity units used now (one per started 4 KiB of an entry's estimated memory).
    pub units: u64,
    /// Capacity units available; 0 when the cache is off.
    pub capacity: u64,
}

pub(crate) fn stats(cache: Option<&TokenCache>, counters: &Counters) -> TokenCacheStats {
    TokenCacheStats {
        hits: counters.hits.load(Relaxed),
        misses: counters.misses.load(Relaxed),
        insertions: counters.insertions.load(Relaxed),
        signature_checks: counters.signature_checks.load(Relaxed),
        entries: cache.map_or(0, TokenCache::len),
        units: cache.map_or(0, TokenCache::units),
        capacity: cache.map_or(0, TokenCache::capacity),
    }
}
