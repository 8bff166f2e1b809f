//! A typed async client for an issuer: client-credentials tokens from this mock or a real Auth0
//! tenant, and the mock's admin surface (keys, faults, request counts, the tenant's summary,
//! minting and inspecting tokens). It speaks exactly the wire types the server's routes use
//! ([`crate::admin`], [`crate::oauth`]). A mock that guards its admin surface with a token gets
//! it from [`IssuerClient::with_admin_token`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_issuer::client::ClientError> {
//! use mock_issuer::client::IssuerClient;
//! use mock_issuer::config::defaults;
//! use mock_issuer::oauth::ClientCredentials;
//! use mock_issuer::{Endpoint, Fault};
//!
//! let issuer = IssuerClient::new("http://127.0.0.1:4000/")?;
//! let request = ClientCredentials::new(
//!     defaults::READER_CLIENT_ID,
//!     defaults::READER_CLIENT_SECRET,
//!     defaults::API_AUDIENCE,
//! );
//! let token = issuer.client_credentials(&request).await?;
//! issuer.set_fault(Endpoint::Jwks, Fault::Status(503)).await?;
//! let fetches = issuer.requests().await?.count(Endpoint::Jwks);
//! # let _ = (token, fetches); Ok(()) }
//! ```

use std::convert::identity;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::admin::{
    AdminError, Endpoint, Fault, FaultTable, InspectRequest, Inspection, KeySummary, MintRequest,
    MintedToken, RequestCounts, TenantSummary,
};
use crate::oauth::{ClientCredentials, OAuthErrorBody, Secret, TokenResponse};

/// The timeout [`IssuerClient::new`] gives every request: rotations generate an RSA key, which
/// takes seconds on a small busy machine.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the admin surface's paths start, relative to the issuer URL.
const ADMIN_PATH: &str = "_mock/";

/// How much of an unexpected, unstructured error body an error message keeps.
const BODY_EXCERPT_CHARS: usize = 200;

/// Why a call to the issuer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL given to [`IssuerClient::new`] is not an `http` or `https` URL.
    #[error("issuer URL `{base}`: {reason}")]
    InvalidBase {
        /// The URL as given.
        base: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its answer not read (connection, TLS, timeout).
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
    /// The issuer refused with an OAuth error body, as Auth0 does (`access_denied`, …); also
    /// what a status fault answers. The message shows the issuer's text with its control
    /// characters escaped, so it is safe in a log line; the fields hold it as sent.
    #[error("{url} answered {status} {}: {}", Escaped(error), Escaped(description))]
    Refused {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error code, e.g. `access_denied`.
        error: String,
        /// Its `error_description`.
        description: String,
    },
    /// Any other unexpected status: the admin surface's [`AdminError`] text, or the start of
    /// the body (escaped in the message, as sent in the field).
    #[error("{url} answered {status}: {}", Escaped(message))]
    Status {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The error text of the body.
        message: String,
    },
    /// A successful status with a body that is not the expected JSON.
    #[error("{url} answered a body that does not decode: {source}")]
    Decode {
        /// The URL called.
        url: String,
        /// The decoding error.
        source: serde_json::Error,
    },
}

impl ClientError {
    /// The HTTP status of an answer the client refused ([`ClientError::Refused`],
    /// [`ClientError::Status`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The OAuth error code of a [`ClientError::Refused`], e.g. `access_denied`.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Self::Refused { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The error for an unsuccessful answer, from its body's shape.
    fn from_answer(url: &Url, status: StatusCode, body: &[u8]) -> Self {
        let url = url.to_string();
        let status = status.as_u16();
        if let Ok(OAuthErrorBody {
            error,
            error_description,
        }) = serde_json::from_slice(body)
        {
            return Self::Refused {
                url,
                status,
                error,
                description: error_description,
            };
        }
        let message = match serde_json::from_slice::<AdminError>(body) {
            Ok(admin) => admin.error,
            Err(_) => String::from_utf8_lossy(body)
                .chars()
                .take(BODY_EXCERPT_CHARS)
                .collect(),
        };
        Self::Status {
            url,
            status,
            message,
        }
    }
}

