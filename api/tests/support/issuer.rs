//! A scriptable issuer on wiremock: OpenID discovery and a JWKS on a port of the OS's choosing,
//! and what it was asked. Every mock of an issuer endpoint is made by [`issuer_answer`] (the
//! JWKS ones by [`jwks_answer`]), every "was it called" question is asked of the request log.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::claims::{claims, with};
use super::keys::TestKey;

/// Where the test issuer publishes its keys.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where the test issuer publishes its OpenID metadata.
pub const OPENID_PATH: &str = "/.well-known/openid-configuration";
/// The RFC 8414 metadata path, tried when OpenID discovery finds nothing.
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// A scriptable issuer. Each test gets its own, so its request log and `.expect(n)` count only
/// that test's fetches.
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
        let document = ResponseTemplate::new(200).set_body_json(self.discovery_document());
        issuer_answer(OPENID_PATH, document)
            .mount(&self.server)
            .await;
    }

    /// Serves a JWKS with these keys, for as long as the issuer lives.
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

    /// The path of every request the issuer has received, in order of arrival.
    pub async fn requested_paths(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .map(|request| request.url.path().to_owned())
            .collect()
    }

    /// How many requests reached `path`.
    pub async fn requests_to(&self, path: &str) -> usize {
        self.requested_paths()
            .await
            .iter()
            .filter(|requested| *requested == path)
            .count()
    }

    /// Asserts the issuer has received no request at all: neither discovery nor the JWKS.
    pub async fn assert_never_called(&self) {
        let requested = self.requested_paths().await;
        assert!(
            requested.is_empty(),
            "the issuer should not have been called, but was asked for {requested:?}"
        );
    }
}

/// A mock answering GET `route` with `template`.
pub fn issuer_answer(route: &str, template: ResponseTemplate) -> Mock {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(template)
}

/// A mock answering the JWKS path with `template` (a failure, a delay, a hostile document).
pub fn jwks_answer(template: ResponseTemplate) -> Mock {
    issuer_answer(JWKS_PATH, template)
}

/// A 200 carrying a JWKS with these keys.
pub fn jwks_response(keys: &[&TestKey]) -> ResponseTemplate {
    raw_jwks_response(keys.iter().map(|key| key.jwk()).collect())
}

/// A 200 carrying a JWKS of these JWKs exactly as given, hostile or broken ones included.
pub fn raw_jwks_response(jwks: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "keys": jwks }))
}

/// A mock answering the JWKS path with these keys; add `.expect(n)` or `.up_to_n_times(n)`
/// before mounting it.
pub fn jwks_mock(keys: &[&TestKey]) -> Mock {
    jwks_answer(jwks_response(keys))
}
