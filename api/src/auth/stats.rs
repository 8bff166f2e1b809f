//! What the authentication pipeline has done since start-up: verified-token cache hits,
//! misses and insertions, and RSA signature checks, for tests, benchmarks and metrics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::token_cache::TokenCache;

/// The pipeline's running counts. Relaxed atomics: each is exact on its own, but a snapshot of
/// several may be mid-request. Aligned to their own cache lines, so the writes do not slow the
/// reads of the read-only data beside them.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub insertions: AtomicU64,
    pub signature_checks: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// A snapshot of the counts and of `cache`'s occupancy (`None`: the cache is off).
    pub(crate) fn snapshot(&self, cache: Option<&TokenCache>) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            insertions: self.insertions.load(Relaxed),
            signature_checks: self.signature_checks.load(Relaxed),
            entries: cache.map_or(0, TokenCache::len),
            units: cache.map_or(0, TokenCache::units),
            capacity: cache.map_or(0, TokenCache::capacity),
        }
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
