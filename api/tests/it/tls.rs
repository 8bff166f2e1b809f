//! HTTPS: the routes over TLS, HTTP/2 and HTTP/1.1 by ALPN, the certificate reloaded when its
//! files change (rewritten, renamed over, swapped through a symbolic link as Kubernetes does)
//! while open connections keep serving, a broken renewal left unused, the handshake inside the
//! header read timeout, and the two variables' configuration. Real sockets, certificates made
//! here by a test CA.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use api::ServerLimits;
use api::server::{Tls, TlsConnection, TlsError, TlsFiles, serve_tls_with};
use axum::Extension;
use http::{Request, StatusCode, Version};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::client::TlsStream;

use crate::dpop::unix_now;
use crate::dpop_proof::ProofKey;
use crate::helpers::{AUDIENCE, TestIssuer, api_binary, options, start_api_binary};

#[path = "../support/tls.rs"]
mod support;

use support::{ServerPair, TempDir, TestCa, connect, presented};

const H2: &[u8] = b"h2";
const HTTP1: &[u8] = b"http/1.1";

/// The longest a reload may take to show (the files are read every second).
const RELOAD_WITHIN: Duration = Duration::from_secs(5);

/// The quickstart app served over HTTPS on port 0 until dropped.
struct HttpsApp {
    address: SocketAddr,
    _issuer: TestIssuer,
    token: String,
    _shutdown: oneshot::Sender<()>,
}

/// Writes `pair` to `cert.pem` and `key.pem` in `dir`; returns the files.
fn write_pair(dir: &Path, pair: &ServerPair) -> TlsFiles {
    let files = TlsFiles {
        cert_file: dir.join("cert.pem"),
        key_file: dir.join("key.pem"),
    };
    std::fs::write(&files.cert_file, &pair.cert_pem).expect("write cert");
    std::fs::write(&files.key_file, &pair.key_pem).expect("write key");
    files
}

/// Serves the quickstart app over HTTPS with the certificate in `files` and `limits`.
async fn serve_https(files: TlsFiles, limits: ServerLimits) -> HttpsApp {
    let issuer = TestIssuer::start().await;
    let authenticator = api::auth::Authenticator::new(options(&issuer)).expect("options");
    let app = api::app(authenticator, &api::routes::CorsOrigins::default());
    let (address, shutdown) = serve_router_https(app, files, limits).await;
    HttpsApp {
        address,
        token: issuer.token(),
        _issuer: issuer,
        _shutdown: shutdown,
    }
}

/// Serves `router` over HTTPS with the certificate in `files` and `limits`, until the sender
/// is dropped.
async fn serve_router_https(
    router: axum::Router,
    files: TlsFiles,
    limits: ServerLimits,
) -> (SocketAddr, oneshot::Sender<()>) {
    let tls = Tls::load(files).await.expect("certificate loads");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (shutdown, signal) = oneshot::channel::<()>();
    tokio::spawn(serve_tls_with(
        listener,
        router,
        async {
            let _ = signal.await;
        },
        limits,
        tls,
    ));
    (address, shutdown)
}

/// A new CA, a directory named after `name` holding its certificate with serial 1, and the
/// app serving it with `limits`.
async fn serve_new_https(name: &str, limits: ServerLimits) -> (TestCa, TempDir, HttpsApp) {
    let ca = TestCa::new();
    let dir = TempDir::new(name);
    let app = serve_https(write_pair(dir.path(), &ca.server_pair(1)), limits).await;
    (ca, dir, app)
}

/// An HTTP/1.1 connection over `stream`.
async fn http1(
    stream: TlsStream<TcpStream>,
) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// GET `path` on an HTTP/1.1 connection, with `token` when given: the status and version.
async fn get1(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Version) {
    let mut request = Request::get(path).header("host", support::SERVER_NAME);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = sender
        .send_request(request.body(Empty::new()).expect("request"))
        .await
        .expect("response");
    (response.status(), response.version())
}

