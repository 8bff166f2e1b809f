//! `cargo xtask bench --baseline REV`: the api as it was at a git revision, measured against
//! this one in the same run, so a change's effect on throughput is one ratio.
//!
//! The api at REV is built in a git worktree under `target/bench/baseline/src`, with its own
//! target directory (`target/bench/baseline/target`) so the main build is left alone; both are
//! reused when REV comes back (cargo rebuilds nothing then). The two apis run side by side
//! against the same mock issuer and take turns under wrk in short rounds ([`alternate`]), each
//! side's figure the median of its rounds. Requests per second move with whatever else the
//! machine runs; the server's CPU time per request moves far less, so both are reported.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use conformance::load::wrk::Wrk;
use serde::Serialize;
use xshell::{Shell, cmd};

use super::alternate;
use super::report::round;
use super::scenarios;
use super::tokens::Tokens;
use crate::process::Server;

/// Rounds per scenario; each round measures both apis once.
const ROUNDS: usize = 5;

/// The api built at a revision.
pub struct Built {
    /// The revision as given, e.g. `HEAD~1` or `main`.
    rev: String,
    /// The commit it named when the run began.
    commit: String,
    /// Its release `api` binary.
    pub api: PathBuf,
}

/// Builds the api at `rev` (reusing the worktree and its build when they exist).
pub fn build(sh: &Shell, out: &Path, rev: &str) -> Result<Built> {
    let spec = format!("{rev}^{{commit}}");
    let commit = cmd!(sh, "git rev-parse --verify {spec}")
        .read()
        .with_context(|| format!("`{rev}` is not a commit of this repository"))?;
    let dir = out.join("baseline");
    let worktree = dir.join("src");
    check_out(sh, &worktree, &commit)?;
    eprintln!(
        "bench: building the api at {rev} ({commit}) in {}",
        worktree.display()
    );
    let _cwd = sh.push_dir(&worktree);
    let _target = sh.push_env("CARGO_TARGET_DIR", dir.join("target"));
    cmd!(sh, "cargo build --release --locked -p api --bin api").run()?;
    Ok(Built {
        rev: rev.to_owned(),
        commit,
        api: dir.join("target/release/api"),
    })
}

/// A detached worktree at `commit` in `worktree`: made once, then moved between commits.
fn check_out(sh: &Shell, worktree: &Path, commit: &str) -> Result<()> {
    if worktree.join(".git").exists() {
        let head = cmd!(sh, "git -C {worktree} rev-parse HEAD").read()?;
        if head != commit {
            cmd!(sh, "git -C {worktree} checkout --quiet --detach {commit}").run()?;
        }
        return Ok(());
    }
    // --force: a worktree whose directory was deleted (by `cargo clean`) is still registered.
    cmd!(sh, "git worktree add --force --detach {worktree} {commit}").run()?;
    Ok(())
}

/// Both apis' figures for each of [`scenarios::BASELINE`], from `--baseline`.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub rev: String,
    pub commit: String,
    pub rounds: usize,
    /// Seconds each round measures each api.
    pub seconds: u64,
    pub scenarios: Vec<Versus>,
}

/// One scenario on both apis: medians of the rounds, and current over baseline (above 1 is
/// faster for req/s, dearer for CPU).
#[derive(Debug, Serialize)]
pub struct Versus {
    pub scenario: &'static str,
    pub baseline_requests_per_second: f64,
    pub current_requests_per_second: f64,
    pub ratio: f64,
    /// The server's CPU time per request, in microseconds.
    pub baseline_cpu_us_per_request: f64,
    pub current_cpu_us_per_request: f64,
    pub cpu_ratio: f64,
}

/// Measures [`scenarios::BASELINE`] on `current` and `baseline` in alternating rounds.
pub fn compare(
    wrk: &Wrk,
    built: &Built,
    current: &Server,
    baseline: &Server,
    tokens: &Tokens,
) -> Result<Comparison> {
    let chosen = scenarios::cached(tokens)
        .into_iter()
        .filter(|scenario| scenarios::BASELINE.contains(&scenario.name));
    let mut versus = Vec::new();
    for scenario in chosen {
        let [old, new] = alternate::rounds(wrk, &scenario, ROUNDS, [baseline, current])?;
        eprintln!(
            "bench: {} against {}: {:.0} req/s, was {:.0}; {:.1} CPU µs/req, was {:.1}",
            scenario.name,
            built.rev,
            new.requests_per_second,
            old.requests_per_second,
            new.cpu_us_per_request,
            old.cpu_us_per_request
        );
        versus.push(Versus {
            scenario: scenario.name,
            baseline_requests_per_second: round(old.requests_per_second, 1),
            current_requests_per_second: round(new.requests_per_second, 1),
            ratio: round(new.requests_per_second / old.requests_per_second, 4),
            baseline_cpu_us_per_request: round(old.cpu_us_per_request, 2),
            current_cpu_us_per_request: round(new.cpu_us_per_request, 2),
            cpu_ratio: round(new.cpu_us_per_request / old.cpu_us_per_request, 4),
        });
    }
    Ok(Comparison {
        rev: built.rev.clone(),
        commit: built.commit.clone(),
        rounds: ROUNDS,
        seconds: wrk.seconds,
        scenarios: versus,
    })
}
