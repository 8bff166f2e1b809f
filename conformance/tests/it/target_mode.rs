//! Target mode: the `conformance` binary against a separately started server.

use std::net::TcpListener as StdListener;

use api::auth::{AuthOptions, Authenticator};
use conformance::AUDIENCE;
use conformance::catalogue::catalogue;
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

/// What a run of the binary printed, and whether it exited with success.
struct Run {
    success: bool,
    stdout: String,
    issuer_url: String,
}

impl Run {
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

/// Starts our api with `change` made to its options, trusting the issuer the binary will
/// start (discovery is lazy, so the api may start before the issuer does), and runs the
/// binary against it with `extra` arguments.
async fn certify(change: impl FnOnce(&mut AuthOptions), extra: &[&str]) -> Run {
    let port = free_port();
    let issuer_url = format!("http://127.0.0.1:{port}/");
    let mut options = AuthOptions::new(issuer_url.parse().expect("url"), AUDIENCE);
    change(&mut options);
    let server = serve(api::app(
        Authenticator::new(options).expect("options"),
        &api::routes::CorsOrigins::default(),
    ))
    .await;

    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["--target", &server.url, "--issuer-port", &port.to_string()])
        .args(extra)
        .output()
        .await
        .expect("run conformance");

    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        issuer_url,
    }
}

#[tokio::test]
async fn the_binary_certifies_a_running_api_and_prints_the_summary() {
    let run = certify(|_| {}, &["--strict"]).await;

    let text = &run.stdout;
    assert!(
        text.contains(&format!("ISSUER_BASE_URL={}", run.issuer_url)),
        "{text}"
    );
    assert!(text.contains(&format!("AUDIENCE={AUDIENCE}")), "{text}");
    // The DPoP cases ran too, their proofs naming the --target URL.
    assert!(text.contains("private/dpop-valid-proof "), "{text}");
    assert!(!text.contains("does not advertise DPoP"), "{text}");
    // The metadata checks ran too, each a line of the table.
    assert!(
        text.contains("Protected Resource Metadata (RFC 9728) at "),
        "{text}"
    );
    assert!(text.contains("metadata/authorization-servers "), "{text}");
    assert!(run.last_line().ends_with(" passed, 0 failed"), "{text}");
    assert!(run.success, "{text}");
}

#[tokio::test]
async fn the_binary_exits_non_zero_when_a_reference_case_fails() {
    let run = certify(
        |options| options.audiences.push("https://other/api".into()),
        &[],
    )
    .await;

    let text = &run.stdout;
    assert!(!run.success, "{text}");
    assert!(text.contains("private/wrong-audience"), "{text}");
    assert!(run.last_line().ends_with(" passed, 4 failed"), "{text}");
}

#[tokio::test]
async fn a_server_without_dpop_passes_unless_strict_and_its_dpop_failures_are_listed() {
    let without_dpop = |options: &mut AuthOptions| options.dpop.enabled = false;
    let dpop_cases = catalogue()
        .iter()
        .filter(|case| case.needs_dpop() && !case.needs_nonces())
        .count();

    let run = certify(without_dpop, &[]).await;
    let strict = certify(without_dpop, &["--strict"]).await;

    let text = &run.stdout;
    assert!(run.success, "{text}");
    assert!(text.starts_with("Start the server under test"), "{text}");
    assert!(text.contains("does not advertise DPoP"), "{text}");
    assert!(
        run.last_line()
            .ends_with(&format!(" passed, {dpop_cases} failed")),
        "{text}"
    );
    assert!(!strict.success, "{}", strict.stdout);
}
