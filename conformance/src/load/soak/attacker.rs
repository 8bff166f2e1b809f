//! The attacker of the soak's slot-holding phase: it opens as many connections as the api
//! serves at once (`MAX_CONNECTIONS`), on top of the load's own, and keeps them busy in the
//! three cheap ways that starve a server which only counts connections:
//!
//! - slow-loris: a request head sent a byte a second, never finished;
//! - HTTP/1.1 keep-alive: one `GET /api/public` every 2 to 3 s on the same connection;
//! - HTTP/2 with prior knowledge: one request, then nothing but answers to the server's PINGs.
//!
//! A connection the server closes is opened again, at most [`REOPENS_PER_SECOND`] across all
//! slots, so the attacker keeps every slot it can for the whole phase. It counts what it opened,
//! what the server closed and what the server answered; the phase's checks are judged from the
//! load's and the probes' figures, these only show that the slots were really held.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::Url;
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio::time::Interval;

use super::traffic::ticker;

/// The most connections the attacker opens again per second, over all its slots: enough to
/// win back every slot the server frees, bounded so the attacker cannot turn into a flood.
const REOPENS_PER_SECOND: u32 = 20;
/// How often the slow-loris sends the next byte of its head.
const SLOW_LORIS_BYTE_EVERY: Duration = Duration::from_secs(1);
/// The shortest pause between two requests of a kept-alive HTTP/1.1 connection; each slot adds
/// up to a second to it, so the requests do not all come at once.
const KEEP_ALIVE_PAUSE: Duration = Duration::from_secs(2);
/// The route every attacking request asks for: the cheapest, no token.
const PATH: &str = "/api/public";

/// A way of holding a connection slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// A request head sent a byte at a time, never finished.
    SlowLoris,
    /// HTTP/1.1 kept alive with a cheap request every few seconds.
    KeepAlive,
    /// HTTP/2 with prior knowledge, idle after one request, answering PINGs.
    Http2Idle,
}

impl Way {
    /// Every way, in the order the slots cycle through them.
    pub const ALL: [Way; 3] = [Way::SlowLoris, Way::KeepAlive, Way::Http2Idle];

    /// Its name in the table and the JSON summary.
    pub fn name(self) -> &'static str {
        match self {
            Way::SlowLoris => "slow-loris",
            Way::KeepAlive => "HTTP/1.1 keep-alive",
            Way::Http2Idle => "HTTP/2 idle",
        }
    }
}

/// Where the attacker connects: the api's socket address and its `Host`.
#[derive(Debug, Clone)]
pub struct Target {
    address: SocketAddr,
    /// `127.0.0.1:PORT`, the `Host` (HTTP/1.1) or `:authority` (HTTP/2) of its requests.
    host: String,
}

impl Target {
    /// The target of the api at `api`, an `http://127.0.0.1:PORT` URL.
    pub fn of(api: &str) -> Result<Self> {
        let url = Url::parse(api).with_context(|| format!("{api}: not a URL"))?;
        let host = url.host_str().context("the api's URL has no host")?;
        let port = url
            .port_or_known_default()
            .context("the api's URL has no port")?;
        let host = format!("{host}:{port}");
        let address = host
            .parse()
            .with_context(|| format!("{host}: not an IP address and port"))?;
        Ok(Target { address, host })
    }
}

/// What the attacker did in one way over a phase.
#[derive(Debug, Clone, Serialize)]
pub struct WayFigures {
    /// The way's name.
    pub way: &'static str,
    /// Connections it holds at once.
    pub slots: u64,
    /// Connections opened, the first ones and every re-opening.
    pub opened: u64,
    /// Of those, the ones the server closed during the phase.
    pub closed_by_server: u64,
    /// Connection attempts that failed.
    pub refused: u64,
    /// Requests answered 200 on its connections (none for slow-loris, which never finishes one).
    pub answered_200: u64,
    /// Requests answered otherwise.
    pub answered_other: u64,
}

impl WayFigures {
    /// Connections still open when the phase ended.
    pub fn open_at_end(&self) -> u64 {
        self.opened.saturating_sub(self.closed_by_server)
    }
}

/// What the attacker did over a phase.
#[derive(Debug, Clone, Serialize)]
pub struct AttackFigures {
    /// Connections it held at once: the api's `MAX_CONNECTIONS`.
    pub slots: usize,
    /// The same, way by way.
    pub ways: Vec<WayFigures>,
}

