//! The tools the tasks need, installed by the repo itself when missing (cargo subcommands from
//! crates.io; `wrk`, Chromium, chromedriver and `redis-server` from Debian), so a fresh clone on
//! a fresh machine runs every task without a manual setup step.

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
    if on_path("wrk") {
        return Ok(());
    }
    eprintln!("xtask: installing wrk");
    apt_install(sh, &["wrk"])
}

/// Installs Debian's `redis-server` when it is not on the `PATH`, for the DPoP replay store's
/// tests: they start their own servers on free ports and fail, never skip, without it.
pub fn ensure_redis(sh: &Shell) -> Result<()> {
    if on_path("redis-server") {
        return Ok(());
    }
    eprintln!("xtask: installing redis-server for the DPoP replay store's tests");
    apt_install(sh, &["redis-server"])
}

/// Whether an executable file named `binary` is in a directory of the `PATH`.
fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()))
}

/// Where Debian's `chromium` and `chromium-driver` packages put the browser tests' binaries (the
/// e2e harness looks there too, unless `CHROMIUM` / `CHROMEDRIVER` say otherwise).
const CHROMIUM_BINARIES: [(&str, &str); 2] = [
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
];

/// Installs Debian's `chromium` and `chromium-driver` when `/usr/bin/chromium` or
/// `/usr/bin/chromedriver` is missing, for the browser tests (the machines run as root).
pub fn ensure_chromium(sh: &Shell) -> Result<()> {
    let missing: Vec<&str> = CHROMIUM_BINARIES
        .iter()
        .filter(|(binary, _)| !std::path::Path::new(binary).is_file())
        .map(|&(_, package)| package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {} for the browser tests",
        missing.join(" and ")
    );
    apt_install(sh, &missing)
}

/// `apt-get install -y packages`, refreshing the package lists first only when that fails (a
/// fresh container has none).
fn apt_install(sh: &Shell, packages: &[&str]) -> Result<()> {
    if cmd!(sh, "apt-get install -y {packages...}").run().is_err() {
        cmd!(sh, "apt-get update").run()?;
        cmd!(sh, "apt-get install -y {packages...}").run()?;
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
