//! The key ring file's format, `keyring.json` in the data dir: the RS256 ring at the top level
//! (as the file has always held it), the other rings under `rings` by algorithm, and the APIs'
//! generated signing secrets. A file without `rings` or `signing_secrets` (written before they
//! existed) still reads; what it lacks is generated and the file written again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::oauth::Secret;

/// The whole file.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredSet {
    pub version: u32,
    pub seed: Option<u64>,
    /// The RS256 ring.
    #[serde(flatten)]
    pub rs256: StoredRing,
    /// The other rings, by algorithm name (`PS256`, `ES256`, `EdDSA`).
    #[serde(default)]
    pub rings: BTreeMap<String, StoredRing>,
    /// The generated HS256 signing secrets, by API identifier.
    #[serde(default)]
    pub signing_secrets: BTreeMap<String, Secret>,
}

/// One ring.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredRing {
    pub generated: u64,
    pub previous: Option<StoredKey>,
    pub current: StoredKey,
    pub next: StoredKey,
}

/// One key.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredKey {
    pub kid: String,
    /// PKCS#8, PEM.
    pub private_key_pem: String,
    /// DER, standard base64.
    pub certificate: String,
}
