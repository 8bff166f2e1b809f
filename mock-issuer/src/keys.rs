//! Signing keys: generation (random or seeded), the previous/current/next ring, its JWKS form and
//! its persistence in the data dir.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rsa::PrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::admin::KeySummary;
use crate::{Error, cert, owner_only};

/// RSA modulus size, Auth0's.
const KEY_BITS: usize = 2048;
/// The key ring's file name inside the data dir.
pub(crate) const KEYRING_FILE: &str = "keyring.json";
/// Bumped when the file format changes incompatibly.
const KEYRING_VERSION: u32 = 1;

/// One RSA signing key with everything derived from it. Never serialised with its private part
/// except into the data dir.
pub(crate) struct KeyMaterial {
    /// RFC 7638 thumbprint prefix, base64url: opaque to clients, stable for the key.
    pub kid: String,
    private: PrivateKey,
    encoding: jsonwebtoken::EncodingKey,
    n: String,
    e: String,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for KeyMaterial {
    // The private key must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// A fresh key from the OS's randomness.
    pub fn random() -> Result<Self, Error> {
        let private = PrivateKey::new(&mut rand::rng(), KEY_BITS)
            .map_err(|e| Error::Key(format!("RSA key generation: {e}")))?;
        Self::from_private(private, None, false)
    }

    /// The `index`-th key of `seed`'s sequence: the same pair always gives the same key.
    fn seeded(seed: u64, index: u64) -> Result<Self, Error> {
        let digest = Sha256::new()
            .chain_update(b"mock-issuer key v1")
            .chain_update(seed.to_be_bytes())
            .chain_update(index.to_be_bytes())
            .finalize();
        let mut rng_seed = [0u8; 32];
        rng_seed.copy_from_slice(&digest);
        let private = PrivateKey::new(&mut StdRng::from_seed(rng_seed), KEY_BITS)
            .map_err(|e| Error::Key(format!("RSA key generation: {e}")))?;
        Self::from_private(private, None, true)
    }

    /// Derives kid, JWK members and signing key; builds a certificate unless one is given.
    fn from_private(
        private: PrivateKey,
        cert_der: Option<Vec<u8>>,
        seeded: bool,
    ) -> Result<Self, Error> {
        let n = URL_SAFE_NO_PAD.encode(private.n_bytes());
        let e = URL_SAFE_NO_PAD.encode(private.e_bytes());
        // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
        let thumbprint = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let kid = URL_SAFE_NO_PAD.encode(&thumbprint[..16]);
        let cert_der = match cert_der {
            Some(der) => der,
            None => {
                let mut serial = [0u8; 16];
                serial.copy_from_slice(&thumbprint[16..]);
                cert::self_signed(&private, serial, seeded)?
            }
        };
        let pkcs1 = private
            .to_pkcs1_der()
            .map_err(|e| Error::Key(format!("PKCS#1 encoding: {e}")))?;
        let encoding = jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes());
        Ok(Self {
            kid,
            private,
            encoding,
            n,
            e,
            cert_der,
        })
    }

    /// The key for jsonwebtoken's signer.
    pub fn encoding_key(&self) -> &jsonwebtoken::EncodingKey {
        &self.encoding
    }

    /// The public JWK as Auth0 publishes it: `kty use alg n e kid x5t x5c`, nothing private.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "n": self.n,
            "e": self.e,
            "kid": self.kid,
            "x5t": URL_SAFE_NO_PAD.encode(Sha1::digest(&self.cert_der)),
            // x5c is plain base64 (RFC 7517 §4.7), not base64url.
            "x5c": [STANDARD.encode(&self.cert_der)],
        })
    }

    fn to_stored(&self) -> Result<StoredKey, Error> {
        let pem = self
            .private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("PKCS#8 encoding: {e}")))?;
        Ok(StoredKey {
            kid: self.kid.clone(),
            private_key_pem: pem.to_string(),
            certificate: STANDARD.encode(&self.cert_der),
        })
    }

    fn from_stored(stored: &StoredKey, path: &Path) -> Result<Self, Error> {
        let bad = |reason: String| Error::KeyRing {
            path: path.to_path_buf(),
            reason,
        };
        let private = PrivateKey::from_pkcs8_pem(&stored.private_key_pem)
            .map_err(|e| bad(format!("key {}: {e}", stored.kid)))?;
        let cert_der = STANDARD
            .decode(&stored.certificate)
            .map_err(|e| bad(format!("certificate of {}: {e}", stored.kid)))?;
        let key = Self::from_private(private, Some(cert_der), false)?;
        if key.kid != stored.kid {
            return Err(bad(format!("kid {} does not match its key", stored.kid)));
        }
        Ok(key)
    }
}

/// Where new keys come from: a seed's sequence (cached process-wide) or the OS's randomness.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeySource {
    Random,
    Seeded(u64),
}

impl KeySource {
    pub fn from_seed(seed: Option<u64>) -> Self {
        seed.map_or(Self::Random, Self::Seeded)
    }

    /// The key numbered `index` in this source (random keys ignore the number).
    pub fn key(self, index: u64) -> Result<Arc<KeyMaterial>, Error> {
        match self {
            Self::Random => KeyMaterial::random().map(Arc::new),
            Self::Seeded(seed) => seeded_cached(seed, index),
        }
    }
}

