//! `cargo xtask fuzz [--seconds N] [TARGET…]`: builds and runs the libFuzzer targets in
//! `fuzz/`, seeded from the conformance catalogue, and reports executions and findings.
//!
//! cargo-fuzz is installed by the repo when missing. libFuzzer's instrumentation needs nightly
//! compiler flags: the nightly toolchain is used when rustup has one, else the stable compiler
//! is told to accept them (`RUSTC_BOOTSTRAP=1`), so the task runs on a machine with stable only.
//! `cargo xtask test` never builds the fuzz workspace.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::tools;

/// cargo-fuzz's version, pinned like every tool the repo installs.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Every target in `fuzz/fuzz_targets`.
const TARGETS: [&str; 5] = ["verify_jws", "request", "jwks", "metadata", "claims"];

/// Runs each chosen target for `--seconds` (default 60) and fails if any found a crash.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let (seconds, chosen) = parse(args)?;
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

    let mut rows = Vec::new();
    for target in &chosen {
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
        let runs = stat(&log, "stat::number_of_executed_units:").unwrap_or(0);
        let crashes = count_files(&sh.current_dir().join("fuzz/artifacts").join(target));
        let corpus = count_files(&sh.current_dir().join("fuzz/corpus").join(target));
        if !output.status.success() {
            // libFuzzer's own report of the crash: keep it visible.
            eprintln!(
                "{}",
                log.lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        rows.push((
            target.to_string(),
            runs,
            corpus,
            crashes,
            output.status.success(),
        ));
    }

    println!(
        "\n{:<12} {:>14} {:>10} {:>10} {:>8}",
        "target", "executions", "exec/s", "corpus", "crashes"
    );
    for (target, runs, corpus, crashes, _) in &rows {
        println!(
            "{target:<12} {runs:>14} {:>10} {corpus:>10} {crashes:>8}",
            runs / seconds.max(1)
        );
    }
    let failed = rows
        .iter()
        .filter(|(_, _, _, crashes, ok)| *crashes > 0 || !ok)
        .count();
    println!("{} passed, {failed} failed", rows.len() - failed);
    if failed > 0 {
        bail!("fuzzing found crashes: see fuzz/artifacts/ (each becomes a regression test)");
    }
    Ok(())
}

fn parse(args: &[String]) -> Result<(u64, Vec<String>)> {
    let mut seconds = 60;
    let mut chosen = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = iter.next().context("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds: `{value}` is not a number"))?;
            }
            target if TARGETS.contains(&target) => chosen.push(target.to_owned()),
            other => bail!(
                "unknown option or target `{other}`; targets: {}",
                TARGETS.join(", ")
            ),
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.iter().map(|target| (*target).to_owned()).collect();
    }
    Ok((seconds, chosen))
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

    #[test]
    fn arguments_choose_seconds_and_targets() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&[])).expect("ok").1.len(), TARGETS.len());
        assert_eq!(
            parse(&args(&["--seconds", "5", "jwks"])).expect("ok"),
            (5, vec!["jwks".to_owned()])
        );
        assert!(parse(&args(&["nope"])).is_err());
    }
}
