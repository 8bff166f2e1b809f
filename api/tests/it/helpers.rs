//! Test fixtures: fixed test keys, a scriptable issuer on wiremock, and the app on port 0.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::auth::{AuthOptions, Authenticator};
use api::routes::CorsOrigins;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API identifier every test token is issued for.
pub const AUDIENCE: &str = "https://quickstarts/api";
/// Where the test issuer publishes its keys.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where the test issuer publishes its OpenID metadata.
pub const OPENID_PATH: &str = "/.well-known/openid-configuration";

/// An RSA test key with a fixed `kid`. FOR TESTING ONLY: the private keys are committed to
/// the repository under `tests/data` and must never protect anything real.
pub struct TestKey {
    encoding: EncodingKey,
    jwk: Value,
}

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn load_key(name: &str) -> TestKey {
    let pem = data(&format!("test-key-{name}.pem"));
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(base64).expect("PEM body is base64");
    let jwks: Value =
        serde_json::from_str(&data("test-keys.jwk.json")).expect("test-keys.jwk.json");
    TestKey {
        encoding: EncodingKey::from_rsa_der(&der),
        jwk: jwks[name].clone(),
    }
}

impl TestKey {
    /// The issuer's signing key (`kid` `test-key-primary`).
    pub fn primary() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load_key("primary"))
    }

    /// Another 2048-bit key (`kid` `test-key-secondary`), for rotation and wrong-key cases.
    pub fn secondary() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load_key("secondary"))
    }

    /// A 1024-bit key, too short to be trusted. Only its JWK is used: aws-lc will not sign
    /// with it either.
    pub fn weak() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| load_key("weak-1024"))
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().expect("kid")
    }

    /// The public JWK, as an issuer publishes it.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// Signs `header` and `claims` exactly as given (RS256), for hostile and unusual tokens.
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// Signs raw header and payload bytes (RS256).
    pub fn sign_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::RS256)
                .expect("RS256 signing");
        format!("{input}.{signature}")
    }

    /// An Auth0-style token: header `{"alg":"RS256","typ":"JWT","kid":…}` over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid()}),
            claims,
        )
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Claims of a valid client-credentials token from `issuer`, as Auth0 mints them.
pub fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "reader@clients",
        "aud": AUDIENCE,
        "iat": now(),
        "exp": now() + 3600,
        "scope": "read:messages",
        "azp": "reader",
        "gty": "client-credentials",
    })
}

/// Applies `changes` to `claims`: a `null` removes the claim, anything else sets it.
pub fn with(mut claims: Value, changes: Value) -> Value {
    let object = claims.as_object_mut().expect("claims are an object");
    for (name, value) in changes.as_object().expect("changes are an object") {
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// A scriptable issuer: a wiremock server that serves discovery and a JWKS. Each test gets
/// its own, so `.expect(n)` counts only that test's fetches.
pub struct TestIssuer {
    /// The mock server; mount extra or replacement mocks on it.
    pub server: MockServer,
}

impl TestIssuer {
    /// An issuer with no endpoints mounted: script it yourself.
    pub async fn bare() -> Self {
        TestIssuer {
            server: MockServer::start().await,
        }
    }

    /// An issuer that serves discovery and a JWKS holding the primary key.
    pub async fn start() -> Self {
        let issuer = Self::bare().await;
        issuer.mount_discovery().await;
        issuer.mount_jwks(&[TestKey::primary()]).await;
        issuer
    }

    /// The issuer identifier, with Auth0's trailing slash.
    pub fn url(&self) -> String {
        format!("{}/", self.server.uri())
    }

    /// Auth0's discovery document for this issuer.
    pub fn discovery_document(&self) -> Value {
        let issuer = self.url();
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}.well-known/jwks.json"),
            "token_endpoint": format!("{issuer}oauth/token"),
            "id_token_signing_alg_values_supported": ["HS256", "RS256", "PS256"],
        })
    }

    /// Serves the discovery document at the OpenID path.
    pub async fn mount_discovery(&self) {
        Mock::given(method("GET"))
            .and(path(OPENID_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(self.discovery_document()))
            .mount(&self.server)
            .await;
    }

    /// Serves a JWKS with these keys.
    pub async fn mount_jwks(&self, keys: &[&TestKey]) {
        jwks_mock(keys).mount(&self.server).await;
    }

    /// A valid token with the primary key and Auth0's claims.
    pub fn token(&self) -> String {
        TestKey::primary().sign(&claims(&self.url()))
    }

    /// A token with the primary key and Auth0's claims changed by `changes` (see [`with`]).
    pub fn token_with(&self, changes: Value) -> String {
        TestKey::primary().sign(&with(claims(&self.url()), changes))
    }
}

/// A mock answering the JWKS path with these keys.
pub fn jwks_mock(keys: &[&TestKey]) -> Mock {
    let keys: Vec<Value> = keys.iter().map(|key| key.jwk()).collect();
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": keys })))
}

/// Options for the app against `issuer`, with the defaults except a short HTTP timeout, so
/// tests of a slow issuer finish quickly.
pub fn options(issuer: &TestIssuer) -> AuthOptions {
    let mut options = AuthOptions::new(issuer.url().parse().expect("issuer URL"), AUDIENCE);
    options.jwks.http_timeout = Duration::from_secs(2);
    options
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

/// The challenge of a 401 `invalid_token` with this description.
pub fn invalid_token(description: &str) -> Option<String> {
    Some(format!(
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"{}\"",
        description.replace('"', "'")
    ))
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
