//! Who may use the admin surface of the real binary: a bearer token on a wildcard bind
//! (generated, or given by flag or environment), open on loopback, open on purpose with a
//! warning; Auth0's endpoints never behind it; the token never logged.

use mock_issuer::IssuerClient;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::helpers::{read, reader_credentials, temp_dir};
use crate::served::{Served, output, serve_command};

/// Served on every address, reached through loopback.
const WILDCARD: &[&str] = &["--seed", "42", "--host", "0.0.0.0"];
/// A token given to the binary.
const GIVEN_TOKEN: &str = "given-admin-token-3f9a";

/// Starts `mock-issuer serve` with `args` (and `env`) in a data dir of its own.
fn serve(name: &str, args: &[&str], env: Option<&str>) -> Served {
    let dir = temp_dir(name);
    let mut command = serve_command(&dir, "debug", args);
    if let Some(token) = env {
        command.env("MOCK_ADMIN_TOKEN", token);
    }
    Served::start(command, dir.join("log"))
}

/// Stops `served` and returns its log, having checked that it stopped cleanly and that
/// `token` appears nowhere in it.
fn stop_without_logging(served: Served, token: &str) -> String {
    let (exit, log) = served.stop();
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(!log.contains(token), "the admin token was logged:\n{log}");
    log
}

/// `GET /_mock/keys` with `token` as a bearer token, if any: status, challenge and body.
async fn get_keys(served: &Served, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(format!("{}_mock/keys", served.loopback_url()));
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = request.send().await.expect("sent");
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let (status, body) = read(response).await;
    (status, challenge, body)
}

/// The statuses of Auth0's endpoints and `/healthz`, asked without any admin token.
async fn public_statuses(served: &Served) -> Vec<u16> {
    let base = served.loopback_url();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for path in [
        "healthz",
        ".well-known/openid-configuration",
        ".well-known/oauth-authorization-server",
        ".well-known/jwks.json",
    ] {
        let response = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("sent");
        statuses.push(response.status().as_u16());
    }
    let token = http
        .post(format!("{base}oauth/token"))
        .form(&reader_credentials())
        .send()
        .await
        .expect("sent");
    statuses.push(token.status().as_u16());
    statuses
}

#[tokio::test]
async fn a_wildcard_bind_generates_a_token_and_every_admin_path_requires_it() {
    // Arrange
    let served = serve("admin-generated", WILDCARD, None);
    let line = served
        .banner_line("admin: ")
        .expect("an admin line")
        .to_owned();
    let token = line
        .strip_prefix("admin: bearer token required (generated): ")
        .expect("a generated token")
        .to_owned();
    let http = reqwest::Client::new();
    let base = served.loopback_url();

    // Act
    let without = get_keys(&served, None).await;
    let wrong = get_keys(&served, Some("not-the-token")).await;
    let with = get_keys(&served, Some(&token)).await;
    let unknown_path = http
        .get(format!("{base}_mock/no-such-route"))
        .send()
        .await
        .expect("sent");
    let wrong_method = http
        .delete(format!("{base}_mock/keys"))
        .send()
        .await
        .expect("sent");
    let rotate = http
        .post(format!("{base}_mock/rotate"))
        .send()
        .await
        .expect("sent");
    let public = public_statuses(&served).await;
    let log = stop_without_logging(served, &token);

    // Assert
    assert_eq!(token.len(), 43, "{line}");
    assert_eq!(without.0, 401, "{without:?}");
    assert_eq!(
        without.1.as_deref(),
        Some(r#"Bearer realm="mock-issuer admin""#)
    );
    assert!(without.2["error"].is_string(), "{without:?}");
    assert_eq!(wrong.0, 401, "{wrong:?}");
    assert_eq!(
        wrong.1.as_deref(),
        Some(r#"Bearer realm="mock-issuer admin", error="invalid_token""#)
    );
    assert_eq!(with.0, 200, "{with:?}");
    assert!(with.2["current"].is_string(), "{with:?}");
    assert_eq!(unknown_path.status().as_u16(), 401);
    assert_eq!(wrong_method.status().as_u16(), 401);
    assert_eq!(rotate.status().as_u16(), 401);
    assert_eq!(public, [200, 200, 200, 200, 200]);
    assert!(log.contains("admin request refused"), "{log}");
    assert!(
        !log.contains("not-the-token"),
        "a presented token was logged:\n{log}"
    );
}

#[tokio::test]
async fn a_token_from_the_flag_is_required_and_the_typed_client_sends_it() {
    // Arrange
    let served = serve(
        "admin-flag",
        &[WILDCARD, &["--admin-token", GIVEN_TOKEN]].concat(),
        None,
    );
    let anonymous = IssuerClient::new(&served.loopback_url()).expect("an http URL");
    let admin = anonymous.clone().with_admin_token(GIVEN_TOKEN);

    // Act
    let refused = anonymous.rotate().await;
    let rotated = admin.rotate().await;
    let token = anonymous.client_credentials(&reader_credentials()).await;
    let line = served.banner_line("admin: ").map(str::to_owned);
    let banner = served.banner.join("\n");
    stop_without_logging(served, GIVEN_TOKEN);

    // Assert
    assert_eq!(refused.map_err(|e| e.status()).err(), Some(Some(401)));
    assert!(rotated.is_ok(), "{rotated:?}");
    assert!(token.is_ok(), "{token:?}");
    assert_eq!(
        line.as_deref(),
        Some("admin: bearer token required (from --admin-token)")
    );
    assert!(!banner.contains(GIVEN_TOKEN), "{banner}");
}

#[tokio::test]
async fn a_token_from_the_environment_is_required_even_on_loopback() {
    // Arrange
    let served = serve("admin-env", &["--seed", "42"], Some(GIVEN_TOKEN));

    // Act
    let without = get_keys(&served, None).await;
    let with = get_keys(&served, Some(GIVEN_TOKEN)).await;
    let line = served.banner_line("admin: ").map(str::to_owned);
    stop_without_logging(served, GIVEN_TOKEN);

    // Assert
    assert_eq!(
        line.as_deref(),
        Some("admin: bearer token required (from MOCK_ADMIN_TOKEN)")
    );
    assert_eq!(without.0, 401, "{without:?}");
    assert_eq!(with.0, 200, "{with:?}");
}

#[tokio::test]
async fn open_admin_opens_a_wildcard_bind_with_a_warning() {
    // Arrange
    let served = serve("admin-open", &[WILDCARD, &["--open-admin"]].concat(), None);

    // Act
    let keys = get_keys(&served, None).await;
    let line = served.banner_line("admin: ").map(str::to_owned);
    let (exit, log) = served.stop();

    // Assert
    assert_eq!(keys.0, 200, "{keys:?}");
    assert_eq!(
        line.as_deref(),
        Some("admin: OPEN to anyone who can reach this address (--open-admin)")
    );
    let warning = log.lines().next().unwrap_or_default();
    assert!(
        warning.starts_with("WARNING: --open-admin: anyone who can reach 0.0.0.0:"),
        "{log}"
    );
    assert!(exit.success(), "{exit:?}\n{log}");
}

#[test]
fn open_admin_with_a_token_is_refused() {
    // Arrange
    let dir = temp_dir("admin-conflict");
    let command = serve_command(
        &dir,
        "warn",
        &["--open-admin", "--admin-token", GIVEN_TOKEN],
    );

    // Act
    let output = output(command);

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--open-admin and an admin token (--admin-token)"),
        "{stderr}"
    );
}
