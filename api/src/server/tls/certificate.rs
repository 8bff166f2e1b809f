//! Reading a certificate chain and its private key from PEM, checking that they belong
//! together, and the few facts about the certificate the logs name (subject, serial, expiry;
//! never anything of the key).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::InconsistentKeys;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use x509_cert::Certificate;
use x509_cert::der::Decode;

use super::{TlsError, TlsFiles};

/// The bytes of the two files, as read at one moment.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct PemPair {
    pub(super) cert: Vec<u8>,
    pub(super) key: Vec<u8>,
}

impl fmt::Debug for PemPair {
    /// The key's bytes are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemPair")
            .field("cert_bytes", &self.cert.len())
            .finish_non_exhaustive()
    }
}

impl PemPair {
    /// Reads both files (following symbolic links, as a Kubernetes secret volume needs), off
    /// the async threads.
    pub(super) async fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        let (cert, key) = (files.cert_file.clone(), files.key_file.clone());
        tokio::task::spawn_blocking(move || {
            Ok(PemPair {
                cert: read_file(&cert, "TLS_CERT_FILE")?,
                key: read_file(&key, "TLS_KEY_FILE")?,
            })
        })
        .await
        .unwrap_or_else(|error| {
            // Only a panic or the runtime's shutdown ends the task otherwise.
            Err(TlsError::Unreadable {
                variable: "TLS_CERT_FILE",
                path: files.cert_file.clone(),
                reason: error.to_string(),
            })
        })
    }
}

fn read_file(path: &Path, variable: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Unreadable {
        variable,
        path: path.to_owned(),
        reason: error.to_string(),
    })
}

/// What the logs say about a certificate: who it names, its serial number and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The end-entity certificate's subject, as RFC 4514 writes it (`CN=api.example.com`).
    pub subject: String,
    /// Its serial number in hexadecimal, bytes separated by colons.
    pub serial: String,
    /// The end of its validity (`notAfter`), as RFC 3339 writes it.
    pub not_after: String,
    /// The end of its validity as a time.
    pub expires: SystemTime,
}

impl CertificateSummary {
    /// The summary of a DER certificate; `None` when it is not an X.509 certificate.
    fn of(certificate: &CertificateDer<'_>) -> Option<Self> {
        let parsed = Certificate::from_der(certificate).ok()?;
        let tbs = parsed.tbs_certificate();
        let not_after = tbs.validity().not_after;
        Some(CertificateSummary {
            subject: tbs.subject().to_string(),
            serial: tbs.serial_number().to_string(),
            not_after: not_after.to_string(),
            expires: not_after.to_system_time(),
        })
    }

    /// Whether the certificate's validity has ended.
    pub fn has_expired(&self) -> bool {
        self.expires <= SystemTime::now()
    }

    /// Logs `event` at info level with the certificate's subject, serial and expiry, and a
    /// warning when it has expired already.
    pub fn log(&self, event: &str) {
        tracing::info!(
            subject = %self.subject,
            serial = %self.serial,
            not_after = %self.not_after,
            "{event}"
        );
        if self.has_expired() {
            tracing::warn!(not_after = %self.not_after, "the TLS certificate has expired");
        }
    }
}

/// A certificate chain with its key, ready to serve, and what the logs say about it.
#[derive(Debug, Clone)]
pub(super) struct LoadedCertificate {
    pub(super) key: Arc<CertifiedKey>,
    pub(super) summary: CertificateSummary,
}

impl LoadedCertificate {
    /// Parses `pair` (named after `files` in errors): one or more certificates, the
    /// end-entity one first, and a PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key, which must be
    /// the certificate's.
    pub(super) fn parse(
        pair: &PemPair,
        files: &TlsFiles,
        provider: &CryptoProvider,
    ) -> Result<Self, TlsError> {
        let certificate_error = |reason: String| TlsError::Certificate {
            path: files.cert_file.clone(),
            reason,
        };
        let key_error = |reason: String| TlsError::Key {
            path: files.key_file.clone(),
            reason,
        };
        let chain = CertificateDer::pem_slice_iter(&pair.cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| certificate_error(format!("not PEM: {error}")))?;
        let summary = chain
            .first()
            .ok_or_else(|| certificate_error("no certificate in PEM (CERTIFICATE) in it".into()))
            .and_then(|leaf| {
                CertificateSummary::of(leaf)
                    .ok_or_else(|| certificate_error("not an X.509 certificate".into()))
            })?;
        let key = PrivateKeyDer::from_pem_slice(&pair.key).map_err(|error| {
            key_error(match error {
                pem::Error::NoItemsFound => {
                    "no private key in PEM (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in it"
                        .into()
                }
                error => format!("not PEM: {error}"),
            })
        })?;
        let signing_key = provider
            .key_provider
            .load_private_key(key)
            .map_err(|error| key_error(format!("unusable private key: {error}")))?;
        let key = CertifiedKey::new(chain, signing_key);
        // Stricter than `CertifiedKey::from_der`: a key whose match cannot be checked is refused.
        match key.keys_match() {
            Ok(()) => {}
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::Mismatch {
                    cert: files.cert_file.clone(),
                    key: files.key_file.clone(),
                });
            }
            Err(rustls::Error::InconsistentKeys(_)) => {
                return Err(key_error(
                    "cannot tell whether it is the certificate's".into(),
                ));
            }
            Err(error) => return Err(certificate_error(format!("unusable certificate: {error}"))),
        }
        Ok(LoadedCertificate {
            key: Arc::new(key),
            summary,
        })
    }
}
