//! The replay store in this process: a bounded, sharded map from replay key to the second it
//! may be forgotten.
//!
//! The bound is a number of entries, each at most [`MAX_ENTRY_BYTES`]: a flood of fresh proofs
//! fills it and no more. At the bound, expired entries are dropped first; when none has expired
//! the store refuses NEW proofs (`ReplayStoreUnavailable::Full`, a 503) rather than forget one
//! that is still inside its window, which would let that proof be replayed. A replay is still
//! recognised (and refused) when the store is full.
//!
//! A store of [`SHARDED_FROM`] keys or more is 16 shards, each holding a 16th of the capacity,
//! so concurrent requests rarely wait on the same lock; keys are spread by a hash keyed per
//! store, so nobody can aim proofs at one shard, and a shard fills when the store is about 99%
//! full. Smaller stores are one shard, exactly bounded.
//!
//! Cost: one lock of one shard and two hash-map operations per proof. Expired entries are
//! dropped only when a shard is full, by a scan of that shard at most once per second (a shard
//! remembers its earliest expiry, so a scan that would find nothing is skipped).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::ReplayStoreUnavailable;

/// The default capacity, in replay keys: about 12 MB at most (see [`MAX_ENTRY_BYTES`]). With the
/// default `iat` window (300 s old to 30 s ahead, so a proof is remembered about 330 s) it takes
/// about 750 fresh proofs a second, sustained, to reach it.
pub const DEFAULT_CAPACITY: usize = 250_000;

/// The most memory one entry takes, in bytes, hash-table slack included: 16 bytes of key, 4 of
/// expiry and 1 control byte per slot, in a table at least 7/16 full (it doubles when 7/8
/// full). A store holds at most `capacity × MAX_ENTRY_BYTES` bytes of entries, plus at most
/// [`FIXED_BYTES`] whatever its capacity.
pub const MAX_ENTRY_BYTES: usize = 48;

/// What a store takes beyond its entries, at most: its shards, and small tables' slack.
pub const FIXED_BYTES: usize = SHARDS * 256;

/// The smallest capacity split into shards; a smaller store is one shard.
pub const SHARDED_FROM: usize = SHARDS * 1024;

/// The number of shards of a large store (a power of two).
const SHARDS: usize = 16;

/// How much of the replay key is kept: 128 bits. The key is a SHA-256 output, so two different
/// proofs share a prefix by chance with negligible probability (and finding two that do costs
/// 2^64 hashes); the worst a shared prefix could do is refuse a proof, never accept a replay.
const KEPT_KEY_BYTES: usize = 16;

type StoredKey = [u8; KEPT_KEY_BYTES];

/// The in-memory replay store: see the module documentation for the bound and what happens at
/// it. Cloning shares the store.
#[derive(Clone)]
pub struct MemoryReplayStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// One, or [`SHARDS`].
    shards: Box<[CacheLine<Mutex<Shard>>]>,
    /// The most entries one shard holds: `capacity / shards`.
    shard_capacity: usize,
    /// Picks the shard; keyed per store.
    shard_hasher: RandomState,
}

/// Keeps each shard's lock on its own cache lines, so threads working on different shards do
/// not slow each other down.
#[repr(align(128))]
struct CacheLine<T>(T);

#[derive(Default)]
struct Shard {
    /// Replay key prefix → the Unix second from which the entry may be forgotten.
    entries: HashMap<StoredKey, u32>,
    /// No entry expires before this second (`None` when empty): a purge before it would find
    /// nothing.
    earliest_expiry: Option<u32>,
}

impl MemoryReplayStore {
    /// A store of at most `capacity` replay keys (0 refuses every proof as `Full`).
    pub fn new(capacity: usize) -> Self {
        let shards = if capacity >= SHARDED_FROM { SHARDS } else { 1 };
        Self {
            inner: Arc::new(Inner {
                shards: (0..shards)
                    .map(|_| CacheLine(Mutex::new(Shard::default())))
                    .collect(),
                shard_capacity: capacity / shards,
                shard_hasher: RandomState::new(),
            }),
        }
    }

    /// The most replay keys this store holds.
    pub fn capacity(&self) -> usize {
        self.inner.shard_capacity * self.inner.shards.len()
    }

