//! Logging and lifecycle: refusals are logged with their reason and never with the token; no
//! value from a client or the issuer can forge a log line; an issuer outage is logged once per
//! refresh attempt, not once per request; the server drains and stops on its shutdown signal.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use wiremock::ResponseTemplate;

use crate::helpers::*;

/// The real binary against `issuer_url`, logging at `level` to a pipe, so logging is seen
/// exactly as an operator sees it; query tokens are allowed, so they reach the token checks.
fn api_logging_at(level: &str, issuer_url: &str) -> (Child, String) {
    start_api_binary(
        &[
            ("ISSUER_BASE_URL", issuer_url),
            ("AUDIENCE", AUDIENCE),
            ("PORT", "0"),
            ("ALLOW_QUERY_TOKEN", "true"),
            ("RUST_LOG", level),
        ],
        Stdio::piped(),
    )
}

/// Stops the binary and returns everything it logged.
fn stop_and_read_log(mut child: Child) -> String {
    child.kill().expect("kill");
    let output = child.wait_with_output().expect("wait");
    String::from_utf8(output.stderr).expect("UTF-8 logs")
}

#[tokio::test]
async fn refusals_are_logged_with_their_reason_and_never_with_the_token() {
    let issuer = TestIssuer::start().await;
    let (child, address) = api_logging_at("trace", &issuer.url());
    let client = reqwest::Client::new();
    let valid = issuer.token();
    let expired = issuer.token_with(json!({"exp": now() - 3600}));
    let unscoped = issuer.token_with(json!({"scope": "other"}));
    let get = |path: String, token: Option<&String>| {
        let request = client.get(format!("{address}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };

    assert_eq!(
        get("/api/private".into(), Some(&valid))
            .await
            .expect("answer")
            .status(),
        200
    );
    assert_eq!(
        get("/api/private".into(), Some(&expired))
            .await
            .expect("answer")
            .status(),
        401
    );
    assert_eq!(
        get("/api/private-scoped".into(), Some(&unscoped))
            .await
            .expect("answer")
            .status(),
        403
    );
    let query = format!("/api/private?access_token={expired}");
    assert_eq!(get(query, None).await.expect("answer").status(), 401);
    let text = stop_and_read_log(child);
    assert!(text.contains("request refused"), "{text}");
    assert!(text.contains("claim timestamp check failed"), "{text}");
    assert!(text.contains("insufficient_scope"), "{text}");
    for token in [&valid, &expired, &unscoped] {
        let signature = token.rsplit_once('.').expect("dot").1;
        assert!(!text.contains(signature), "a token reached the logs");
    }
}

#[tokio::test]
async fn serve_finishes_a_request_in_flight_then_stops_on_its_shutdown_signal() {
    let issuer = TestIssuer::bare().await;
    issuer.mount_discovery().await;
    jwks_answer(jwks_response(&[TestKey::primary()]).set_delay(Duration::from_millis(300)))
        .mount(&issuer.server)
        .await;
    let authenticator = authenticator(&issuer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(
        listener,
        api::app(authenticator, &api::routes::CorsOrigins::default()),
        async {
            let _ = stopped.await;
        },
    ));
    // The first request with a token waits 300 ms for the JWKS: once the issuer has seen that
    // fetch, the request is surely in flight.
    let client = reqwest::Client::new();
    let in_flight = tokio::spawn(
        client
            .get(format!("{address}/api/private"))
            .bearer_auth(issuer.token())
            .send(),
    );
    for _ in 0..400 {
        if issuer.requests_to(JWKS_PATH).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    stop.send(()).expect("server listening");
    let outcome = tokio::time::timeout(Duration::from_secs(10), server).await;

    assert!(matches!(outcome, Ok(Ok(Ok(())))), "serve returned cleanly");
    let response = in_flight
        .await
        .expect("task")
        .expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
}

/// What the hostile values below carry after a line break: a log line starting with it is a
/// forged one.
const MARKER: &str = "FORGED";

/// The characters some log reader takes for the end of a line: LF and CR, and what Python's
/// `str.splitlines` (and so many log tools) also breaks at (VT, FF, FS, GS, RS, NEL and the
/// Unicode line and paragraph separators).
fn is_line_break(character: char) -> bool {
    matches!(
        character,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}'..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// An issuer whose metadata and JWKS carry `"\r\nFORGED"` in every string member the api does
/// not need to be exact, and one unusable key whose `kid`, `alg` and `n` are such strings.
async fn hostile_issuer() -> TestIssuer {
    let issuer = TestIssuer::bare().await;
    let forged = format!("\r\n{MARKER}");
    let mut document = issuer.discovery_document();
    document["token_endpoint"] = json!(forged);
    document[format!("member{forged}")] = json!(forged);
    issuer_answer(
        OPENID_PATH,
        ResponseTemplate::new(200).set_body_json(document),
    )
    .mount(&issuer.server)
    .await;
    let mut usable = TestKey::primary().jwk();
    usable["x5t"] = json!(forged);
    let unusable = json!({"kty": "RSA", "kid": forged, "alg": forged, "n": forged, "e": "AQAB"});
    jwks_answer(raw_jwks_response(vec![usable, unusable]))
        .mount(&issuer.server)
        .await;
    issuer
}

/// Raw requests carrying control characters in every field that can reach a log: what hyper
/// lets through (bytes above 0x7F, so NEL and U+2028 in UTF-8, and tabs), percent-encoded CR
/// and LF that a decoder could turn raw, and signed tokens whose header and claims hold raw
/// CR and LF once their JSON is decoded.
fn hostile_requests(issuer: &TestIssuer) -> Vec<Vec<u8>> {
    let forged = format!("\r\n{MARKER}");
    let key = TestKey::primary();
    let kid_token = key.sign_raw(
        &json!({"alg": "RS256", "typ": "JWT", "kid": forged}),
        &claims(&issuer.url()),
    );
    let claims_token =
        issuer.token_with(json!({"sub": forged, "scope": forged, "azp": forged, "gty": forged}));
    let get = |target: &[u8], header: &[u8]| {
        [
            b"GET ",
            target,
            b" HTTP/1.1\r\nHost: api.example\r\n",
            header,
            b"\r\nConnection: close\r\n\r\n",
        ]
        .concat()
    };
    let bearer = |token: &str| format!("Authorization: Bearer {token}").into_bytes();
    vec![
        get(b"/api/private", &bearer(&issuer.token())),
        get(
            "/api/public\u{85}FORGED".as_bytes(),
            b"User-Agent: \x85\tFORGED",
        ),
        get(
            "/api/public\u{2028}FORGED\u{2029}FORGED".as_bytes(),
            b"Origin: \xc2\x85FORGED",
        ),
        get(
            b"/api/private%0D%0AFORGED?x=%0D%0AFORGED",
            b"X-Note: %0D%0AFORGED",
        ),
        get(b"/api/private?access_token=%0D%0AFORGED", b"X-Note: \t"),
        get(b"/api/private", b"Authorization: Bearer \x85\tFORGED"),
        get(b"/api/private", &bearer(&kid_token)),
        get(b"/api/private-scoped", &bearer(&claims_token)),
        get(b"/api/public", b"Host: \xc2\x85FORGED"),
        [
            b"POST /api/private HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n".as_slice(),
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 26\r\n\r\n",
            b"access_token=%0D%0AFORGED%",
        ]
        .concat(),
        [
            b"OPTIONS /api/private HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n"
                .as_slice(),
            b"Origin: http://localhost:3000\r\nAccess-Control-Request-Method: GET\r\n",
            b"Access-Control-Request-Headers: \xc2\x85FORGED\r\n\r\n",
        ]
        .concat(),
    ]
}

/// Writes `request` on a new connection to `address` (`http://host:port`) and reads until the
/// server closes it.
async fn send_raw(address: &str, request: &[u8]) {
    let address = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    let _ = read.await.expect("the server answered and closed");
    assert!(answer.starts_with(b"HTTP/1.1 "), "an answer");
}

#[tokio::test]
async fn no_value_from_a_client_or_the_issuer_can_start_a_log_line() {
    // At its most verbose, so every crate's events are written.
    let issuer = hostile_issuer().await;
    let (child, address) = api_logging_at("trace", &issuer.url());
    for request in hostile_requests(&issuer) {
        send_raw(&address, &request).await;
    }

    let text = stop_and_read_log(child);
    assert!(
        text.contains(MARKER),
        "the hostile values were logged somewhere"
    );
    for line in text.split(is_line_break) {
        assert!(
            !line.trim_start().starts_with(MARKER),
            "a forged log line: {line:?}"
        );
    }
}

#[tokio::test]
async fn an_issuer_outage_is_logged_once_per_refresh_attempt_not_once_per_request() {
    // An issuer on a port nobody listens on: every connection is refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer_url = format!("http://{}/", closed.local_addr().expect("address"));
    drop(closed);
    let (child, address) = api_logging_at("warn", &issuer_url);
    let token = TestKey::primary().sign(&claims(&issuer_url));
    let client = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..200 {
        let response = client
            .get(format!("{address}/api/private"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 503);
    }
    let elapsed = started.elapsed();

    let text = stop_and_read_log(child);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("WARN") || line.contains("ERROR"))
        .collect();
    // A failed attempt allows the next one a retry interval (1 s) later, and logs one line.
    let attempts = usize::try_from(elapsed.as_secs()).expect("seconds") + 1;
    assert!(
        lines.len() <= attempts,
        "{} lines for at most {attempts} refresh attempts: {lines:#?}",
        lines.len()
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("issuer unavailable") && line.contains("connection failed")),
        "the outage is logged: {text}"
    );
}
