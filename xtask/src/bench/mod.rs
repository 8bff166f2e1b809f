//! `cargo xtask bench`: the performance figures, from one run: criterion micro-benchmarks of
//! verification, then the release binaries on loopback under `wrk` (over plain HTTP, then over
//! HTTPS against plain HTTP), then the targets' ratios,
//! printed as a table and written to `target/bench/results.json` (and `results.txt`).
//!
//! Build, start the servers, mint tokens, run the scenarios, report:
//! - [`micro`]: criterion's medians, the bench's paired ratios and the DPoP replay store's
//!   costs, as it left them on disk.
//! - [`algorithms`]: ES256 and EdDSA verification's targets and figures in the report.
//! - [`dpop`]: DPoP's targets and figures in the report.
//! - [`tokens`]: the bench tenant and its tokens (one, and a pool of distinct ones).
//! - [`scenarios`]: the HTTP scenarios, as data, run with `conformance::load::wrk`.
//! - [`https`]: the api over HTTPS against the same api over plain HTTP.
//! - [`baseline`]: `--baseline REV`: the api built at REV, measured against this one A/B.
//! - [`alternate`]: two servers measured in alternating rounds (by `https` and `baseline`).
//! - [`report`]: the targets, the table and the JSON.

mod algorithms;
mod alternate;
mod baseline;
mod dpop;
mod https;
mod micro;
mod report;
mod scenarios;
mod tokens;

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use clap::Args;
use conformance::load::wrk::{Measurement, Scenario, Target, Wrk};
use xshell::{Shell, cmd};

use crate::http::Http;
use crate::process::{self, Announce, Server};
use crate::tools;
use report::{Peaks, Report};
use tokens::Tokens;

/// The api's default `TOKEN_CACHE_CAPACITY`, in entries of a typical token.
const CACHE_CAPACITY: usize = 4096;

/// wrk's threads: one per core of this 2-core machine, sharing it with the server, as any
/// load generator on the same host must.
const WRK_THREADS: u32 = 2;

/// `cargo xtask bench`'s options.
#[derive(Debug, Clone, Args)]
pub struct Options {
    /// Seconds each HTTP scenario is measured, after a one-second warm-up.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = at_least_one_second)]
    pub seconds: u64,
    /// wrk's open connections.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub connections: u32,
    /// Reuse the last criterion results instead of running the micro-benchmarks (with none on
    /// disk, the micro section and the targets that need it are left out).
    #[arg(long)]
    pub skip_micro: bool,
    /// Also build the api at this git revision (in a worktree under target/bench/baseline)
    /// and measure `public`, `private, one token` and `private-scoped, one token` on it and on
    /// this api in alternating rounds: medians and the ratio current/baseline.
    #[arg(long, value_name = "REV")]
    pub baseline: Option<String>,
}

/// `--seconds`: a whole number of seconds, at least 1 (wrk measures nothing in 0 s).
fn at_least_one_second(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("at least 1 second".to_owned()),
        Ok(seconds) => Ok(seconds),
        Err(error) => Err(format!("not a whole number of seconds ({error})")),
    }
}

/// Runs every benchmark and prints the table.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    let out = sh.current_dir().join("target/bench");
    sh.create_dir(&out)?;
    tools::ensure_wrk(sh)?;
    if !options.skip_micro {
        // The DPoP replay store's Redis figures need a real server.
        tools::ensure_redis(sh)?;
        cmd!(sh, "cargo bench -p api --bench verify").run()?;
    }
    let micro = micro::read(
        &crate::target_dir(sh).join("criterion"),
        &out,
        options.skip_micro,
    )?;
    cmd!(sh, "cargo build --release --locked -p api -p mock-issuer").run()?;
    let baseline_api = match &options.baseline {
        Some(rev) => Some(baseline::build(sh, &out, rev)?),
        None => None,
    };
    let release = crate::target_dir(sh).join("release");
    let issuer = start_issuer(&release, &out)?;
    let http = Http::new()?;
    let tokens = Tokens::mint(&http, issuer.url(), &out)?;
    let wrk = Wrk {
        seconds: options.seconds,
        connections: options.connections,
        threads: WRK_THREADS,
        dir: out.clone(),
    };
    let (measured, peaks) = measure_all(&wrk, &release, &issuer, &tokens)?;
    let https = https::measure(
        &wrk,
        &out,
        || api_command(&release.join("api"), issuer.url(), CACHE_CAPACITY),
        &tokens,
    )?;
    let comparison = match baseline_api {
        Some(built) => {
            let current = start_api(&release.join("api"), issuer.url(), CACHE_CAPACITY)?;
            let old = start_api(&built.api, issuer.url(), CACHE_CAPACITY)?;
            Some(baseline::compare(&wrk, &built, &current, &old, &tokens)?)
        }
        None => None,
    };
    drop(issuer);
    let report = Report {
        micro,
        http: measured,
        peaks,
        https,
        options: options.clone(),
        baseline: comparison,
    };
    report.write(&out)
}

