//! The crate's error type for start-up, configuration and key storage. HTTP error answers are
//! wire types instead: [`crate::oauth::OAuthErrorBody`] and [`crate::admin::AdminError`]; the
//! client's errors are [`crate::client::ClientError`].

use std::path::{Path, PathBuf};

/// Why the issuer could not start, load its configuration or handle its keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file in the data dir or a configuration file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Binding or serving the socket failed.
    #[error("network: {0}")]
    Net(#[from] std::io::Error),
    /// The data dir is writable by other users, or the key ring readable by them. Refused
    /// rather than repaired: someone else may already have replaced or read the keys.
    #[error("{path}: {reason}")]
    Exposed {
        /// The directory or file concerned.
        path: PathBuf,
        /// Its mode, what others can do with it, and the command that closes it.
        reason: String,
    },
    /// The persisted key ring is unreadable (corrupt or from an incompatible version).
    #[error("key ring {path}: {reason}")]
    KeyRing {
        /// The key ring file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating, encoding or certifying a key failed.
    #[error("key material: {0}")]
    Key(String),
    /// Signing a token failed.
    #[error("signing: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// A fault was set on an endpoint it cannot apply to.
    #[error("fault {fault:?} does not apply to {endpoint:?}")]
    UnsupportedFault {
        /// The endpoint.
        endpoint: crate::Endpoint,
        /// The fault.
        fault: crate::Fault,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
