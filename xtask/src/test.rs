//! `cargo xtask test`: the gate CI runs: formatting, lints with warnings denied, every test.

use anyhow::Result;
use xshell::{Shell, cmd};

/// Runs `cargo fmt --check`, `cargo clippy -D warnings`, the whole workspace's tests, then
/// certifies the real `api` binary with the conformance suite (`cargo xtask conformance`).
///
/// Tests run under cargo-nextest when it is installed (it is on CI), else `cargo test`.
/// Snapshots are never written here (`INSTA_UPDATE=no`): a changed answer fails the run.
pub fn run(sh: &Shell, extra: &[String]) -> Result<()> {
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --locked -- -D warnings"
    )
    .run()?;
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
    // The in-process suite ran above; this certifies the binary users actually run.
    crate::conformance::run(sh, &[])?;
    Ok(())
}
