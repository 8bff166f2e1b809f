//! Test fixtures: the shared support (test keys, claims, a scriptable issuer on wiremock), the
//! app on port 0, and the answers a refusal should get.

use std::sync::OnceLock;
use std::time::Duration;

use api::auth::{AuthOptions, Authenticator};
use api::routes::CorsOrigins;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[path = "../support/mod.rs"]
mod support;

pub use support::claims::*;
pub use support::issuer::*;
pub use support::keys::*;
pub use support::signing_keys::*;

/// Options for the app against `issuer`, with the defaults except a short HTTP timeout, so
/// tests of a slow issuer finish quickly.
pub fn options(issuer: &TestIssuer) -> AuthOptions {
    let mut options = AuthOptions::new(issuer.url().parse().expect("issuer URL"), AUDIENCE);
    options.jwks.http_timeout = Duration::from_secs(2);
    options
}

/// The authentication core against `issuer`, with [`options`].
pub fn authenticator(issuer: &TestIssuer) -> Authenticator {
    Authenticator::new(options(issuer)).expect("valid options")
}

/// The app, served on a port of the OS's choosing until the handle is dropped.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client without timeouts surprises: 10 s for everything.
    pub client: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
}

/// Starts the quickstart app with `options` on port 0.
pub async fn spawn_app(options: AuthOptions) -> TestApp {
    let authenticator = Authenticator::new(options).expect("valid options");
    spawn_router(api::app(authenticator, &CorsOrigins::default())).await
}

/// Serves any router on port 0.
pub async fn spawn_router(router: axum::Router) -> TestApp {
    spawn_router_with(router, api::ServerLimits::default()).await
}

/// Serves any router on port 0 with these server limits (short ones keep hostile-client tests
/// fast).
pub async fn spawn_router_with(router: axum::Router, limits: api::ServerLimits) -> TestApp {
    init_tracing();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let (shutdown, signal) = oneshot::channel::<()>();
    tokio::spawn(api::serve_with(
        listener,
        router,
        async {
            let _ = signal.await;
        },
        limits,
    ));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client"),
        _shutdown: shutdown,
    }
}

impl TestApp {
    /// GET `path` without a token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// GET `path` with `Authorization: Bearer <token>`.
    pub async fn get_with_token(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// The status of GET `path` with `Authorization: Bearer <token>`.
    pub async fn status_of(&self, path: &str, token: &str) -> u16 {
        self.get_with_token(path, token).await.status().as_u16()
    }

    /// A request builder for anything unusual.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }
}

/// What a refusal looked like: status, challenge and body message.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The `WWW-Authenticate` header, if any.
    pub challenge: Option<String>,
    /// The `message` of the JSON body.
    pub message: String,
}

/// Reads a response into an [`Answer`].
pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().expect("ASCII challenge").to_owned());
    let body: Value = response.json().await.expect("JSON body");
    Answer {
        status,
        challenge,
        message: body["message"].as_str().expect("message").to_owned(),
    }
}

/// The Bearer challenge that names no error.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"api\"";

/// The DPoP challenge that names no error: the proof algorithms accepted, the reference's list.
pub const DPOP_CHALLENGE: &str =
    "DPoP algs=\"RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K ES384 ES512 EdDSA\"";

/// The challenges that name no error, as authentication answers with DPoP on (the default): a
/// request without a token, or a malformed header.
pub fn bare_challenge() -> String {
    format!("{BEARER_CHALLENGE}, {DPOP_CHALLENGE}")
}

/// The answer to a request without a token: 401, the bare challenges, `Unauthorized`.
pub fn unauthorized() -> Answer {
    Answer {
        status: 401,
        challenge: Some(bare_challenge()),
        message: "Unauthorized".into(),
    }
}

/// The answer to an `Authorization` header that is not `Bearer <token>` (nor `DPoP <token>`):
/// 400 with the bare challenges, as the reference answers it.
pub fn malformed_authorization() -> Answer {
    Answer {
        status: 400,
        challenge: Some(bare_challenge()),
        message: "Invalid Authorization header: expected 'Bearer <token>'".into(),
    }
}