    /// The replay keys held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        (0..self.inner.shards.len())
            .map(|index| self.inner.lock(index).entries.len())
            .sum()
    }

    /// Whether the store holds no replay key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// See [`ReplayStore::first_use`](super::ReplayStore::first_use).
    pub fn first_use(
        &self,
        key: [u8; 32],
        remember_until: u64,
        now: u64,
    ) -> Result<bool, ReplayStoreUnavailable> {
        let inner = &*self.inner;
        let now = clamp_seconds(now);
        let until = clamp_seconds(remember_until).max(now.saturating_add(1));
        let key = stored_key(&key);
        // The shard count is a power of two: the low bits of a keyed hash pick one evenly.
        let index = (inner.shard_hasher.hash_one(key) as usize) & (inner.shards.len() - 1);
        inner
            .lock(index)
            .record(key, until, now, inner.shard_capacity)
    }
}

impl Inner {
    /// A shard's lock. A panic while it was held cannot leave the map half-updated in a way
    /// that matters here (each update is one insert or one `retain`), so a poisoned lock is used.
    fn lock(&self, index: usize) -> MutexGuard<'_, Shard> {
        self.shards[index]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Shard {
    /// Records `key` until `until` unless it is remembered (`Ok(false)`: a replay) or the shard
    /// holds `capacity` unexpired keys (`Full`).
    fn record(
        &mut self,
        key: StoredKey,
        until: u32,
        now: u32,
        capacity: usize,
    ) -> Result<bool, ReplayStoreUnavailable> {
        match self.entries.get(&key) {
            Some(&remembered_until) if remembered_until > now => return Ok(false),
            // An expired leftover (the same `jti` outside its window, refused by the `iat`
            // check anyway) is overwritten: it takes no new room.
            Some(_) => {}
            None if self.entries.len() < capacity => {}
            None => {
                self.purge(now);
                if self.entries.len() >= capacity {
                    return Err(ReplayStoreUnavailable::Full);
                }
            }
        }
        self.entries.insert(key, until);
        self.earliest_expiry = Some(self.earliest_expiry.map_or(until, |e| e.min(until)));
        Ok(true)
    }

    /// Drops the expired entries, unless none can have expired.
    fn purge(&mut self, now: u32) {
        if self.earliest_expiry.is_none_or(|earliest| earliest > now) {
            return;
        }
        self.entries.retain(|_, until| *until > now);
        self.earliest_expiry = self.entries.values().copied().min();
    }
}

impl std::fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("capacity", &self.capacity())
            .field("shards", &self.inner.shards.len())
            .finish_non_exhaustive()
    }
}

fn stored_key(key: &[u8; 32]) -> StoredKey {
    let mut stored = [0; KEPT_KEY_BYTES];
    stored.copy_from_slice(&key[..KEPT_KEY_BYTES]);
    stored
}

