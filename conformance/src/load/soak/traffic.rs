//! The soak's traffic: what each request carries and what the contract expects of it, the
//! state the script shares with the load, and the paced workers that send the requests, bearer
//! and DPoP (a fresh proof each, and now and then a proof the api already accepted, again).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::AUTHORIZATION;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Interval, MissedTickBehavior};

use super::dpop::{Accepted, DpopClient, Refusal, Replayable};

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
    /// `GET /api/private` with a DPoP-bound `read:messages` token and a fresh proof.
    PrivateDpop,
    /// `GET /api/private-scoped` with a DPoP-bound `read:messages` token and a fresh proof.
    ScopedDpop,
    /// `GET /api/private` with a token and proof the api already accepted, sent again.
    PrivateDpopReplay,
}

impl Kind {
    /// The mix each worker cycles through: the three routes with and without tokens, an
    /// unknown-`kid` flood of 2 in 13 requests (far more than one per cooldown), and 2 in 13
    /// DPoP requests, of which [`Kind::replay_instead`] makes some replays.
    pub const SCHEDULE: [Kind; 13] = [
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
        Kind::ScopedDpop,
        Kind::PrivateDpop,
    ];

    /// One private DPoP request in this many passes of a worker through [`Kind::SCHEDULE`] is
    /// a replay: a few a second in all, enough for every phase, few enough that the fresh
    /// proofs stay the bulk of the DPoP traffic.
    const REPLAY_EVERY: u64 = 6;

    /// The kind of a worker's `n`th request, `scheduled` in [`Kind::SCHEDULE`]: a replay in
    /// place of one private DPoP request every [`Kind::REPLAY_EVERY`] passes.
    pub fn replay_instead(scheduled: Kind, n: u64) -> Kind {
        let pass = n / Kind::SCHEDULE.len() as u64;
        if scheduled == Kind::PrivateDpop && pass % Kind::REPLAY_EVERY == Kind::REPLAY_EVERY - 1 {
            Kind::PrivateDpopReplay
        } else {
            scheduled
        }
    }

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
            Kind::PrivateDpop => "private/dpop",
            Kind::ScopedDpop => "scoped/dpop",
            Kind::PrivateDpopReplay => "private/dpop-replay",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::PublicNone => "/api/public",
            Kind::ScopedNone
            | Kind::ScopedScoped
            | Kind::ScopedUnscoped
            | Kind::ScopedUnknownKid
            | Kind::ScopedDpop => "/api/private-scoped",
            _ => "/api/private",
        }
    }

    /// The contract's answer while the issuer and the replay store are healthy (README,
    /// "Answers"); a replay's 401 must be the replay's refusal (see the report's judge).
    pub fn expected(self) -> u16 {
        match self {
            Kind::PublicNone
            | Kind::PrivateScoped
            | Kind::ScopedScoped
            | Kind::PrivateUnscoped
            | Kind::PrivateDpop
            | Kind::ScopedDpop => 200,
            Kind::ScopedUnscoped => 403,
            _ => 401,
        }
    }

    /// Whether the request carries a valid bearer token of a known key, whose answer must not
    /// change with the issuer's health.
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

    /// Whether the request is DPoP: a bound token of a known key with a proof, whose answer
    /// depends on the replay store as well (see the report's judge).
    pub fn is_dpop(self) -> bool {
        matches!(
            self,
            Kind::PrivateDpop | Kind::ScopedDpop | Kind::PrivateDpopReplay
        )
    }
}

/// The tokens the load uses now: the newest key that the api has been seen to accept.
#[derive(Debug, Clone)]
pub struct Active {
    /// Index of the signing key in the run's key registry.
    pub key: usize,
    /// A `read:messages` token signed with that key.
    pub scoped: String,
    /// A token without scopes signed with that key.
    pub unscoped: String,
    /// A `read:messages` token signed with that key and bound to the run's DPoP key.
    pub dpop: String,
}

/// State the script changes and the load and monitors read.
#[derive(Debug)]
pub struct Shared {
    /// The run's time origin; every time in records is measured from it.
    pub t0: Instant,
    /// The current phase's index.
    phase: AtomicUsize,
    /// The tokens of the valid stream, swapped whole.
    active: RwLock<Arc<Active>>,
    /// Set when the script ends early, so the load stops with it.
    stop: AtomicBool,
    /// The run's DPoP key, which signs the load's proofs.
    dpop: DpopClient,
    /// The last DPoP request accepted, for replays.
    replayable: Replayable,
}

