//! The tasks' one HTTP client: reqwest (rustls, the system's root certificates for a real
//! tenant's `https`) on a current-thread tokio runtime, so the tasks stay plain sequential code
//! and the mock issuer's async [`IssuerClient`] serves them as it serves the tests.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, Result};
use mock_issuer::client::IssuerClient;
use tokio::runtime::Runtime;

/// Every exchange gives up after this long, so a hung server fails the task instead of hanging
/// it.
const TIMEOUT: Duration = Duration::from_secs(15);

/// An answer: status and body text.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
    /// The `Location` header of a redirect, which this client never follows.
    pub location: Option<String>,
}

/// A client and the runtime its futures run on.
pub struct Http {
    runtime: Runtime,
    client: reqwest::Client,
}

impl Http {
    /// A client with a 15 s timeout that never follows redirects (an answer is judged as it
    /// comes).
    pub fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a tokio runtime")?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the HTTP client")?;
        Ok(Self { runtime, client })
    }

    /// `GET url`, with `Authorization: Bearer TOKEN` when a token is given.
    pub fn get(&self, url: &str, bearer: Option<&str>) -> Result<Response> {
        let mut request = self.client.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body = response.text().await?;
            Ok::<_, reqwest::Error>(Response {
                status,
                body,
                location,
            })
        })
        .with_context(|| format!("GET {url}"))
    }

    /// A client for the issuer at `base` (a mock issuer or a real tenant) that shares this
    /// client's connections and timeout; run its futures with [`Http::block_on`].
    pub fn issuer(&self, base: &str) -> Result<IssuerClient> {
        IssuerClient::with_http_client(base, self.client.clone())
            .with_context(|| format!("an issuer client for {base}"))
    }

    /// Runs `future` to completion on this client's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
