//! Hostile HTTP: oversized or malformed heads, oversized and trickling bodies, slow and silent
//! clients, connection floods. Each gets a clear 4xx or a closed connection, and the server
//! keeps serving everyone else. Inputs a client library would refuse to send go over a raw
//! `TcpStream`; limits are set short so every test finishes in well under a few seconds.

use std::time::Duration;

use api::ServerLimits;
use api::routes::{CorsOrigins, PUBLIC_MESSAGE};
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    TestApp, TestIssuer, answer, authenticator, malformed_authorization, refused, spawn_router_with,
};
use crate::raw_http::{DID_NOT_HANG, closed_without_answer, connect, exchange, read_response};

/// Short limits for tests; each test changes what it exercises. The header read timeout is
/// short enough to wait out, long enough for a loaded CI machine to send a head in time.
fn limits() -> ServerLimits {
    ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    }
}

/// The quickstart app against a test issuer, with these server limits.
async fn quickstart(issuer: &TestIssuer, limits: ServerLimits) -> TestApp {
    let authenticator = authenticator(issuer);
    spawn_router_with(api::app(authenticator, &CorsOrigins::default()), limits).await
}

/// A router with one route that reads its whole body: `POST /echo` answers its length.
async fn echo(limits: ServerLimits) -> TestApp {
    let router = Router::new().route(
        "/echo",
        post(|body: Bytes| async move { body.len().to_string() }),
    );
    spawn_router_with(router, limits).await
}

/// A GET of `target` with extra header lines, closing the connection after the answer.
fn get(target: &str, extra_headers: &[u8]) -> Vec<u8> {
    let mut request =
        format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n").into_bytes();
    request.extend_from_slice(extra_headers);
    request.extend_from_slice(b"\r\n");
    request
}

/// A client that opens a new connection per request: a pooled connection could be the one
/// the server is closing for idleness just as the request goes out.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(DID_NOT_HANG)
        .build()
        .expect("client")
}

/// The server still answers `/api/public` on a fresh connection.
async fn assert_still_serving(app: &TestApp) {
    let response = fresh_client()
        .get(format!("{}/api/public", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["message"], PUBLIC_MESSAGE);
}

#[tokio::test]
async fn a_request_head_over_the_header_limit_is_431_and_the_server_keeps_serving() {
    let app = echo(ServerLimits {
        max_header_bytes: 8 * 1024,
        ..limits()
    })
    .await;

    let pad = format!("X-Pad: {}\r\n", "a".repeat(16 * 1024));
    let answer = exchange(&app, get("/api/public", pad.as_bytes())).await;

    assert_eq!(answer.expect("an answer").status, 431);
    assert_still_serving_echo(&app).await;
}

#[tokio::test]
async fn the_default_head_limit_admits_the_largest_token_the_core_accepts() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, ServerLimits::default()).await;

    // 16 KiB is `AuthOptions::max_token_bytes`: such a token must reach the core (and be
    // refused there, as 401), not be cut off by the server as 431.
    let token = format!(
        "{}.{}.{}",
        "a".repeat(8000),
        "b".repeat(8000),
        "c".repeat(380)
    );
    let response = app.get_with_token("/api/private", &token).await;

    assert_eq!(
        answer(response).await,
        refused("Invalid Token or Protected Header formatting")
    );
}

