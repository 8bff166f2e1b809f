//! `cargo xtask conformance`: certify a server against the contract.
//!
//! - `cargo xtask conformance --target URL [--issuer-port N] [--strict]` runs the suite against
//!   a server you started (see the conformance binary's `--help`).
//! - `cargo xtask conformance` alone builds this project's `api` binary, starts it trusting the
//!   suite's mock issuer, and certifies it with `--strict`: the same path a user takes, run by
//!   `cargo xtask test` too. Then again with server DPoP nonces on (`DPOP_NONCE=true`), which
//!   asks the nonce cases and sends every other DPoP case with the nonce the api handed out.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use mock_issuer::config::defaults;
use xshell::{Shell, cmd};

use crate::process::{self, Announce, Server};

/// `cargo xtask conformance`'s options.
#[derive(Debug, Default, Args)]
pub struct Options {
    /// The base URL of a server you started, e.g. http://127.0.0.1:3010. Default: this
    /// project's api binary, started here and certified with --strict.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The port of the suite's mock issuer, which the target must trust. Default: 4000 with
    /// --target, else a free one.
    #[arg(long, value_name = "N")]
    pub issuer_port: Option<u16>,
    /// Fail on any failed case, not only on reference-contract cases (always on without
    /// --target).
    #[arg(long)]
    pub strict: bool,
}

/// Runs the suite against `--target`, or against a freshly started `api` binary.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    if let Some(target) = &options.target {
        let mut args = vec!["--target".to_owned(), target.clone()];
        if let Some(port) = options.issuer_port {
            args.extend(["--issuer-port".to_owned(), port.to_string()]);
        }
        if options.strict {
            args.push("--strict".to_owned());
        }
        cmd!(
            sh,
            "cargo run --quiet --package conformance --bin conformance -- {args...}"
        )
        .run()?;
        return Ok(());
    }
    cmd!(
        sh,
        "cargo build --quiet --package api --package conformance --bins"
    )
    .run()?;
    let binaries = crate::target_dir(sh).join("debug");
    for (setting, env) in CERTIFIED_SETTINGS {
        let issuer_port = match options.issuer_port {
            Some(port) => port,
            None => free_port()?,
        };
        let api = start_api(&binaries, issuer_port, env)?;
        println!("api binary ({setting}) listening on {}", api.url());
        let status = Command::new(binaries.join("conformance"))
            .args(["--target", api.url()])
            .args(["--issuer-port", &issuer_port.to_string(), "--strict"])
            .status()
            .context("running the conformance binary")?;
        drop(api);
        if !status.success() {
            bail!("the api binary ({setting}) does not conform (see the table above)");
        }
    }
    Ok(())
}

/// The settings the api binary is certified with, each named, beyond the issuer and audience.
const CERTIFIED_SETTINGS: [(&str, &[(&str, &str)]); 2] = [
    ("defaults", &[]),
    (
        "DPoP nonces",
        &[
            ("DPOP_NONCE", "true"),
            // Any 32 bytes: one replica needs no shared secret, but without one it says so.
            ("DPOP_NONCE_SECRET", "conformance-run-dpop-nonce-secret"),
        ],
    ),
];

/// Starts the api on a port of the OS's choosing, trusting `http://127.0.0.1:{issuer_port}/`,
/// with `env` on top. It runs outside the repository so a developer's `.env` cannot change
/// what is certified.
fn start_api(binaries: &Path, issuer_port: u16, env: &[(&str, &str)]) -> Result<Server> {
    let mut api = Command::new(binaries.join("api"));
    api.envs(env.iter().copied());
    api.current_dir(process::outside_the_repository())
        .env(
            "ISSUER_BASE_URL",
            format!("http://127.0.0.1:{issuer_port}/"),
        )
        .env("AUDIENCE", defaults::API_AUDIENCE)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "warn");
    Server::start("api", api, Announce::Api)
}

/// A port that was free a moment ago, for the suite's issuer to bind.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
