//! The HTTP server around the app: an accept loop with production limits against hostile
//! clients (connection cap with back-pressure, header size, count and read timeout, body size,
//! request timeout) and a graceful shutdown with a deadline.
//!
//! `axum::serve` exposes neither the connection cap nor the header read timeout, so this module
//! drives hyper directly, through `hyper_util`'s HTTP/1-or-2 auto builder, the way
//! `axum::serve` does internally. The body limit and the request timeout are tower-http's
//! layers, put around the app once (`layers.rs`); [`ServerLimits`] holds the settings.
//! HTTPS ([`serve_tls_with`], `tls.rs`) is one more step of the same path: the TLS handshake,
//! inside the connection's slot and its time to send a request head.
//!
//! What a hostile client gets (checked by `tests/it/hostile_http.rs`):
//!
//! | input | answer |
//! |---|---|
//! | request head (request line and headers) over [`ServerLimits::max_header_bytes`] | `431`, then the connection is closed |
//! | more than [`ServerLimits::max_headers`] headers | `431`, then closed |
//! | a URI that does not fit in the head limit (a huge query string) | `431`, then closed; `414` only for a URI over 65 534 bytes inside a larger head limit |
//! | a body over [`ServerLimits::max_body_bytes`] | `413` (at once from `Content-Length`, or when a handler or the authentication core reads past the limit) |
//! | no `Host`, two, or an invalid one; an HTTP/2 `Host` naming another authority than `:authority` | `400 invalid_request` "Invalid Host header", then the connection is closed (`host.rs`) |
//! | a head not complete within [`ServerLimits::header_read_timeout`] (over HTTPS, counted from connecting, the TLS handshake included) | the connection is closed, no answer |
//! | a request not answered within [`ServerLimits::request_timeout`] (e.g. a body sent byte by byte) | `408` |
//! | more than [`ServerLimits::max_connections`] connections | the connection that has waited on its client longest (idle, sending a head or trickling a body) is closed to make room (`slots.rs`); only when every connection has a request the server is working on does the newcomer wait in the listen backlog |
//! | a connection with no request in progress for [`ServerLimits::idle_timeout`] (an HTTP/2 connection answering PINGs included) | closed (HTTP/2: `GOAWAY` first) |
//! | a connection past [`ServerLimits::max_requests_per_connection`] requests or [`ServerLimits::max_connection_age`] | closed once its requests in progress are answered (HTTP/1: the last response says `Connection: close`; HTTP/2: `GOAWAY`) |

pub mod host;
mod layers;
mod slots;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Response, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceExt};

use layers::AnswerBody;
use slots::{Counted, SlotGuard, Slots, Watched};
pub use tls::{CertificateSummary, Tls, TlsConnection, TlsError, TlsFiles};

/// A request's body as the app sees it: hyper's, watched for a client that stops sending.
pub(crate) type RequestBody = Watched<Incoming>;

/// The smallest head limit hyper accepts (its minimum read buffer); smaller values are raised
/// to it.
pub const MIN_HEADER_BYTES: usize = 8 * 1024;

