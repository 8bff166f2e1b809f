//! `soak`: steady, bounded load on a running api while a fault script cycles its mock issuer
//! through outages, slowness, garbage, empty key sets and key rotations; then a table per phase
//! and PASS/FAIL per check. `cargo xtask soak` builds the release binaries, starts both servers
//! on loopback and runs this with the api's settings.
//!
//! It lives in the conformance crate because it is the same kind of program: a black-box client
//! that talks to servers only over HTTP (plus `/proc/PID/status` for the api's memory), and the
//! crate already has the async HTTP client and runtime a load driver needs, which the xtask
//! deliberately does not. A `src/bin/` target needs no manifest change.
//!
//! - `load`: the traffic (request kinds, tokens, workers, the `/api/public` probe, memory) and
//!   the two controls that tell a stalled machine from a stalled api.
//! - `script`: the issuer's fault script and the key-rotation protocol.
//! - `report`: per-phase figures, the checks, the table and the JSON summary.

mod load;
mod report;
mod script;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

/// Drives a soak against a running api and its mock issuer (see the module documentation).
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The api's base URL, e.g. http://127.0.0.1:3010 (loopback only).
    #[arg(long)]
    api: String,
    /// The mock issuer's base URL, e.g. http://127.0.0.1:4000/ (loopback only).
    #[arg(long)]
    issuer: String,
    /// The api's process id, whose VmRSS is sampled from /proc.
    #[arg(long)]
    api_pid: u32,
    /// Length of the run in seconds; at least 120, so every phase of the script runs once for
    /// longer than the cache's max age plus the cooldown. Default: 180.
    #[arg(long, default_value_t = 180)]
    seconds: u64,
    /// The api's `JWKS_COOLDOWN`, in seconds. Default: 2 (what `cargo xtask soak` sets).
    #[arg(long, default_value_t = 2)]
    cooldown: u64,
    /// The api's `JWKS_CACHE_MAX_AGE`, in seconds. Default: 5.
    #[arg(long, default_value_t = 5)]
    cache_max_age: u64,
    /// The api's `HTTP_TIMEOUT`, in seconds. Default: 1.
    #[arg(long, default_value_t = 1)]
    http_timeout: u64,
    /// Load workers: each starts a request every `workers / rate` seconds without waiting for
    /// earlier answers (at most 128 in flight in all). Default: 6.
    #[arg(long, default_value_t = 6)]
    workers: usize,
    /// Total requests per second of the load (the probe comes on top). Default: 240.
    #[arg(long, default_value_t = 240)]
    rate: u64,
    /// Where the JSON summary goes. Default: target/soak/summary.json.
    #[arg(long, default_value = "target/soak/summary.json")]
    out: PathBuf,
}

/// The api's key-cache settings the checks reason with; they must be what the api was given.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `JWKS_COOLDOWN`: the least time between two JWKS fetches an unknown `kid` may cause.
    pub cooldown: Duration,
    /// `JWKS_CACHE_MAX_AGE`: after this, a request starts a background refresh.
    pub cache_max_age: Duration,
    /// `HTTP_TIMEOUT`: how long one JWKS fetch may take before the api gives up on it.
    pub http_timeout: Duration,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("soak: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    for url in [&args.api, &args.issuer] {
        // The driver floods whatever it is pointed at: never anything but this machine.
        anyhow::ensure!(
            url.starts_with("http://127.0.0.1:"),
            "{url}: the soak only talks to http://127.0.0.1"
        );
    }
    let settings = Settings {
        cooldown: Duration::from_secs(args.cooldown.max(1)),
        cache_max_age: Duration::from_secs(args.cache_max_age.max(1)),
        http_timeout: Duration::from_secs(args.http_timeout.max(1)),
    };
    let plan = script::Plan::new(Duration::from_secs(args.seconds))?;
    let api = args.api.trim_end_matches('/').to_owned();
    let issuer = script::Issuer::new(&args.issuer)?;

    println!(
        "soak: {} phases of {:.1} s against {api} (issuer {}), {} req/s over {} workers",
        plan.phases,
        plan.phase_length.as_secs_f64(),
        issuer.base(),
        args.rate,
        args.workers
    );
    let t0 = Instant::now();
    // Warm-up: the api learns the first key before the load starts, so the valid stream has a
    // key that is known to be cached from its first request on.
    let (shared, mut keys) = script::warm_up(&issuer, &api, t0).await?;
    let shared = Arc::new(shared);

    let deadline = Instant::now() + plan.total();
    let workers = args.workers.max(1);
    let per_worker = Duration::from_secs_f64(workers as f64 / args.rate.max(1) as f64);
    // Bounded in count as well as time: at most the planned number of requests, plus a tenth.
    let max_requests = (plan.total().as_secs_f64() / per_worker.as_secs_f64() * 1.1) as u64 + 1;
    let client = load::client(Duration::from_secs(5))?;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(load::MAX_IN_FLIGHT));
    let mut tasks = Vec::new();
    for id in 0..workers {
        tasks.push(tokio::spawn(load::worker(
            id,
            shared.clone(),
            client.clone(),
            api.clone(),
            per_worker,
            deadline,
            max_requests,
            in_flight.clone(),
        )));
    }
    let probe = tokio::spawn(load::probe(shared.clone(), api.clone(), deadline));
    let driver_stalls = tokio::spawn(load::watch_driver(shared.clone(), deadline));
    let issuer_stalls = tokio::spawn(load::watch_issuer(
        shared.clone(),
        issuer.base().to_owned(),
        deadline,
    ));
    let memory = tokio::spawn(load::sample_memory(shared.clone(), args.api_pid, deadline));

    let script = script::run(&plan, &issuer, &api, &shared, &mut keys, settings, deadline).await;

    let mut records = Vec::new();
    for task in tasks {
        records.extend(task.await?);
    }
    let probe = probe.await?;
    let memory = memory.await?;
    let mut stalls = driver_stalls.await?;
    stalls.extend(issuer_stalls.await?);
    // Whatever the script did, leave the issuer healthy.
    let _ = issuer.clear_faults().await;
    let script = script?;

    let report = report::Report::build(
        &plan, settings, &records, &script, &keys, &probe, &memory, &stalls,
    );
    print!("{}", report.table());
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report.json())?)?;
    println!("summary: {}", args.out.display());
    Ok(report.passed())
}
