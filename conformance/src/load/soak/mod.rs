//! The soak: steady, bounded load on a running api, bearer and DPoP, while a fault script
//! cycles its mock issuer through outages, slowness, garbage, empty key sets and key rotations
//! and kills the api's DPoP replay store (Redis) once; then a table per phase and PASS/FAIL per
//! check. `cargo xtask soak` builds the release binaries, starts both servers on loopback and
//! runs the `soak` binary, which parses [`Options`] and calls [`run`]; the driver itself runs
//! the replay store's `redis-server`, so that it can kill and restart it.
//!
//! It is a load tool of the conformance library because it is the same kind of program: a
//! black-box client that talks to servers only over HTTP (plus `/proc/PID/status` for the
//! api's memory), driving the mock issuer through its typed admin client, with the async HTTP
//! client and runtime a load driver needs, which the xtask deliberately does not have.
//!
//! - `traffic`: the request mix, the tokens it carries and the paced workers that send it.
//! - `dpop`: the DPoP side of the mix: the run's key, bound tokens, proofs, replays, and what
//!   a DPoP answer says beyond its status.
//! - `redis`: the replay store's `redis-server`, started, killed and restarted.
//! - `monitors`: what is watched beside the load: the `/api/public` probe, the fresh-connection
//!   probe, the api's memory and the two controls that tell a stalled machine from a stalled
//!   api.
//! - `keys`: the signing keys the run has seen, the rule that decides which valid requests
//!   are judged, the tokens of the issuer's current key, and the timing of a key change.
//! - `script`: the issuer's fault phases, the key-rotation protocol, the phase in which an
//!   attacker holds every connection slot and the one in which the replay store is down.
//! - `attacker`: that attacker: `MAX_CONNECTIONS` connections held by slow-loris heads,
//!   dawdling HTTP/1.1 keep-alive and idle HTTP/2, re-opened whenever the server closes them.
//! - `report`: per-phase figures, the checks, the table and the JSON summary.

mod attacker;
mod dpop;
mod keys;
mod monitors;
mod redis;
mod report;
mod script;
mod traffic;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use mock_issuer::client::IssuerClient;

use self::dpop::DpopClient;
use self::monitors::Monitors;
use self::redis::ReplayStoreServer;
use self::report::Report;
use self::script::Plan;
use self::traffic::{Load, Pace};

/// A soak's parameters, as the `soak` binary's flags (see the module documentation).
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The api's base URL, e.g. http://127.0.0.1:3010 (loopback only).
    #[arg(long)]
    pub api: String,
    /// The mock issuer's base URL, e.g. http://127.0.0.1:4000/ (loopback only).
    #[arg(long)]
    pub issuer: String,
    /// The api's process id, whose VmRSS is sampled from /proc.
    #[arg(long)]
    pub api_pid: u32,
    /// The loopback port of the api's DPoP replay store (its `DPOP_REPLAY_STORE` is
    /// `redis://127.0.0.1:PORT`): the driver runs `redis-server` there, kills it and restarts
    /// it.
    #[arg(long)]
    pub redis_port: u16,
    /// Length of the run in seconds; at least 140, so every phase of the script runs once for
    /// longer than the cache's max age plus the cooldown. Default: 180.
    #[arg(long, default_value_t = 180)]
    pub seconds: u64,
    /// The api's `JWKS_COOLDOWN`, in seconds. Default: 2 (what `cargo xtask soak` sets).
    #[arg(long, default_value_t = 2)]
    pub cooldown: u64,
    /// The api's `JWKS_CACHE_MAX_AGE`, in seconds. Default: 5.
    #[arg(long, default_value_t = 5)]
    pub cache_max_age: u64,
    /// The api's `HTTP_TIMEOUT`, in seconds. Default: 1.
    #[arg(long, default_value_t = 1)]
    pub http_timeout: u64,
    /// The api's `MAX_CONNECTIONS`: how many connections the attacker phase holds, on top of
    /// the load's own. Default: 128 (what `cargo xtask soak` sets).
    #[arg(long, default_value_t = 128)]
    pub max_connections: usize,
    /// Load workers: each starts a request every `workers / rate` seconds without waiting for
    /// earlier answers (at most 128 in flight in all). Default: 6.
    #[arg(long, default_value_t = 6)]
    pub workers: usize,
    /// Total requests per second of the load (the probe comes on top). Default: 240.
    #[arg(long, default_value_t = 240)]
    pub rate: u64,
    /// Where the JSON summary goes; `redis.log` goes beside it. Default:
    /// target/soak/summary.json.
    #[arg(long, default_value = "target/soak/summary.json")]
    pub out: PathBuf,
}