/// Limits the server enforces on every connection. [`ServerLimits::default`] is what
/// [`crate::serve`] and the binary use unless configured otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once. When all are taken and a new client connects, the
    /// connection that has waited on its client longest (no request in progress, or only
    /// requests waiting for their bodies) is closed to make room, so clients holding
    /// connections open cannot starve others. Only when every connection has a request the
    /// server is working on does it stop accepting: further clients then wait in
    /// the kernel's listen backlog (back-pressure) rather than being refused. Connections
    /// asked to close no longer count while they say goodbye, but at most a quarter as many
    /// again may be doing so. Default: 512, which with that quarter leaves room for the
    /// issuer client's sockets under the common 1024 open-files limit.
    pub max_connections: usize,
    /// The largest request head (request line plus headers), in bytes; larger heads get 431.
    /// For HTTP/2 it bounds the header list. At least [`MIN_HEADER_BYTES`]. Default: 32 KiB,
    /// room for the largest token the authentication core accepts (16 KiB) and ordinary headers.
    pub max_header_bytes: usize,
    /// The most header fields in an HTTP/1 request; more get 431. Default: 100 (hyper's).
    pub max_headers: usize,
    /// How long a client has to send a complete request head, from connecting (over HTTPS
    /// the TLS handshake included), or from the end of the previous response on a kept-alive
    /// connection, so it is also the idle timeout of HTTP/1 keep-alive. A slower client is
    /// disconnected. Default: 10 s.
    pub header_read_timeout: Duration,
    /// The largest request body, in bytes: a larger `Content-Length` gets 413 before the app
    /// runs, and reading past it fails, which the app answers 413. This is the one body limit:
    /// it also bounds the form body the authentication core reads for an `access_token`. axum's
    /// body extractors (that read included) keep their own default cap of 2 MiB on top; an app
    /// that needs more sets `axum::extract::DefaultBodyLimit` on its routes. Default: 64 KiB;
    /// the quickstart's routes take no body.
    pub max_body_bytes: usize,
    /// The longest a request may take from its head to its response head, including reading
    /// its body; slower ones get 408. Longer than two issuer fetches at their default timeout
    /// (5 s each), so a request waiting for keys is not cut short. Default: 30 s.
    pub request_timeout: Duration,
    /// Concurrent HTTP/2 streams per connection. Default: 100.
    pub max_concurrent_streams: u32,
    /// How long a connection may have no request in progress before it is closed: an HTTP/2
    /// connection with no open stream (however many PINGs it answers), or an HTTP/1 one
    /// between requests (which `header_read_timeout` bounds as well, as hyper times the wait
    /// for the next head). Default: 10 s.
    pub idle_timeout: Duration,
    /// Requests served on one connection before it is closed (HTTP/1: the last response
    /// carries `Connection: close`; HTTP/2: `GOAWAY`), so long-lived connections are
    /// spread again over replicas and their per-connection state renewed. `0`: no cap.
    /// Default: 1000 (nginx's `keepalive_requests`).
    pub max_requests_per_connection: u64,
    /// How long one connection may live; then it is closed as for the request cap, once its
    /// requests in progress are answered. Default: 1 h (nginx's `keepalive_time`).
    pub max_connection_age: Duration,
    /// After the shutdown signal, how long requests in flight may take to finish before
    /// their connections are dropped. Default: 10 s (Docker's stop timeout is 10 s too).
    pub shutdown_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 512,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrent_streams: 100,
            idle_timeout: Duration::from_secs(10),
            max_requests_per_connection: 1000,
            max_connection_age: Duration::from_secs(60 * 60),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// These limits with the values hyper cannot work with raised to the least it can: at
    /// least one connection, a head limit of at least [`MIN_HEADER_BYTES`].
    pub(crate) fn usable(self) -> Self {
        ServerLimits {
            // Zero connections would never serve anyone; hyper panics below its minimum buffer.
            max_connections: self.max_connections.max(1),
            max_header_bytes: self.max_header_bytes.max(MIN_HEADER_BYTES),
            ..self
        }
    }
}

/// Serves `app` on `listener` with `limits` until `shutdown` completes; then stops accepting,
/// asks every connection to finish its requests in flight and close, and returns once all
/// have, or after [`ServerLimits::shutdown_timeout`] at the latest.
pub async fn serve_with(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) -> io::Result<()> {
    serve_connections(listener, app, shutdown, limits, None).await
}

/// As [`serve_with`], over HTTPS with `tls`: each connection starts with its TLS handshake,
/// and the certificate is reloaded while serving whenever its files change.
pub async fn serve_tls_with(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
    tls: Tls,
) -> io::Result<()> {
    serve_connections(listener, app, shutdown, limits, Some(tls)).await
}

