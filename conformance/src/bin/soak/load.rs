//! The soak's traffic: what each request carries and what the contract expects of it, the
//! paced workers that send them, the `/api/public` probe and the api's memory samples.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// One kind of request of the steady mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET /api/public`, no token.
    PublicNone,
    /// `GET /api/private`, no token.
    PrivateNone,
    /// `GET /api/private-scoped`, no token.
    ScopedNone,
    /// `GET /api/private` with a valid `read:messages` token.
    PrivateScoped,
    /// `GET /api/private-scoped` with a valid `read:messages` token.
    ScopedScoped,
    /// `GET /api/private` with a valid token without scopes.
    PrivateUnscoped,
    /// `GET /api/private-scoped` with a valid token without scopes.
    ScopedUnscoped,
    /// `GET /api/private` with a token naming a `kid` the issuer never published.
    PrivateUnknownKid,
    /// `GET /api/private-scoped` with a token naming a `kid` the issuer never published.
    ScopedUnknownKid,
    /// `GET /api/private` with a cached key's `kid` and a broken signature.
    PrivateTampered,
    /// `GET /api/private` with a bearer value that is not a JWS at all.
    PrivateGarbage,
}

impl Kind {
    /// The mix each worker cycles through: the three routes with and without tokens, and an
    /// unknown-`kid` flood of 2 in 11 requests (far more than one per cooldown).
    pub const SCHEDULE: [Kind; 11] = [
        Kind::PublicNone,
        Kind::PrivateScoped,
        Kind::PrivateUnknownKid,
        Kind::ScopedScoped,
        Kind::PrivateNone,
        Kind::PrivateUnscoped,
        Kind::ScopedUnknownKid,
        Kind::ScopedUnscoped,
        Kind::PrivateTampered,
        Kind::ScopedNone,
        Kind::PrivateGarbage,
    ];

    /// A short name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PublicNone => "public/none",
            Kind::PrivateNone => "private/none",
            Kind::ScopedNone => "scoped/none",
            Kind::PrivateScoped => "private/scoped",
            Kind::ScopedScoped => "scoped/scoped",
            Kind::PrivateUnscoped => "private/unscoped",
            Kind::ScopedUnscoped => "scoped/unscoped",
            Kind::PrivateUnknownKid => "private/unknown-kid",
            Kind::ScopedUnknownKid => "scoped/unknown-kid",
            Kind::PrivateTampered => "private/tampered",
            Kind::PrivateGarbage => "private/garbage",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::PublicNone => "/api/public",
            Kind::ScopedNone
            | Kind::ScopedScoped
            | Kind::ScopedUnscoped
            | Kind::ScopedUnknownKid => "/api/private-scoped",
            _ => "/api/private",
        }
    }

    /// The contract's answer while the issuer is healthy (README, "Answers").
    pub fn expected(self) -> u16 {
        match self {
            Kind::PublicNone | Kind::PrivateScoped | Kind::ScopedScoped | Kind::PrivateUnscoped => {
                200
            }
            Kind::ScopedUnscoped => 403,
            _ => 401,
        }
    }

    /// Whether the request carries a valid token of a known key, whose answer must not change
    /// with the issuer's health.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            Kind::PrivateScoped | Kind::ScopedScoped | Kind::PrivateUnscoped | Kind::ScopedUnscoped
        )
    }

    /// Whether the request names a `kid` that no cache holds, so that the api may have to ask
    /// the issuer, and may answer the documented 503 when the issuer cannot answer.
    pub fn is_unknown_kid(self) -> bool {
        matches!(self, Kind::PrivateUnknownKid | Kind::ScopedUnknownKid)
    }
}

/// The tokens the load uses now: the newest key that the api has been seen to accept.
#[derive(Debug, Clone)]
pub struct Active {
    /// Index of the signing key in the script's key registry.
    pub key: usize,
    /// A `read:messages` token signed with that key.
    pub scoped: String,
    /// A token without scopes signed with that key.
    pub unscoped: String,
}

/// State the script changes and the workers read.
#[derive(Debug)]
pub struct Shared {
    /// The run's time origin; every time in records is measured from it.
    pub t0: Instant,
    /// The current phase's index.
    pub phase: AtomicUsize,
    /// The tokens of the valid stream, swapped whole.
    pub active: RwLock<Arc<Active>>,
    /// Set when the script ends early, so the load stops with it.
    pub stop: AtomicBool,
}

impl Shared {
    /// Microseconds since the run's origin.
    pub fn now_us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }

    /// The tokens the valid stream uses now.
    pub fn active(&self) -> Arc<Active> {
        self.active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Makes `active` the valid stream's tokens.
    pub fn set_active(&self, active: Active) {
        *self
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(active);
    }
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// The phase when it was sent.
    pub phase: usize,
    /// What it was.
    pub kind: Kind,
    /// The key registry index of its token, for valid tokens.
    pub key: Option<usize>,
    /// The HTTP status; 0 when no answer came (connection error or the client's timeout).
    pub status: u16,
    /// When it was sent, in microseconds since the origin.
    pub sent_us: u64,
    /// When its answer (or failure) came, in microseconds since the origin.
    pub done_us: u64,
}

