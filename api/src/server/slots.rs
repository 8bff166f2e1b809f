//! Connection slots: which connections are open, which of them the server is only waiting on
//! (idle) and since when, and which one to close when a new client needs a slot.
//!
//! A connection is *idle* when no request of it is in progress: before its first request
//! head is complete, between requests of an HTTP/1 keep-alive connection, and whenever an
//! HTTP/2 connection has no open stream, whatever PINGs it answers. It *waits on its client*
//! when it is idle or when every request it has in progress is waiting for more of its body
//! (a body trickled in). Such a connection costs the server nothing to close (nothing is lost
//! but what a slow client has not finished sending), so when every slot is taken and a new
//! client arrives, the connection that has waited on its client longest is closed to make
//! room, as nginx and HAProxy do, rather than the newcomer waiting for a slot it may never
//! get. Only when every connection has a request the server itself is working on does a
//! newcomer wait, in the listen backlog.
//!
//! Among those, the one closed is chosen by what closing it can cost a client, then by how
//! long it has waited: first a connection that never completed a request (a slow or silent
//! client: nothing to lose, nobody to race), then one whose requests wait for trickled bodies,
//! then an idle HTTP/2 connection (its `GOAWAY` tells the client which requests were served),
//! and last an idle HTTP/1 keep-alive connection, whose close can cross a request the client
//! is sending at that moment on a connection it took from its pool.
//!
//! The request path pays two atomic updates and a clock read per request; the registry's lock
//! is taken only when a connection opens or closes, and the scan for the longest-idle
//! connection only at the limit.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Notify;

/// The open connections, counted against the limit; built once per server.
#[derive(Debug)]
pub(crate) struct Slots {
    limit: usize,
    epoch: Instant,
    registry: Mutex<Registry>,
    /// Woken when a slot frees or a connection becomes idle while the accept loop waits.
    changed: Notify,
    /// Set while the accept loop waits, so that requests ending need not wake it otherwise.
    waiting: AtomicBool,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    /// Connections holding a slot.
    counted: HashMap<u64, Arc<Slot>>,
    /// Connections asked to close that have not closed yet. They no longer hold a slot, so a
    /// newcomer need not wait for a slow peer's goodbye, but there may be at most a quarter
    /// as many of them as slots ([`Slots::leaving_limit`]), which bounds the sockets open at
    /// once to 1.25 times the limit.
    leaving: usize,
}

/// One connection's state, shared by its task, its requests and the registry.
#[derive(Debug)]
pub(crate) struct Slot {
    id: u64,
    epoch: Instant,
    /// Requests (HTTP/2 streams) in progress.
    in_flight: AtomicUsize,
    /// Requests in progress whose body the server is waiting for.
    stalled: AtomicUsize,
    /// When the server last started waiting on the client: `in_flight` fell to zero, a body
    /// ran dry, or the connection opened; in µs since `epoch`.
    idle_since: AtomicU64,
    /// Requests started on this connection.
    requests: AtomicU64,
    /// Whether it speaks HTTP/2 (known from its first request).
    http2: AtomicBool,
    /// Set once the server asked this connection to close; it no longer holds a slot.
    evicted: AtomicBool,
    /// Wakes the connection's task: it was evicted, or reached its request cap.
    wake: Notify,
}

/// A slot held by a connection's task; frees it (or its place among the leaving) on drop.
#[derive(Debug)]
pub(crate) struct SlotGuard {
    slots: Arc<Slots>,
    slot: Arc<Slot>,
}

/// A request in progress on a slot; the slot is idle again once every such guard is dropped.
#[derive(Debug)]
pub(crate) struct InFlight {
    connection: Arc<SlotGuard>,
}

/// A response body that keeps its request counted as in progress until hyper has written it
/// and dropped it.
#[derive(Debug)]
pub(crate) struct Counted<B> {
    body: B,
    _in_flight: InFlight,
}

