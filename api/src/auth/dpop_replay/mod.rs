//! Remembering the DPoP proofs already used, so each is accepted once: in memory for one
//! process, in Redis for several replicas.
//!
//! A proof is identified by its replay key (SHA-256 over the proof key's thumbprint and its
//! `jti`, computed by the proof check) and remembered until its `iat` window closes: after that
//! the proof is refused as too old anyway, so the store may forget it.
//!
//! Both stores fail closed: when one cannot answer (the memory store at its bound with nothing
//! expired, Redis unreachable or slow) it says [`ReplayStoreUnavailable`] and the request is
//! refused with 503; an unchecked proof is never accepted.

mod memory;
#[cfg(test)]
mod redis_server;
mod redis_store;

use std::fmt;
use std::time::Duration;

pub use memory::{DEFAULT_CAPACITY, FIXED_BYTES, MAX_ENTRY_BYTES, MemoryReplayStore, SHARDED_FROM};
pub use redis_store::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_KEY_PREFIX, RedisReplayStore, RedisSettings,
};

/// Where the replay keys of accepted proofs are kept. Cloning shares the store.
#[derive(Debug, Clone)]
pub enum ReplayStore {
    /// In this process, bounded: for one replica.
    Memory(MemoryReplayStore),
    /// In Redis: for several replicas, which then refuse a proof any of them accepted.
    Redis(RedisReplayStore),
}

impl ReplayStore {
    /// A store in this process holding at most `capacity` replay keys (default:
    /// [`DEFAULT_CAPACITY`]); see [`MemoryReplayStore`] for what happens at the bound.
    pub fn memory(capacity: usize) -> Self {
        ReplayStore::Memory(MemoryReplayStore::new(capacity))
    }

    /// A store in the Redis server at `url` (`redis://[user:password@]host[:port][/db]`;
    /// Redis 7.0 or later, or Valkey), with the [`RedisSettings`] defaults. The URL is checked
    /// here; the connection is made on first use and remade whenever it breaks, so a replica
    /// starts (and serves bearer requests) while Redis is down. This waits at most
    /// [`DEFAULT_COMMAND_TIMEOUT`] for a first `PING`, only to warn in the log when Redis does
    /// not answer.
    pub async fn redis(url: &str) -> Result<Self, ReplayStoreError> {
        RedisReplayStore::connect(url, RedisSettings::default())
            .await
            .map(ReplayStore::Redis)
    }

    /// Records `key` until `remember_until` (Unix seconds; a key is always kept at least until
    /// `now + 1`). `Ok(true)`: the first use, accept the proof. `Ok(false)`: seen before and
    /// still remembered, a replay: refuse it. `Err`: the store cannot answer: refuse the request
    /// with 503 (fail closed).
    pub async fn first_use(
        &self,
        key: [u8; 32],
        remember_until: u64,
        now: u64,
    ) -> Result<bool, ReplayStoreUnavailable> {
        match self {
            ReplayStore::Memory(store) => store.first_use(key, remember_until, now),
            ReplayStore::Redis(store) => {
                let remember_for = remember_until.saturating_sub(now).max(1);
                store
                    .first_use(&key, Duration::from_secs(remember_for))
                    .await
            }
        }
    }
}

impl Default for ReplayStore {
    /// An in-memory store of [`DEFAULT_CAPACITY`] keys.
    fn default() -> Self {
        ReplayStore::memory(DEFAULT_CAPACITY)
    }
}

/// A replay store that cannot be set up: the Redis URL is not one this build can use.
#[derive(Debug, thiserror::Error)]
#[error("the DPoP replay store's Redis URL: {0}")]
pub struct ReplayStoreError(String);

/// The replay store could not say whether a proof was used before; the request must be
/// refused (503 with `Retry-After`), never accepted unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayStoreUnavailable {
    /// The memory store holds its capacity of proofs, none of them expired yet.
    Full,
    /// Redis did not answer within the command timeout (down, unreachable or overloaded).
    Timeout,
    /// Redis answered with an error or the connection failed.
    Failed,
}

impl fmt::Display for ReplayStoreUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplayStoreUnavailable::Full => "the DPoP replay store is full",
            ReplayStoreUnavailable::Timeout => {
                "the DPoP replay store (Redis) did not answer in time"
            }
            ReplayStoreUnavailable::Failed => "the DPoP replay store (Redis) failed",
        })
    }
}

impl std::error::Error for ReplayStoreUnavailable {}