/// The load's HTTP client: pooled keep-alive connections and a timeout for every request, so
/// a hung api turns into recorded failures instead of a hung soak.
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()?)
}

/// The most requests the load keeps in flight at once, across workers. The load is open-loop
/// (a request every tick, whether or not earlier ones have been answered), so a slow answer
/// does not hold back the valid stream behind it; this cap keeps it bounded when the api is
/// slower than the pace, at the price of a lower rate in that phase.
pub const MAX_IN_FLIGHT: usize = 128;

/// One load worker: starts a request every `interval`, cycling through [`Kind::SCHEDULE`] from
/// its own offset, each as its own task holding a permit of `in_flight`, until `deadline`,
/// `max_requests` or the stop flag; then waits for its requests (each bounded by the client's
/// timeout) and returns their records.
#[allow(clippy::too_many_arguments)]
pub async fn worker(
    id: usize,
    shared: Arc<Shared>,
    client: reqwest::Client,
    api: String,
    interval: Duration,
    deadline: Instant,
    max_requests: u64,
    in_flight: Arc<tokio::sync::Semaphore>,
) -> Vec<Record> {
    let mut records = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut ticker = tokio::time::interval(interval);
    // No bursts to catch up after a stall: the pace stays the pace.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    while n < max_requests && Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        ticker.tick().await;
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let kind = Kind::SCHEDULE[(id + n as usize) % Kind::SCHEDULE.len()];
        let active = shared.active();
        let (token, key) = match kind {
            Kind::PublicNone | Kind::PrivateNone | Kind::ScopedNone => (None, None),
            Kind::PrivateScoped | Kind::ScopedScoped => {
                (Some(active.scoped.clone()), Some(active.key))
            }
            Kind::PrivateUnscoped | Kind::ScopedUnscoped => {
                (Some(active.unscoped.clone()), Some(active.key))
            }
            // A fresh kid every time, so no cache of any kind can answer it.
            Kind::PrivateUnknownKid | Kind::ScopedUnknownKid => (
                with_kid(&active.scoped, &format!("soak-unknown-{id}-{n}")),
                None,
            ),
            Kind::PrivateTampered => (Some(tamper_signature(&active.scoped)), None),
            Kind::PrivateGarbage => (Some("not-a-jws".to_owned()), None),
        };
        let mut request = client.get(format!("{api}{}", kind.path()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let phase = shared.phase.load(Ordering::Relaxed);
        let shared = shared.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let sent_us = shared.now_us();
            let status = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the body so the connection goes back to the pool.
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            Record {
                phase,
                kind,
                key,
                status,
                sent_us,
                done_us: shared.now_us(),
            }
        });
        // Collect what has finished, so the set holds only requests in flight.
        while let Some(Ok(record)) = tasks.try_join_next() {
            records.push(record);
        }
        n += 1;
    }
    while let Some(result) = tasks.join_next().await {
        if let Ok(record) = result {
            records.push(record);
        }
    }
    records
}

/// `token` with its header's `kid` replaced; the rest (payload, signature) is kept, so the api
/// must look the key up before it can refuse the token.
pub fn with_kid(token: &str, kid: &str) -> Option<String> {
    let (header, rest) = token.split_once('.')?;
    let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    header.as_object_mut()?.insert("kid".into(), kid.into());
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?);
    Some(format!("{header}.{rest}"))
}

/// `token` with one character in the middle of its signature changed: same header and `kid`
/// (a cached key), a signature that cannot verify.
pub fn tamper_signature(token: &str) -> String {
    let Some(dot) = token.rfind('.') else {
        return format!("{token}x");
    };
    let mut bytes = token.as_bytes().to_vec();
    let middle = dot + (bytes.len() - dot) / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_default()
}