/// Text from the issuer, shown with control characters (CR, LF, NUL, ESC, NEL, the Unicode line
/// and paragraph separators…) escaped, so that an answer cannot start a line of its own in
/// whatever log the error is written to.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        for c in self.0.chars() {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// A client for one issuer: `https://TENANT/` for Auth0 (only
/// [`client_credentials`](IssuerClient::client_credentials) applies there), or a mock issuer's
/// URL for everything. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct IssuerClient {
    http: reqwest::Client,
    base: Url,
    /// Sent as `Authorization: Bearer` on admin calls only; `Debug` redacts it.
    admin_token: Option<Secret>,
}

impl IssuerClient {
    /// A client for the issuer at `base` (trailing slash optional) with a [`DEFAULT_TIMEOUT`]
    /// (30 s) per request. `https` verifies certificates against the system's roots.
    ///
    /// # Errors
    /// [`ClientError::InvalidBase`] for a URL that is not `http` or `https`, or
    /// [`ClientError::Transport`] if the HTTP client cannot be built (no TLS roots).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()?;
        Self::with_http_client(base, http)
    }

    /// A client for the issuer at `base` (trailing slash optional) over `http`, with its
    /// timeouts and pool.
    ///
    /// # Errors
    /// [`ClientError::InvalidBase`] for a URL that is not `http` or `https`.
    pub fn with_http_client(base: &str, http: reqwest::Client) -> Result<Self, ClientError> {
        let invalid = |reason: String| ClientError::InvalidBase {
            base: base.to_owned(),
            reason,
        };
        // Without the slash, joining `oauth/token` would replace the last path segment.
        let slashed = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        let url = Url::parse(&slashed).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("not an http or https URL".to_owned()));
        }
        Ok(Self {
            http,
            base: url,
            admin_token: None,
        })
    }

    /// Sends `token` as `Authorization: Bearer <token>` with every admin call (those under
    /// `/_mock/`), for a mock issuer that requires one (`--admin-token`, `MOCK_ADMIN_TOKEN`, or
    /// the token a non-loopback `serve` prints). Default: none. The token endpoint and
    /// `/healthz` never get it.
    #[must_use]
    pub fn with_admin_token(mut self, token: impl Into<Secret>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// The issuer URL, with its trailing slash.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `POST /oauth/token` with `request` as a form: a token, or [`ClientError::Refused`] with
    /// Auth0's error code (`access_denied`, …).
    ///
    /// # Errors
    /// Transport, a refusal, or an answer that is not a token response.
    pub async fn client_credentials(
        &self,
        request: &ClientCredentials,
    ) -> Result<TokenResponse, ClientError> {
        self.call(Method::POST, "oauth/token", |r| r.form(request))
            .await?
            .decode()
    }

    /// `GET /_mock/keys`: the kids by role.
    ///
    /// # Errors
    /// Transport, an unsuccessful status or an undecodable answer.
    pub async fn keys(&self) -> Result<KeySummary, ClientError> {
        self.json(Method::GET, "_mock/keys").await
    }

    /// `POST /_mock/rotate`: next becomes current, a new next is published; the kids after.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`]; `500` if the issuer could not generate or persist the key.
    pub async fn rotate(&self) -> Result<KeySummary, ClientError> {
        self.json(Method::POST, "_mock/rotate").await
    }

    /// `POST /_mock/revoke-previous`: the previous key stops being published; the kids after.
    ///
    /// # Errors
    /// As [`IssuerClient::rotate`].
    pub async fn revoke_previous(&self) -> Result<KeySummary, ClientError> {
        self.json(Method::POST, "_mock/revoke-previous").await
    }

    /// `GET /_mock/faults`: the faults set on each endpoint.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`].
    pub async fn faults(&self) -> Result<FaultTable, ClientError> {
        self.json(Method::GET, "_mock/faults").await
    }

    /// `PUT /_mock/faults/{endpoint}`: adds `fault` (replacing one of the same kind); the
    /// fault as the issuer set it.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`]; `400` for a fault that does not apply to `endpoint`.
    pub async fn set_fault(&self, endpoint: Endpoint, fault: Fault) -> Result<Fault, ClientError> {
        let path = format!("_mock/faults/{endpoint}");
        self.call(Method::PUT, &path, |r| r.json(&fault))
            .await?
            .decode()
    }

    /// `DELETE /_mock/faults`: every endpoint behaves again.
    ///
    /// # Errors
    /// Transport or an unsuccessful status.
    pub async fn clear_faults(&self) -> Result<(), ClientError> {
        self.success(Method::DELETE, "_mock/faults").await
    }

    /// `GET /_mock/requests`: requests per endpoint since start or the last reset.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`].
    pub async fn requests(&self) -> Result<RequestCounts, ClientError> {
        self.json(Method::GET, "_mock/requests").await
    }

    /// `POST /_mock/reset`: clears every fault and every count.
    ///
    /// # Errors
    /// Transport or an unsuccessful status.
    pub async fn reset(&self) -> Result<(), ClientError> {
        self.success(Method::POST, "_mock/reset").await
    }

    /// `GET /_mock/tenant`: issuer, APIs, clients, users (with passwords), roles and keys.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`].
    pub async fn tenant(&self) -> Result<TenantSummary, ClientError> {
        self.json(Method::GET, "_mock/tenant").await
    }

    /// `POST /_mock/mint`: a token as `request` describes it, signed with the current key.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`]; `400` for an unknown client, user or audience, a lifetime
    /// outside 1–2592000 s or claims that are not an object.
    pub async fn mint(&self, request: &MintRequest) -> Result<MintedToken, ClientError> {
        self.call(Method::POST, "_mock/mint", |r| r.json(request))
            .await?
            .decode()
    }

    /// `POST /_mock/inspect`: `token`'s header and claims, whether the tenant's published keys
    /// verify it, and its time left.
    ///
    /// # Errors
    /// As [`IssuerClient::keys`]; `400` when `token` is not a compact JWS.
    pub async fn inspect(&self, token: &str) -> Result<Inspection, ClientError> {
        let request = InspectRequest {
            token: token.into(),
        };
        self.call(Method::POST, "_mock/inspect", |r| r.json(&request))
            .await?
            .decode()
    }

    /// `GET /healthz`: `Ok` when the issuer answers it successfully.
    ///
    /// # Errors
    /// Transport or an unsuccessful status.
    pub async fn health(&self) -> Result<(), ClientError> {
        self.success(Method::GET, "healthz").await
    }

    /// Sends `method` to `path` without a body and decodes the answer as a `T`.
    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<T, ClientError> {
        self.call(method, path, identity).await?.decode()
    }

    /// Sends `method` to `path` without a body; `Ok` on a successful status, whatever the body.
    async fn success(&self, method: Method, path: &str) -> Result<(), ClientError> {
        self.call(method, path, identity).await.map(drop)
    }

    /// Sends `method` to `path` under the issuer URL, its body put in by `with_body`, and
    /// returns a successful answer; any other status becomes the error its body describes.
    async fn call(
        &self,
        method: Method,
        path: &str,
        with_body: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Answer, ClientError> {
        let url = self.base.join(path).map_err(|e| ClientError::InvalidBase {
            base: self.base.to_string(),
            reason: e.to_string(),
        })?;
        let mut request = self.http.request(method, url.clone());
        if let Some(token) = self
            .admin_token
            .as_ref()
            .filter(|_| path.starts_with(ADMIN_PATH))
        {
            request = request.bearer_auth(token.expose());
        }
        let response = with_body(request).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status.is_success() {
            Ok(Answer {
                url,
                body: body.into(),
            })
        } else {
            Err(ClientError::from_answer(&url, status, &body))
        }
    }
}

/// A successful answer's body and the URL it came from.
struct Answer {
    url: Url,
    body: Vec<u8>,
}

impl Answer {
    /// The body as a `T`, or the error that names the URL.
    fn decode<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|source| ClientError::Decode {
            url: self.url.to_string(),
            source,
        })
    }
}
