//! A bounded map from unguessable handles to values that expire: the one shape behind login
//! sessions, pending logins, authorization codes and refresh tokens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt as _;

/// A new handle: 32 random bytes, base64url (256 bits, so a handle cannot be guessed).
pub(crate) fn random_handle() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Values by handle. An entry lives `ttl` from its insertion (or its last [`Store::touch`]);
/// at `capacity` entries the oldest insertion goes first, so a flood of logins can neither grow
/// memory without bound nor push out anything but the oldest.
#[derive(Debug)]
pub(crate) struct Store<V> {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Inner<V>>,
}

#[derive(Debug)]
struct Inner<V> {
    entries: HashMap<String, Entry<V>>,
    /// Handles in insertion order; a handle removed since is skipped when it comes up.
    order: VecDeque<String>,
}

#[derive(Debug)]
struct Entry<V> {
    expires: Instant,
    value: V,
}

impl<V: Clone> Store<V> {
    /// An empty store whose entries live `ttl`, holding at most `capacity` of them.
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// How long an entry lives.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    fn lock(&self) -> MutexGuard<'_, Inner<V>> {
        // Every critical section leaves the map consistent, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` under a new random handle and returns the handle.
    pub(crate) fn insert(&self, value: V) -> String {
        let handle = random_handle();
        let mut inner = self.lock();
        let now = Instant::now();
        while inner.entries.len() >= self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.entries.remove(&oldest);
        }
        // Drop expired entries at the front while here, so the order queue stays short.
        while let Some(front) = inner.order.front() {
            match inner.entries.get(front) {
                Some(entry) if entry.expires > now => break,
                _ => {
                    let front = inner.order.pop_front().unwrap_or_default();
                    inner.entries.remove(&front);
                }
            }
        }
        inner.order.push_back(handle.clone());
        inner.entries.insert(
            handle.clone(),
            Entry {
                expires: now + self.ttl,
                value,
            },
        );
        handle
    }

    /// The value under `handle`, if present and not expired.
    pub(crate) fn get(&self, handle: &str) -> Option<V> {
        let inner = self.lock();
        inner
            .entries
            .get(handle)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value.clone())
    }

    /// Like [`Store::get`], and restarts the entry's lifetime (a session in use stays alive).
    pub(crate) fn touch(&self, handle: &str) -> Option<V> {
        let mut inner = self.lock();
        let now = Instant::now();
        let entry = inner.entries.get_mut(handle).filter(|e| e.expires > now)?;
        entry.expires = now + self.ttl;
        Some(entry.value.clone())
    }

    /// Applies `change` to the live value under `handle` and returns what it returns.
    pub(crate) fn update<R>(&self, handle: &str, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut inner = self.lock();
        let entry = inner
            .entries
            .get_mut(handle)
            .filter(|e| e.expires > Instant::now())?;
        Some(change(&mut entry.value))
    }

    /// Removes the entry under `handle` and returns its value if it had not expired.
    pub(crate) fn take(&self, handle: &str) -> Option<V> {
        let mut inner = self.lock();
        inner
            .entries
            .remove(handle)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value)
    }

    /// Keeps only the entries for which `keep` is true.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        self.lock().entries.retain(|_, e| keep(&e.value));
    }

    /// How many entries are held, expired ones not yet dropped included.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_long_and_distinct() {
        let (a, b) = (random_handle(), random_handle());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn at_capacity_the_oldest_entry_goes() {
        let store = Store::new(Duration::from_secs(60), 2);
        let first = store.insert(1);
        let second = store.insert(2);
        let third = store.insert(3);
        assert_eq!(store.get(&first), None);
        assert_eq!(store.get(&second), Some(2));
        assert_eq!(store.get(&third), Some(3));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn an_expired_entry_is_gone() {
        let store = Store::new(Duration::ZERO, 8);
        let handle = store.insert("v");
        assert_eq!(store.get(&handle), None);
        assert_eq!(store.take(&handle), None);
        assert_eq!(store.update(&handle, |v| *v), None);
    }

    #[test]
    fn take_removes() {
        let store = Store::new(Duration::from_secs(60), 8);
        let handle = store.insert(5);
        assert_eq!(store.take(&handle), Some(5));
        assert_eq!(store.get(&handle), None);
    }
}