impl Slots {
    /// Room for `limit` connections (at least one).
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Slots {
            limit: limit.max(1),
            epoch: Instant::now(),
            registry: Mutex::new(Registry::default()),
            changed: Notify::new(),
            waiting: AtomicBool::new(false),
        })
    }

    /// Waits until a newcomer could be admitted: a slot is free, or an idle connection can be
    /// closed for it (and not too many connections are still leaving). The accept loop waits
    /// here before accepting, so that while every connection has a request in progress new
    /// clients wait in the listen backlog.
    pub(crate) async fn room(&self) {
        self.wait_for(|registry| self.has_room(registry).then_some(()))
            .await;
    }

    /// Registers a newly accepted connection, waiting (as [`Slots::room`]) while there is no
    /// room for it. At the limit, the connection idle longest is asked to close and gives up
    /// its slot at once, in the same step, so the limit holds.
    pub(crate) async fn admit(self: &Arc<Self>) -> SlotGuard {
        self.wait_for(|registry| self.has_room(registry).then(|| self.admit_locked(registry)))
            .await
    }

    /// Runs `attempt` under the registry's lock until it returns something, waiting for a
    /// change between attempts.
    async fn wait_for<T>(&self, mut attempt: impl FnMut(&mut Registry) -> Option<T>) -> T {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            // Announce the wait before looking, so that a request ending after the look
            // sees the flag and wakes us (both sides use sequentially consistent order).
            self.waiting.store(true, Ordering::SeqCst);
            if let Some(done) = attempt(&mut self.lock()) {
                self.waiting.store(false, Ordering::SeqCst);
                return done;
            }
            changed.await;
        }
    }

    fn has_room(&self, registry: &Registry) -> bool {
        registry.leaving < self.leaving_limit()
            && (registry.counted.len() < self.limit
                || registry.counted.values().any(|slot| slot.waits_on_client()))
    }

    /// Admits a connection; at the limit, evicts the connection idle longest.
    fn admit_locked(self: &Arc<Self>, registry: &mut Registry) -> SlotGuard {
        if registry.counted.len() >= self.limit {
            let victim = registry
                .counted
                .values()
                .filter(|slot| slot.waits_on_client())
                .min_by_key(|slot| {
                    (
                        slot.eviction_cost(),
                        slot.idle_since.load(Ordering::Relaxed),
                    )
                })
                .cloned();
            if let Some(victim) = victim {
                registry.counted.remove(&victim.id);
                registry.leaving += 1;
                victim.evicted.store(true, Ordering::SeqCst);
                victim.wake.notify_one();
            }
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let slot = Arc::new(Slot {
            id,
            epoch: self.epoch,
            in_flight: AtomicUsize::new(0),
            stalled: AtomicUsize::new(0),
            idle_since: AtomicU64::new(micros_since(self.epoch)),
            requests: AtomicU64::new(0),
            http2: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        });
        registry.counted.insert(id, slot.clone());
        SlotGuard {
            slots: self.clone(),
            slot,
        }
    }

    /// How many connections may still be leaving while newcomers are admitted: a quarter of
    /// the limit, at least one.
    fn leaving_limit(&self) -> usize {
        (self.limit / 4).max(1)
    }

    /// Connections holding a slot now.
    #[cfg(test)]
    fn counted(&self) -> usize {
        self.lock().counted.len()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // The registry holds plain counts and maps that no panic can leave half-updated.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_if_waiting(&self) {
        if self.waiting.load(Ordering::SeqCst) {
            self.changed.notify_one();
        }
    }
}

impl Slot {
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// Whether the server is only waiting on this connection's client: no request in
    /// progress, or every one waiting for more of its body.
    pub(crate) fn waits_on_client(&self) -> bool {
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        in_flight == 0 || self.stalled.load(Ordering::SeqCst) >= in_flight
    }

    /// What closing this waiting connection may cost its client, lowest first (see the
    /// module documentation).
    fn eviction_cost(&self) -> u8 {
        if self.requests.load(Ordering::Relaxed) == 0 {
            0
        } else if !self.is_idle() {
            1
        } else if self.http2.load(Ordering::Relaxed) {
            2
        } else {
            3
        }
    }

    fn mark_waiting(&self) {
        self.idle_since
            .store(micros_since(self.epoch), Ordering::Relaxed);
    }

    /// How long this connection has had no request in progress; zero while it has one.
    pub(crate) fn idle_for(&self) -> Duration {
        if !self.is_idle() {
            return Duration::ZERO;
        }
        let since = self.idle_since.load(Ordering::Relaxed);
        Duration::from_micros(micros_since(self.epoch).saturating_sub(since))
    }

