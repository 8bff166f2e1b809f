//! What the soak watches beside its load: the `/api/public` probe on a kept-alive connection,
//! the same request on a new connection each time, the api's resident memory, and the two
//! controls that tell a stalled machine from a stalled api.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use mock_issuer::client::IssuerClient;
use reqwest::Url;
use tokio::task::{JoinHandle, JoinSet};

use super::traffic::{Shared, client, client_builder, ticker};
use crate::load::proc;

/// The `/api/public` probe's figures.
#[derive(Debug, Default)]
pub struct Probe {
    /// Probes sent.
    pub sent: u64,
    /// Latencies of the probes answered 200, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Probes that got anything else.
    pub failures: Vec<ProbeFailure>,
}

/// A probe that did not get a prompt 200.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeFailure {
    /// When it was sent, in seconds since the origin.
    pub at_s: f64,
    /// The phase it was sent in.
    pub phase: usize,
    /// What happened instead, for the report.
    pub what: String,
}

/// How often the probe asks, and how long it waits: a server that takes a second to answer its
/// cheapest route has stopped answering for any practical purpose.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(200);
/// See [`PROBE_INTERVAL`].
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Asks `GET /api/public` every [`PROBE_INTERVAL`] on its own connection pool (so it never
/// queues behind the load's requests), with [`PROBE_TIMEOUT`].
async fn probe(shared: Arc<Shared>, api: String, deadline: Instant) -> Probe {
    let mut probe = Probe::default();
    let client = match client(PROBE_TIMEOUT) {
        Ok(client) => client,
        Err(error) => {
            probe.failures.push(ProbeFailure {
                at_s: 0.0,
                phase: 0,
                what: format!("no client: {error}"),
            });
            return probe;
        }
    };
    let url = format!("{api}/api/public");
    let mut ticker = ticker(PROBE_INTERVAL);
    while shared.running(deadline) {
        ticker.tick().await;
        let phase = shared.phase();
        let at_s = shared.now_s();
        probe.sent += 1;
        match probe_once(&client, &url, PROBE_TIMEOUT).await {
            Ok(latency) => probe.latencies_us.push(latency.as_micros() as u64),
            Err(what) => probe.failures.push(ProbeFailure { at_s, phase, what }),
        }
    }
    probe
}

/// One probe with `client`, whose timeout is `timeout`: its latency when answered 200, else
/// what happened.
async fn probe_once(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<Duration, String> {
    let started = Instant::now();
    match client.get(url).send().await {
        Ok(response) if response.status() == 200 => {
            let _ = response.bytes().await;
            Ok(started.elapsed())
        }
        Ok(response) => Err(format!("status {}", response.status().as_u16())),
        Err(error) if error.is_timeout() => {
            Err(format!("no answer within {} ms", timeout.as_millis()))
        }
        Err(error) => Err(format!("connection failed: {error}")),
    }
}

/// One `GET /api/public` on a connection of its own.
#[derive(Debug, Clone)]
pub struct FreshProbe {
    /// The phase it was sent in.
    pub phase: usize,
    /// When it was sent, in seconds since the origin.
    pub at_s: f64,
    /// Its time from connecting to a 200, in microseconds; else what happened.
    pub outcome: Result<u64, String>,
}

/// How often a new client connects: a few a second, as new visitors of a site would.
pub const FRESH_INTERVAL: Duration = Duration::from_millis(250);
/// How long a new client waits. Longer than the one-second bound it is judged by, so that a
/// client kept waiting for a slot shows how long it waited rather than only that it did.
pub const FRESH_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks `GET /api/public` every [`FRESH_INTERVAL`] on a new connection, closed after the
/// answer, each probe its own task: a pooled client that already holds its connections would
/// not notice that new ones are not being accepted, and a probe kept waiting must not delay
/// the next.
async fn fresh_probe(shared: Arc<Shared>, api: String, deadline: Instant) -> Vec<FreshProbe> {
    let mut done = Vec::new();
    let client = match client_builder(FRESH_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            done.push(FreshProbe {
                phase: 0,
                at_s: 0.0,
                outcome: Err(format!("no client: {error}")),
            });
            return done;
        }
    };
    let url: Arc<str> = format!("{api}/api/public").into();
    let mut in_flight = JoinSet::new();
    let mut ticker = ticker(FRESH_INTERVAL);
    while shared.running(deadline) {
        ticker.tick().await;
        let (phase, at_s) = (shared.phase(), shared.now_s());
        let (client, url) = (client.clone(), url.clone());
        in_flight.spawn(async move {
            let outcome = probe_once(&client, &url, FRESH_TIMEOUT).await;
            FreshProbe {
                phase,
                at_s,
                outcome: outcome.map(|latency| latency.as_micros() as u64),
            }
        });
        while let Some(Ok(probe)) = in_flight.try_join_next() {
            done.push(probe);
        }
    }
    while let Some(probe) = in_flight.join_next().await {
        done.extend(probe.ok());
    }
    done
}

/// A stretch of time (µs since the origin) when the machine, not the api, was too slow to
/// judge: the driver's own timer fired late, or the mock issuer's trivial `/healthz` was slow.
#[derive(Debug, Clone, Copy)]
pub struct Stall {
    /// When it began.
    pub start_us: u64,
    /// When it ended.
    pub end_us: u64,
    /// Which control saw it.
    pub seen_by: Control,
}

/// The two controls that watch the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The driver's own timer ([`watch_driver`]).
    DriverTimer,
    /// The mock issuer's `/healthz` ([`watch_issuer`]).
    IssuerHealthz,
}

