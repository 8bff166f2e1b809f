//! `cargo xtask conformance`: certify a server against the contract.
//!
//! - `cargo xtask conformance --target URL [--issuer-port N] [--strict]` runs the suite against
//!   a server you started (see the conformance binary's `--help`).
//! - `cargo xtask conformance` alone builds this project's `api` binary, starts it trusting the
//!   suite's mock issuer, and certifies it with `--strict`: the same path a user takes, run by
//!   `cargo xtask test` too.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// Runs the suite against `--target`, or against a freshly started `api` binary.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    if args
        .iter()
        .any(|arg| arg == "--target" || arg.starts_with("--target="))
    {
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
    let binaries = target_dir(sh).join("debug");
    let issuer_port = free_port()?;
    let api = start_api(&binaries, issuer_port)?;
    println!("api binary listening on {}", api.url);
    let status = Command::new(binaries.join("conformance"))
        .args([
            "--target",
            &api.url,
            "--issuer-port",
            &issuer_port.to_string(),
            "--strict",
        ])
        .args(args)
        .status()
        .context("running the conformance binary")?;
    drop(api);
    if !status.success() {
        bail!("the api binary does not conform (see the table above)");
    }
    Ok(())
}

/// The `api` process, killed when dropped so no failure path leaves it running.
struct RunningApi {
    child: Child,
    url: String,
}

impl Drop for RunningApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the api on a port of the OS's choosing, trusting `http://127.0.0.1:{issuer_port}/`,
/// and waits for its `listening on` line. It runs in the target directory so a developer's
/// `.env` in the repository cannot change what is certified.
fn start_api(binaries: &std::path::Path, issuer_port: u16) -> Result<RunningApi> {
    let mut child = Command::new(binaries.join("api"))
        .current_dir(binaries)
        .env(
            "ISSUER_BASE_URL",
            format!("http://127.0.0.1:{issuer_port}/"),
        )
        .env("AUDIENCE", "https://quickstarts/api")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the api binary")?;
    let stdout = child.stdout.take().context("api stdout")?;
    let mut api = RunningApi {
        child,
        url: String::new(),
    };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    api.url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from api: {line:?}"))?
        .to_owned();
    Ok(api)
}

/// A port that was free a moment ago, for the suite's issuer to bind.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
fn target_dir(sh: &Shell) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| sh.current_dir().join("target"))
}
