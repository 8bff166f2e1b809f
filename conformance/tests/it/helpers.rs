//! The in-process harness: a mock tenant, a foreign key, and an api on port 0 trusting it.

use std::time::Duration;

use api::auth::{AuthOptions, Authenticator};
use api::routes::CorsOrigins;
use conformance::AUDIENCE;
use conformance::forge::Forge;
use mock_issuer::{IssuerConfig, MockIssuer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A mock issuer, a foreign one, and servers under test.
pub struct Harness {
    /// The tenant the servers trust.
    pub issuer: MockIssuer,
    /// A tenant nobody trusts, for foreign signatures.
    pub foreign: MockIssuer,
}

/// A server under test, stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    _stop: oneshot::Sender<()>,
}

impl Harness {
    /// Starts both issuers. Seeded keys are generated once per process, so this is quick.
    pub async fn start() -> Self {
        Harness {
            issuer: MockIssuer::start(conformance::tenant().with_seed(4242))
                .await
                .expect("issuer"),
            foreign: MockIssuer::start(IssuerConfig::default().with_seed(777))
                .await
                .expect("foreign issuer"),
        }
    }

    /// The token forge for this harness.
    pub fn forge(&self) -> Forge<'_> {
        Forge::new(&self.issuer, &self.foreign)
    }

    /// The api's options for this tenant, with its defaults.
    pub fn options(&self) -> AuthOptions {
        AuthOptions::new(self.issuer.url().parse().expect("issuer URL"), AUDIENCE)
    }

    /// This project's api with `options`, on port 0.
    pub async fn api(&self, options: AuthOptions) -> Server {
        let authenticator = Authenticator::new(options).expect("valid options");
        serve(api::app(authenticator, &CorsOrigins::default())).await
    }
}

/// The status `server` answers `GET /api/private` with, `token` as a bearer token.
pub async fn private_status(server: &Server, token: &str) -> u16 {
    client()
        .get(format!("{}/api/private", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("the api answers")
        .status()
        .as_u16()
}

/// Serves any router on port 0.
pub async fn serve(router: axum::Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    Server { url, _stop: stop }
}

/// A client with a timeout, so a hang fails instead of blocking.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}
