//! `conformance --target URL`: certifies a running server against the contract, with a mock
//! Auth0 tenant playing the issuer.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use conformance::catalogue::catalogue;
use conformance::forge::Forge;
use conformance::runner;
use mock_issuer::{IssuerConfig, MockIssuer};

/// Runs the conformance catalogue against a server that speaks the quickstart's contract.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server's base URL, e.g. http://127.0.0.1:3010.
    #[arg(long, required_unless_present = "write_corpus")]
    target: Option<String>,
    /// Instead of testing a server, write every catalogue token (and the issuer's documents)
    /// into DIR/<fuzz target>/ as seeds for `cargo xtask fuzz`.
    #[arg(long, value_name = "DIR")]
    write_corpus: Option<std::path::PathBuf>,
    /// The port of the mock issuer the target must trust (`http://127.0.0.1:PORT/`).
    #[arg(long, default_value_t = 4000)]
    issuer_port: u16,
    /// Fail on any failed case, not only on reference-contract cases (nor only on DPoP cases
    /// of a target that advertises DPoP).
    #[arg(long)]
    strict: bool,
    /// How long to wait for the target to answer `GET /api/public`, in seconds.
    #[arg(long, default_value_t = 60)]
    wait: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = IssuerConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.issuer_port)),
        ..conformance::tenant()
    };
    let issuer = match MockIssuer::start(config).await {
        Ok(issuer) => issuer,
        Err(error) => {
            eprintln!(
                "error: cannot start the mock issuer on port {}: {error}",
                args.issuer_port
            );
            return ExitCode::from(2);
        }
    };
    let foreign = match MockIssuer::start(IssuerConfig::default()).await {
        Ok(foreign) => foreign,
        Err(error) => {
            eprintln!("error: cannot start the foreign issuer: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.write_corpus {
        let forge = Forge::new(&issuer, &foreign);
        return match conformance::corpus::write(dir, &issuer, &forge, &catalogue()).await {
            Ok(count) => {
                println!("wrote {count} seed files under {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: writing the corpus: {error}");
                ExitCode::from(2)
            }
        };
    }
    let Some(target) = args.target.as_deref() else {
        eprintln!("error: --target is required");
        return ExitCode::from(2);
    };
    println!("Start the server under test with:");
    println!("  ISSUER_BASE_URL={}", issuer.url());
    println!("  AUDIENCE={}", conformance::AUDIENCE);
    println!("Waiting for {}/api/public …", target.trim_end_matches('/'));
    if !wait_for(target, Duration::from_secs(args.wait)).await {
        eprintln!(
            "error: {target} did not answer GET /api/public with 200 within {} s",
            args.wait
        );
        return ExitCode::from(2);
    }
    let forge = Forge::new(&issuer, &foreign);
    let report = runner::run(target, &forge, &catalogue()).await;
    print!("{}", report.table());
    if report.is_failure(args.strict) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Polls `GET /api/public` until it answers 200 or `limit` passes.
async fn wait_for(target: &str, limit: Duration) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client builds");
    let url = format!("{}/api/public", target.trim_end_matches('/'));
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(&url).send().await
            && response.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
