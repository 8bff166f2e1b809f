//! The tools the tasks need, installed by the repo itself when missing (cargo subcommands from
//! crates.io, `wrk` from Debian), so a fresh clone on a fresh machine runs every task without a
//! manual setup step.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// Makes sure `cargo <subcommand>` works, installing `package` at `version` with
/// `cargo install --locked` (from source on crates.io: the only registry CI reaches, and
/// prebuilt binaries cannot be downloaded) when it does not. The version is pinned so CI
/// and every developer run the same tool against the same configuration format.
pub fn ensure(sh: &Shell, subcommand: &str, package: &str, version: &str) -> Result<()> {
    let installed = cmd!(sh, "cargo {subcommand} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .ok();
    if installed
        .as_deref()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some(version))
    {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {package} {version} from crates.io (a one-off build, several minutes)"
    );
    let started = Instant::now();
    cmd!(sh, "cargo install {package} --version {version} --locked")
        .run()
        .with_context(|| format!("installing {package} {version}"))?;
    eprintln!(
        "xtask: {package} installed in {}s",
        started.elapsed().as_secs()
    );
    Ok(())
}

/// Installs Debian's `wrk` when it is not on the `PATH` (the machines run as root).
pub fn ensure_wrk(sh: &Shell) -> Result<()> {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("wrk").is_file()));
    if on_path {
        return Ok(());
    }
    eprintln!("xtask: installing wrk");
    if cmd!(sh, "apt-get install -y wrk").run().is_err() {
        cmd!(sh, "apt-get update").run()?;
        cmd!(sh, "apt-get install -y wrk").run()?;
    }
    Ok(())
}

/// Runs `command` to completion, or kills it after `limit`: `None` then. For steps that reach
/// the network, where an unreachable host may hang rather than fail.
pub fn run_with_timeout(mut command: Command, limit: Duration) -> Result<Option<ExitStatus>> {
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {command:?}"))?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
