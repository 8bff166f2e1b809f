//! What the DPoP replay store costs: in memory, the bytes one remembered proof takes; in Redis,
//! the round trips one DPoP request makes and how long one takes on loopback.
//!
//! Memory is the growth of this process's resident memory (`VmRSS`) while a store of the
//! default capacity is filled, divided by the proofs it then holds: what the operating system
//! sees, allocator and hash-table slack included. It is measured before any other benchmark, so
//! memory another one freed cannot hide part of it.
//!
//! Redis is a real `redis-server` on a free port (the tests' harness): its `INFO commandstats`
//! counts the commands a run of DPoP requests through the router sends, and a run of bare
//! `first_use` calls gives the round trip's median wall time (the runtime's worker thread sends
//! the command and wakes this one). Without `redis-server` the Redis figures are left out, and
//! the bench says so.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api::auth::dpop_replay::{DEFAULT_CAPACITY, MAX_ENTRY_BYTES, MemoryReplayStore};
use api::auth::{DpopOptions, ReplayStore};
use aws_lc_rs::digest;
use http::StatusCode;
use tower::ServiceExt;

use super::dpop::{App, Client};
use super::redis_server::RedisServer;
use super::{Setup, unix_now};

/// The DPoP requests whose Redis commands are counted.
const REQUESTS: u32 = 1000;
/// The `first_use` round trips timed.
const ROUND_TRIPS: usize = 1001;
/// How long the proofs are remembered: the default `iat` window (300 s old to 30 s ahead).
const REMEMBERED_FOR: u64 = 330;

/// The bytes of resident memory one remembered proof takes in a memory store of the default
/// capacity ([`DEFAULT_CAPACITY`]), filled until it holds that many or refuses one as full.
pub fn memory_bytes_per_proof() -> f64 {
    let before = resident_bytes();
    let store = MemoryReplayStore::new(DEFAULT_CAPACITY);
    let now = unix_now();
    for n in 0..DEFAULT_CAPACITY as u64 {
        // The store's keys are SHA-256 outputs, spread over its shards.
        if store.first_use(replay_key(n), now + REMEMBERED_FOR, now) != Ok(true) {
            break;
        }
    }
    let grown = resident_bytes().saturating_sub(before);
    let held = store.len();
    assert!(
        held >= DEFAULT_CAPACITY * 9 / 10,
        "the store refused a proof at {held} of {DEFAULT_CAPACITY}"
    );
    grown as f64 / held as f64
}

/// What one DPoP request costs in Redis.
pub struct RedisCost {
    /// Commands sent per DPoP request, of any kind.
    pub commands_per_request: f64,
    /// `SET` commands per DPoP request: each proof is recorded with one.
    pub sets_per_request: f64,
    /// The median wall time of one `first_use`, in microseconds.
    pub first_use_median_us: f64,
}

/// The Redis store's cost, `None` (and a notice) when `redis-server` is not installed.
pub fn redis_cost(setup: &Setup, client: &Client) -> Option<RedisCost> {
    if !redis_server_installed() {
        eprintln!(
            "bench: redis-server is not installed: the Redis replay store's figures are left out (`cargo xtask bench` installs it)"
        );
        return None;
    }
    let server = RedisServer::start();
    let store = setup
        .runtime
        .block_on(ReplayStore::redis(&server.url()))
        .expect("a Redis URL");
    let options = DpopOptions {
        replay_store: store.clone(),
        ..DpopOptions::default()
    };
    // Its warm-up request has made the store's connection.
    let app = App::new(setup, client, options);
    let mut stats = redis::Client::open(server.url())
        .and_then(|redis| redis::Client::get_connection(&redis))
        .expect("a connection to read INFO");
    let before = command_calls(&mut stats);
    for _ in 0..REQUESTS {
        let answer = setup
            .runtime
            .block_on(
                app.router
                    .clone()
                    .oneshot(client.dpop_request(client.proof())),
            )
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::OK, "a DPoP request");
    }
    let after = command_calls(&mut stats);
    app.assert_tokens_came_from_the_cache();
    let sent = |name: Option<&str>| {
        let count = |calls: &BTreeMap<String, u64>| -> u64 {
            calls
                .iter()
                .filter(|(command, _)| name.is_none_or(|name| command.as_str() == name))
                .map(|(_, calls)| calls)
                .sum()
        };
        (count(&after) - count(&before)) as f64 / f64::from(REQUESTS)
    };
    Some(RedisCost {
        commands_per_request: sent(None),
        sets_per_request: sent(Some("set")),
        first_use_median_us: first_use_median(setup, &store).as_secs_f64() * 1e6,
    })
}

/// The median wall time of one `first_use` of a new key.
fn first_use_median(setup: &Setup, store: &ReplayStore) -> Duration {
    let now = unix_now();
    let mut times: Vec<Duration> = (0..ROUND_TRIPS as u64)
        .map(|n| {
            let key = replay_key(u64::MAX - n);
            let start = Instant::now();
            let first = setup
                .runtime
                .block_on(store.first_use(key, now + REMEMBERED_FOR, now));
            let took = start.elapsed();
            assert_eq!(first, Ok(true), "a new key is a first use");
            took
        })
        .collect();
    times.sort();
    times[ROUND_TRIPS / 2]
}

/// The calls of each command since the server started, by lowercase name, `INFO` itself left
/// out: `cmdstat_set:calls=12,usec=…` lines.
fn command_calls(connection: &mut redis::Connection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(connection)
        .expect("INFO commandstats");
    info.lines()
        .filter_map(|line| {
            let (command, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.strip_prefix("calls=")?.split(',').next()?;
            Some((command.to_owned(), calls.parse().ok()?))
        })
        .filter(|(command, _)| command != "info")
        .collect()
}

fn redis_server_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A replay key as the proof check makes them: a SHA-256 output.
fn replay_key(n: u64) -> [u8; 32] {
    let mut key = [0; 32];
    key.copy_from_slice(digest::digest(&digest::SHA256, &n.to_be_bytes()).as_ref());
    key
}

/// This process's resident memory, from `/proc/self/status` (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}

/// The figures as `replay.txt` lines, `name value`: the memory store's bytes per proof beside
/// the bound it documents for one entry ([`MAX_ENTRY_BYTES`]), then Redis's figures if any.
pub fn lines(memory_bytes_per_proof: f64, redis: Option<&RedisCost>) -> String {
    let mut lines = format!(
        "memory/bytes_per_proof {memory_bytes_per_proof:.1}\nmemory/entry_bound_bytes {MAX_ENTRY_BYTES}\n"
    );
    if let Some(redis) = redis {
        lines.push_str(&format!(
            "redis/commands_per_request {:.4}\nredis/sets_per_request {:.4}\nredis/first_use_median_us {:.1}\n",
            redis.commands_per_request, redis.sets_per_request, redis.first_use_median_us
        ));
    }
    lines
}