    /// Requests started on this connection so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Whether the server has asked this connection to close to make room.
    pub(crate) fn evicted(&self) -> bool {
        self.evicted.load(Ordering::SeqCst)
    }

    /// Completes when the connection's task has something to act on: an eviction, or a
    /// request that reached the connection's request cap.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }
}

impl SlotGuard {
    /// The slot, for the connection's task to read.
    pub(crate) fn slot(&self) -> &Slot {
        &self.slot
    }

    /// Records that this connection speaks HTTP/2.
    pub(crate) fn mark_http2(&self) {
        self.slot.http2.store(true, Ordering::Relaxed);
    }

    /// Counts a request as started and in progress until the returned guard is dropped;
    /// returns the guard and the request's number on this connection (1 for the first).
    pub(crate) fn start_request(self: &Arc<Self>) -> (InFlight, u64) {
        self.slot.in_flight.fetch_add(1, Ordering::SeqCst);
        let number = self.slot.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let in_flight = InFlight {
            connection: self.clone(),
        };
        (in_flight, number)
    }

    /// Asks the connection's own task to act (its request cap was reached).
    pub(crate) fn wake_task(&self) {
        self.slot.wake.notify_one();
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut registry = self.slots.lock();
        if self.slot.evicted() {
            registry.leaving -= 1;
        } else {
            registry.counted.remove(&self.slot.id);
        }
        drop(registry);
        self.slots.changed.notify_one();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Mark the time before the count reaches zero, so a scan never sees an idle slot
        // with the time of its previous idle spell.
        let slot = &self.connection.slot;
        slot.mark_waiting();
        if slot.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.connection.slots.wake_if_waiting();
        }
    }
}

