//! The `mock-issuer` binary: `serve`'s output and graceful stop, and the offline key commands.

use std::process::Command;

use mock_issuer::KeySummary;
use serde_json::Value;

use crate::helpers::{decode, read, temp_dir};
use crate::served::{BIN, Served, output, serve_command};

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let mut command = Command::new(BIN);
    command.arg("--data-dir").arg(dir).args(args);
    let output = output(command);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[tokio::test]
async fn serve_prints_the_issuer_first_then_serves_until_sigterm() {
    // Arrange
    let dir = temp_dir("cli-serve");
    let served = Served::start(
        serve_command(&dir, "warn", &["--seed", "42"]),
        dir.join("log"),
    );

    // Act
    let issuer = served.issuer.clone();
    let http = reqwest::Client::new();
    let discovery = read(
        http.get(format!("{issuer}.well-known/openid-configuration"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let token = read(
        http.post(format!("{issuer}oauth/token"))
            .json(&serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": "reader",
                "client_secret": "reader-secret",
                "audience": "https://quickstarts/api",
            }))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let admin = served.banner_line("admin: ").map(str::to_owned);
    let rest = served.banner[1..].join("\n");
    let (exit, log) = served.stop();

    // Assert
    assert!(
        issuer.starts_with("http://127.0.0.1:") && issuer.ends_with('/'),
        "{issuer}"
    );
    assert_ne!(issuer, "http://127.0.0.1:0/");
    assert_eq!(discovery.1["issuer"], issuer.as_str());
    assert_eq!(token.0, 200);
    assert_eq!(admin.as_deref(), Some("admin: open (loopback only)"));
    assert!(rest.contains("client: reader / reader-secret"), "{rest}");
    assert!(
        rest.contains("lifetime: 86400 s; signing: RS256)"),
        "{rest}"
    );
    assert!(
        rest.contains(&format!("curl -s {issuer}oauth/token")),
        "{rest}"
    );
    assert!(exit.success(), "graceful stop exits 0: {exit:?}\n{log}");
}

#[test]
fn mint_signs_offline_with_the_persisted_current_key() {
    // Arrange
    let dir = temp_dir("cli-mint");
    let jwks: Value = serde_json::from_str(&run(&dir, &["jwks"])).expect("JWKS JSON");

    // Act
    let token = run(
        &dir,
        &[
            "mint",
            "--client",
            "reader",
            "--scope",
            "read:messages",
            "--expired",
            "--claim",
            "tenant=\"acme\"",
            "--issuer",
            "http://127.0.0.1:4000",
        ],
    );

    // Assert
    let (header, claims) = decode(token.trim());
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    assert_eq!(claims["iss"], "http://127.0.0.1:4000/");
    assert_eq!(claims["scope"], "read:messages");
    assert_eq!(claims["tenant"], "acme");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(claims["exp"].as_u64().expect("exp") < now);
}

#[test]
fn signing_alg_sets_the_default_apis_algorithm_for_mint_and_jwks() {
    // Arrange
    let dir = temp_dir("cli-signing-alg");

    // Act
    let jwks: Value =
        serde_json::from_str(&run(&dir, &["--signing-alg", "ES256", "jwks"])).expect("JWKS JSON");
    let token = run(&dir, &["--signing-alg", "ES256", "mint"]);
    let refused = output({
        let mut command = Command::new(BIN);
        command
            .arg("--data-dir")
            .arg(&dir)
            .args(["--signing-alg", "ES512", "jwks"]);
        command
    });

    // Assert
    let (header, _) = decode(token.trim());
    assert_eq!(header["alg"], "ES256");
    let es256: Vec<&Value> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|key| key["alg"] == "ES256")
        .collect();
    assert_eq!(es256.len(), 2, "{jwks}");
    assert_eq!(header["kid"], es256[0]["kid"], "the current ES256 key");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("ES512"), "{stderr}");
}

#[test]
fn rotate_and_revoke_previous_act_on_the_data_dir() {
    // Arrange
    let dir = temp_dir("cli-rotate");
    let before: Value = serde_json::from_str(&run(&dir, &["--seed", "7", "jwks"])).expect("JSON");

    // Act
    let rotated: KeySummary = serde_json::from_str(&run(&dir, &["rotate"])).expect("kids");
    let after: Value = serde_json::from_str(&run(&dir, &["jwks"])).expect("JSON");
    let revoked: KeySummary = serde_json::from_str(&run(&dir, &["revoke-previous"])).expect("kids");

    // Assert
    assert_eq!(before["keys"][1]["kid"], rotated.current.as_str());
    assert_eq!(
        before["keys"][0]["kid"],
        rotated.previous.as_deref().unwrap_or("none")
    );
    assert_eq!(after["keys"].as_array().map(Vec::len), Some(3));
    assert_eq!(revoked.previous, None);
    assert_eq!(revoked.current, rotated.current);
}

#[test]
fn a_tenant_file_configures_the_apis_and_clients() {
    // Arrange: one RFC 9068 API with a short lifetime.
    let dir = temp_dir("cli-config");
    let config = dir.join("tenant.toml");
    std::fs::write(
        &config,
        r#"
            [[apis]]
            identifier = "https://orders/api"
            scopes = ["read:orders"]
            token_lifetime = 300
            dialect = "rfc9068"

            [[clients]]
            id = "shop"
            secret = "shop-secret"
            grants = [{ audience = "https://orders/api", scopes = ["read:orders"] }]
        "#,
    )
    .expect("tenant file written");

    // Act
    let token = run(
        &dir,
        &[
            "--config",
            config.to_str().expect("utf-8 path"),
            "mint",
            "--client",
            "shop",
            "--iat",
            "1700000000",
        ],
    );

    // Assert
    let (header, claims) = decode(token.trim());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["aud"], "https://orders/api");
    assert_eq!(claims["client_id"], "shop");
    assert_eq!(claims["exp"], 1_700_000_300);
}