impl AttackFigures {
    /// The sum of `figure` over the ways.
    pub fn total(&self, figure: impl Fn(&WayFigures) -> u64) -> u64 {
        self.ways.iter().map(figure).sum()
    }
}

/// One way's counters, shared by its slots.
#[derive(Debug, Default)]
struct Counters {
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    refused: AtomicU64,
    answered_200: AtomicU64,
    answered_other: AtomicU64,
}

/// Counts one more.
fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    fn answered(&self, status: u16) {
        count(if status == 200 {
            &self.answered_200
        } else {
            &self.answered_other
        });
    }

    fn figures(&self, way: Way, slots: u64) -> WayFigures {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        WayFigures {
            way: way.name(),
            slots,
            opened: read(&self.opened),
            closed_by_server: read(&self.closed_by_server),
            refused: read(&self.refused),
            answered_200: read(&self.answered_200),
            answered_other: read(&self.answered_other),
        }
    }
}

/// The running attacker: one task per slot.
pub struct Attacker {
    slots: usize,
    counters: Arc<[Counters; 3]>,
    tasks: JoinSet<()>,
}

impl Attacker {
    /// Opens `slots` connections to `target`, the ways taking turns, and keeps them open.
    pub fn start(target: &Target, slots: usize) -> Self {
        let target = Arc::new(target.clone());
        let counters: Arc<[Counters; 3]> = Arc::default();
        let period = Duration::from_secs(1) / REOPENS_PER_SECOND;
        let reopen = Arc::new(Mutex::new(ticker(period)));
        let mut tasks = JoinSet::new();
        for slot in 0..slots {
            let slot = Slot {
                index: slot,
                way: Way::ALL[slot % Way::ALL.len()],
                target: target.clone(),
                counters: counters.clone(),
                reopen: reopen.clone(),
            };
            tasks.spawn(slot.hold());
        }
        Attacker {
            slots,
            counters,
            tasks,
        }
    }

    /// Closes every connection and returns what the attacker did.
    pub async fn finish(mut self) -> AttackFigures {
        // The counters are read before the connections drop, which the server would not see
        // as its own closing.
        let ways = Way::ALL
            .iter()
            .enumerate()
            .map(|(index, &way)| {
                let slots = (index..self.slots).step_by(Way::ALL.len()).count() as u64;
                self.counters[index].figures(way, slots)
            })
            .collect();
        self.tasks.shutdown().await;
        AttackFigures {
            slots: self.slots,
            ways,
        }
    }
}

/// One slot: a connection of one way, opened again whenever the server closes it.
struct Slot {
    index: usize,
    way: Way,
    target: Arc<Target>,
    counters: Arc<[Counters; 3]>,
    /// Shared by every slot: one re-opening per tick.
    reopen: Arc<Mutex<Interval>>,
}

impl Slot {
    /// Holds the slot until the task is aborted.
    async fn hold(self) {
        let counters = &self.counters[self.way as usize];
        loop {
            match TcpStream::connect(self.target.address).await {
                Ok(stream) => {
                    count(&counters.opened);
                    let _ = stream.set_nodelay(true);
                    self.hold_connection(stream, counters).await;
                    count(&counters.closed_by_server);
                }
                Err(_) => count(&counters.refused),
            }
            self.reopen.lock().await.tick().await;
        }
    }

    /// Keeps `stream` busy this slot's way until the server closes it.
    async fn hold_connection(&self, stream: TcpStream, counters: &Counters) {
        let host = &self.target.host;
        match self.way {
            Way::SlowLoris => slow_loris(stream, host).await,
            Way::KeepAlive => {
                // Each slot its own pause, from 2 to 3 s.
                let pause = KEEP_ALIVE_PAUSE + Duration::from_millis(self.index as u64 * 37 % 1000);
                keep_alive(stream, host, pause, counters).await;
            }
            Way::Http2Idle => http2_idle(stream, host, counters).await,
        }
    }
}

/// Sends a request head a byte every [`SLOW_LORIS_BYTE_EVERY`] without ever ending it, until
/// the server closes the connection (or answers, then closes it).
async fn slow_loris(stream: TcpStream, host: &str) {
    let head = format!("GET {PATH} HTTP/1.1\r\nHost: {host}\r\nX-Slow: ");
    let mut bytes = head.into_bytes().into_iter().chain(std::iter::repeat(b'a'));
    let (mut reader, mut writer) = stream.into_split();
    let mut ticker = ticker(SLOW_LORIS_BYTE_EVERY);
    let mut answer = [0u8; 1024];
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let byte = bytes.next().unwrap_or(b'a');
                if writer.write_all(&[byte]).await.is_err() {
                    return;
                }
            }
            read = reader.read(&mut answer) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
            }
        }
    }
}