/// The accept loop of [`serve_with`], and of [`serve_tls_with`] when `tls` is set.
async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
    tls: Option<Tls>,
) -> io::Result<()> {
    // Dropped, so aborted, when the server returns.
    let mut reload = JoinSet::new();
    if let Some(tls) = &tls {
        reload.spawn(tls.watch());
    }
    let acceptor = tls.as_ref().map(Tls::acceptor);
    let limits = limits.usable();
    let app = layers::with_limits(app, &limits);
    let builder = Arc::new(builder(&limits));
    slots::warn_if_open_files_are_too_few(limits.max_connections);
    let slots = Slots::new(limits.max_connections);
    let connection_limits = ConnectionLimits::from(&limits);
    let (close, closing) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        while let Some(finished) = connections.try_join_next() {
            report_panic(finished);
        }
        // Back-pressure: while every slot has a request in progress the listener is not
        // polled, so new clients queue in the kernel backlog instead of being refused.
        tokio::select! {
            () = &mut shutdown => break,
            () = slots.room() => {}
        }
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    // Out of file descriptors or memory: accepting again at once would spin.
                    tracing::error!(%error, "accept failed; retrying in 1 s");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        // The room seen before accepting may have gone (an idle connection became busy):
        // the accepted client then waits here, and nobody else is accepted meanwhile.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.admit() => slot,
        };
        connections.spawn(connection(
            stream,
            Connection {
                tls: acceptor.clone(),
                app: app.clone(),
                builder: builder.clone(),
                limits: connection_limits,
                shutdown: closing.clone(),
                guard: slot,
            },
        ));
    }

    // Closing the listener refuses new clients at once instead of leaving them in the backlog.
    drop(listener);
    let _ = close.send(());
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while let Some(finished) = connections.join_next().await {
            report_panic(finished);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown timeout reached; dropping connections with requests still in flight"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// hyper's HTTP/1-or-2 connection builder with `limits` applied.
fn builder(limits: &ServerLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper has no separate head limit on this builder: a head that does not fit in the
        // read buffer is answered 431. Bodies are read through the buffer in chunks, so this
        // does not limit them.
        .max_buf_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // Pings find dead peers, whose connections would otherwise hold a slot until idle.
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// The limits one connection's task enforces itself.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// Until the first request head is complete (hyper does not time protocol detection).
    first_request: Duration,
    idle: Duration,
    max_requests: u64,
    max_age: Duration,
}

impl From<&ServerLimits> for ConnectionLimits {
    fn from(limits: &ServerLimits) -> Self {
        ConnectionLimits {
            first_request: limits.header_read_timeout,
            idle: limits.idle_timeout,
            max_requests: limits.max_requests_per_connection,
            max_age: limits.max_connection_age,
        }
    }
}

/// How long a connection asked to close while idle may take to say goodbye (an HTTP/2
/// `GOAWAY` and its PING) before it is dropped; one with requests in progress gets as long
/// as they take.
const GOODBYE_GRACE: Duration = Duration::from_millis(250);

/// What a connection's task gets besides its socket.
struct Connection<App> {
    /// Set for HTTPS: the handshake comes first.
    tls: Option<TlsAcceptor>,
    app: App,
    builder: Arc<Builder<TokioExecutor>>,
    limits: ConnectionLimits,
    shutdown: watch::Receiver<()>,
    guard: SlotGuard,
}

/// Serves one connection until it closes, or until the server closes it: evicted to make
/// room (`slots.rs`), idle past its timeout, past its request cap or age, or at shutdown once
/// its requests are done. Holds its slot throughout, the TLS handshake included, which must
/// end within the time to send the first request head.
async fn connection<App>(stream: TcpStream, mut connection: Connection<App>)
where
    App: Service<Request<RequestBody>, Response = Response<AnswerBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    App::Future: Send + 'static,
{
    let opened = Instant::now();
    // Responses are small and written whole: waiting to coalesce them only adds latency.
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = connection.tls.take() else {
        return serve_connection(TokioIo::new(stream), None, opened, connection).await;
    };
    let handshake = tokio::time::timeout(
        connection.limits.first_request,
        tls::handshake(&acceptor, stream),
    );
    // An eviction or the shutdown ends a handshake at once: there is nothing to finish.
    let accepted = tokio::select! {
        accepted = handshake => accepted.unwrap_or_else(|_| {
            tracing::debug!("TLS handshake not done within the header read timeout; closing");
            None
        }),
        () = connection.guard.slot().woken() => None,
        _ = connection.shutdown.changed() => None,
    };
    if let Some((stream, tls)) = accepted {
        serve_connection(TokioIo::new(stream), Some(tls), opened, connection).await;
    }
}

/// Serves the (decrypted) connection `io`, `opened` at that instant, as [`connection`] says.
async fn serve_connection<Io, App>(
    io: TokioIo<Io>,
    tls: Option<TlsConnection>,
    opened: Instant,
    connection: Connection<App>,
) where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    App: Service<Request<RequestBody>, Response = Response<AnswerBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    App::Future: Send + 'static,
{
    let Connection {
        app,
        builder,
        limits,
        mut shutdown,
        guard,
        ..
    } = connection;
    let guard = Arc::new(guard);
    let service = counted_service(app, guard.clone(), limits.max_requests, tls);
    let mut conn = pin!(builder.serve_connection(io, service));
    let slot = guard.slot();
    // From the connection's opening: a TLS handshake counts against the first request's time.
    let mut check = pin!(tokio::time::sleep_until(
        opened + limits.first_request.min(limits.idle)
    ));
    let mut retire = pin!(tokio::time::sleep(limits.max_age));
    let mut closing = false;
    loop {
        let close = tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = &mut check => {
                if closing {
                    // Its requests are answered and it has not closed: drop it.
                    if slot.is_idle() {
                        return;
                    }
                    check.as_mut().reset(Instant::now() + GOODBYE_GRACE);
                    continue;
                }
                let limit = if slot.requests() == 0 { limits.first_request } else { limits.idle };
                let idle = slot.idle_for();
                if idle < limit {
                    check.as_mut().reset(Instant::now() + (limit - idle));
                    continue;
                }
                tracing::debug!(requests = slot.requests(), "connection idle past its timeout; closing");
                true
            }
            () = slot.woken(), if !closing => {
                tracing::debug!(evicted = slot.evicted(), requests = slot.requests(), "connection evicted or at its request cap; closing");
                true
            }
            () = &mut retire, if !closing => {
                tracing::debug!("connection past its maximum age; closing");
                true
            }
            _ = shutdown.changed(), if !closing => true,
        };
        if close {
            // A connection that never completed a request head (a silent or slow client) has
            // nothing to finish and nobody to say goodbye to; one evicted while its requests
            // wait for bodies its client is not sending gives them up.
            if slot.requests() == 0 || (slot.evicted() && !slot.is_idle() && slot.waits_on_client())
            {
                return;
            }
            closing = true;
            conn.as_mut().graceful_shutdown();
            check.as_mut().reset(Instant::now() + GOODBYE_GRACE);
        }
    }
}

