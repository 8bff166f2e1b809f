//! The quickstart's three routes, its resource metadata (RFC 9728), CORS and the router that
//! ties them to authentication.

use axum::Router;
use axum::extract::Request;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::auth::{self, Authenticator, Claims, DPOP_NONCE, Requirement, ResourceMetadata};
use crate::message::Message;

/// The public route's message, as the reference sends it.
pub const PUBLIC_MESSAGE: &str =
    "Hello from a public endpoint! You don't need to be authenticated to see this.";
/// The private route's message.
pub const PRIVATE_MESSAGE: &str =
    "Hello from a private endpoint! You need to be authenticated to see this.";
/// The scoped route's message.
pub const SCOPED_MESSAGE: &str = "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.";
/// The scope `/api/private-scoped` requires.
pub const REQUIRED_SCOPE: &str = "read:messages";

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`Access-Control-Allow-Origin: *`).
    Any,
    /// These origins only.
    List(Vec<HeaderValue>),
}

impl Default for CorsOrigins {
    /// `http://localhost:3000`, where Auth0's SPA quickstarts run.
    fn default() -> Self {
        CorsOrigins::List(vec![HeaderValue::from_static("http://localhost:3000")])
    }
}

impl CorsOrigins {
    /// `*`, or comma-separated origins (`scheme://host[:port]`, no path).
    pub fn parse(list: &str) -> Option<Self> {
        if list.trim() == "*" {
            return Some(CorsOrigins::Any);
        }
        let origins = list
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let url = url::Url::parse(origin).ok()?;
                let canonical = url.origin().ascii_serialization();
                (canonical == origin.trim_end_matches('/'))
                    .then(|| HeaderValue::from_str(&canonical).ok())
                    .flatten()
            })
            .collect::<Option<Vec<_>>>()?;
        (!origins.is_empty()).then_some(CorsOrigins::List(origins))
    }

    fn layer(&self) -> CorsLayer {
        // Like the `cors` npm package the sample uses: the common methods, request headers
        // mirrored, and the headers on every answer, errors included.
        let origin = match self {
            CorsOrigins::Any => AllowOrigin::any(),
            CorsOrigins::List(origins) if origins.len() == 1 => {
                AllowOrigin::exact(origins[0].clone())
            }
            CorsOrigins::List(origins) => AllowOrigin::list(origins.clone()),
        };
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::PUT,
                Method::PATCH,
                Method::POST,
                Method::DELETE,
            ])
            .allow_headers(AllowHeaders::mirror_request())
            // A browser app reads these from a cross-origin answer only when exposed: the
            // challenge says why a token was refused, and `DPoP-Nonce` is the nonce its next
            // proof must carry (RFC 9449 §9), which DPoP SDKs retry with.
            .expose_headers([WWW_AUTHENTICATE, DPOP_NONCE])
    }
}

async fn public() -> Message<'static> {
    Message::new(PUBLIC_MESSAGE)
}

async fn private(_claims: Claims) -> Message<'static> {
    Message::new(PRIVATE_MESSAGE)
}

async fn private_scoped(_claims: Claims) -> Message<'static> {
    Message::new(SCOPED_MESSAGE)
}

async fn not_found() -> (StatusCode, Message<'static>) {
    (StatusCode::NOT_FOUND, Message::new("Not Found"))
}

/// The API: `/api/public`, `/api/private` and `/api/private-scoped`, and the resource
/// metadata at `/.well-known/oauth-protected-resource` when a resource identifier is known
/// ([`ResourceMetadata::new`]), with CORS and request tracing. Pure: binding and serving are
/// [`crate::serve`]'s job.
pub fn app(authenticator: Authenticator, cors: &CorsOrigins) -> Router {
    let metadata = ResourceMetadata::new(authenticator.options(), &[REQUIRED_SCOPE])
        .map(|document| document.router())
        .unwrap_or_default();
    let authenticate = from_fn_with_state(authenticator, auth::require_auth);
    let private_routes = Router::new()
        .route("/api/private", get(private))
        .route_layer(authenticate.clone());
    let scoped_routes = Router::new()
        .route("/api/private-scoped", get(private_scoped))
        .route_layer(from_fn_with_state(
            Requirement::scopes([REQUIRED_SCOPE]),
            auth::authorize,
        ))
        .route_layer(authenticate);
    Router::new()
        .route("/api/public", get(public))
        .merge(private_routes)
        .merge(scoped_routes)
        .merge(metadata)
        .fallback(not_found)
        .layer(
            TraceLayer::new_for_http()
                // The span names the path only: a query string may hold a token. The path is
                // logged escaped (`?`): it may hold Unicode line separators. A method is a
                // token (no control or non-ASCII character), safe as it is.
                .make_span_with(|request: &Request| {
                    tracing::debug_span!("request", method = %request.method(), path = ?request.uri().path())
                })
                // tower-http logs every 5xx as an ERROR. The only 5xx this app answers is 503
                // for an issuer outage, which the key store logs once per refresh attempt: one
                // line per request would flood the log exactly when the issuer is down.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(cors.layer())
}
