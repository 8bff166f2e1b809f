//! `cargo xtask`: the project's automation, one module per task. The command line is declared
//! once, in [`Cli`]: its doc comments are what `cargo xtask --help` and
//! `cargo xtask <task> --help` print.
//!
//! - [`process`]: the one guard for the servers a task starts (announce line, pid, exit, /proc).
//! - [`http`]: the one HTTP client (reqwest on a current-thread runtime), for tokens and calls.
//! - One module per task: [`dev`], [`test`], [`conformance`], [`bench`], [`fuzz`], [`soak`];
//!   [`tools`] installs the cargo subcommands they need.

mod bench;
mod conformance;
mod dev;
mod fuzz;
mod http;
mod process;
mod soak;
mod test;
mod tools;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{CommandFactory as _, Parser, Subcommand};
use xshell::Shell;

/// The project's automation: `cargo xtask <task> [options]`.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Option<Task>,
}

/// The tasks. Each variant's doc comment is its line in `cargo xtask --help`.
#[derive(Debug, Subcommand)]
enum Task {
    /// Run a mock tenant, the api and the demo app; check every route and page; then serve.
    Dev(dev::Options),
    /// The CI gate: fmt --check, clippy -D warnings, every test, conformance, dev --once, cargo deny.
    Test(test::Options),
    /// The supply-chain checks alone: cargo deny with deny.toml (installs cargo-deny if missing).
    Deny,
    /// Certify a running server against the contract, or this project's api binary.
    Conformance(conformance::Options),
    /// Criterion micro-benchmarks, then the release binaries under wrk; a table and
    /// target/bench/results.json.
    Bench(bench::Options),
    /// Run the libFuzzer targets, seeded from the conformance catalogue.
    Fuzz(fuzz::Options),
    /// Load the release api while its mock issuer fails and rotates keys; PASS/FAIL checks.
    Soak(soak::Options),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let Some(task) = cli.task else {
        // No task is a question, not a mistake: the list of tasks, exit status 0.
        Cli::command().print_help()?;
        return Ok(());
    };
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match task {
        Task::Dev(options) => dev::run(&sh, &options),
        Task::Test(options) => test::run(&sh, &options),
        Task::Deny => test::supply_chain(&sh),
        Task::Conformance(options) => conformance::run(&sh, &options),
        Task::Bench(options) => bench::run(&sh, &options),
        Task::Fuzz(options) => fuzz::run(&sh, &options),
        Task::Soak(options) => soak::run(&sh, &options),
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
fn target_dir(sh: &Shell) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| sh.current_dir().join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn the_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_task_is_allowed_and_an_unknown_one_is_not() {
        assert!(parse(&[]).expect("parses").task.is_none());
        assert!(parse(&["deploy"]).is_err());
    }

    #[test]
    fn test_passes_its_extra_arguments_through() {
        let cli = parse(&["test", "--", "-E", "test(verify)", "--retries", "2"]).expect("parses");
        let Some(Task::Test(options)) = cli.task else {
            panic!("not the test task: {cli:?}");
        };
        assert_eq!(options.extra, ["-E", "test(verify)", "--retries", "2"]);
        let Some(Task::Test(bare)) = parse(&["test", "--no-capture"]).expect("parses").task else {
            panic!("not the test task");
        };
        assert_eq!(bare.extra, ["--no-capture"]);
    }

    #[test]
    fn fuzz_takes_seconds_and_known_targets_only() {
        let cli = parse(&["fuzz", "--seconds", "5", "jwks"]).expect("parses");
        let Some(Task::Fuzz(options)) = cli.task else {
            panic!("not the fuzz task: {cli:?}");
        };
        assert_eq!(options.seconds, 5);
        assert_eq!(options.targets(), ["jwks"]);
        assert!(parse(&["fuzz", "nope"]).is_err());
    }

    #[test]
    fn soak_seconds_default_to_three_minutes() {
        let seconds = |args: &[&str]| match parse(args).expect("parses").task {
            Some(Task::Soak(options)) => options.seconds,
            other => panic!("not the soak task: {other:?}"),
        };
        assert_eq!(seconds(&["soak"]), 180);
        assert_eq!(seconds(&["soak", "--seconds", "300"]), 300);
        assert!(parse(&["soak", "--minutes", "3"]).is_err());
    }

    #[test]
    fn bench_has_its_defaults_and_a_baseline() {
        let Some(Task::Bench(plain)) = parse(&["bench"]).expect("parses").task else {
            panic!("not the bench task");
        };
        assert_eq!((plain.seconds, plain.connections), (10, 32));
        assert!(!plain.skip_micro && plain.baseline.is_none());
        let Some(Task::Bench(ab)) = parse(&["bench", "--baseline", "HEAD~1", "--skip-micro"])
            .expect("parses")
            .task
        else {
            panic!("not the bench task");
        };
        assert_eq!(ab.baseline.as_deref(), Some("HEAD~1"));
        assert!(ab.skip_micro);
        assert!(parse(&["bench", "--seconds", "0"]).is_err());
    }

    #[test]
    fn conformance_takes_a_target_and_its_issuer_port() {
        let cli = parse(&[
            "conformance",
            "--target",
            "http://127.0.0.1:3010",
            "--issuer-port",
            "4001",
            "--strict",
        ])
        .expect("parses");
        let Some(Task::Conformance(options)) = cli.task else {
            panic!("not the conformance task: {cli:?}");
        };
        assert_eq!(options.target.as_deref(), Some("http://127.0.0.1:3010"));
        assert_eq!(options.issuer_port, Some(4001));
        assert!(options.strict);
    }
}