/// Waits until a new connection is presented `expected`; panics after [`RELOAD_WITHIN`].
async fn wait_for_certificate(ca: &TestCa, address: SocketAddr, expected: &ServerPair) {
    let client = ca.client(&[HTTP1]);
    let deadline = Instant::now() + RELOAD_WITHIN;
    while presented(&connect(&client, address).await) != expected.der {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served within {RELOAD_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn https_serves_the_public_and_the_protected_routes() {
    let (ca, _dir, app) = serve_new_https("routes", ServerLimits::default()).await;
    let mut sender = http1(connect(&ca.client(&[HTTP1]), app.address).await).await;

    assert_eq!(
        get1(&mut sender, "/api/public", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get1(&mut sender, "/api/private", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get1(&mut sender, "/api/private", Some(&app.token)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_dpop_proof_naming_the_https_url_is_accepted_straight_over_https() {
    // No `PUBLIC_URL`, no proxy: the api's own TLS makes the URL a proof names `https://`.
    let ca = TestCa::new();
    let dir = TempDir::new("dpop");
    let issuer = TestIssuer::start().await;
    let authenticator = api::auth::Authenticator::new(options(&issuer)).expect("options");
    let app = api::app(authenticator, &api::routes::CorsOrigins::default());
    let files = write_pair(dir.path(), &ca.server_pair(1));
    let (address, _shutdown) = serve_router_https(app, files, ServerLimits::default()).await;
    let key = ProofKey::new("ES256");
    let token = issuer.token_with(serde_json::json!({"cnf": {"jkt": key.thumbprint()}}));
    let mut sender = http1(connect(&ca.client(&[HTTP1]), address).await).await;

    let mut status_for = |url: String| {
        let proof = key.proof("GET", &url, &token, unix_now());
        let request = Request::get("/api/private")
            .header("host", support::SERVER_NAME)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Empty::new())
            .expect("request");
        let response = sender.send_request(request);
        async move { response.await.expect("response").status() }
    };
    let https = format!("https://{}/api/private", support::SERVER_NAME);
    assert_eq!(status_for(https).await, StatusCode::OK);
    let http = format!("http://{}/api/private", support::SERVER_NAME);
    assert_eq!(status_for(http).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_request_over_https_carries_its_connections_tls() {
    let ca = TestCa::new();
    let dir = TempDir::new("extension");
    let router = axum::Router::new().route(
        "/tls",
        axum::routing::get(|tls: Option<Extension<TlsConnection>>| async move {
            match tls {
                None => "plain",
                Some(Extension(tls)) if tls.peer_certificates().is_none() => {
                    "TLS, no client certificate"
                }
                Some(_) => "TLS, a client certificate",
            }
        }),
    );
    let files = write_pair(dir.path(), &ca.server_pair(1));
    let (address, _shutdown) = serve_router_https(router, files, ServerLimits::default()).await;
    let mut sender = http1(connect(&ca.client(&[HTTP1]), address).await).await;

    let request = Request::get("/tls")
        .header("host", support::SERVER_NAME)
        .body(Empty::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();

    assert_eq!(&body[..], b"TLS, no client certificate");
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_no_answer_from_the_routes() {
    let (_ca, _dir, app) = serve_new_https("plain", ServerLimits::default()).await;
    let mut tcp = TcpStream::connect(app.address).await.expect("connect");
    tcp.write_all(b"GET /api/public HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");

    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");

    // A TLS alert at most, or a reset: never an HTTP response.
    assert!(
        read.is_err() || !received.starts_with(b"HTTP/"),
        "{received:?}"
    );
    assert!(!String::from_utf8_lossy(&received).contains("Public"));
}

#[tokio::test]
async fn alpn_gives_http2_to_an_http2_client_and_http1_to_an_http1_client() {
    let (ca, _dir, app) = serve_new_https("alpn", ServerLimits::default()).await;

    let stream = connect(&ca.client(&[H2, HTTP1]), app.address).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(H2));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 handshake");
    tokio::spawn(connection);
    let request = Request::get(format!("https://{}/api/public", support::SERVER_NAME))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(
        (response.status(), response.version()),
        (StatusCode::OK, Version::HTTP_2)
    );

    for alpn in [&[HTTP1][..], &[]] {
        let stream = connect(&ca.client(alpn), app.address).await;
        let negotiated = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(negotiated, (!alpn.is_empty()).then(|| HTTP1.to_vec()));
        let answer = get1(&mut http1(stream).await, "/api/public", None).await;
        assert_eq!(answer, (StatusCode::OK, Version::HTTP_11), "ALPN {alpn:?}");
    }
}

/// How a renewal puts the new pair in place.
#[derive(Debug, Clone, Copy)]
enum Renewal {
    /// The files are rewritten where they are.
    InPlace,
    /// New files are written beside them and renamed over them.
    Rename,
    /// Kubernetes' secret volume: `cert.pem -> ..data/cert.pem`, and `..data`, a link to a
    /// timestamped directory, swapped atomically for a link to a new one.
    SymlinkSwap,
}

impl Renewal {
    /// Puts the first pair in place in `dir`, the way this renewal will replace it.
    fn install(self, dir: &Path, pair: &ServerPair) -> TlsFiles {
        match self {
            Renewal::InPlace | Renewal::Rename => write_pair(dir, pair),
            Renewal::SymlinkSwap => {
                let version = dir.join("..2026_11_30_00_00_00.0001");
                std::fs::create_dir(&version).expect("version dir");
                write_pair(&version, pair);
                std::os::unix::fs::symlink(version.file_name().expect("name"), dir.join("..data"))
                    .expect("..data link");
                for name in ["cert.pem", "key.pem"] {
                    std::os::unix::fs::symlink(format!("..data/{name}"), dir.join(name))
                        .expect("file link");
                }
                TlsFiles {
                    cert_file: dir.join("cert.pem"),
                    key_file: dir.join("key.pem"),
                }
            }
        }
    }

    /// Replaces the pair in `dir` with `pair` (the `number`th renewal).
    fn renew(self, dir: &Path, pair: &ServerPair, number: u32) {
        match self {
            Renewal::InPlace => {
                write_pair(dir, pair);
            }
            Renewal::Rename => {
                let staging = dir.join("staging");
                std::fs::create_dir_all(&staging).expect("staging dir");
                write_pair(&staging, pair);
                for name in ["cert.pem", "key.pem"] {
                    std::fs::rename(staging.join(name), dir.join(name)).expect("rename");
                }
            }
            Renewal::SymlinkSwap => {
                let version = dir.join(format!("..2026_11_30_00_00_00.{:04}", number + 1));
                std::fs::create_dir(&version).expect("version dir");
                write_pair(&version, pair);
                let link = dir.join("..data_tmp");
                std::os::unix::fs::symlink(version.file_name().expect("name"), &link)
                    .expect("new ..data link");
                let old = std::fs::read_link(dir.join("..data")).expect("old target");
                std::fs::rename(&link, dir.join("..data")).expect("swap ..data");
                std::fs::remove_dir_all(dir.join(old)).expect("remove the old version");
            }
        }
    }
}

/// Renews the certificate `renewal`'s way twice; each time new connections get the new one,
/// and a connection opened before keeps serving.
async fn assert_reloaded(renewal: Renewal) {
    let ca = TestCa::new();
    let dir = TempDir::new(&format!("{renewal:?}"));
    let first = ca.server_pair(1);
    let files = renewal.install(dir.path(), &first);
    let app = serve_https(files, ServerLimits::default()).await;
    let client = ca.client(&[HTTP1]);
    let stream = connect(&client, app.address).await;
    assert_eq!(presented(&stream), first.der);
    let mut open = http1(stream).await;
    assert_eq!(get1(&mut open, "/api/public", None).await.0, StatusCode::OK);

    for number in 1..=2u8 {
        let renewed = ca.server_pair(number + 1);
        renewal.renew(dir.path(), &renewed, u32::from(number));
        wait_for_certificate(&ca, app.address, &renewed).await;
        assert_eq!(
            get1(&mut open, "/api/private", Some(&app.token)).await.0,
            StatusCode::OK,
            "the connection opened before renewal {number} still serves"
        );
    }
}

#[tokio::test]
async fn a_certificate_rewritten_in_place_is_reloaded() {
    assert_reloaded(Renewal::InPlace).await;
}

#[tokio::test]
async fn a_certificate_renamed_over_the_old_one_is_reloaded() {
    assert_reloaded(Renewal::Rename).await;
}

#[tokio::test]
async fn a_certificate_swapped_through_a_kubernetes_style_symlink_is_reloaded() {
    assert_reloaded(Renewal::SymlinkSwap).await;
}

#[tokio::test]
async fn a_key_that_is_not_the_certificates_is_not_installed_and_a_later_good_pair_is() {
    let ca = TestCa::new();
    let dir = TempDir::new("mismatch");
    let first = ca.server_pair(1);
    let app = serve_https(write_pair(dir.path(), &first), ServerLimits::default()).await;
    let client = ca.client(&[HTTP1]);

    // A renewal caught half-done: the new certificate beside the old key, then garbage.
    let renewed = ca.server_pair(2);
    std::fs::write(dir.join("cert.pem"), &renewed.cert_pem).expect("write cert");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(presented(&connect(&client, app.address).await), first.der);
    std::fs::write(dir.join("cert.pem"), "not PEM").expect("write garbage");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(presented(&connect(&client, app.address).await), first.der);

    write_pair(dir.path(), &renewed);
    wait_for_certificate(&ca, app.address, &renewed).await;
}

#[tokio::test]
async fn a_client_that_never_sends_its_handshake_is_disconnected_within_the_header_read_timeout() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    };
    let (_ca, _dir, app) = serve_new_https("silent", limits).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(app.address).await.expect("connect");

    let mut buffer = [0; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buffer))
        .await
        .expect("disconnected before 5 s");

    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_client_stuck_in_its_handshake_gives_its_slot_to_a_newcomer() {
    let limits = ServerLimits {
        max_connections: 1,
        ..ServerLimits::default()
    };
    let (ca, _dir, app) = serve_new_https("evict", limits).await;
    let mut silent = TcpStream::connect(app.address).await.expect("connect");
    // Let the server admit it into the one slot.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let served = tokio::time::timeout(Duration::from_secs(5), async {
        let stream = connect(&ca.client(&[HTTP1]), app.address).await;
        get1(&mut http1(stream).await, "/api/public", None).await
    })
    .await
    .expect("the newcomer is served long before the header read timeout");

    assert_eq!(served, (StatusCode::OK, Version::HTTP_11));
    let mut buffer = [0; 16];
    let read = tokio::time::timeout(Duration::from_secs(1), silent.read(&mut buffer))
        .await
        .expect("the silent client was disconnected");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[test]
fn the_certificate_and_key_files_are_set_together() {
    let base = [
        ("ISSUER_BASE_URL", "https://tenant.auth0.com"),
        ("AUDIENCE", "https://quickstarts/api"),
    ];
    let config = |pairs: &[(&str, &str)]| {
        let all: Vec<_> = base.iter().chain(pairs).copied().collect();
        api::config::Config::from_lookup(|name| {
            all.iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        })
    };

    assert_eq!(config(&[]).expect("valid").tls, None);
    let both = config(&[
        ("TLS_CERT_FILE", "/tls/cert.pem"),
        ("TLS_KEY_FILE", "/tls/key.pem"),
    ]);
    assert_eq!(
        both.expect("valid").tls,
        Some(TlsFiles {
            cert_file: "/tls/cert.pem".into(),
            key_file: "/tls/key.pem".into(),
        })
    );
    for alone in ["TLS_CERT_FILE", "TLS_KEY_FILE"] {
        let error = config(&[(alone, "/tls/file.pem")]).expect_err("one without the other");
        let line = error.to_string();
        assert!(
            line.contains("TLS_CERT_FILE") && line.contains("TLS_KEY_FILE") && !line.contains('\n'),
            "{line}"
        );
    }
}

/// The binary's variables for an issuer it need not reach, plus `tls`.
fn binary_vars<'a>(tls: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![
        ("ISSUER_BASE_URL", "http://127.0.0.1:1/"),
        ("AUDIENCE", AUDIENCE),
        ("PORT", "0"),
        ("RUST_LOG", "off"),
    ];
    vars.extend_from_slice(tls);
    vars
}

/// Runs the binary with these files until it stops: its exit code and its standard error.
fn run_binary(cert_file: &Path, key_file: &Path) -> (Option<i32>, String) {
    let output = api_binary(&binary_vars(&[
        ("TLS_CERT_FILE", cert_file.to_str().expect("path")),
        ("TLS_KEY_FILE", key_file.to_str().expect("path")),
    ]))
    .output()
    .expect("run api");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    (output.status.code(), stderr)
}

/// Asserts the binary stops at start-up with exit code 2 and `expected` alone.
fn assert_start_up_refused(cert_file: &Path, key_file: &Path, expected: &TlsError) {
    assert_eq!(
        run_binary(cert_file, key_file),
        (Some(2), format!("error: {expected}\n"))
    );
}

#[test]
fn the_binary_stops_with_one_line_on_a_missing_unparsable_or_mismatched_file() {
    let ca = TestCa::new();
    let dir = TempDir::new("startup");
    let files = write_pair(dir.path(), &ca.server_pair(1));
    let other = TempDir::new("startup-other");
    let other_files = write_pair(other.path(), &ca.server_pair(2));
    let missing = dir.join("missing.pem");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not PEM").expect("write");

    assert_start_up_refused(
        &missing,
        &files.key_file,
        &TlsError::Unreadable {
            variable: "TLS_CERT_FILE",
            path: missing.clone(),
            reason: std::fs::read(&missing).expect_err("missing").to_string(),
        },
    );
    assert_start_up_refused(
        &files.cert_file,
        &other_files.key_file,
        &TlsError::Mismatch {
            cert: files.cert_file.clone(),
            key: other_files.key_file.clone(),
        },
    );
    let (code, stderr) = run_binary(&garbage, &files.key_file);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: TLS_CERT_FILE ") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

/// Starts the binary serving HTTPS with `files` and `extra` variables (stderr as given).
fn start_https_binary(
    files: &TlsFiles,
    extra: &[(&str, &str)],
    stderr: Stdio,
) -> (KillOnDrop, SocketAddr) {
    let mut tls = vec![
        ("TLS_CERT_FILE", files.cert_file.to_str().expect("path")),
        ("TLS_KEY_FILE", files.key_file.to_str().expect("path")),
    ];
    tls.extend_from_slice(extra);
    let (child, address) = start_api_binary(&binary_vars(&tls), stderr);
    let child = KillOnDrop(child);
    let socket = address
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("{address}"))
        .parse()
        .expect("address");
    (child, socket)
}

#[tokio::test]
async fn the_binary_serves_https_with_the_configured_certificate() {
    let ca = TestCa::new();
    let dir = TempDir::new("binary");
    let pair = ca.server_pair(7);
    let (_binary, address) = start_https_binary(&write_pair(dir.path(), &pair), &[], Stdio::null());

    let stream = connect(&ca.client(&[HTTP1]), address).await;
    assert_eq!(presented(&stream), pair.der);
    let answer = get1(&mut http1(stream).await, "/api/public", None).await;
    assert_eq!(answer, (StatusCode::OK, Version::HTTP_11));
}

#[tokio::test]
async fn the_binary_logs_one_warning_for_a_broken_renewal_and_one_line_per_reload() {
    let ca = TestCa::new();
    let dir = TempDir::new("binary-logs");
    let files = write_pair(dir.path(), &ca.server_pair(1));
    let (mut binary, address) = start_https_binary(&files, &[("RUST_LOG", "info")], Stdio::piped());

    let renewed = ca.server_pair(2);
    std::fs::write(&files.cert_file, &renewed.cert_pem).expect("write cert");
    // Several polls see the same broken pair.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    write_pair(dir.path(), &renewed);
    wait_for_certificate(&ca, address, &renewed).await;
    let _ = binary.0.kill();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut binary.0.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");

    let count = |text: &str| stderr.lines().filter(|line| line.contains(text)).count();
    assert_eq!(count("serving HTTPS"), 1, "{stderr}");
    assert_eq!(
        count("cannot be used"),
        1,
        "one warning, not one per poll: {stderr}"
    );
    assert_eq!(count("is not the key of the certificate"), 1, "{stderr}");
    assert_eq!(count("TLS certificate reloaded"), 1, "{stderr}");
    assert_eq!(
        count("CN=server 2"),
        1,
        "the reload names the new subject: {stderr}"
    );
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
}

/// A child process killed when dropped, so a failed assertion leaves nothing running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
