//! The DPoP proofs the token endpoint has accepted, remembered until their `iat` window closes,
//! so a proof is used once (RFC 9449 §11.1).
//!
//! Bounded: at [`SeenProofs::CAPACITY`] entries the expired ones are dropped, and if every entry
//! is still live a new proof is refused (the request is answered `429`) rather than an unexpired
//! one forgotten: a flood can slow clients down but never reopen a replay.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Every live entry is remembered and the store is full: the proof is refused, not forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// Proof keys (SHA-256 of the key's thumbprint and the `jti`) with when each may be forgotten.
#[derive(Debug, Default)]
pub(crate) struct SeenProofs {
    /// Key → Unix second after which the proof is too old to be accepted anyway.
    until: Mutex<HashMap<[u8; 32], u64>>,
}

impl SeenProofs {
    /// At most this many proofs are remembered: 100 000 entries of 40 bytes, a few MB, far
    /// more than a development tenant sees in a 330-second window.
    pub(crate) const CAPACITY: usize = 100_000;

    /// Records `key` until `remember_until` (Unix seconds). `Ok(true)` the first time,
    /// `Ok(false)` for a replay; [`Full`] when full of live entries.
    pub(crate) fn first_use(
        &self,
        key: [u8; 32],
        remember_until: u64,
        now: u64,
    ) -> Result<bool, Full> {
        // Every critical section leaves the map consistent, so a poisoned lock is still usable.
        let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
        match until.get(&key) {
            Some(&expiry) if expiry >= now => return Ok(false),
            _ => {}
        }
        if until.len() >= Self::CAPACITY {
            until.retain(|_, expiry| *expiry >= now);
            if until.len() >= Self::CAPACITY {
                return Err(Full);
            }
        }
        until.insert(key, remember_until);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_accepted_once_until_it_expires() {
        let seen = SeenProofs::default();
        assert_eq!(seen.first_use([1; 32], 100, 10), Ok(true));
        assert_eq!(seen.first_use([1; 32], 100, 100), Ok(false));
        assert_eq!(seen.first_use([2; 32], 100, 10), Ok(true));
        // Past its window the proof's `iat` refuses it anyway; the entry may be reused.
        assert_eq!(seen.first_use([1; 32], 500, 101), Ok(true));
    }

    #[test]
    fn when_full_expired_entries_go_and_live_ones_stay() {
        let seen = SeenProofs::default();
        for i in 0..SeenProofs::CAPACITY {
            let mut key = [0; 32];
            key[..8].copy_from_slice(&(i as u64).to_be_bytes());
            // Half expire at 50, half live until 1000.
            let until = if i % 2 == 0 { 50 } else { 1000 };
            assert_eq!(seen.first_use(key, until, 0), Ok(true));
        }
        assert_eq!(seen.first_use([0xff; 32], 1000, 0), Err(Full));
        assert_eq!(seen.first_use([0xff; 32], 1000, 60), Ok(true));
        // A live one is still remembered.
        let mut live = [0; 32];
        live[..8].copy_from_slice(&1u64.to_be_bytes());
        assert_eq!(seen.first_use(live, 1000, 60), Ok(false));
    }
}