/// The api's settings the checks reason with; they must be what the api was given.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `JWKS_COOLDOWN`: the least time between two JWKS fetches an unknown `kid` may cause.
    pub cooldown: Duration,
    /// `JWKS_CACHE_MAX_AGE`: after this, a request starts a background refresh.
    pub cache_max_age: Duration,
    /// `HTTP_TIMEOUT`: how long one JWKS fetch may take before the api gives up on it.
    pub http_timeout: Duration,
    /// `MAX_CONNECTIONS`: the connections the api serves at once, which the attacker holds.
    pub max_connections: usize,
}

impl Options {
    /// The api's settings: each duration at least a second, at least one connection.
    fn settings(&self) -> Settings {
        let seconds = |value: u64| Duration::from_secs(value.max(1));
        Settings {
            cooldown: seconds(self.cooldown),
            cache_max_age: seconds(self.cache_max_age),
            http_timeout: seconds(self.http_timeout),
            max_connections: self.max_connections.max(1),
        }
    }

    /// Refuses any target but this machine: the driver floods whatever it is pointed at.
    fn ensure_loopback(&self) -> Result<()> {
        for url in [&self.api, &self.issuer] {
            anyhow::ensure!(
                url.starts_with("http://127.0.0.1:"),
                "{url}: the soak only talks to http://127.0.0.1"
            );
        }
        Ok(())
    }
}

/// Runs the soak and prints its table; `Ok(true)` when every check passed. The JSON summary
/// goes to [`Options::out`].
///
/// # Errors
/// A target that is not on loopback, a run shorter than the script, a `redis-server` that
/// cannot start, an issuer whose admin surface fails, an api that never accepts a fresh token
/// or a DPoP request, or a summary that cannot be written.
pub async fn run(options: &Options) -> Result<bool> {
    options.ensure_loopback()?;
    let settings = options.settings();
    let plan = Plan::new(Duration::from_secs(options.seconds))?;
    let api = options.api.trim_end_matches('/').to_owned();
    let issuer = IssuerClient::new(&options.issuer)?;
    let redis_log = options.out.with_file_name("redis.log");
    if let Some(dir) = redis_log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&redis_log);
    let mut store = ReplayStoreServer::start(options.redis_port, &redis_log).await?;
    println!(
        "soak: {} phases of {:.1} s against {api} (issuer {}), {} req/s over {} workers",
        plan.phases,
        plan.phase_length.as_secs_f64(),
        issuer.base(),
        options.rate,
        options.workers
    );
    // Warm-up: the api learns the first key before the load starts, so the valid stream has a
    // key that is known to be cached from its first request on.
    let dpop = DpopClient::new(&issuer)?;
    let (shared, mut keys) = script::warm_up(&issuer, &api, dpop, Instant::now()).await?;
    let shared = Arc::new(shared);
    let deadline = Instant::now() + plan.total();
    let pace = Pace::new(options.workers, options.rate, plan.total(), deadline);
    let load = Load::start(&shared, &api, pace)?;
    let monitors = Monitors::start(&shared, &api, &issuer, options.api_pid, deadline);
    let servers = script::Servers {
        issuer: &issuer,
        api: &api,
        store: &mut store,
    };
    let script = script::run(&plan, servers, &shared, &mut keys, settings, deadline).await;
    let records = load.finish().await?;
    let observed = monitors.finish().await?;
    // Whatever the script did, leave the issuer healthy.
    let _ = issuer.clear_faults().await;
    let report = Report::build(&plan, settings, &records, &script?, &keys, &observed);
    print!("{}", report.table());
    write_summary(&report, &options.out)?;
    Ok(report.passed())
}

/// Writes the report's JSON summary to `path`, creating its directory.
fn write_summary(report: &Report, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&report.summary())?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    println!("summary: {}", path.display());
    Ok(())
}
