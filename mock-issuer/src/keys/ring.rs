//! One algorithm's key ring (previous, current, next) and where its new keys come from.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use super::material::KeyMaterial;
use super::stored::StoredRing;
use super::{KeyAlg, generate};
use crate::Error;
use crate::admin::KeySummary;

/// Where new keys come from: a seed's sequence (cached process-wide) or the OS's randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    Random,
    Seeded(u64),
}

impl KeySource {
    pub fn from_seed(seed: Option<u64>) -> Self {
        seed.map_or(Self::Random, Self::Seeded)
    }

    pub fn seed(self) -> Option<u64> {
        match self {
            Self::Random => None,
            Self::Seeded(seed) => Some(seed),
        }
    }

    /// The key numbered `index` of `alg`'s ring in this source (random keys ignore the number).
    pub fn key(self, alg: KeyAlg, index: u64) -> Result<Arc<KeyMaterial>, Error> {
        match self {
            Self::Random => {
                KeyMaterial::from_pkcs8(alg, generate::random(alg)?, None, false).map(Arc::new)
            }
            Self::Seeded(seed) => seeded_cached(alg, seed, index),
        }
    }
}

/// Seeded keys are pure functions of (alg, seed, index), so one process generates each at most
/// once: a test suite starting an issuer per test pays for RSA key generation a handful of times.
fn seeded_cached(alg: KeyAlg, seed: u64, index: u64) -> Result<Arc<KeyMaterial>, Error> {
    type Cell = Arc<OnceLock<Arc<KeyMaterial>>>;
    /// By ring, seed and index.
    type Cache = Mutex<HashMap<(KeyAlg, u64, u64), Cell>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cell: Cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((alg, seed, index)).or_default().clone()
    };
    if let Some(key) = cell.get() {
        return Ok(key.clone());
    }
    // Generated outside the map's lock so other keys are not held up; two threads racing on
    // the same cell both generate the same key, and the first to finish wins.
    let pkcs8 = generate::seeded(alg, seed, index)?;
    let key = Arc::new(KeyMaterial::from_pkcs8(alg, pkcs8, None, true)?);
    Ok(cell.get_or_init(|| key).clone())
}

/// One algorithm's published keys: Auth0 signs with `current`, pre-publishes `next`, and keeps
/// `previous` until it is revoked.
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    pub previous: Option<Arc<KeyMaterial>>,
    pub current: Arc<KeyMaterial>,
    pub next: Arc<KeyMaterial>,
    /// How many keys this ring has generated; the index of the next one for a seeded source.
    generated: u64,
    alg: KeyAlg,
    source: KeySource,
}

/// A key made for a rotation ahead of it, with its index in the ring's sequence.
pub(crate) type Prepared = (u64, Arc<KeyMaterial>);

impl KeyRing {
    /// A new ring for `alg`: current and next, no previous.
    pub fn generate(alg: KeyAlg, source: KeySource) -> Result<Self, Error> {
        Ok(Self {
            previous: None,
            current: source.key(alg, 0)?,
            next: source.key(alg, 1)?,
            generated: 2,
            alg,
            source,
        })
    }

    /// The ring `stored` describes, read from the file `path`.
    pub(super) fn from_stored(
        alg: KeyAlg,
        stored: &StoredRing,
        source: KeySource,
        path: &Path,
    ) -> Result<Self, Error> {
        let load = |k| KeyMaterial::from_stored(alg, k, path).map(Arc::new);
        Ok(Self {
            previous: stored.previous.as_ref().map(load).transpose()?,
            current: load(&stored.current)?,
            next: load(&stored.next)?,
            generated: stored.generated,
            alg,
            source,
        })
    }

    pub(super) fn to_stored(&self) -> StoredRing {
        StoredRing {
            generated: self.generated,
            previous: self.previous.as_deref().map(KeyMaterial::to_stored),
            current: self.current.to_stored(),
            next: self.next.to_stored(),
        }
    }

    /// Generates the key that [`KeyRing::rotate`] will need, without holding any lock.
    pub fn prepare_rotation(&self) -> Result<Prepared, Error> {
        Ok((self.generated, self.source.key(self.alg, self.generated)?))
    }

    /// Next becomes current, current becomes previous (replacing any older one), and `new_next`
    /// (from [`KeyRing::prepare_rotation`]) is published as next.
    pub fn rotate(&mut self, (index, new_next): Prepared) {
        let next = std::mem::replace(&mut self.next, new_next);
        let current = std::mem::replace(&mut self.current, next);
        self.previous = Some(current);
        self.generated = index + 1;
    }

    /// Stops publishing the previous key; tokens signed with it no longer verify.
    pub fn revoke_previous(&mut self) {
        self.previous = None;
    }

    /// The published keys, current first, then next, then previous.
    pub fn keys(&self) -> impl Iterator<Item = &Arc<KeyMaterial>> {
        [
            Some(&self.current),
            Some(&self.next),
            self.previous.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// The kids by role.
    pub fn summary(&self) -> KeySummary {
        KeySummary {
            current: self.current.kid.clone(),
            next: self.next.kid.clone(),
            previous: self.previous.as_ref().map(|k| k.kid.clone()),
        }
    }
}
