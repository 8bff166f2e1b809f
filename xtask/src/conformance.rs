//! `cargo xtask conformance --target URL [--issuer-port N] [--strict]`: runs the conformance
//! suite against a running server (see the conformance crate's binary for the options).

use anyhow::Result;
use xshell::{Shell, cmd};

/// Builds and runs the `conformance` binary with the given arguments.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    cmd!(
        sh,
        "cargo run --quiet --package conformance --bin conformance -- {args...}"
    )
    .run()?;
    Ok(())
}