impl Shared {
    /// State for a run that starts at `t0` in phase 0 with `active` tokens, their bound token
    /// bound to `dpop`'s key.
    pub fn new(t0: Instant, active: Active, dpop: DpopClient) -> Self {
        Shared {
            t0,
            phase: AtomicUsize::new(0),
            active: RwLock::new(Arc::new(active)),
            stop: AtomicBool::new(false),
            dpop,
            replayable: Replayable::default(),
        }
    }

    /// The run's DPoP key.
    pub fn dpop(&self) -> &DpopClient {
        &self.dpop
    }

    /// The last DPoP request accepted, for replays.
    pub fn replayable(&self) -> &Replayable {
        &self.replayable
    }

    /// Microseconds since the run's origin.
    pub fn now_us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }

    /// Seconds since the run's origin.
    pub fn now_s(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// The current phase's index.
    pub fn phase(&self) -> usize {
        self.phase.load(Ordering::Relaxed)
    }

    /// Enters phase `index`.
    pub fn set_phase(&self, index: usize) {
        self.phase.store(index, Ordering::Relaxed);
    }

    /// Whether the load and the monitors go on: before `deadline` and not stopped.
    pub fn running(&self, deadline: Instant) -> bool {
        Instant::now() < deadline && !self.stop.load(Ordering::Relaxed)
    }

    /// Stops the load and the monitors at their next tick.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The tokens the valid stream uses now.
    pub fn active(&self) -> Arc<Active> {
        self.active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `active` the valid stream's tokens.
    pub fn set_active(&self, active: Active) {
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(active);
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
    /// What a DPoP request's answer said beyond its status; [`Refusal::None`] for the others.
    pub refusal: Refusal,
    /// For a replay, when the request it replays was first sent (µs since the origin).
    pub replay_of_us: Option<u64>,
    /// When it was sent, in microseconds since the origin.
    pub sent_us: u64,
    /// When its answer (or failure) came, in microseconds since the origin.
    pub done_us: u64,
}

/// An HTTP client with pooled keep-alive connections and a timeout for every request, so a
/// hung server turns into recorded failures instead of a hung soak.
pub fn client(timeout: Duration) -> Result<reqwest::Client> {
    Ok(client_builder(timeout).build()?)
}

/// [`client`]'s settings, for a client that needs one more.
pub fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
}

/// Sends `request` and reads its body (so the connection goes back to the pool); the status,
/// or 0 when no answer came.
pub async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
        Err(_) => 0,
    }
}

/// Sends a DPoP `request`: its status (0 when no answer came) and what its answer said.
async fn dpop_answer_of(request: reqwest::RequestBuilder) -> (u16, Refusal) {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.unwrap_or_default();
            (status, Refusal::of(status, &headers, &body))
        }
        Err(_) => (0, Refusal::None),
    }
}

/// `GET url` with `Authorization: DPoP token` and the `DPoP` header `proof`.
pub fn dpop_request(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    proof: &str,
) -> reqwest::RequestBuilder {
    client
        .get(url)
        .header(AUTHORIZATION, format!("DPoP {token}"))
        .header("DPoP", proof)
}

/// A ticker of `period` that, after a stall, does not burst to catch up: the pace stays the
/// pace.
pub fn ticker(period: Duration) -> Interval {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker
}

/// The most requests the load keeps in flight at once, across workers. The load is open-loop
/// (a request every tick, whether or not earlier ones have been answered), so a slow answer
/// does not hold back the valid stream behind it; this cap keeps it bounded when the api is
/// slower than the pace, at the price of a lower rate in that phase.
pub const MAX_IN_FLIGHT: usize = 128;

/// How long one load request may take before it counts as unanswered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How the load is paced and bounded.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Workers, at least one.
    pub workers: usize,
    /// The time between two requests of one worker.
    pub interval: Duration,
    /// When the workers stop starting requests.
    pub deadline: Instant,
    /// The most requests one worker starts: the planned number, plus a tenth.
    pub max_requests: u64,
}

