//! The Auth0 "API: Authorization" quickstart as a production resource server.
//!
//! - [`auth`]: the reusable authentication core (discovery, JWKS cache, verification, scope
//!   and claim checks, RFC 6750 errors) for any axum app.
//! - [`routes::app`]: the quickstart's three routes; [`serve`] runs it on a bound listener,
//!   with the hostile-client limits of [`server::ServerLimits`]; [`serve_tls_with`] over HTTPS
//!   ([`server::Tls`], the certificate reloaded when its files change).
//! - [`config`]: the binary's configuration from the environment.
//! - [`message`]: the `{"message": …}` body every answer carries.

pub mod auth;
pub mod config;
pub mod message;
pub mod routes;
pub mod server;
pub mod shutdown;

use std::future::Future;

use tokio::net::TcpListener;

pub use routes::app;
pub use server::{ServerLimits, serve_tls_with, serve_with};

/// Serves `app` on an already bound listener until `shutdown` completes, then lets requests
/// in flight finish (for at most 10 s). Tests bind port 0 and pass the listener in: no fixed
/// ports, no sleeps. Uses the default [`ServerLimits`]; [`serve_with`] takes others.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, ServerLimits::default()).await
}
