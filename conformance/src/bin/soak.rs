//! `soak`: the soak driver's command line. `cargo xtask soak` starts the api and the mock
//! issuer and runs this; everything it does is [`conformance::load::soak`]'s.
//!
//! Exits 0 when every check passed, 1 when one failed, 2 when the soak could not run.

use std::process::ExitCode;

use clap::Parser;
use conformance::load::soak::{self, Options};

/// Drives a soak against a running api and its mock issuer: steady load while a fault script
/// cycles the issuer, then a table per phase and PASS/FAIL per check.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    #[command(flatten)]
    options: Options,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match soak::run(&args.options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("soak: {error:#}");
            ExitCode::from(2)
        }
    }
}
