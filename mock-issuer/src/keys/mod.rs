//! Signing keys: one ring (previous, current, next) per asymmetric algorithm the tenant can sign
//! with, the APIs' generated HS256 signing secrets, the JWKS of the rings in use, and their
//! persistence in the data dir (`stored`). Rotation moves every ring at once.

mod generate;
mod material;
mod ring;
mod stored;

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub(crate) use self::material::KeyMaterial;
use self::ring::Prepared;
pub(crate) use self::ring::{KeyRing, KeySource};
use self::stored::StoredSet;
use crate::admin::{KeyRole, KeySummary};
use crate::config::{ApiConfig, SigningAlg};
use crate::oauth::Secret;
use crate::{Error, owner_only};

/// The key ring's file name inside the data dir.
pub(crate) const KEYRING_FILE: &str = "keyring.json";
/// Bumped when the file format changes incompatibly (adding rings and secrets did not).
const KEYRING_VERSION: u32 = 1;

/// The algorithms that sign with a key pair, one ring each, in the order the JWKS lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KeyAlg {
    /// RSA keys published with `alg` `RS256`: Auth0's, always published (ID tokens use them).
    Rs256,
    /// RSA keys of their own, published with `alg` `PS256`: a verifier that honours a JWK's
    /// `alg` would refuse a PS256 token signed by an `RS256` key.
    Ps256,
    /// P-256 keys.
    Es256,
    /// Ed25519 keys.
    EdDsa,
}

impl KeyAlg {
    pub const ALL: [Self; 4] = [Self::Rs256, Self::Ps256, Self::Es256, Self::EdDsa];

    /// The ring an algorithm signs with; `None` for HS256, which signs with a secret.
    pub fn of(alg: SigningAlg) -> Option<Self> {
        match alg {
            SigningAlg::Rs256 => Some(Self::Rs256),
            SigningAlg::Ps256 => Some(Self::Ps256),
            SigningAlg::Es256 => Some(Self::Es256),
            SigningAlg::EdDsa => Some(Self::EdDsa),
            SigningAlg::Hs256 => None,
        }
    }

    pub fn signing_alg(self) -> SigningAlg {
        match self {
            Self::Rs256 => SigningAlg::Rs256,
            Self::Ps256 => SigningAlg::Ps256,
            Self::Es256 => SigningAlg::Es256,
            Self::EdDsa => SigningAlg::EdDsa,
        }
    }

    /// What seeds this ring's key sequence, besides the seed and the index. RS256's is the one
    /// the RSA ring has always used, so seeded RSA keys stay what they were.
    fn seed_label(self) -> &'static [u8] {
        match self {
            Self::Rs256 => b"mock-issuer key v1",
            Self::Ps256 => b"mock-issuer PS256 key v1",
            Self::Es256 => b"mock-issuer ES256 key v1",
            Self::EdDsa => b"mock-issuer EdDSA key v1",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Rs256 => 0,
            Self::Ps256 => 1,
            Self::Es256 => 2,
            Self::EdDsa => 3,
        }
    }
}

/// Every ring, and the signing secrets generated for the APIs that configure none.
#[derive(Debug, Clone)]
pub(crate) struct KeySet {
    /// One per [`KeyAlg`], in [`KeyAlg::ALL`]'s order.
    rings: Vec<KeyRing>,
    /// By API identifier.
    secrets: BTreeMap<String, Secret>,
    source: KeySource,
}

impl KeySet {
    /// New rings, and a secret for each of `apis` that configures none.
    pub fn generate(source: KeySource, apis: &[ApiConfig]) -> Result<Self, Error> {
        let rings = KeyAlg::ALL
            .into_iter()
            .map(|alg| KeyRing::generate(alg, source))
            .collect::<Result<_, _>>()?;
        let mut set = Self {
            rings,
            secrets: BTreeMap::new(),
            source,
        };
        set.add_missing_secrets(apis);
        Ok(set)
    }