impl<B> Counted<B> {
    /// `body`, counted as in progress until dropped.
    pub(crate) fn new(body: B, in_flight: InFlight) -> Self {
        Counted {
            body,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that counts its request as waiting on the client while the body has run
/// dry, so that a connection trickling bodies in can be closed for a newcomer like an idle one.
#[derive(Debug)]
pub(crate) struct Watched<B> {
    body: B,
    connection: Arc<SlotGuard>,
    stalled: bool,
}

impl<B> Watched<B> {
    /// `body`, of a request on `connection`.
    pub(crate) fn new(body: B, connection: Arc<SlotGuard>) -> Self {
        Watched {
            body,
            connection,
            stalled: false,
        }
    }
}

impl<B: Body + Unpin> Body for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.body).poll_frame(cx);
        let slot = &this.connection.slot;
        match (poll.is_pending(), this.stalled) {
            (true, false) => {
                this.stalled = true;
                slot.mark_waiting();
                slot.stalled.fetch_add(1, Ordering::SeqCst);
                this.connection.slots.wake_if_waiting();
            }
            (false, true) => {
                this.stalled = false;
                slot.stalled.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B> Drop for Watched<B> {
    fn drop(&mut self) {
        if self.stalled {
            self.connection.slot.stalled.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Open files a server with `limit` slots may need at once: every slot, the quarter more that
/// may be saying goodbye, and room for the listener, the issuer client's sockets and logs.
pub(crate) fn open_files_needed(limit: usize) -> u64 {
    let limit = limit.max(1) as u64;
    limit + (limit / 4).max(1) + 64
}

/// Warns once, at start-up, when the process's open-files limit (read from
/// `/proc/self/limits`; nothing is said where that cannot be read) is below what `limit`
/// slots may need: past it `accept` fails and clients wait although slots are free.
pub(crate) fn warn_if_open_files_are_too_few(limit: usize) {
    let needed = open_files_needed(limit);
    let Some(allowed) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(soft_open_files_limit)
    else {
        return;
    };
    if allowed < needed {
        tracing::warn!(
            max_connections = limit,
            open_files_needed = needed,
            open_files_allowed = allowed,
            "the open-files limit is below what MAX_CONNECTIONS needs; raise it (ulimit -n) or lower MAX_CONNECTIONS"
        );
    }
}

/// The soft "Max open files" of a `/proc/PID/limits` text; `None` when unlimited or absent.
fn soft_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn micros_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Slots {
        /// Admits a connection if there is room now, without waiting.
        fn try_admit(self: &Arc<Self>) -> Option<Arc<SlotGuard>> {
            let mut registry = self.lock();
            self.has_room(&registry)
                .then(|| Arc::new(self.admit_locked(&mut registry)))
        }

        fn room_now(&self) -> bool {
            self.has_room(&self.lock())
        }
    }

    #[test]
    fn at_the_limit_the_connection_idle_longest_gives_up_its_slot() {
        let slots = Slots::new(3);
        let oldest_idle = slots.try_admit().expect("room");
        std::thread::sleep(Duration::from_millis(2));
        let busy = slots.try_admit().expect("room");
        let (request, _) = busy.start_request();
        let younger_idle = slots.try_admit().expect("room");

        let newcomer = slots.try_admit().expect("room made by eviction");

        assert!(oldest_idle.slot().evicted());
        assert!(!busy.slot().evicted() && !younger_idle.slot().evicted());
        assert!(!newcomer.slot().evicted());
        assert_eq!(slots.counted(), 3);
        drop(request);
    }

    #[test]
    fn a_connection_that_never_completed_a_request_goes_before_an_older_idle_keep_alive_one() {
        let slots = Slots::new(3);
        let keep_alive = slots.try_admit().expect("room");
        drop(keep_alive.start_request());
        let http2 = slots.try_admit().expect("room");
        http2.mark_http2();
        drop(http2.start_request());
        std::thread::sleep(Duration::from_millis(2));
        let slow_head = slots.try_admit().expect("room");

        let first = slots.try_admit().expect("room made by eviction");
        assert!(
            slow_head.slot().evicted(),
            "the client that never finished a head goes first"
        );
        drop(first.start_request());
        drop(slow_head); // gone: it no longer counts among the leaving
        let _second = slots.try_admit().expect("room made by eviction");
        assert!(
            http2.slot().evicted(),
            "then an idle HTTP/2 connection, told by GOAWAY"
        );
        assert!(
            !keep_alive.slot().evicted(),
            "an idle HTTP/1 connection goes last"
        );
        drop(first);
    }

    #[test]
    fn a_connection_is_idle_again_when_its_last_response_is_dropped() {
        let slots = Slots::new(1);
        let connection = slots.try_admit().expect("room");
        let (first, number_one) = connection.start_request();
        let (second, number_two) = connection.start_request();
        assert_eq!((number_one, number_two), (1, 2));
        assert_eq!(connection.slot().idle_for(), Duration::ZERO);
        assert!(
            !slots.room_now(),
            "a busy connection is no room for a newcomer"
        );

        drop(first);
        assert!(!connection.slot().is_idle());
        drop(second);
        assert!(connection.slot().is_idle());
        assert!(
            slots.room_now(),
            "an idle connection can be closed for a newcomer"
        );
    }

    #[test]
    fn with_every_connection_busy_there_is_no_room_until_one_is_idle() {
        let slots = Slots::new(2);
        let first = slots.try_admit().expect("room");
        let second = slots.try_admit().expect("room");
        let (_a, _) = first.start_request();
        let (b, _) = second.start_request();

        assert!(slots.try_admit().is_none());
        drop(b);
        let third = slots.try_admit().expect("room once one is idle");

        assert!(second.slot().evicted() && !first.slot().evicted());
        assert_eq!(slots.counted(), 2);
        drop(third);
        assert_eq!(slots.counted(), 1);
    }

    #[test]
    fn the_soft_open_files_limit_is_read_from_proc_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63435                63435                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files_limit(limits), Some(1024));
        assert_eq!(
            soft_open_files_limit("Max open files  unlimited  unlimited  files"),
            None
        );
        assert_eq!(open_files_needed(512), 512 + 128 + 64);
        assert!(
            open_files_needed(512) <= 1024,
            "the default fits the common limit"
        );
    }

    #[test]
    fn leaving_connections_are_bounded() {
        let slots = Slots::new(1);
        let leaving = slots.try_admit().expect("room");
        let _newcomer = slots.try_admit().expect("room made by eviction");
        assert!(leaving.slot().evicted());
        assert!(
            !slots.room_now(),
            "one slot, and one connection still leaving"
        );
        drop(leaving);
        assert!(slots.room_now());
    }
}