/// The `kid` of a compact JWS's header.
pub fn kid_of(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// The `/api/public` probe's figures.
#[derive(Debug, Default)]
pub struct Probe {
    /// Probes sent.
    pub sent: u64,
    /// Latencies of the probes answered 200, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Probes that got anything else: (seconds since the origin, phase, what happened).
    pub failures: Vec<(f64, usize, String)>,
}

/// How often the probe asks, and how long it waits: a server that takes a second to answer its
/// cheapest route has stopped answering for any practical purpose.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(200);
/// See [`PROBE_INTERVAL`].
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Asks `GET /api/public` every [`PROBE_INTERVAL`] on its own connection pool (so it never
/// queues behind the load's requests), with [`PROBE_TIMEOUT`].
pub async fn probe(shared: Arc<Shared>, api: String, deadline: Instant) -> Probe {
    let mut probe = Probe::default();
    let client = match client(PROBE_TIMEOUT) {
        Ok(client) => client,
        Err(error) => {
            probe.failures.push((0.0, 0, format!("no client: {error}")));
            return probe;
        }
    };
    let url = format!("{api}/api/public");
    let mut ticker = tokio::time::interval(PROBE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        ticker.tick().await;
        let phase = shared.phase.load(Ordering::Relaxed);
        let started = Instant::now();
        let sent_at = shared.t0.elapsed().as_secs_f64();
        probe.sent += 1;
        let outcome = match client.get(&url).send().await {
            Ok(response) if response.status() == 200 => {
                let _ = response.bytes().await;
                Ok(())
            }
            Ok(response) => Err(format!("status {}", response.status().as_u16())),
            Err(error) if error.is_timeout() => {
                Err(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis()))
            }
            Err(error) => Err(format!("connection failed: {error}")),
        };
        match outcome {
            Ok(()) => probe
                .latencies_us
                .push(started.elapsed().as_micros() as u64),
            Err(what) => probe.failures.push((sent_at, phase, what)),
        }
    }
    probe
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
    pub seen_by: &'static str,
}

/// How late a control may be before it counts as a stall: orders of magnitude above their
/// normal sub-millisecond figures, well below the one-second bounds of the checks.
pub const STALL_THRESHOLD: Duration = Duration::from_millis(250);
/// How often each control ticks.
const CONTROL_INTERVAL: Duration = Duration::from_millis(100);

/// The driver's own timer: a tick more than [`STALL_THRESHOLD`] late means this process got no
/// CPU for that long, on a 2-core machine shared with the servers and with other users.
pub async fn watch_driver(shared: Arc<Shared>, deadline: Instant) -> Vec<Stall> {
    let mut stalls = Vec::new();
    let mut last = Instant::now();
    while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(CONTROL_INTERVAL).await;
        let now = Instant::now();
        if now - last > CONTROL_INTERVAL + STALL_THRESHOLD {
            let end_us = shared.now_us();
            stalls.push(Stall {
                start_us: end_us.saturating_sub((now - last).as_micros() as u64),
                end_us,
                seen_by: "driver timer",
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
pub async fn watch_issuer(shared: Arc<Shared>, issuer: String, deadline: Instant) -> Vec<Stall> {
    let mut stalls = Vec::new();
    let Ok(client) = client(Duration::from_secs(2)) else {
        return stalls;
    };
    let url = format!("{issuer}healthz");
    let mut ticker = tokio::time::interval(CONTROL_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        ticker.tick().await;
        let start_us = shared.now_us();
        let started = Instant::now();
        let answered = match client.get(&url).send().await {
            Ok(response) => response.bytes().await.is_ok(),
            Err(_) => false,
        };
        if !answered || started.elapsed() > STALL_THRESHOLD {
            stalls.push(Stall {
                start_us,
                end_us: shared.now_us(),
                seen_by: "issuer /healthz",
            });
        }
    }
    stalls
}

/// One reading of the api's resident memory.
#[derive(Debug, Clone, Copy)]
pub struct MemorySample {
    /// Seconds since the origin.
    pub at: f64,
    /// The phase it was taken in.
    pub phase: usize,
    /// `VmRSS`, in KiB.
    pub rss_kib: u64,
}

/// How often the api's memory is read.
pub const MEMORY_INTERVAL: Duration = Duration::from_secs(1);

/// Reads the api's `VmRSS` from `/proc/PID/status` every [`MEMORY_INTERVAL`]. A process that
/// has gone leaves no samples, which the memory check reports.
pub async fn sample_memory(shared: Arc<Shared>, pid: u32, deadline: Instant) -> Vec<MemorySample> {
    let mut samples = Vec::new();
    let path = format!("/proc/{pid}/status");
    let mut ticker = tokio::time::interval(MEMORY_INTERVAL);
    while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
        ticker.tick().await;
        // A /proc read never blocks on a disk; tokio's `fs` feature is not worth adding for it.
        let Ok(status) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rss = status.lines().find_map(|line| {
            line.strip_prefix("VmRSS:")?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        });
        if let Some(rss_kib) = rss {
            samples.push(MemorySample {
                at: shared.t0.elapsed().as_secs_f64(),
                phase: shared.phase.load(Ordering::Relaxed),
                rss_kib,
            });
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2lnbmF0dXJlLWJ5dGVz";

    #[test]
    fn a_new_kid_replaces_the_old_one_and_keeps_the_rest() {
        let forged = with_kid(TOKEN, "other").expect("forges");

        assert_eq!(kid_of(TOKEN).as_deref(), Some("k1"));
        assert_eq!(kid_of(&forged).as_deref(), Some("other"));
        assert!(forged.ends_with(".e30.c2lnbmF0dXJlLWJ5dGVz"));
    }

    #[test]
    fn a_tampered_signature_differs_only_in_the_signature() {
        let tampered = tamper_signature(TOKEN);

        assert_ne!(tampered, TOKEN);
        assert_eq!(
            tampered.rsplit_once('.').map(|p| p.0),
            TOKEN.rsplit_once('.').map(|p| p.0)
        );
        assert_eq!(tampered.len(), TOKEN.len());
    }
}