/// The answer to a refused token: 401 `invalid_token` with `description` in the Bearer
/// challenge (with `"` written `'`, as the reference does) and as the body's message.
pub fn refused(description: &str) -> Answer {
    Answer {
        status: 401,
        challenge: Some(challenge("invalid_token", description)),
        message: description.into(),
    }
}

/// The answer to a valid token that lacks what the route requires: 403 `insufficient_scope`
/// with `description`, naming the `required` scopes (or permissions). The Bearer challenge
/// alone, as the reference answers it.
pub fn forbidden(description: &str, required: &str) -> Answer {
    Answer {
        status: 403,
        challenge: Some(format!(
            "{}, scope=\"{required}\"",
            bearer_error("insufficient_scope", description)
        )),
        message: description.into(),
    }
}

/// The answer to a malformed request in RFC 6750's sense: 400 `invalid_request`.
pub fn invalid_request(description: &str) -> Answer {
    Answer {
        status: 400,
        challenge: Some(challenge("invalid_request", description)),
        message: description.into(),
    }
}

/// The answer to a request that breaks the `Host` rules, refused before authentication: 400
/// `invalid_request`, `Invalid Host header`, with the Bearer challenge alone.
pub fn invalid_host() -> Answer {
    let description = "Invalid Host header";
    Answer {
        status: 400,
        challenge: Some(bearer_error("invalid_request", description)),
        message: description.into(),
    }
}

/// `answer` with the Bearer challenge alone: how refusals outside authentication answer (the
/// claim checks, the [`Claims`](api::auth::Claims) extractor's fail-closed 401), and every
/// refusal with DPoP disabled.
pub fn bearer_alone(answer: Answer) -> Answer {
    let dpop = format!(", {DPOP_CHALLENGE}");
    Answer {
        challenge: answer
            .challenge
            .map(|challenge| challenge.replace(&dpop, "")),
        ..answer
    }
}

/// The challenges of an authentication refusal with an error code and description: on the
/// Bearer challenge, the one a bearer client used, then the DPoP one.
fn challenge(code: &str, description: &str) -> String {
    format!("{}, {DPOP_CHALLENGE}", bearer_error(code, description))
}

/// The Bearer challenge with an error code and description.
pub fn bearer_error(code: &str, description: &str) -> String {
    format!(
        "{BEARER_CHALLENGE}, error=\"{code}\", error_description=\"{}\"",
        description.replace('"', "'")
    )
}

/// Asserts `token` is refused on both protected routes with 401 `invalid_token` and
/// `description`.
pub async fn assert_refused(app: &TestApp, token: &str, description: &str) {
    for route in ["/api/private", "/api/private-scoped"] {
        let answer = answer(app.get_with_token(route, token).await).await;
        assert_eq!(answer, refused(description), "{route}: {token}");
    }
}

/// Asserts the answer of an issuer that cannot give a usable key: 503 with `Retry-After: 1`,
/// no challenge (the client's token is not at fault) and the reference's message.
pub async fn assert_unavailable(response: reqwest::Response) {
    assert_retry_later(
        response,
        "The authorization server is unavailable; try again later",
    )
    .await;
}

/// Asserts a 503 with `Retry-After: 1`, no challenge and `message`.
pub async fn assert_retry_later(response: reqwest::Response, message: &str) {
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_eq!(
        answer(response).await,
        Answer {
            status: 503,
            challenge: None,
            message: message.into(),
        }
    );
}

/// Logs are silent unless `TEST_LOG` is set.
fn init_tracing() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
                .with_test_writer()
                .try_init();
        }
    });
}

/// The `api` binary with a clean environment plus `vars`, run in an empty directory so no
/// `.env` is found.
pub fn api_binary(vars: &[(&str, &str)]) -> std::process::Command {
    let dir = std::env::temp_dir().join(format!("api-binary-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_api"));
    command
        .env_clear()
        .current_dir(dir)
        .envs(vars.iter().copied());
    command
}

/// Starts the `api` binary with `vars` (stderr as given) and waits for its first line,
/// `listening on http://…`; returns the process and the address it serves.
pub fn start_api_binary(
    vars: &[(&str, &str)],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = api_binary(vars)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn api");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, address)
}
