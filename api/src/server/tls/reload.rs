//! The certificate in use, and its reload when the files change.
//!
//! Every second (`POLL_INTERVAL`) both files are read and their bytes compared with those of
//! the pair in use. Reading the contents, rather than watching for filesystem events or
//! modification times, catches every way a certificate is renewed: a file rewritten in place,
//! one replaced by a rename, and a Kubernetes secret volume's atomic swap of the `..data`
//! symbolic link (reads follow links, so the new target's bytes are seen). The files are
//! small; reading them once a second costs nothing measurable.
//!
//! A changed pair that parses and whose key is the certificate's is installed at once: new
//! handshakes get it, while open connections keep the session they have. A pair that does not
//! (a renewal caught half-written, a key not yet replaced) is not installed: the pair in use
//! keeps serving, and if the same bytes are still there at the next poll — no longer a write
//! in progress — one warning says why. Each later change is tried again.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::TlsFiles;
use super::certificate::{LoadedCertificate, PemPair};

/// How often the files are read.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The certificate new handshakes get; [`watch`] replaces it.
#[derive(Debug)]
pub(super) struct CurrentCertificate(RwLock<Arc<CertifiedKey>>);

impl CurrentCertificate {
    pub(super) fn new(key: Arc<CertifiedKey>) -> Self {
        CurrentCertificate(RwLock::new(key))
    }

    fn replace(&self, key: Arc<CertifiedKey>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

impl ResolvesServerCert for CurrentCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // The lock only guards swapping one `Arc` for another: a panic cannot leave it
        // half-done.
        Some(
            self.0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// A read of the files that was not installed, and why.
#[derive(Debug)]
struct Refused {
    /// The files as read, or why they could not be read.
    read: Result<PemPair, String>,
    reason: String,
    warned: bool,
}

/// Polls `files` for ever, installing each new good pair in `current`; `installed` holds the
/// bytes of the pair in use at the start. The server aborts this task when it stops.
pub(super) async fn watch(
    files: TlsFiles,
    current: Arc<CurrentCertificate>,
    provider: Arc<CryptoProvider>,
    mut installed: PemPair,
) {
    let mut refused: Option<Refused> = None;
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate, and the files were just read.
    poll.tick().await;
    loop {
        poll.tick().await;
        let read = PemPair::read(&files)
            .await
            .map_err(|error| error.to_string());
        if read.as_ref() == Ok(&installed) {
            refused = None;
            continue;
        }
        if let Some(refused) = refused.as_mut().filter(|refused| refused.read == read) {
            // The same bytes twice in a row: not a write in progress. Say so, once.
            if !refused.warned {
                refused.warned = true;
                tracing::warn!(
                    reason = %refused.reason,
                    "the TLS certificate files changed but cannot be used; still serving the previous certificate"
                );
            }
            continue;
        }
        let outcome = read.clone().and_then(|pair| {
            LoadedCertificate::parse(&pair, &files, &provider)
                .map(|loaded| (pair, loaded))
                .map_err(|error| error.to_string())
        });
        match outcome {
            Ok((pair, loaded)) => {
                current.replace(loaded.key);
                loaded.summary.log("TLS certificate reloaded");
                installed = pair;
                refused = None;
            }
            Err(reason) => {
                refused = Some(Refused {
                    read,
                    reason,
                    warned: false,
                });
            }
        }
    }
}
