//! `cargo xtask soak [--seconds N]`: the soak under faults. Builds release binaries of the api,
//! the mock issuer and the `soak` driver (`conformance::load::soak`), starts both servers on
//! loopback ports of the OS's choosing with key-cache settings short enough for refreshes and
//! cooldowns to happen many times in minutes, the api's DPoP replay store in Redis on a free
//! port, and runs the driver: steady load, bearer and DPoP, on the three routes while a fault
//! script cycles the issuer through outages, slowness, garbage, empty key sets and rotations,
//! one phase in which an attacker holds every connection slot of the api (`MAX_CONNECTIONS` of
//! them, set small here) while new clients must still be served promptly, and one in which
//! Redis is killed and restarted. The driver runs `redis-server` itself (installed here when
//! missing, [`tools::ensure_redis`]), so that it can kill and restart it. It prints a table
//! per phase and PASS/FAIL per check, and writes `target/soak/summary.json`; the servers' logs
//! go to `target/soak/*.log`. CI does not run it.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use mock_issuer::config::defaults;
use xshell::{Shell, cmd};

use crate::process::{self, Announce, Server};
use crate::tools;

/// `cargo xtask soak`'s options.
#[derive(Debug, Args)]
pub struct Options {
    /// Length of the run in seconds; the driver refuses less than 140.
    #[arg(long, value_name = "N", default_value_t = 180)]
    pub seconds: u64,
}

/// The api's `JWKS_COOLDOWN`: short, so the unknown-kid flood meets the cooldown some ninety
/// times in three minutes and a rotated key's wait is measurable.
const COOLDOWN_S: u64 = 2;
/// The api's `JWKS_CACHE_MAX_AGE`: short, so background refreshes really happen during faults.
const CACHE_MAX_AGE_S: u64 = 5;
/// The api's `HTTP_TIMEOUT`: the slow phase answers a second later than this.
const HTTP_TIMEOUT_S: u64 = 1;
/// The api's `JWKS_STALE_MAX_AGE`: shorter than the default 24 h, yet longer than the script's
/// longest stretch without a successful JWKS fetch (five faulted phases of at most 20 s), so
/// a key once cached stays usable through every outage and the valid stream is judged.
const STALE_MAX_AGE: &str = "5m";
/// The api's `MAX_CONNECTIONS`, which the attacker phase holds on top of the load's own
/// connections: small, so holding every slot is cheap and far from the open-files limit, yet
/// above what the load holds by itself (the unknown-kid requests waiting on a slow JWKS keep a
/// few dozen in flight), so the cap bites only in the attacker phase.
const MAX_CONNECTIONS: usize = 128;
/// The api's `TOKEN_CACHE_CAPACITY` and `TOKEN_CACHE_MAX_TTL`: small, so the verified-token
/// cache is full and evicting within the warm-up (the driver mints fresh tokens every second)
/// and its growth does not blur the memory check.
const TOKEN_CACHE_CAPACITY: &str = "64";
const TOKEN_CACHE_MAX_TTL: &str = "30s";

/// Runs the soak; see the module documentation.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    cmd!(
        sh,
        "cargo build --release -p api -p mock-issuer -p conformance --bin api --bin mock-issuer --bin soak"
    )
    .run()?;
    tools::ensure_redis(sh)?;
    let target = crate::target_dir(sh);
    let release = target.join("release");
    let out = target.join("soak");
    sh.create_dir(&out)?;
    let mut issuer = start_mock(&release, &out)?;
    // The driver starts Redis there before its first DPoP request; the api connects lazily.
    let redis_port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut api = start_api(&release, &out, issuer.url(), redis_port)?;

    let status = Command::new(release.join("soak"))
        .args(["--api", api.url(), "--issuer", issuer.url()])
        .args(["--api-pid", &api.pid().to_string()])
        .args(["--redis-port", &redis_port.to_string()])
        .args(["--seconds", &options.seconds.to_string()])
        .args(["--cooldown", &COOLDOWN_S.to_string()])
        .args(["--cache-max-age", &CACHE_MAX_AGE_S.to_string()])
        .args(["--http-timeout", &HTTP_TIMEOUT_S.to_string()])
        .args(["--max-connections", &MAX_CONNECTIONS.to_string()])
        .arg("--out")
        .arg(out.join("summary.json"))
        .status()
        .context("running the soak driver")?;
    // A server that died during the run is a failure whatever the checks said.
    for server in [&mut api, &mut issuer] {
        if let Some(exit) = server.exited()? {
            bail!(
                "{} exited during the soak ({exit}; see {})",
                server.name(),
                out.join(format!("{}.log", server.name())).display()
            );
        }
    }
    drop((api, issuer));
    if !status.success() {
        bail!(
            "the soak failed (logs: {})",
            out.join("{api,mock-issuer,redis}.log").display()
        );
    }
    Ok(())
}

/// The release mock issuer, logging to `out/mock-issuer.log`. Fresh keys every run, in a data
/// dir of the soak's own: its rotations must not touch the keys `cargo xtask dev` persists, and
/// every run starts from the same key ring shape.
fn start_mock(release: &Path, out: &Path) -> Result<Server> {
    let data_dir = out.join("mock-issuer");
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut mock = Command::new(release.join("mock-issuer"));
    mock.arg("--data-dir")
        .arg(&data_dir)
        .args(["serve", "--host", "127.0.0.1", "--port", "0"])
        // A developer's exported admin token would lock the soak's own fault script out.
        .env_remove("MOCK_ADMIN_TOKEN")
        .stderr(log_file(out, "mock-issuer")?);
    process::default_log_level(&mut mock, "info");
    Server::start("mock-issuer", mock, Announce::Issuer)
}

/// The release api with the soak's short key-cache settings and small connection cap, its
/// DPoP replay store the Redis the driver runs on `redis_port`, logging to `out/api.log`.
fn start_api(release: &Path, out: &Path, issuer: &str, redis_port: u16) -> Result<Server> {
    let mut api = Command::new(release.join("api"));
    api.env("ISSUER_BASE_URL", issuer)
        .env("AUDIENCE", defaults::API_AUDIENCE)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("JWKS_COOLDOWN", format!("{COOLDOWN_S}s"))
        .env("JWKS_CACHE_MAX_AGE", format!("{CACHE_MAX_AGE_S}s"))
        .env("JWKS_STALE_MAX_AGE", STALE_MAX_AGE)
        .env("HTTP_TIMEOUT", format!("{HTTP_TIMEOUT_S}s"))
        .env("TOKEN_CACHE_CAPACITY", TOKEN_CACHE_CAPACITY)
        .env("TOKEN_CACHE_MAX_TTL", TOKEN_CACHE_MAX_TTL)
        .env("MAX_CONNECTIONS", MAX_CONNECTIONS.to_string())
        .env(
            "DPOP_REPLAY_STORE",
            format!("redis://127.0.0.1:{redis_port}"),
        )
        // Outside the repository, so a developer's `.env` cannot change the settings.
        .current_dir(process::outside_the_repository())
        .stderr(log_file(out, "api")?);
    process::default_log_level(&mut api, "info");
    Server::start("api", api, Announce::Api)
}

/// `target/soak/NAME.log`, truncated, for a server's stderr (its logs).
fn log_file(out: &Path, name: &str) -> Result<File> {
    let path = out.join(format!("{name}.log"));
    File::create(&path).with_context(|| format!("creating {}", path.display()))
}