#[tokio::test]
async fn five_hundred_headers_are_431_and_the_server_keeps_serving() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, limits()).await;

    let headers: String = (0..500).map(|n| format!("X-H{n}: {n}\r\n")).collect();
    let answer = exchange(&app, get("/api/public", headers.as_bytes())).await;

    assert_eq!(answer.expect("an answer").status, 431);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_100_kb_query_string_is_431_under_the_default_head_limit() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, ServerLimits::default()).await;

    let target = format!("/api/public?q={}", "x".repeat(100 * 1024));
    let answer = exchange(&app, get(&target, b"")).await;

    assert_eq!(answer.expect("an answer").status, 431);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_100_kb_query_string_is_414_when_the_head_limit_is_raised_above_it() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(
        &issuer,
        ServerLimits {
            max_header_bytes: 1024 * 1024,
            ..limits()
        },
    )
    .await;

    let target = format!("/api/public?q={}", "x".repeat(100 * 1024));
    let answer = exchange(&app, get(&target, b"")).await;

    // hyper's own URI limit (65 534 bytes) answers once the head limit no longer does.
    assert_eq!(answer.expect("an answer").status, 414);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn non_utf8_bytes_in_authorization_are_400_and_the_connection_keeps_serving() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, limits()).await;
    let mut stream = connect(&app).await;

    // obs-text (bytes 0x80–0xFF) is legal on the wire, so hyper passes it on; the core refuses
    // anything but a visible-ASCII token.
    stream
        .write_all(b"GET /api/private HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \xff\xfe\xc3\x28abc\r\n\r\n")
        .await
        .expect("write");
    let bad_bytes = read_response(&mut stream).await.expect("an answer");
    stream
        .write_all(b"GET /api/public HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let public = read_response(&mut stream).await.expect("an answer");

    assert_eq!(bad_bytes.answer(), malformed_authorization());
    assert_eq!(public.status, 200);
    assert_eq!(public.message(), PUBLIC_MESSAGE);
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_413_before_the_app_reads_it() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(
        &issuer,
        ServerLimits {
            max_body_bytes: 1024,
            ..limits()
        },
    )
    .await;

    // Only the head is sent: the answer must not wait for a megabyte that never comes.
    let answer = exchange(
        &app,
        b"POST /api/private HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\n".to_vec(),
    )
    .await
    .expect("an answer");

    assert_eq!(answer.status, 413);
    assert_eq!(answer.body, r#"{"message":"Request body too large"}"#);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_from_a_route_that_reads_it() {
    let app = echo(ServerLimits {
        max_body_bytes: 1024,
        ..limits()
    })
    .await;
    let chunked = |size: usize| {
        format!(
            "POST /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{size:x}\r\n{}\r\n0\r\n\r\n",
            "x".repeat(size)
        )
        .into_bytes()
    };

    let within = exchange(&app, chunked(1000)).await.expect("an answer");
    let over = exchange(&app, chunked(4096)).await.expect("an answer");

    assert_eq!((within.status, within.body.as_str()), (200, "1000"));
    assert_eq!(over.status, 413);
}

#[tokio::test]
async fn a_chunked_form_body_over_the_server_limit_is_413_from_the_auth_layer() {
    let issuer = TestIssuer::start().await;
    // The server's limit is far below the core's own 64 KiB: the core must still answer 413.
    let app = quickstart(
        &issuer,
        ServerLimits {
            max_body_bytes: 1024,
            ..limits()
        },
    )
    .await;

    let body = format!("access_token={}&pad={}", issuer.token(), "x".repeat(4096));
    let mut request = format!(
        "POST /api/private HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = exchange(&app, request).await.expect("an answer");

    assert_eq!(answer.status, 413);
    assert_eq!(answer.body, r#"{"message":"Request body too large"}"#);
}

#[tokio::test]
async fn a_body_trickling_in_past_the_request_timeout_is_408() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(
        &issuer,
        ServerLimits {
            request_timeout: Duration::from_millis(300),
            ..limits()
        },
    )
    .await;
    let mut stream = connect(&app).await;

    // The head is complete (so the header timeout is satisfied) and promises 100 bytes; ten
    // come, then nothing, while the auth layer waits for the form body.
    stream
        .write_all(b"POST /api/private HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\naccess_tok")
        .await
        .expect("write");
    let answer = read_response(&mut stream).await.expect("an answer");

    assert_eq!(answer.status, 408);
    assert_eq!(answer.body, r#"{"message":"Request Timeout"}"#);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_client_sending_its_head_byte_by_byte_is_disconnected_while_others_are_served() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, limits()).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();

    // A head that never ends, one byte every 20 ms, for up to the did-not-hang bound (the
    // write may fail once the server has closed).
    let drip = tokio::spawn(async move {
        let head = b"GET /api/public HTTP/1.1\r\nHost: test\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')).take(500) {
            if writer.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    });
    // Others are served while the slow client holds its connection.
    assert_still_serving(&app).await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(DID_NOT_HANG, reader.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection");
    drip.abort();

    assert!(read.is_err() || rest.is_empty(), "answered: {rest:?}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_kept_alive_connection_dawdling_over_its_next_head_is_disconnected() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, limits()).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"GET /api/public HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let first = read_response(&mut stream).await.expect("an answer");
    // Half of the next head, then silence: hyper's header read timeout applies again.
    stream
        .write_all(b"GET /api/public HTTP/1.1\r\nHo")
        .await
        .expect("write");

    assert_eq!(first.status, 200);
    assert!(closed_without_answer(&mut stream).await);
}

#[tokio::test]
async fn a_silent_connection_or_a_half_http2_preface_is_closed_after_the_header_read_timeout() {
    let issuer = TestIssuer::start().await;
    let app = quickstart(&issuer, limits()).await;

    // Before the first request hyper is still telling HTTP/1 from HTTP/2, which has no
    // timeout of its own: the server's first-request deadline closes these.
    for opening in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let mut stream = connect(&app).await;
        stream.write_all(opening).await.expect("write");

        assert!(
            closed_without_answer(&mut stream).await,
            "{:?}",
            String::from_utf8_lossy(opening)
        );
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn after_the_shutdown_signal_new_connections_are_refused_and_serve_returns() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve_with(
        listener,
        Router::new(),
        async {
            let _ = stopped.await;
        },
        limits(),
    ));
    let mut idle = TcpStream::connect(address).await.expect("connect");
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let _ = read_response(&mut idle).await.expect("an answer");

    stop.send(()).expect("server running");
    let outcome = tokio::time::timeout(DID_NOT_HANG, server).await;

    // The idle kept-alive connection did not hold shutdown up, and the port is closed.
    assert!(matches!(outcome, Ok(Ok(Ok(())))), "serve returned cleanly");
    let refused = TcpStream::connect(address)
        .await
        .expect_err("the port is closed");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

async fn assert_still_serving_echo(app: &TestApp) {
    let response = fresh_client()
        .post(format!("{}/echo", app.address))
        .body("hello")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("text"), "5");
}