/// Seeded keys are pure functions of (seed, index), so one process generates each at most once:
/// a test suite starting an issuer per test pays for RSA key generation a handful of times.
fn seeded_cached(seed: u64, index: u64) -> Result<Arc<KeyMaterial>, Error> {
    type Cell = Arc<OnceLock<Arc<KeyMaterial>>>;
    static CACHE: OnceLock<Mutex<HashMap<(u64, u64), Cell>>> = OnceLock::new();
    let cell: Cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((seed, index)).or_default().clone()
    };
    if let Some(key) = cell.get() {
        return Ok(key.clone());
    }
    // Generated outside the map's lock so other seeds are not held up; two threads racing on
    // the same cell both generate the same key, and the first to finish wins.
    let key = Arc::new(KeyMaterial::seeded(seed, index)?);
    Ok(cell.get_or_init(|| key).clone())
}

/// The published keys: Auth0 signs with `current`, pre-publishes `next`, and keeps `previous`
/// until it is revoked.
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    pub previous: Option<Arc<KeyMaterial>>,
    pub current: Arc<KeyMaterial>,
    pub next: Arc<KeyMaterial>,
    /// How many keys this ring has generated; the index of the next one for a seeded source.
    generated: u64,
    source: KeySource,
}

impl KeyRing {
    /// A new ring: current and next, no previous.
    pub fn generate(source: KeySource) -> Result<Self, Error> {
        Ok(Self {
            previous: None,
            current: source.key(0)?,
            next: source.key(1)?,
            generated: 2,
            source,
        })
    }

    /// Loads the ring from `data_dir`, or generates and saves one if there is none yet.
    ///
    /// A ring persisted from another seed (or none) than `source`'s is replaced: asking for a
    /// seed is asking for that seed's keys.
    pub fn load_or_generate(data_dir: &Path, source: KeySource) -> Result<Self, Error> {
        owner_only::create_or_check_dir(data_dir)?;
        let path = data_dir.join(KEYRING_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                owner_only::check_file(&path)?;
                let stored: StoredRing =
                    serde_json::from_str(&text).map_err(|e| Error::KeyRing {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                let wanted_seed = match source {
                    KeySource::Seeded(seed) => Some(seed),
                    KeySource::Random => stored.seed,
                };
                if stored.version == KEYRING_VERSION && stored.seed == wanted_seed {
                    return Self::from_stored(&stored, &path);
                }
                tracing::warn!(path = ?path, "replacing the persisted key ring: it was made from another seed or version");
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let ring = Self::generate(source)?;
        ring.save(data_dir)?;
        Ok(ring)
    }

    fn from_stored(stored: &StoredRing, path: &Path) -> Result<Self, Error> {
        let load = |k: &StoredKey| KeyMaterial::from_stored(k, path).map(Arc::new);
        Ok(Self {
            previous: stored.previous.as_ref().map(load).transpose()?,
            current: load(&stored.current)?,
            next: load(&stored.next)?,
            generated: stored.generated,
            source: KeySource::from_seed(stored.seed),
        })
    }

    /// Writes the ring to `data_dir/keyring.json` atomically (temp file, then rename), readable
    /// by the owner only since it holds private keys, in a data dir only the owner can write.
    pub fn save(&self, data_dir: &Path) -> Result<(), Error> {
        owner_only::create_or_check_dir(data_dir)?;
        let stored = StoredRing {
            version: KEYRING_VERSION,
            seed: match self.source {
                KeySource::Seeded(seed) => Some(seed),
                KeySource::Random => None,
            },
            generated: self.generated,
            previous: self
                .previous
                .as_deref()
                .map(KeyMaterial::to_stored)
                .transpose()?,
            current: self.current.to_stored()?,
            next: self.next.to_stored()?,
        };
        let text = serde_json::to_string_pretty(&stored).map_err(|e| Error::Key(e.to_string()))?;
        let path = data_dir.join(KEYRING_FILE);
        let tmp: PathBuf = data_dir.join(format!("{KEYRING_FILE}.tmp"));
        owner_only::write_file(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
    }

    /// Generates the key that [`KeyRing::rotated`] will need, without holding any lock.
    pub fn prepare_rotation(&self) -> Result<(u64, Arc<KeyMaterial>), Error> {
        Ok((self.generated, self.source.key(self.generated)?))
    }

    /// Next becomes current, current becomes previous (replacing any older one), and `new_next`
    /// (from [`KeyRing::prepare_rotation`]) is published as next.
    pub fn rotate(&mut self, (index, new_next): (u64, Arc<KeyMaterial>)) {
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
    pub fn jwks(&self) -> Value {
        let mut keys = vec![self.current.public_jwk(), self.next.public_jwk()];
        if let Some(previous) = &self.previous {
            keys.push(previous.public_jwk());
        }
        json!({ "keys": keys })
    }

    /// A summary for the admin surface and the CLI: kids by role.
    pub fn summary(&self) -> KeySummary {
        KeySummary {
            current: self.current.kid.clone(),
            next: self.next.kid.clone(),
            previous: self.previous.as_ref().map(|k| k.kid.clone()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredRing {
    version: u32,
    seed: Option<u64>,
    generated: u64,
    previous: Option<StoredKey>,
    current: StoredKey,
    next: StoredKey,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    private_key_pem: String,
    /// DER, standard base64.
    certificate: String,
}
