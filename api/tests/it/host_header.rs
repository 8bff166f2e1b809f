//! The `Host` rules of RFC 9112 §3.2, over real sockets.
//!
//! HTTP clients always send one good `Host`, so HTTP/1 requests are written by hand on a raw
//! socket; HTTP/2 goes through hyper's own client with prior knowledge, which sends a `Host`
//! field as it is given, next to the URI's `:authority`.

use api::routes::{CorsOrigins, PUBLIC_MESSAGE};
use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};

use crate::helpers::{Answer, TestApp, TestIssuer, authenticator, invalid_host, spawn_router};
use crate::raw_http::{Raw, exchange, http2_connection};

/// Both kinds of route: the check runs before the app, so the public route refuses too.
const ROUTES: [&str; 2] = ["/api/public", "/api/private"];

async fn quickstart() -> (TestApp, TestIssuer) {
    let issuer = TestIssuer::start().await;
    let app = spawn_router(api::app(authenticator(&issuer), &CorsOrigins::default())).await;
    (app, issuer)
}

/// A GET of `route` in `version` (`HTTP/1.1`, `HTTP/1.0`) with these raw header lines,
/// closing the connection after the answer.
async fn get(app: &TestApp, version: &str, route: &str, host_lines: &[&[u8]]) -> Raw {
    let mut request = format!("GET {route} {version}\r\nConnection: close\r\n").into_bytes();
    for line in host_lines {
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    exchange(app, request).await.expect("an answer")
}

/// Asserts the refusal of a broken `Host`: 400 `invalid_request`, the reference's
/// description, and the connection closed.
fn assert_host_refused(raw: &Raw, case: &str) {
    assert_eq!(raw.answer(), invalid_host(), "{case}");
    assert_eq!(raw.header("connection"), Some("close"), "{case}");
}

#[tokio::test]
async fn http_1_1_without_a_host_or_with_two_is_400_on_every_route() {
    let (app, _issuer) = quickstart().await;
    for route in ROUTES {
        let none = get(&app, "HTTP/1.1", route, &[]).await;
        assert_host_refused(&none, &format!("no Host on {route}"));
        let two = get(
            &app,
            "HTTP/1.1",
            route,
            &[b"Host: a.example", b"Host: a.example"],
        )
        .await;
        assert_host_refused(&two, &format!("two Host lines on {route}"));
        let split = get(&app, "HTTP/1.0", route, &[b"Host: a", b"Host: b"]).await;
        assert_host_refused(&split, &format!("two Host lines in HTTP/1.0 on {route}"));
    }
}

#[tokio::test]
async fn each_kind_of_invalid_host_value_is_400_on_every_route() {
    let (app, _issuer) = quickstart().await;
    let invalid: [(&str, &[u8]); 12] = [
        ("userinfo", b"Host: user@api.example"),
        (
            "userinfo with a password",
            b"Host: user:secret@api.example:3010",
        ),
        ("a path", b"Host: api.example/api/private"),
        ("a space inside", b"Host: api .example"),
        ("a tab inside", b"Host: api\t.example"),
        ("a port over 65535", b"Host: api.example:65536"),
        ("a port with a letter", b"Host: api.example:30a"),
        ("an empty port", b"Host: api.example:"),
        ("an empty value", b"Host:"),
        ("non-ASCII bytes", b"Host: \xc3\xa4pi.example"),
        ("an unclosed bracket", b"Host: [::1:3010"),
        ("a bracketed name", b"Host: [api.example]"),
    ];
    for route in ROUTES {
        for (case, line) in invalid {
            let raw = get(&app, "HTTP/1.1", route, &[line]).await;
            assert_host_refused(&raw, &format!("{case} on {route}"));
        }
    }
}

#[tokio::test]
async fn valid_host_values_and_http_1_0_without_host_are_served() {
    // The other side of the rule: none of these may be refused.
    let (app, _issuer) = quickstart().await;
    let valid: [&[u8]; 5] = [
        b"Host: api.example",
        b"Host: api.example:3010",
        b"Host: 127.0.0.1",
        b"Host: [::1]:3010",
        b"Host: API.Example",
    ];
    for line in valid {
        let case = String::from_utf8_lossy(line);
        let public = get(&app, "HTTP/1.1", "/api/public", &[line]).await;
        assert_eq!(public.status, 200, "{case}");
        assert_eq!(public.message(), PUBLIC_MESSAGE, "{case}");
        // Served by the app: the authentication core's answer to a request without a token.
        let private = get(&app, "HTTP/1.1", "/api/private", &[line]).await;
        assert_eq!(private.answer(), crate::helpers::unauthorized(), "{case}");
    }
    let old = get(&app, "HTTP/1.0", "/api/public", &[]).await;
    assert_eq!(old.status, 200);
}

/// An HTTP/2 GET of `uri` (whose authority becomes `:authority`) with an optional `Host`
/// field, over a new prior-knowledge connection.
async fn get_h2(app: &TestApp, uri: &str, host: Option<&str>) -> Answer {
    let (mut sender, _driver) = http2_connection(app).await;
    let mut request = http::Request::get(uri);
    if let Some(host) = host {
        request = request.header(http::header::HOST, host);
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).expect("a request"))
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().expect("ASCII").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
    Answer {
        status,
        challenge,
        message: body["message"].as_str().expect("a message").to_owned(),
    }
}

#[tokio::test]
async fn http_2_with_a_host_that_differs_from_its_authority_is_400() {
    let (app, _issuer) = quickstart().await;
    let port = app.address.rsplit(':').next().expect("a port");
    for route in ROUTES {
        let uri = format!("http://127.0.0.1:{port}{route}");
        let other = get_h2(&app, &uri, Some("elsewhere.example")).await;
        assert_eq!(other, invalid_host(), "{route}");
        let other_port = get_h2(&app, &uri, Some("127.0.0.1:1")).await;
        assert_eq!(other_port, invalid_host(), "{route}");
        let broken = get_h2(&app, &uri, Some("user@127.0.0.1")).await;
        assert_eq!(broken, invalid_host(), "{route}");
    }
    // The same authority, or none but :authority, is served.
    let uri = format!("http://127.0.0.1:{port}/api/public");
    let same = get_h2(&app, &uri, Some(&format!("127.0.0.1:{port}"))).await;
    assert_eq!(same.status, 200);
    assert_eq!(get_h2(&app, &uri, None).await.status, 200);
}
