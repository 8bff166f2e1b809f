//! Target mode: the `conformance` binary against a separately started server.

use std::net::TcpListener as StdListener;
use std::process::Stdio;

use api::auth::{AuthOptions, Authenticator};
use conformance::AUDIENCE;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::helpers::*;

/// A free port: bound, then released for the binary's issuer to take.
fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

#[tokio::test]
async fn the_binary_certifies_a_running_api_and_prints_the_summary() {
    // Arrange: the binary's issuer will listen on this port; the api trusts it from the start
    // (discovery is lazy, so the api may start before the issuer does).
    let port = free_port();
    let issuer_url = format!("http://127.0.0.1:{port}/");
    let authenticator =
        Authenticator::new(AuthOptions::new(issuer_url.parse().expect("url"), AUDIENCE))
            .expect("options");
    let server = serve(api::app(
        authenticator,
        &api::routes::CorsOrigins::default(),
    ))
    .await;

    // Act
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args([
            "--target",
            &server.url,
            "--issuer-port",
            &port.to_string(),
            "--strict",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conformance");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut output = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        output.push(line);
    }
    let status = child.wait().await.expect("wait");

    // Assert
    let text = output.join("\n");
    assert!(
        text.contains(&format!("ISSUER_BASE_URL={issuer_url}")),
        "{text}"
    );
    assert!(text.contains(&format!("AUDIENCE={AUDIENCE}")), "{text}");
    let last = output.last().expect("output");
    assert!(last.ends_with(" passed, 0 failed"), "{text}");
    assert!(status.success(), "{text}");
}

#[tokio::test]
async fn the_binary_exits_non_zero_when_a_reference_case_fails() {
    let port = free_port();
    let issuer_url = format!("http://127.0.0.1:{port}/");
    let mut options = AuthOptions::new(issuer_url.parse().expect("url"), AUDIENCE);
    options.audiences.push("https://other/api".into());
    let server = serve(api::app(
        Authenticator::new(options).expect("options"),
        &api::routes::CorsOrigins::default(),
    ))
    .await;

    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["--target", &server.url, "--issuer-port", &port.to_string()])
        .output()
        .await
        .expect("run conformance");

    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("private/wrong-audience"), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|line| line.ends_with(" passed, 4 failed")),
        "{text}"
    );
}