    /// Loads the keys from `data_dir`, or generates and saves them if there are none yet. A file
    /// that lacks a ring or a secret `apis` need gains it and is saved again.
    ///
    /// A file persisted from another seed (or none) than `source`'s is replaced: asking for a
    /// seed is asking for that seed's keys.
    pub fn load_or_generate(
        data_dir: &Path,
        source: KeySource,
        apis: &[ApiConfig],
    ) -> Result<Self, Error> {
        owner_only::create_or_check_dir(data_dir)?;
        let path = data_dir.join(KEYRING_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                owner_only::check_file(&path)?;
                let stored: StoredSet =
                    serde_json::from_str(&text).map_err(|e| Error::KeyRing {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                let wanted_seed = source.seed().or(stored.seed);
                if stored.version == KEYRING_VERSION && stored.seed == wanted_seed {
                    let (set, grew) = Self::from_stored(stored, &path, apis)?;
                    if grew {
                        set.save(data_dir)?;
                    }
                    return Ok(set);
                }
                tracing::warn!(path = ?path, "replacing the persisted key ring: it was made from another seed or version");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let set = Self::generate(source, apis)?;
        set.save(data_dir)?;
        Ok(set)
    }

    /// The set `stored` holds, and whether it had to gain a ring or a secret.
    fn from_stored(
        mut stored: StoredSet,
        path: &Path,
        apis: &[ApiConfig],
    ) -> Result<(Self, bool), Error> {
        let source = KeySource::from_seed(stored.seed);
        let mut grew = false;
        let mut rings = Vec::with_capacity(KeyAlg::ALL.len());
        for alg in KeyAlg::ALL {
            let ring = match alg {
                KeyAlg::Rs256 => Some(&stored.rs256),
                _ => stored.rings.get(alg.signing_alg().as_str()),
            };
            rings.push(match ring {
                Some(ring) => KeyRing::from_stored(alg, ring, source, path)?,
                None => {
                    grew = true;
                    KeyRing::generate(alg, source)?
                }
            });
        }
        let mut set = Self {
            rings,
            secrets: std::mem::take(&mut stored.signing_secrets),
            source,
        };
        grew |= set.add_missing_secrets(apis);
        Ok((set, grew))
    }

    /// Writes the keys to `data_dir/keyring.json` atomically (temp file, then rename), readable
    /// by the owner only since it holds private keys, in a data dir only the owner can write.
    pub fn save(&self, data_dir: &Path) -> Result<(), Error> {
        owner_only::create_or_check_dir(data_dir)?;
        let stored = StoredSet {
            version: KEYRING_VERSION,
            seed: self.source.seed(),
            rs256: self.ring(KeyAlg::Rs256).to_stored(),
            rings: KeyAlg::ALL
                .into_iter()
                .filter(|&alg| alg != KeyAlg::Rs256)
                .map(|alg| (alg.signing_alg().to_string(), self.ring(alg).to_stored()))
                .collect(),
            signing_secrets: self.secrets.clone(),
        };
        let text = serde_json::to_string_pretty(&stored).map_err(|e| Error::Key(e.to_string()))?;
        let path = data_dir.join(KEYRING_FILE);
        let tmp = data_dir.join(format!("{KEYRING_FILE}.tmp"));
        owner_only::write_file(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    /// Generates a secret for each of `apis` that configures none and has none yet; whether
    /// there was any.
    fn add_missing_secrets(&mut self, apis: &[ApiConfig]) -> bool {
        let mut added = false;
        for api in apis.iter().filter(|api| api.signing_secret.is_none()) {
            if !self.secrets.contains_key(&api.identifier) {
                let secret = new_secret(self.source, &api.identifier);
                self.secrets.insert(api.identifier.clone(), secret);
                added = true;
            }
        }
        added
    }

    /// `alg`'s ring.
    pub fn ring(&self, alg: KeyAlg) -> &KeyRing {
        &self.rings[alg.index()]
    }

    /// The generated signing secret of the API `identifier`, if it configures none.
    pub fn generated_secret(&self, identifier: &str) -> Option<&Secret> {
        self.secrets.get(identifier)
    }

    /// Generates the keys [`KeySet::rotate`] will need, one per ring, without holding any lock.
    pub fn prepare_rotation(&self) -> Result<Vec<Prepared>, Error> {
        self.rings.iter().map(KeyRing::prepare_rotation).collect()
    }

    /// Rotates every ring, each with its key from [`KeySet::prepare_rotation`].
    pub fn rotate(&mut self, prepared: Vec<Prepared>) {
        for (ring, key) in self.rings.iter_mut().zip(prepared) {
            ring.rotate(key);
        }
    }

    /// Stops publishing every ring's previous key.
    pub fn revoke_previous(&mut self) {
        self.rings.iter_mut().for_each(KeyRing::revoke_previous);
    }

    /// The JWKS of the rings in `published`: each ring's current, next, then previous key, the
    /// rings in [`KeyAlg::ALL`]'s order.
    pub fn jwks(&self, published: &[KeyAlg]) -> Value {
        let keys: Vec<Value> = KeyAlg::ALL
            .into_iter()
            .filter(|alg| published.contains(alg))
            .flat_map(|alg| self.ring(alg).keys())
            .map(|key| key.public_jwk())
            .collect();
        json!({ "keys": keys })
    }

    /// The ring and role of the key `kid`, if one of the rings holds it.
    pub fn find(&self, kid: &str) -> Option<(KeyAlg, KeyRole)> {
        KeyAlg::ALL
            .into_iter()
            .find_map(|alg| KeyRole::of(kid, &self.ring(alg).summary()).map(|role| (alg, role)))
    }

    /// The RS256 ring's kids by role.
    pub fn summary(&self) -> KeySummary {
        self.ring(KeyAlg::Rs256).summary()
    }
}

/// A new signing secret for the API `identifier`: 32 bytes, random or derived from the seed and
/// the identifier, as base64url (43 characters, all of whose bytes are the HMAC key).
fn new_secret(source: KeySource, identifier: &str) -> Secret {
    let bytes: [u8; 32] = match source {
        KeySource::Random => rand::rng().random(),
        KeySource::Seeded(seed) => Sha256::new()
            .chain_update(b"mock-issuer signing secret v1")
            .chain_update(seed.to_be_bytes())
            .chain_update(identifier.as_bytes())
            .finalize()
            .into(),
    };
    Secret::from(URL_SAFE_NO_PAD.encode(bytes))
}
