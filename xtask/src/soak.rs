//! `cargo xtask soak [--seconds N]`: the soak under faults (issue 6). Builds release binaries of
//! the api, the mock issuer and the `soak` driver (`conformance/src/bin/soak/`), starts both
//! servers on loopback ports of the OS's choosing with key-cache settings short enough for
//! refreshes and cooldowns to happen many times in minutes, and runs the driver: steady load on
//! the three routes while a fault script cycles the issuer through outages, slowness, garbage,
//! empty key sets and rotations. The driver prints a table per phase and PASS/FAIL per check,
//! and writes `target/soak/summary.json`; the servers' logs go to `target/soak/*.log`.
//!
//! `--seconds N`: length of the run, default 180, at least 120. CI does not run it.

use std::fs::File;
use std::process::Command;
use std::sync::mpsc;

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

use crate::dev;

/// The api's `JWKS_COOLDOWN`: short, so the unknown-kid flood meets the cooldown some ninety
/// times in three minutes and a rotated key's wait is measurable.
const COOLDOWN_S: u64 = 2;
/// The api's `JWKS_CACHE_MAX_AGE`: short, so background refreshes really happen during faults.
const CACHE_MAX_AGE_S: u64 = 5;
/// The api's `HTTP_TIMEOUT`: the slow phase answers a second later than this.
const HTTP_TIMEOUT_S: u64 = 1;
/// The api's `JWKS_STALE_MAX_AGE`: shorter than the default 24 h, yet longer than the script's
/// longest stretch without a successful JWKS fetch (five faulted phases of at most 20 s), so
/// a key once cached stays usable through every outage and the valid stream is judged.
const STALE_MAX_AGE: &str = "5m";
/// The api's `TOKEN_CACHE_CAPACITY` and `TOKEN_CACHE_MAX_TTL`: small, so the verified-token
/// cache is full and evicting within the warm-up (the driver mints fresh tokens every second)
/// and its growth does not blur the memory check.
const TOKEN_CACHE_CAPACITY: &str = "64";
const TOKEN_CACHE_MAX_TTL: &str = "30s";

/// Runs the soak; see the module documentation.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let seconds = parse(args)?;
    cmd!(
        sh,
        "cargo build --release -p api -p mock-issuer -p conformance --bin api --bin mock-issuer --bin soak"
    )
    .run()?;
    let target = dev::target_dir(sh);
    let release = target.join("release");
    let out = target.join("soak");
    sh.create_dir(&out)?;
    // Fresh keys every run, in a data dir of the soak's own: its rotations must not touch the
    // keys `cargo xtask dev` persists, and every run starts from the same key ring shape.
    let data_dir = out.join("mock-issuer");
    let _ = std::fs::remove_dir_all(&data_dir);

    let (exited_tx, exited_rx) = mpsc::channel::<&'static str>();
    let mut mock = Command::new(release.join("mock-issuer"));
    mock.arg("--data-dir")
        .arg(&data_dir)
        .args(["serve", "--host", "127.0.0.1", "--port", "0"])
        .stderr(log_file(&out, "mock-issuer")?);
    let (issuer_process, first) = dev::start(mock, "mock-issuer", "info", &exited_tx)?;
    let issuer = first
        .strip_prefix("issuer: ")
        .with_context(|| format!("unexpected first line from mock-issuer: {first:?}"))?
        .to_owned();

    let mut api = Command::new(release.join("api"));
    api.env("ISSUER_BASE_URL", &issuer)
        .env("AUDIENCE", "https://quickstarts/api")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("JWKS_COOLDOWN", format!("{COOLDOWN_S}s"))
        .env("JWKS_CACHE_MAX_AGE", format!("{CACHE_MAX_AGE_S}s"))
        .env("JWKS_STALE_MAX_AGE", STALE_MAX_AGE)
        .env("HTTP_TIMEOUT", format!("{HTTP_TIMEOUT_S}s"))
        .env("TOKEN_CACHE_CAPACITY", TOKEN_CACHE_CAPACITY)
        .env("TOKEN_CACHE_MAX_TTL", TOKEN_CACHE_MAX_TTL)
        // Away from the workspace root, so a developer's `.env` cannot change the settings.
        .current_dir(&out)
        .stderr(log_file(&out, "api")?);
    let (api_process, first) = dev::start(api, "api", "info", &exited_tx)?;
    let api_url = first
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from api: {first:?}"))?
        .to_owned();

    let status = Command::new(release.join("soak"))
        .args(["--api", &api_url, "--issuer", &issuer])
        .args(["--api-pid", &api_process.child.id().to_string()])
        .args(["--seconds", &seconds.to_string()])
        .args(["--cooldown", &COOLDOWN_S.to_string()])
        .args(["--cache-max-age", &CACHE_MAX_AGE_S.to_string()])
        .args(["--http-timeout", &HTTP_TIMEOUT_S.to_string()])
        .arg("--out")
        .arg(out.join("summary.json"))
        .status()
        .context("running the soak driver")?;
    // A server that died during the run is a failure whatever the checks said.
    if let Ok(name) = exited_rx.try_recv() {
        bail!(
            "{name} exited during the soak (see {})",
            out.join(format!("{name}.log")).display()
        );
    }
    drop((api_process, issuer_process));
    if !status.success() {
        bail!(
            "the soak failed (logs: {})",
            out.join("{api,mock-issuer}.log").display()
        );
    }
    Ok(())
}

/// `--seconds N`, default 180 (the driver refuses less than 120).
fn parse(args: &[String]) -> Result<u64> {
    let mut seconds = 180;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .context("--seconds needs a value")?
                    .parse()
                    .context("--seconds takes a whole number")?;
            }
            other => bail!("unknown option `{other}`; usage: cargo xtask soak [--seconds N]"),
        }
    }
    Ok(seconds)
}

/// `target/soak/NAME.log`, truncated, for a server's stderr (its logs).
fn log_file(out: &std::path::Path, name: &str) -> Result<File> {
    let path = out.join(format!("{name}.log"));
    File::create(&path).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_default_to_three_minutes() {
        assert_eq!(parse(&[]).expect("parses"), 180);
        assert_eq!(
            parse(&["--seconds".to_owned(), "300".to_owned()]).expect("parses"),
            300
        );
        assert!(parse(&["--minutes".to_owned()]).is_err());
    }
}
