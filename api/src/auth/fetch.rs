//! The one HTTP client that talks to the issuer: bounded in time and in response size.

use std::fmt::Write as _;
use std::time::Duration;

use http::header::ACCEPT;
use url::Url;

/// Why a document could not be fetched. Shown in logs, never to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No complete answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// The connection failed (refused, reset, DNS, TLS).
    #[error("connection failed: {0}")]
    Transport(String),
    /// The issuer answered with a status other than 200.
    #[error("answered HTTP {0}")]
    Status(u16),
    /// The body is larger than the configured cap.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
}

/// A shared, pooled HTTP client with connect and total timeouts and a response size cap.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
}

impl Fetcher {
    /// Builds the client. `timeout` bounds connecting and the whole exchange alike.
    pub(crate) fn new(timeout: Duration, max_bytes: usize) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            // A redirect would let whoever serves the first URL choose where keys come from.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("auth0-rs-api/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Fetcher { client, max_bytes })
    }

    /// GETs `url` and returns its body if the answer is a 200 within the size cap.
    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(classify)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        // Read chunk by chunk so a body without Content-Length cannot exceed the cap either.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    // reqwest's Display is the kind of failure ("error sending request") followed by
    // "for url (…)". The URL is stripped because the caller already names it
    // (`DiscoveryError` carries it, a failed JWKS refresh logs it); the causes are added,
    // because they say what an operator needs to know ("Connection refused", a DNS or TLS
    // failure). It never holds a token: we send none. It may hold text from the network (a
    // TLS alert, a malformed response), so it is logged escaped, never raw.
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(error) = cause {
        let _ = write!(text, ": {error}");
        cause = error.source();
    }
    FetchError::Transport(text)
}