/// Unix seconds as stored: `u32` lasts until 2106; later times saturate, which only keeps an
/// entry longer.
fn clamp_seconds(seconds: u64) -> u32 {
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    // Each test spells out its sequence of uses and answers: alike in shape, each sequence is
    // the case it tests, and a table would hide which step fails.
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn key(n: u32) -> [u8; 32] {
        let mut key = [0; 32];
        key[..4].copy_from_slice(&n.to_be_bytes());
        key
    }

    #[test]
    fn a_key_is_accepted_once_then_refused_as_a_replay() {
        let store = MemoryReplayStore::new(10);
        assert_eq!(store.first_use(key(1), NOW + 330, NOW), Ok(true));
        assert_eq!(store.first_use(key(1), NOW + 330, NOW + 1), Ok(false));
        assert_eq!(store.first_use(key(1), NOW + 330, NOW + 329), Ok(false));
        assert_eq!(store.first_use(key(2), NOW + 330, NOW), Ok(true));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn keys_differing_only_past_the_kept_prefix_are_one_key() {
        // Documents the truncation: the proof check's keys are SHA-256 outputs, never this.
        let store = MemoryReplayStore::new(10);
        let mut other = key(1);
        other[31] = 0xff;
        assert_eq!(store.first_use(key(1), NOW + 330, NOW), Ok(true));
        assert_eq!(store.first_use(other, NOW + 330, NOW), Ok(false));
    }

    #[test]
    fn a_key_is_forgotten_when_its_window_closes() {
        let store = MemoryReplayStore::new(10);
        assert_eq!(store.first_use(key(1), NOW + 330, NOW), Ok(true));
        assert_eq!(store.first_use(key(1), NOW + 330, NOW + 329), Ok(false));
        assert_eq!(store.first_use(key(1), NOW + 660, NOW + 330), Ok(true));
        assert_eq!(store.first_use(key(1), NOW + 660, NOW + 331), Ok(false));
        assert_eq!(store.len(), 1, "the expired entry was reused");
    }

    #[test]
    fn a_window_already_closed_is_still_remembered_for_a_second() {
        let store = MemoryReplayStore::new(10);
        assert_eq!(store.first_use(key(1), NOW - 5, NOW), Ok(true));
        assert_eq!(store.first_use(key(1), NOW - 5, NOW), Ok(false));
        assert_eq!(store.first_use(key(1), NOW - 5, NOW + 1), Ok(true));
    }

    #[test]
    fn at_the_bound_new_keys_are_refused_but_replays_still_recognised() {
        let store = MemoryReplayStore::new(3);
        for n in 0..3 {
            assert_eq!(store.first_use(key(n), NOW + 330, NOW), Ok(true));
        }
        assert_eq!(
            store.first_use(key(3), NOW + 330, NOW),
            Err(ReplayStoreUnavailable::Full)
        );
        assert_eq!(store.first_use(key(0), NOW + 330, NOW), Ok(false));
        assert_eq!(
            store.first_use(key(4), NOW + 330, NOW + 329),
            Err(ReplayStoreUnavailable::Full),
            "nothing has expired: no unexpired key is forgotten to make room"
        );
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn at_the_bound_expired_keys_make_room() {
        let store = MemoryReplayStore::new(3);
        assert_eq!(store.first_use(key(0), NOW + 10, NOW), Ok(true));
        assert_eq!(store.first_use(key(1), NOW + 330, NOW), Ok(true));
        assert_eq!(store.first_use(key(2), NOW + 330, NOW), Ok(true));
        assert_eq!(
            store.first_use(key(3), NOW + 340, NOW + 9),
            Err(ReplayStoreUnavailable::Full)
        );
        assert_eq!(store.first_use(key(3), NOW + 340, NOW + 10), Ok(true));
        assert_eq!(store.len(), 3);
        assert_eq!(store.first_use(key(1), NOW + 330, NOW + 10), Ok(false));
        assert_eq!(
            store.first_use(key(4), NOW + 340, NOW + 10),
            Err(ReplayStoreUnavailable::Full)
        );
    }

    #[test]
    fn capacity_zero_refuses_every_proof() {
        let store = MemoryReplayStore::new(0);
        assert_eq!(
            store.first_use(key(0), NOW + 330, NOW),
            Err(ReplayStoreUnavailable::Full)
        );
        assert!(store.is_empty());
    }

    #[test]
    fn a_full_store_stays_within_its_memory_bound() {
        // The worst case: each shard's share one more than a table of 2048 slots takes (7/8 of
        // them), so every table doubles to 4096 slots and is barely 7/16 full.
        let capacity = SHARDS * (2048 * 7 / 8 + 1);
        let store = MemoryReplayStore::new(capacity);
        assert_eq!(store.inner.shards.len(), SHARDS);
        let mut n = 0;
        // Keys spread over the shards as SHA-256 outputs would.
        while store.first_use(spread_key(n), NOW + 330, NOW) == Ok(true) {
            n += 1;
        }
        let held = store.len();
        assert!(held <= capacity);
        assert!(
            held >= capacity * 9 / 10,
            "the first shard to fill holds {held} of {capacity}"
        );
        // Each shard fills up in the end; none holds more than its share.
        while n < 10 * capacity as u64 {
            let _ = store.first_use(spread_key(n), NOW + 330, NOW);
            n += 1;
        }
        assert_eq!(store.len(), store.capacity());
        // hashbrown's usable capacity is 7/8 of its slots (a power of two); each slot is a key,
        // an expiry and a control byte, and a table has 16 more control bytes.
        let table_bytes = |usable: usize| usable * 8 / 7 * (size_of::<(StoredKey, u32)>() + 1) + 16;
        let bytes: usize = (0..SHARDS)
            .map(|index| table_bytes(store.inner.lock(index).entries.capacity()))
            .sum::<usize>()
            + size_of::<Inner>();
        assert!(
            bytes <= capacity * MAX_ENTRY_BYTES + FIXED_BYTES,
            "{bytes} bytes for {capacity} entries"
        );
    }

    fn spread_key(n: u64) -> [u8; 32] {
        let mut key = [0; 32];
        let hash = RandomState::new().hash_one(n).to_be_bytes();
        key[..8].copy_from_slice(&hash);
        key[8..16].copy_from_slice(&n.to_be_bytes());
        key
    }

    #[test]
    fn concurrent_uses_of_one_key_accept_exactly_one() {
        let store = MemoryReplayStore::new(100);
        let accepted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| store.first_use(key(7), NOW + 330, NOW) == Ok(true)))
                .collect();
            handles
                .into_iter()
                .map(|handle| usize::from(handle.join().expect("thread")))
                .sum()
        });
        assert_eq!(accepted, 1);
    }
}