/// Asks `GET /api/public` on one HTTP/1.1 connection, then again every `pause`, until the
/// server closes it.
async fn keep_alive(stream: TcpStream, host: &str, pause: Duration, counters: &Counters) {
    let Ok((mut sender, connection)) = http1::handshake(TokioIo::new(stream)).await else {
        return;
    };
    let mut connection = pin!(connection);
    loop {
        let request = Request::get(PATH)
            .header(hyper::header::HOST, host)
            .body(String::new());
        let Ok(request) = request else { return };
        let exchange = async {
            sender.ready().await.ok()?;
            status_of(sender.send_request(request)).await
        };
        match alongside(connection.as_mut(), exchange).await {
            Some(Some(status)) => counters.answered(status),
            _ => return,
        }
        if alongside(connection.as_mut(), tokio::time::sleep(pause))
            .await
            .is_none()
        {
            return;
        }
    }
}

/// Opens an HTTP/2 connection with prior knowledge, asks `GET /api/public` once, then keeps
/// the connection open (answering the server's PINGs) until the server closes it.
async fn http2_idle(stream: TcpStream, host: &str, counters: &Counters) {
    let handshake = http2::handshake(TokioExecutor::new(), TokioIo::new(stream));
    let Ok((mut sender, connection)) = handshake.await else {
        return;
    };
    let mut connection = pin!(connection);
    let Ok(request) = Request::get(format!("http://{host}{PATH}")).body(String::new()) else {
        return;
    };
    match alongside(connection.as_mut(), status_of(sender.send_request(request))).await {
        Some(Some(status)) => counters.answered(status),
        _ => return,
    }
    // The connection future answers PINGs; the sender is kept, or hyper would close the
    // connection itself once no request can come any more.
    let _ = connection.await;
    drop(sender);
}

/// Runs `work` while driving `connection`: `None` when the connection ended first.
async fn alongside<C: Future, W: Future>(connection: Pin<&mut C>, work: W) -> Option<W::Output> {
    tokio::select! {
        // The connection first: once it has ended it must not be polled again.
        biased;
        _ = connection => None,
        output = work => Some(output),
    }
}

/// The status of the response `response` brings, once its body is read; `None` on an error.
async fn status_of(
    response: impl Future<Output = hyper::Result<Response<Incoming>>>,
) -> Option<u16> {
    let response = response.await.ok()?;
    let status = response.status().as_u16();
    response.into_body().collect().await.ok()?;
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_the_apis_loopback_address_and_its_host() {
        let target = Target::of("http://127.0.0.1:3010").expect("a loopback URL");

        assert_eq!(
            target.address,
            "127.0.0.1:3010".parse().expect("an address")
        );
        assert_eq!(target.host, "127.0.0.1:3010");
        assert!(Target::of("http://localhost:3010").is_err(), "not an IP");
    }

    /// A server that closes a connection without a complete head after 1 s, and an idle
    /// HTTP/1.1 connection 1 s after its last answer; it lives as long as the test's runtime.
    async fn impatient_server() -> Target {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let app = axum::Router::new().route(PATH, axum::routing::get(|| async { "public" }));
        let limits = api::ServerLimits {
            header_read_timeout: Duration::from_secs(1),
            ..api::ServerLimits::default()
        };
        tokio::spawn(api::serve_with(
            listener,
            app,
            std::future::pending(),
            limits,
        ));
        Target::of(&url).expect("loopback URL")
    }

    #[tokio::test]
    async fn every_way_holds_its_slots_and_a_closed_connection_is_opened_again() {
        let target = impatient_server().await;

        let attacker = Attacker::start(&target, 6);
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let figures = attacker.finish().await;

        let [slow_loris, keep_alive, http2] = &figures.ways[..] else {
            panic!("three ways: {figures:?}");
        };
        assert_eq!(figures.total(|way| way.slots), 6);
        assert!(
            slow_loris.closed_by_server >= 2 && slow_loris.opened > 2,
            "the unfinished heads are closed and opened again: {slow_loris:?}"
        );
        assert_eq!(slow_loris.answered_200, 0);
        assert!(keep_alive.answered_200 >= 2, "{keep_alive:?}");
        assert!(http2.answered_200 >= 2, "{http2:?}");
        assert_eq!(figures.total(|way| way.refused + way.answered_other), 0);
    }
}