/// Every scenario of [`scenarios`]: the api with its cache, then without, then the issuer's
/// token endpoint; with the api's peak memory each way.
fn measure_all(
    wrk: &Wrk,
    release: &Path,
    issuer: &Server,
    tokens: &Tokens,
) -> Result<(Vec<(Scenario, Measurement)>, Peaks)> {
    let mut measured = Vec::new();
    let api = release.join("api");
    let cached = start_api(&api, issuer.url(), CACHE_CAPACITY)?;
    for scenario in scenarios::cached(tokens) {
        measured.push(measure(wrk, &cached, scenario)?);
    }
    let cache_on = cached.peak_memory_kib()?;
    drop(cached);
    let uncached = start_api(&api, issuer.url(), 0)?;
    for scenario in scenarios::uncached(tokens) {
        measured.push(measure(wrk, &uncached, scenario)?);
    }
    let cache_off = uncached.peak_memory_kib()?;
    drop(uncached);
    for scenario in scenarios::issuer()? {
        measured.push(measure(wrk, issuer, scenario)?);
    }
    Ok((
        measured,
        Peaks {
            cache_on,
            cache_off,
        },
    ))
}

/// Runs `scenario` against `server` and says how fast it went.
fn measure(wrk: &Wrk, server: &Server, scenario: Scenario) -> Result<(Scenario, Measurement)> {
    let measurement = wrk.run(&target(server), &scenario)?;
    eprintln!(
        "bench: {}: {:.0} req/s",
        scenario.name, measurement.requests_per_second
    );
    Ok((scenario, measurement))
}

/// Where wrk sends requests for `server`, and whose CPU it reads.
fn target(server: &Server) -> Target {
    Target {
        url: server.url().trim_end_matches('/').to_owned(),
        pid: server.pid(),
    }
}

/// The release mock issuer with the bench tenant, on a port of the OS's choosing.
fn start_issuer(release: &Path, out: &Path) -> Result<Server> {
    let tenant = out.join("tenant.toml");
    std::fs::write(&tenant, tokens::tenant_toml())?;
    let mut command = Command::new(release.join("mock-issuer"));
    command
        .arg("--config")
        .arg(&tenant)
        .arg("--data-dir")
        .arg(out.join("mock-issuer"))
        .args(["serve", "--port", "0"])
        .env("RUST_LOG", "warn");
    Server::start("mock-issuer", command, Announce::Issuer)
}

/// The api binary at `binary` against the issuer, with the given token cache capacity.
fn start_api(binary: &Path, issuer: &str, cache_capacity: usize) -> Result<Server> {
    Server::start(
        "api",
        api_command(binary, issuer, cache_capacity),
        Announce::Api,
    )
}

/// The command that runs the api binary at `binary` against the issuer, with the given token
/// cache capacity, over plain HTTP. It runs outside the repository, so a developer's `.env`
/// cannot change what is measured.
fn api_command(binary: &Path, issuer: &str, cache_capacity: usize) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(process::outside_the_repository())
        .env("ISSUER_BASE_URL", issuer)
        .env("AUDIENCE", tokens::audiences())
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .env("TOKEN_CACHE_CAPACITY", cache_capacity.to_string());
    command
}