/// The app as one connection's hyper service: each request is counted on the connection's
/// slot until its response body is dropped; the request that reaches `max_requests` (when
/// not `0`) wakes the connection's task to close it, and on HTTP/1 says `Connection: close`.
/// Over HTTPS each request carries `tls` in its extensions.
fn counted_service<App>(
    app: App,
    guard: Arc<SlotGuard>,
    max_requests: u64,
    tls: Option<TlsConnection>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Counted<AnswerBody>>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
where
    App: Service<Request<RequestBody>, Response = Response<AnswerBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    App::Future: Send + 'static,
{
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let (in_flight, number) = guard.start_request();
        let last = max_requests != 0 && number >= max_requests;
        let http1 = request.version() < Version::HTTP_2;
        if !http1 && number == 1 {
            guard.mark_http2();
        }
        if last {
            guard.wake_task();
        }
        let mut request = request.map(|body| Watched::new(body, guard.clone()));
        if let Some(tls) = &tls {
            request.extensions_mut().insert(tls.clone());
        }
        let answer = app.clone().oneshot(request);
        async move {
            let Ok(mut response) = answer.await;
            if last && http1 {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Counted::new(body, in_flight)))
        }
    })
}

/// Errors of one incoming connection, after which the listener is still fine.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A connection task that panicked is logged; the server carries on.
fn report_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished
        && error.is_panic()
    {
        tracing::error!(%error, "a connection task panicked");
    }
}
