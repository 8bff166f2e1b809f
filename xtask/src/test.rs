//! `cargo xtask test`: the gate CI runs: formatting, lints with warnings denied, every test,
//! then the supply-chain checks of `deny.toml`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use xshell::{Shell, cmd};

use crate::tools;

/// `cargo xtask test`'s options.
#[derive(Debug, Args)]
pub struct Options {
    /// Passed on to the test runner (cargo nextest run, else cargo test), e.g.
    /// `cargo xtask test -- -E 'test(verify)'`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub extra: Vec<String>,
}

/// cargo-deny's version, pinned so `deny.toml`'s format and the checks are the same on every
/// machine; `tools::ensure` installs it when missing or different.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// Set (to anything) to make an unreachable advisory database fail the run instead of being
/// reported and skipped.
const REQUIRE_ADVISORY_DB: &str = "REQUIRE_ADVISORY_DB";

/// Runs `cargo fmt --check`, `cargo clippy -D warnings`, installs Chromium for the browser tests
/// and `redis-server` for the replay store's when missing ([`tools::ensure_chromium`],
/// [`tools::ensure_redis`]), the whole workspace's tests, the
/// refusal-cost test again in release, then certifies the real `api` binary with the
/// conformance suite (`cargo xtask conformance`), runs `cargo xtask dev --once`, then
/// `cargo deny` (installed by [`tools::ensure`] when missing).
///
/// Tests run under cargo-nextest when it is installed (it is on CI), else `cargo test`.
/// Snapshots are never written here (`INSTA_UPDATE=no`): a changed answer fails the run.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    let extra = &options.extra;
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --locked -- -D warnings"
    )
    .run()?;
    // The browser tests (crate `e2e`) drive Debian's Chromium, and the DPoP replay store's tests
    // start real Redis servers; they fail, never skip, without them.
    tools::ensure_chromium(sh)?;
    tools::ensure_redis(sh)?;
    let _insta = sh.push_env("INSTA_UPDATE", "no");
    let _ci = sh.push_env("CI", "true");
    if cmd!(sh, "cargo nextest --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
    {
        cmd!(
            sh,
            "cargo nextest run --workspace --locked --no-fail-fast {extra...}"
        )
        .run()?;
        // nextest does not run doctests; they document the public API, so they must compile and pass.
        cmd!(sh, "cargo test --workspace --locked --doc").run()?;
    } else {
        cmd!(
            sh,
            "cargo test --workspace --locked --no-fail-fast {extra...}"
        )
        .run()?;
    }
    // What a refusal costs against a valid token means something only optimised (aws-lc is
    // optimised even in a debug build, our parsers are not), so that test runs once more here,
    // in release, where it is not ignored.
    cmd!(
        sh,
        "cargo test -p api --release --locked --test it refusal_cost -- --include-ignored"
    )
    .run()?;
    // The in-process suite ran above; this certifies the binary users actually run.
    crate::conformance::run(sh, &crate::conformance::Options::default())?;
    // The main command, as a new user runs it: mock tenant + api, tokens, the contract table.
    crate::dev::run(sh, &crate::dev::Options::once())?;
    supply_chain(sh)
}

/// `cargo deny check` with `deny.toml`: licences, duplicate versions and sources always (they
/// need only crates.io), advisories when the RustSec database can be had.
pub fn supply_chain(sh: &Shell) -> Result<()> {
    tools::ensure(sh, "deny", "cargo-deny", CARGO_DENY_VERSION)?;
    cmd!(sh, "cargo deny --locked check bans licenses sources").run()?;
    advisories(sh)
}

/// The advisory check. The database lives on GitHub, which some machines (this project's CI
/// among them) cannot reach: then a copy fetched earlier is used, and with none the check is
/// skipped with a notice that cannot be missed, rather than failing every run for a reason
/// no commit can fix. `REQUIRE_ADVISORY_DB` turns the skip into a failure.
fn advisories(sh: &Shell) -> Result<()> {
    // A firewall that drops packets can make git wait minutes before failing.
    let mut fetch = std::process::Command::new("cargo");
    fetch
        .args(["deny", "fetch", "db"])
        .current_dir(sh.current_dir());
    let fetched = tools::run_with_timeout(fetch, Duration::from_secs(120))?
        .is_some_and(|status| status.success());
    if fetched {
        cmd!(sh, "cargo deny --locked check advisories").run()?;
        return Ok(());
    }
    if let Some(copy) = cached_advisory_db() {
        eprintln!(
            "xtask: WARNING: the advisory database could not be fetched; checking against the copy in {} (advisories published since it was fetched are missed)",
            copy.display()
        );
        cmd!(sh, "cargo deny --locked --offline check advisories").run()?;
        return Ok(());
    }
    let notice = "ADVISORIES NOT CHECKED: the RustSec advisory database (github.com/RustSec/advisory-db) is unreachable from this machine and no earlier copy exists; licences, bans and sources were checked";
    if std::env::var_os(REQUIRE_ADVISORY_DB).is_some() {
        bail!("{notice} ({REQUIRE_ADVISORY_DB} is set)");
    }
    eprintln!("\nxtask: ********************************************************************");
    eprintln!("xtask: {notice}.");
    eprintln!("xtask: Run `cargo deny check advisories` where GitHub is reachable.");
    eprintln!("xtask: ********************************************************************\n");
    Ok(())
}

/// A RustSec database cargo-deny fetched before: `$CARGO_HOME/advisory-dbs/advisory-db-*`,
/// with the `crates` folder a complete clone has.
fn cached_advisory_db() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    std::fs::read_dir(cargo_home.join("advisory-dbs"))
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("advisory-db"))
                && path.join("crates").is_dir()
        })
}
