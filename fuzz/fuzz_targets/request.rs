//! Fuzz target: a whole request through the api's router (token location, header and body
//! parsing, verification, errors). Whatever the `Authorization` header, content type and body,
//! the answer is a 2xx or 4xx, or the documented 503 (its issuer is unreachable), never
//! another 5xx and never a panic.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use api::auth::{AuthOptions, Authenticator};
use api::routes::CorsOrigins;
use axum::body::Body;
use http::{HeaderValue, Request};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
});

static APP: LazyLock<axum::Router> = LazyLock::new(|| {
    // Port 9 on loopback refuses at once; one attempt an hour keeps the fuzzer off the network.
    let mut options = AuthOptions::new("http://127.0.0.1:9/".parse().expect("url"), "https://quickstarts/api");
    options.jwks.retry_interval = Duration::from_secs(3600);
    options.allow_query_token = true;
    let _runtime = RUNTIME.enter();
    api::app(Authenticator::new(options).expect("options"), &CorsOrigins::default())
});

const ROUTES: [&str; 4] = ["/api/public", "/api/private", "/api/private-scoped", "/api/private?access_token=abc.def.ghi"];
const CONTENT_TYPES: [&str; 3] = ["application/x-www-form-urlencoded", "application/json", "application/x-www-form-urlencoded; charset=utf-8"];

fuzz_target!(|data: &[u8]| {
    // Layout: [route, method/content selector, header length (2 bytes, big-endian), header
    // bytes…, body…], as `conformance::corpus::request_input` writes the seeds.
    let [route, selector, high, low, rest @ ..] = data else {
        return;
    };
    let split = usize::from(u16::from_be_bytes([*high, *low])).min(rest.len());
    let (header, body) = rest.split_at(split);
    let mut builder = Request::builder()
        .method(if selector & 1 == 0 { "GET" } else { "POST" })
        .uri(ROUTES[*route as usize % ROUTES.len()]);
    if let Ok(value) = HeaderValue::from_bytes(header) {
        builder = builder.header("authorization", value);
    }
    if selector & 2 != 0 {
        builder = builder.header("content-type", CONTENT_TYPES[(*selector as usize >> 2) % CONTENT_TYPES.len()]);
    }
    let Ok(request) = builder.body(Body::from(body.to_vec())) else {
        return;
    };
    let response = RUNTIME.block_on(APP.clone().oneshot(request)).expect("infallible");
    let status = response.status().as_u16();
    assert!(status < 500 || status == 503, "answered {status}");
});
