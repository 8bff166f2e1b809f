//! CORS for the endpoints a browser app calls with `fetch` (token, userinfo): preflights and
//! answers for the clients' Allowed Web Origins, with the headers Auth0's SDKs send and read.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::server::AppState;

/// How long a browser may cache a preflight's answer (browsers cap it: Chromium at 2 hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(86_400);

/// A CORS layer allowing, from any client's Allowed Web Origins (matched exactly, as Auth0 matches
/// them): methods `GET` and `POST`; request headers `content-type`, `auth0-client` (the SDKs'
/// telemetry), `authorization` (userinfo) and `dpop`; the response headers `DPoP-Nonce` and
/// `WWW-Authenticate` exposed (a DPoP client reads the challenge of a refused `/userinfo` call,
/// as RFC 9449 §7.1 gives it, to tell a bad proof from a bad token).
/// Any other origin gets no `Access-Control-Allow-Origin`, so its browser keeps the answer from it.
pub(super) fn for_web_origins(state: &AppState) -> CorsLayer {
    let mut origins: Vec<HeaderValue> = Vec::new();
    for origin in state.config().clients.iter().flat_map(|c| &c.web_origins) {
        // The tenant's validation lets only `scheme://host[:port]` through, which is always a
        // valid header value; anything else could never match a browser's Origin anyway.
        if let Ok(value) = HeaderValue::from_str(origin)
            && !origins.contains(&value)
        {
            origins.push(value);
        }
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static("auth0-client"),
            header::AUTHORIZATION,
            HeaderName::from_static("dpop"),
        ])
        .expose_headers([
            HeaderName::from_static("dpop-nonce"),
            header::WWW_AUTHENTICATE,
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}
