//! `cargo xtask`: the project's automation, one module per task, each shelling out through xshell.

mod bench;
mod conformance;
mod dev;
mod fuzz;
mod soak;
mod test;
mod tools;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use xshell::Shell;

/// The tasks, with the one-line help that `cargo xtask` prints.
const TASKS: &[(&str, &str)] = &[
    (
        "dev",
        "[--once] [--api-port N] [--issuer-port N]: run api + mock issuer, check every route, serve",
    ),
    (
        "test",
        "fmt --check, clippy -D warnings, every test of the workspace, cargo deny (what CI runs)",
    ),
    (
        "deny",
        "the supply-chain checks alone: cargo deny with deny.toml (installs cargo-deny if missing)",
    ),
    (
        "conformance",
        "[--target URL [--issuer-port N] [--strict]]: certify a running server, or our api binary",
    ),
    (
        "bench",
        "[--seconds N] [--skip-micro]: criterion + wrk on loopback; table and target/bench/results.json",
    ),
    (
        "fuzz",
        "[--seconds N] [TARGET...]: run the libFuzzer targets, seeded from the conformance catalogue",
    ),
    (
        "soak",
        "[--seconds N]: load the release api while its mock issuer fails and rotates; PASS/FAIL checks",
    ),
];

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(task) = args.next() else {
        print_help();
        return Ok(());
    };
    let rest: Vec<String> = args.collect();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match task.as_str() {
        "dev" => dev::run(&sh, &rest),
        "fuzz" => fuzz::run(&sh, &rest),
        "soak" => soak::run(&sh, &rest),
        "test" => test::run(&sh, &rest),
        "bench" => bench::run(&sh, &rest),
        "deny" => test::supply_chain(&sh),
        "conformance" => conformance::run(&sh, &rest),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => {
            print_help();
            bail!("unknown task `{other}`")
        }
    }
}

fn print_help() {
    println!("Usage: cargo xtask <task> [options]\n\nTasks:");
    for (name, help) in TASKS {
        println!("  {name:<12} {help}");
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
