//! Test helpers: a started issuer with an HTTP client and a typed one, and token decoding
//! without verification.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::config::defaults;
use mock_issuer::{ClientCredentials, Endpoint, Fault, IssuerClient, IssuerConfig, MockIssuer};
use serde_json::Value;

/// The seed most tests share: its keys are generated once per test process and cached.
pub const SHARED_SEED: u64 = 42;

/// A started issuer and an HTTP client for it.
pub struct TestIssuer {
    pub issuer: MockIssuer,
    pub http: reqwest::Client,
}

/// An issuer with the default tenant and the shared seeded keys (fast to start).
pub async fn spawn() -> TestIssuer {
    spawn_with(IssuerConfig::default().with_seed(SHARED_SEED)).await
}

/// An issuer with the default tenant, the shared keys and `fault` set on `endpoint`.
pub async fn spawn_faulted(endpoint: Endpoint, fault: Fault) -> TestIssuer {
    let t = spawn().await;
    t.issuer
        .set_fault(endpoint, fault)
        .expect("the fault applies");
    t
}

/// An issuer with `config`.
pub async fn spawn_with(config: IssuerConfig) -> TestIssuer {
    let issuer = MockIssuer::start(config).await.expect("issuer starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    TestIssuer { issuer, http }
}

impl TestIssuer {
    /// `GET` a path under the issuer; returns the status and the body as JSON (or a string).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.issuer.url()))
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// `POST /oauth/token` with a JSON body.
    pub async fn token_json(&self, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.issuer.token_url())
            .json(body)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// `POST /oauth/token` with a form body.
    pub async fn token_form(&self, pairs: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(self.issuer.token_url())
            .form(pairs)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    /// A typed client for the issuer, on the test's HTTP client.
    pub fn client(&self) -> IssuerClient {
        IssuerClient::with_http_client(self.issuer.url(), self.http.clone()).expect("an http URL")
    }

    /// A token for `reader` through the token endpoint, as a client would get one.
    pub async fn reader_token(&self) -> String {
        self.client()
            .client_credentials(&reader_credentials())
            .await
            .expect("a token for reader")
            .access_token
            .into_inner()
    }
}

/// The default tenant's `reader` asking for every scope it was granted on the default API.
pub fn reader_credentials() -> ClientCredentials {
    ClientCredentials::new(
        defaults::READER_CLIENT_ID,
        defaults::READER_CLIENT_SECRET,
        defaults::API_AUDIENCE,
    )
}

/// Status and body; a body that is not JSON comes back as a JSON string.
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The decoded header and payload of a compact JWS (no verification).
pub fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().expect("a JWS part"))
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    let header = part();
    let payload = part();
    (header, payload)
}

/// The member names of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The member names of a JSON object in document order (from the raw JSON text).
pub fn ordered_keys(json_text: &[u8]) -> Vec<String> {
    // serde_json's Map may sort; walk the text with a streaming deserializer of a map instead.
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Keys>(json_text)
        .expect("a JSON object")
        .0
}

/// The raw JSON of a JWS part (0 = header, 1 = payload).
pub fn raw_part(token: &str, index: usize) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.split('.').nth(index).expect("a JWS part"))
        .expect("base64url")
}

/// A fresh, empty directory under the test target dir, unique to `name`, with mode 0700: the
/// issuer refuses a data dir other users can write, which a permissive umask (`002`) would
/// otherwise make it.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mock-issuer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    dir
}
