//! HTTPS test support: a certificate authority made in the test (`rcgen`), server certificates
//! it signs written to PEM files, and a rustls client that trusts it and tells which
//! certificate a server presented. Included by `#[path]` where needed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The name the server certificates are issued for and clients ask for.
pub const SERVER_NAME: &str = "localhost";

/// A certificate authority that signs server certificates.
pub struct TestCa {
    certificate: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and its key, in PEM as the server reads them.
#[derive(Clone)]
pub struct ServerPair {
    /// The certificate, in PEM.
    pub cert_pem: String,
    /// Its private key, PKCS#8 in PEM.
    pub key_pem: String,
    /// The certificate in DER, to compare with what a client was presented.
    pub der: CertificateDer<'static>,
}

impl TestCa {
    /// A new CA with a fresh P-256 key.
    pub fn new() -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "api test CA");
        let certificate = params.self_signed(&key).expect("CA certificate");
        TestCa {
            certificate: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for [`SERVER_NAME`] and 127.0.0.1 with serial number `serial`, signed by
    /// this CA, and a fresh key for it.
    pub fn server_pair(&self, serial: u8) -> ServerPair {
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned(), "127.0.0.1".into()])
            .expect("server params");
        params.serial_number = Some(SerialNumber::from_slice(&[serial]));
        params
            .distinguished_name
            .push(DnType::CommonName, format!("server {serial}"));
        let certificate = params.signed_by(&key, &self.issuer).expect("signed");
        ServerPair {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            der: certificate.der().clone(),
        }
    }

    /// A client that trusts this CA, offering `alpn` (none when empty), never resuming a
    /// session, so each connection sees the certificate the server has now.
    pub fn client(&self, alpn: &[&[u8]]) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(self.certificate.clone()).expect("CA root");
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        config.resumption = rustls::client::Resumption::disabled();
        TlsConnector::from(Arc::new(config))
    }
}

/// Connects to `address` over TLS with `connector`, asking for [`SERVER_NAME`].
pub async fn connect(connector: &TlsConnector, address: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(address).await.expect("connect");
    connector
        .connect(ServerName::try_from(SERVER_NAME).expect("name"), tcp)
        .await
        .expect("TLS handshake")
}

/// The certificate the server presented on `stream`.
pub fn presented(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .expect("a server certificate")[0]
        .clone()
}

/// A directory under the system's temporary one, removed with everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory; `name` tells tests apart.
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("api-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    /// The path of `name` inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
