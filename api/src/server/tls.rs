//! HTTPS: the server's TLS settings (rustls over aws-lc-rs, TLS 1.2 and 1.3, HTTP/2 and
//! HTTP/1.1 offered by ALPN), the certificate loaded from PEM files and reloaded when they
//! change (`reload.rs`), and what a request learns of its connection's TLS ([`TlsConnection`]).
//!
//! TLS is a step of the one accept path (`server.rs`): a connection's handshake runs inside its
//! slot and within [`ServerLimits::header_read_timeout`](super::ServerLimits::header_read_timeout),
//! so a client that never finishes it holds nothing for long, and every other limit applies to
//! the decrypted connection as to a plain one.

mod certificate;
mod reload;

use std::path::PathBuf;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::CertificateDer;
use rustls::server::ResolvesServerCert;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub use certificate::CertificateSummary;
use certificate::{LoadedCertificate, PemPair};
use reload::CurrentCertificate;

/// Where the certificate and its key are: the binary's `TLS_CERT_FILE` and `TLS_KEY_FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain in PEM, the server's certificate first, then any intermediates.
    pub cert_file: PathBuf,
    /// The certificate's private key in PEM: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE
    /// KEY`) or SEC1 (`EC PRIVATE KEY`).
    pub key_file: PathBuf,
}

/// Why the certificate files cannot be used: one line naming the variable and the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{variable} {}: cannot read it: {reason}", path.display())]
    Unreadable {
        /// `TLS_CERT_FILE` or `TLS_KEY_FILE`.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// The certificate file holds no usable certificate chain.
    #[error("TLS_CERT_FILE {}: {reason}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file holds no usable private key.
    #[error("TLS_KEY_FILE {}: {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error(
        "TLS_KEY_FILE {} is not the key of the certificate in TLS_CERT_FILE {}",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the settings (not expected with its own defaults).
    #[error("TLS settings: {0}")]
    Settings(String),
}

/// HTTPS for a server: the certificate loaded from [`TlsFiles`], which the server reloads
/// while it serves (see [`serve_tls_with`](super::serve_tls_with)).
#[derive(Debug, Clone)]
pub struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: Arc<CurrentCertificate>,
    /// The bytes of the files the certificate in use was loaded from.
    loaded: PemPair,
    summary: CertificateSummary,
    config: Arc<ServerConfig>,
}

impl Tls {
    /// Reads and checks the certificate chain and its key: both files readable, PEM, and the
    /// key the certificate's.
    pub async fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let loaded = PemPair::read(&files).await?;
        let certificate = LoadedCertificate::parse(&loaded, &files, &provider)?;
        let current = Arc::new(CurrentCertificate::new(certificate.key));
        let config = server_config(provider.clone(), current.clone())
            .map_err(|error| TlsError::Settings(error.to_string()))?;
        Ok(Tls {
            files,
            provider,
            current,
            loaded,
            summary: certificate.summary,
            config: Arc::new(config),
        })
    }

    /// The certificate as loaded (reloads do not change this value): for the start-up log.
    pub fn certificate(&self) -> &CertificateSummary {
        &self.summary
    }

    /// Reloads the certificate whenever its files change, until dropped (`reload.rs`).
    pub(super) fn watch(&self) -> impl Future<Output = ()> + Send + 'static {
        reload::watch(
            self.files.clone(),
            self.current.clone(),
            self.provider.clone(),
            self.loaded.clone(),
        )
    }

    /// What each connection's handshake needs: cheap to clone.
    pub(super) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

/// Runs the TLS handshake of an accepted connection (timing it is the caller's); `None` when
/// it fails, which is logged at debug level.
pub(super) async fn handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
) -> Option<(TlsStream<TcpStream>, TlsConnection)> {
    match acceptor.accept(stream).await {
        Ok(stream) => {
            let peer_certificates = stream.get_ref().1.peer_certificates().map(|chain| {
                chain
                    .iter()
                    .map(|certificate| certificate.clone().into_owned())
                    .collect()
            });
            Some((stream, TlsConnection { peer_certificates }))
        }
        Err(error) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
    }
}

/// The rustls settings of the server, in one place: the aws-lc-rs provider, its safe default
/// protocol versions (TLS 1.2 and 1.3), no client certificates, the certificate from
/// `certificates`, and ALPN offering HTTP/2 then HTTP/1.1.
fn server_config(
    provider: Arc<CryptoProvider>,
    certificates: Arc<dyn ResolvesServerCert>,
) -> Result<ServerConfig, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// In the extensions of every request that came over HTTPS: what the connection's TLS says
/// about its client.
#[derive(Debug, Clone)]
pub struct TlsConnection {
    peer_certificates: Option<Arc<[CertificateDer<'static>]>>,
}

impl TlsConnection {
    /// The client's certificate chain, its own certificate first; `None` when it presented
    /// none (always, until the server asks for client certificates).
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer_certificates.as_deref()
    }
}