impl Pace {
    /// `rate` requests per second in all over `workers`, for `length` until `deadline`.
    pub fn new(workers: usize, rate: u64, length: Duration, deadline: Instant) -> Self {
        let workers = workers.max(1);
        let interval = Duration::from_secs_f64(workers as f64 / rate.max(1) as f64);
        // Bounded in count as well as time.
        let max_requests = (length.as_secs_f64() / interval.as_secs_f64() * 1.1) as u64 + 1;
        Pace {
            workers,
            interval,
            deadline,
            max_requests,
        }
    }
}

/// The running load workers.
pub struct Load {
    workers: Vec<JoinHandle<Vec<Record>>>,
}

impl Load {
    /// Starts [`Pace::workers`] workers against the api at `api` (no trailing slash).
    pub fn start(shared: &Arc<Shared>, api: &str, pace: Pace) -> Result<Self> {
        let client = client(REQUEST_TIMEOUT)?;
        let api: Arc<str> = api.into();
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let workers = (0..pace.workers)
            .map(|id| {
                let worker = Worker {
                    id,
                    shared: shared.clone(),
                    client: client.clone(),
                    api: api.clone(),
                    pace,
                    in_flight: in_flight.clone(),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        Ok(Load { workers })
    }

    /// Waits for every worker (each stops at the deadline, its request cap or the stop flag)
    /// and returns all their records.
    pub async fn finish(self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for worker in self.workers {
            records.extend(worker.await?);
        }
        Ok(records)
    }
}

/// One load worker: starts a request every [`Pace::interval`], cycling through
/// [`Kind::SCHEDULE`] from its own offset, each as its own task holding a permit of
/// `in_flight`.
struct Worker {
    id: usize,
    shared: Arc<Shared>,
    client: reqwest::Client,
    api: Arc<str>,
    pace: Pace,
    in_flight: Arc<Semaphore>,
}

impl Worker {
    /// Sends until the deadline, the request cap or the stop flag; then waits for its requests
    /// (each bounded by the client's timeout) and returns their records.
    async fn run(self) -> Vec<Record> {
        let mut records = Vec::new();
        let mut tasks = JoinSet::new();
        let mut ticker = ticker(self.pace.interval);
        let mut n: u64 = 0;
        while n < self.pace.max_requests && self.shared.running(self.pace.deadline) {
            ticker.tick().await;
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                break;
            };
            tasks.spawn(self.send(n, permit));
            // Collect what has finished, so the set holds only requests in flight.
            while let Some(Ok(record)) = tasks.try_join_next() {
                records.push(record);
            }
            n += 1;
        }
        while let Some(result) = tasks.join_next().await {
            records.extend(result.ok());
        }
        records
    }

    /// The worker's `n`th request, ready to be spawned: it holds `permit` until answered. A
    /// fresh DPoP request the api accepts becomes the one the load replays.
    fn send(
        &self,
        n: u64,
        permit: OwnedSemaphorePermit,
    ) -> impl Future<Output = Record> + Send + 'static {
        let prepared = self.prepare(n);
        let phase = self.shared.phase();
        let shared = self.shared.clone();
        async move {
            let _permit = permit;
            let sent_us = shared.now_us();
            let (status, refusal) = if prepared.kind.is_dpop() {
                dpop_answer_of(prepared.request).await
            } else {
                (status_of(prepared.request).await, Refusal::None)
            };
            if let (200, Some(mut accepted)) = (status, prepared.fresh) {
                accepted.sent_us = sent_us;
                shared.replayable().remember(accepted);
            }
            Record {
                phase,
                kind: prepared.kind,
                key: prepared.key,
                status,
                refusal,
                replay_of_us: prepared.replay_of_us,
                sent_us,
                done_us: shared.now_us(),
            }
        }
    }

    /// The worker's `n`th request. A replay with nothing accepted to replay (none since the
    /// replay store was lost) goes as a fresh DPoP request instead.
    fn prepare(&self, n: u64) -> Prepared {
        let scheduled = Kind::SCHEDULE[(self.id + n as usize) % Kind::SCHEDULE.len()];
        let mut kind = Kind::replay_instead(scheduled, n);
        if kind == Kind::PrivateDpopReplay {
            if let Some(accepted) = self.shared.replayable().get() {
                let url = format!("{}{}", self.api, accepted.path);
                return Prepared {
                    kind,
                    request: dpop_request(&self.client, &url, &accepted.token, &accepted.proof),
                    key: Some(accepted.key),
                    replay_of_us: Some(accepted.sent_us),
                    fresh: None,
                };
            }
            kind = Kind::PrivateDpop;
        }
        let url = format!("{}{}", self.api, kind.path());
        if kind.is_dpop() {
            let active = self.shared.active();
            let proof = self
                .shared
                .dpop()
                .proof(&url, &active.dpop)
                .unwrap_or_default();
            return Prepared {
                kind,
                request: dpop_request(&self.client, &url, &active.dpop, &proof),
                key: Some(active.key),
                replay_of_us: None,
                fresh: Some(Accepted {
                    path: kind.path(),
                    token: active.dpop.clone(),
                    proof,
                    key: active.key,
                    sent_us: 0,
                }),
            };
        }
        let (token, key) = self.token(kind, n);
        let mut request = self.client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Prepared {
            kind,
            request,
            key,
            replay_of_us: None,
            fresh: None,
        }
    }

    /// The bearer token of the worker's `n`th request, a `kind`, and the registry index of its
    /// key when it is a valid token (none for DPoP kinds, which [`Worker::prepare`] sends).
    fn token(&self, kind: Kind, n: u64) -> (Option<String>, Option<usize>) {
        let active = self.shared.active();
        match kind {
            Kind::PublicNone | Kind::PrivateNone | Kind::ScopedNone => (None, None),
            Kind::PrivateScoped | Kind::ScopedScoped => {
                (Some(active.scoped.clone()), Some(active.key))
            }
            Kind::PrivateUnscoped | Kind::ScopedUnscoped => {
                (Some(active.unscoped.clone()), Some(active.key))
            }
            // A fresh kid every time, so no cache of any kind can answer it.
            Kind::PrivateUnknownKid | Kind::ScopedUnknownKid => {
                let kid = format!("soak-unknown-{}-{n}", self.id);
                (with_kid(&active.scoped, &kid), None)
            }
            Kind::PrivateTampered => (Some(tamper_signature(&active.scoped)), None),
            Kind::PrivateGarbage => (Some("not-a-jws".to_owned()), None),
            // Sent by [`Worker::prepare`] with their proofs.
            Kind::PrivateDpop | Kind::ScopedDpop | Kind::PrivateDpopReplay => (None, None),
        }
    }
}

/// A request ready to send, with what its record and the replays need.
struct Prepared {
    kind: Kind,
    request: reqwest::RequestBuilder,
    /// The registry index of its token's key, for valid and DPoP tokens.
    key: Option<usize>,
    /// For a replay, when the replayed request was first sent.
    replay_of_us: Option<u64>,
    /// For a fresh DPoP request, what replaying it sends (its `sent_us` set once sent).
    fresh: Option<Accepted>,
}

/// The JSON header of a compact JWS.
fn header_of(token: &str) -> Option<Value> {
    let header = token.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()
}

/// `token` with its header's `kid` replaced; the rest (payload, signature) is kept, so the api
/// must look the key up before it can refuse the token.
pub fn with_kid(token: &str, kid: &str) -> Option<String> {
    let (_, rest) = token.split_once('.')?;
    let mut header = header_of(token)?;
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
    header_of(token)?.get("kid")?.as_str().map(str::to_owned)
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

    #[test]
    fn replays_take_the_place_of_one_private_dpop_request_in_six_passes_and_nothing_else() {
        let len = Kind::SCHEDULE.len() as u64;
        let kinds: Vec<Kind> = (0..len * 12)
            .map(|n| Kind::replay_instead(Kind::SCHEDULE[(n % len) as usize], n))
            .collect();
        let count = |kind| kinds.iter().filter(|k| **k == kind).count();

        assert_eq!(count(Kind::PrivateDpopReplay), 2);
        assert_eq!(count(Kind::PrivateDpop), 10);
        assert_eq!(count(Kind::ScopedDpop), 12);
        assert_eq!(count(Kind::PublicNone), 12);
    }
}