/// How late a control may be before it counts as a stall: orders of magnitude above their
/// normal sub-millisecond figures, well below the one-second bounds of the checks.
pub const STALL_THRESHOLD: Duration = Duration::from_millis(250);
/// How often each control ticks.
const CONTROL_INTERVAL: Duration = Duration::from_millis(100);

/// The driver's own timer: a tick more than [`STALL_THRESHOLD`] late means this process got no
/// CPU for that long, on a 2-core machine shared with the servers and with other users.
async fn watch_driver(shared: Arc<Shared>, deadline: Instant) -> Vec<Stall> {
    let mut stalls = Vec::new();
    let mut last = Instant::now();
    while shared.running(deadline) {
        tokio::time::sleep(CONTROL_INTERVAL).await;
        let now = Instant::now();
        if now - last > CONTROL_INTERVAL + STALL_THRESHOLD {
            let end_us = shared.now_us();
            stalls.push(Stall {
                start_us: end_us.saturating_sub((now - last).as_micros() as u64),
                end_us,
                seen_by: Control::DriverTimer,
            });
        }
        last = now;
    }
    stalls
}

/// The control server: the mock issuer's `/healthz` (no fault applies to it, nothing counts
/// it), whose answer takes microseconds. Slower than [`STALL_THRESHOLD`], or no answer, means
/// a process that does no work was not scheduled: whatever the api did meanwhile says nothing
/// about the api.
async fn watch_issuer(shared: Arc<Shared>, issuer: Url, deadline: Instant) -> Vec<Stall> {
    let mut stalls = Vec::new();
    let Some(issuer) = client(Duration::from_secs(2))
        .ok()
        .and_then(|http| IssuerClient::with_http_client(issuer.as_str(), http).ok())
    else {
        return stalls;
    };
    let mut ticker = ticker(CONTROL_INTERVAL);
    while shared.running(deadline) {
        ticker.tick().await;
        let start_us = shared.now_us();
        let started = Instant::now();
        let answered = issuer.health().await.is_ok();
        if !answered || started.elapsed() > STALL_THRESHOLD {
            stalls.push(Stall {
                start_us,
                end_us: shared.now_us(),
                seen_by: Control::IssuerHealthz,
            });
        }
    }
    stalls
}

/// One reading of the api's resident memory.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct MemorySample {
    /// Seconds since the origin.
    pub at_s: f64,
    /// The phase it was taken in.
    pub phase: usize,
    /// `VmRSS`, in KiB.
    pub rss_kib: u64,
}

/// How often the api's memory is read.
const MEMORY_INTERVAL: Duration = Duration::from_secs(1);

/// Reads the api's `VmRSS` from `/proc/PID/status` every [`MEMORY_INTERVAL`]. A process that
/// has gone leaves no samples, which the memory check reports.
async fn sample_memory(shared: Arc<Shared>, pid: u32, deadline: Instant) -> Vec<MemorySample> {
    let mut samples = Vec::new();
    let path = format!("/proc/{pid}/status");
    let mut ticker = tokio::time::interval(MEMORY_INTERVAL);
    while shared.running(deadline) {
        ticker.tick().await;
        // A /proc read never blocks on a disk; tokio's `fs` feature is not worth adding for it.
        let Some(rss_kib) = std::fs::read_to_string(&path)
            .ok()
            .as_deref()
            .and_then(|status| proc::status_kib(status, "VmRSS"))
        else {
            continue;
        };
        samples.push(MemorySample {
            at_s: shared.now_s(),
            phase: shared.phase(),
            rss_kib,
        });
    }
    samples
}

/// The running monitors.
pub struct Monitors {
    probe: JoinHandle<Probe>,
    fresh: JoinHandle<Vec<FreshProbe>>,
    driver: JoinHandle<Vec<Stall>>,
    issuer: JoinHandle<Vec<Stall>>,
    memory: JoinHandle<Vec<MemorySample>>,
}

/// What the monitors saw.
#[derive(Debug, Default)]
pub struct Observed {
    /// The probe's figures.
    pub probe: Probe,
    /// Every fresh-connection probe.
    pub fresh: Vec<FreshProbe>,
    /// The api's memory.
    pub memory: Vec<MemorySample>,
    /// The stalls both controls saw.
    pub stalls: Vec<Stall>,
}

impl Monitors {
    /// Starts the two probes of `api`, the two controls (the second on `issuer`) and the memory
    /// sampler of process `pid`, all until `deadline`.
    pub fn start(
        shared: &Arc<Shared>,
        api: &str,
        issuer: &IssuerClient,
        pid: u32,
        deadline: Instant,
    ) -> Self {
        let issuer = issuer.base().clone();
        Monitors {
            probe: tokio::spawn(probe(shared.clone(), api.to_owned(), deadline)),
            fresh: tokio::spawn(fresh_probe(shared.clone(), api.to_owned(), deadline)),
            driver: tokio::spawn(watch_driver(shared.clone(), deadline)),
            issuer: tokio::spawn(watch_issuer(shared.clone(), issuer, deadline)),
            memory: tokio::spawn(sample_memory(shared.clone(), pid, deadline)),
        }
    }

    /// Waits for every monitor (each stops at the deadline or the stop flag).
    pub async fn finish(self) -> Result<Observed> {
        let probe = self.probe.await?;
        let fresh = self.fresh.await?;
        let memory = self.memory.await?;
        let mut stalls = self.driver.await?;
        stalls.extend(self.issuer.await?);
        Ok(Observed {
            probe,
            fresh,
            memory,
            stalls,
        })
    }
}
