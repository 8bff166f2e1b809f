//! The Auth0 "API: Authorization" quickstart as a production resource server.
//!
//! - [`auth`]: the reusable authentication core (discovery, JWKS cache, verification, scope
//!   and claim checks, RFC 6750 errors) for any axum app.
//! - [`routes::app`]: the quickstart's three routes; [`serve`] runs it on a bound listener.
//! - [`config`]: the binary's configuration from the environment.

pub mod auth;
pub mod config;
pub mod routes;
pub mod shutdown;

use std::future::Future;

use tokio::net::TcpListener;

pub use routes::app;

/// Serves `app` on an already bound listener until `shutdown` completes, then lets requests
/// in flight finish. Tests bind port 0 and pass the listener in: no fixed ports, no sleeps.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
