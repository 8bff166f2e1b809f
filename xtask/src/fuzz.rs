//! `cargo xtask fuzz [--seconds N] [TARGET…]`: builds and runs the libFuzzer targets in
//! `fuzz/`, seeded from the conformance catalogue, and reports executions and findings.
//!
//! cargo-fuzz is installed by the repo when missing. libFuzzer's instrumentation needs nightly
//! compiler flags: the nightly toolchain is used when rustup has one, else the stable compiler
//! is told to accept them (`RUSTC_BOOTSTRAP=1`), so the task runs on a machine with stable only.
//! `cargo xtask test` never builds the fuzz workspace.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;
use xshell::{Shell, cmd};

use crate::tools;

/// cargo-fuzz's version, pinned like every tool the repo installs.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Every target in `fuzz/fuzz_targets`.
const TARGETS: [&str; 9] = [
    "verify_jws",
    "request",
    "jwks",
    "metadata",
    "claims",
    "host",
    "mock_login",
    "dpop_proof",
    "static_key",
];

/// `cargo xtask fuzz`'s options.
#[derive(Debug, Args)]
pub struct Options {
    /// How long each target runs, in seconds.
    #[arg(long, value_name = "N", default_value_t = 60)]
    pub seconds: u64,
    /// The targets to run. Default: all of them.
    #[arg(value_name = "TARGET", value_parser = TARGETS)]
    targets: Vec<String>,
}

impl Options {
    /// The chosen targets, or every target when none was named.
    pub fn targets(&self) -> Vec<&str> {
        if self.targets.is_empty() {
            TARGETS.to_vec()
        } else {
            self.targets.iter().map(String::as_str).collect()
        }
    }
}

/// Runs each chosen target for `--seconds` and fails if any found a crash.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    tools::ensure(sh, "fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    let nightly = cmd!(sh, "rustup run nightly rustc --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    println!("fuzz: seeding the corpora from the conformance catalogue");
    cmd!(
        sh,
        "cargo run --quiet --package conformance --bin conformance -- --write-corpus fuzz/corpus"
    )
    .run()?;
    let rows = options
        .targets()
        .into_iter()
        .map(|target| fuzz_target(sh, target, options.seconds, nightly))
        .collect::<Result<Vec<_>>>()?;
    print_rows(&rows, options.seconds);
    if rows.iter().any(|row| !row.passed()) {
        bail!("fuzzing found crashes: see fuzz/artifacts/ (each becomes a regression test)");
    }
    Ok(())
}

/// What one target's run did.
struct Row {
    target: String,
    executions: u64,
    corpus: usize,
    crashes: usize,
    exited_cleanly: bool,
}

impl Row {
    fn passed(&self) -> bool {
        self.crashes == 0 && self.exited_cleanly
    }
}

/// Runs `target` for `seconds`, with libFuzzer's final statistics on.
fn fuzz_target(sh: &Shell, target: &str, seconds: u64, nightly: bool) -> Result<Row> {
    println!("fuzz: {target} for {seconds} s");
    let mut command = Command::new("cargo");
    if nightly {
        command.arg("+nightly");
    } else {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    command
        .args([
            "fuzz",
            "run",
            target,
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ])
        .current_dir(sh.current_dir())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    let output = command
        .output()
        .with_context(|| format!("running fuzz target {target}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        // libFuzzer's own report of the crash: keep it visible.
        let lines: Vec<&str> = log.lines().collect();
        eprintln!("{}", lines[lines.len().saturating_sub(40)..].join("\n"));
    }
    Ok(Row {
        target: target.to_owned(),
        executions: stat(&log, "stat::number_of_executed_units:").unwrap_or(0),
        corpus: count_files(&sh.current_dir().join("fuzz/corpus").join(target)),
        crashes: count_files(&sh.current_dir().join("fuzz/artifacts").join(target)),
        exited_cleanly: output.status.success(),
    })
}

/// The table and the `N passed, M failed` line.
fn print_rows(rows: &[Row], seconds: u64) {
    println!(
        "\n{:<12} {:>14} {:>10} {:>10} {:>8}",
        "target", "executions", "exec/s", "corpus", "crashes"
    );
    for row in rows {
        println!(
            "{:<12} {:>14} {:>10} {:>10} {:>8}",
            row.target,
            row.executions,
            row.executions / seconds.max(1),
            row.corpus,
            row.crashes
        );
    }
    let failed = rows.iter().filter(|row| !row.passed()).count();
    println!("{} passed, {failed} failed", rows.len() - failed);
}

/// A `stat::…: N` line of libFuzzer's final statistics.
fn stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|value| value.trim().parse().ok())
}

fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_file())
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statistics_are_read_from_libfuzzers_log() {
        let log = "Done 1234 runs in 2 second(s)\nstat::number_of_executed_units: 1234\nstat::peak_rss_mb: 45\n";
        assert_eq!(stat(log, "stat::number_of_executed_units:"), Some(1234));
        assert_eq!(stat(log, "stat::slowest_unit_time_sec:"), None);
    }
}
