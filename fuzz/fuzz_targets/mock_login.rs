//! Fuzz target: the mock issuer's login surface (`/authorize`, the login page and its form, the
//! resume step, both logouts, the token endpoint's grants, `/userinfo`) with any query, form or
//! JSON body, cookie and `Authorization` header. Whatever arrives, the answer is a 2xx, 3xx or
//! 4xx, never a 5xx and never a panic: these parsers face every browser on the network.
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use http::{HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;
use mock_issuer::{AppState, IssuerConfig};
use tower::ServiceExt;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
});

/// The router, and the cookie of a session logged in once at start-up, so inputs can reach the
/// code paths behind a login.
static TENANT: LazyLock<(axum::Router, String)> = LazyLock::new(|| {
    let config = IssuerConfig::default().with_seed(1);
    let state = AppState::new(config, "http://127.0.0.1:4000/".to_owned()).expect("tenant");
    let app = mock_issuer::server::app(state);
    let cookie = RUNTIME.block_on(log_in(&app));
    (app, cookie)
});

/// Logs the manager in through `/authorize` and the login form; returns `auth0=<handle>`.
async fn log_in(app: &axum::Router) -> String {
    let authorize = "/authorize?response_type=code&client_id=spa&redirect_uri=http%3A%2F%2Flocalhost%3A3000&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let response = app.clone().oneshot(Request::get(authorize).body(Body::empty()).expect("request")).await.expect("infallible");
    let login_page = response.headers()[header::LOCATION].to_str().expect("ascii").to_owned();
    // The login form must come back with the cookie that binds it to this browser.
    let binding = cookie_named(response.headers(), "auth0_login_");
    let state = login_page.split("state=").nth(1).expect("the login page's state");
    let form = format!("state={state}&username=manager%40example.com&password=manager-password&action=default");
    let request = Request::post(login_page.clone())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, binding)
        .body(Body::from(form))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    cookie_named(response.headers(), "auth0=")
}

/// The `name=value` of the first cookie set in `headers` whose name starts with `prefix`.
fn cookie_named(headers: &http::HeaderMap, prefix: &str) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} cookie was set"))
        .to_owned()
}

/// (method, path) by the input's first byte.
const SURFACES: [(&str, &str); 8] = [
    ("GET", "/authorize"),
    ("GET", "/u/login"),
    ("POST", "/u/login"),
    ("GET", "/authorize/resume"),
    ("GET", "/v2/logout"),
    ("GET", "/oidc/logout"),
    ("POST", "/oauth/token"),
    ("GET", "/userinfo"),
];

fuzz_target!(|data: &[u8]| {
    // Layout: [surface, flags, cookie length, cookie…, rest]; the rest is the query of a GET,
    // the body of a POST, and the Authorization header of /userinfo. Flags: bit 0 sends the
    // logged-in session's cookie instead of the input's; bit 1 sends a JSON body, not a form;
    // bit 2, for /userinfo, splits the rest at its first newline into the Authorization header
    // and a `DPoP` proof header (RFC 9449), sent as is (the proof checks and the binding).
    // `conformance::corpus::login_input` writes seeds in this layout.
    let [surface, flags, cookie_length, rest @ ..] = data else {
        return;
    };
    let split = usize::from(*cookie_length).min(rest.len());
    let (cookie, rest) = rest.split_at(split);
    let (method, path) = SURFACES[usize::from(*surface) % SURFACES.len()];
    let (app, session) = &*TENANT;
    let uri = if method == "GET" && path != "/userinfo" {
        format!("{path}?{}", String::from_utf8_lossy(rest))
    } else {
        path.to_owned()
    };
    let mut builder = Request::builder().method(method).uri(uri.as_str());
    let cookie = if flags & 1 == 1 { HeaderValue::from_str(session).ok() } else { HeaderValue::from_bytes(cookie).ok() };
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    if path == "/userinfo" {
        let (authorization, proof) = match rest.iter().position(|&b| b == b'\n') {
            Some(newline) if flags & 4 == 4 => (&rest[..newline], Some(&rest[newline + 1..])),
            _ => (rest, None),
        };
        if let Ok(value) = HeaderValue::from_bytes(authorization) {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(Ok(value)) = proof.map(HeaderValue::from_bytes) {
            builder = builder.header("dpop", value);
        }
    }
    let content_type = if flags & 2 == 2 { "application/json" } else { "application/x-www-form-urlencoded" };
    builder = builder.header(header::CONTENT_TYPE, content_type);
    let body = if method == "POST" { Body::from(rest.to_vec()) } else { Body::empty() };
    // A query no URI can hold is refused before any route sees it.
    let Ok(request) = builder.body(body) else {
        return;
    };
    let response = RUNTIME.block_on(app.clone().oneshot(request)).expect("infallible");
    let status = response.status().as_u16();
    assert!(status < 500, "{method} {path} answered {status}");
});
