//! The HTTP server around the app: an accept loop with production limits against hostile
//! clients (connection cap with back-pressure, header size, count and read timeout, body size,
//! request timeout) and a graceful shutdown with a deadline.
//!
//! `axum::serve` exposes neither the connection cap nor the header read timeout, so this module
//! drives hyper directly, through `hyper_util`'s HTTP/1-or-2 auto builder, the way
//! `axum::serve` does internally. The body limit and the request timeout are tower-http's
//! layers, put around the app once (`layers.rs`); [`ServerLimits`] holds the settings.
//!
//! What a hostile client gets (checked by `tests/it/hostile_http.rs`):
//!
//! | input | answer |
//! |---|---|
//! | request head (request line and headers) over [`ServerLimits::max_header_bytes`] | `431`, then the connection is closed |
//! | more than [`ServerLimits::max_headers`] headers | `431`, then closed |
//! | a URI that does not fit in the head limit (a huge query string) | `431`, then closed; `414` only for a URI over 65 534 bytes inside a larger head limit |
//! | a body over [`ServerLimits::max_body_bytes`] | `413` (at once from `Content-Length`, or when a handler or the authentication core reads past the limit) |
//! | a head not complete within [`ServerLimits::header_read_timeout`] | the connection is closed, no answer |
//! | a request not answered within [`ServerLimits::request_timeout`] (e.g. a body sent byte by byte) | `408` |
//! | more than [`ServerLimits::max_connections`] connections | the excess waits in the listen backlog until one closes |

mod layers;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::{Service, ServiceExt};

use layers::AnswerBody;

/// The smallest head limit hyper accepts (its minimum read buffer); smaller values are raised
/// to it.
pub const MIN_HEADER_BYTES: usize = 8 * 1024;

/// Limits the server enforces on every connection. [`ServerLimits::default`] is what
/// [`crate::serve`] and the binary use unless configured otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once. When all are busy the server stops accepting: further
    /// clients wait in the kernel's listen backlog (back-pressure) and are served as others
    /// close, rather than being refused. Default: 512, which leaves room for the issuer
    /// client's sockets under the common 1024 open-files limit.
    pub max_connections: usize,
    /// The largest request head (request line plus headers), in bytes; larger heads get 431.
    /// For HTTP/2 it bounds the header list. At least [`MIN_HEADER_BYTES`]. Default: 32 KiB,
    /// room for the largest token the authentication core accepts (16 KiB) and ordinary headers.
    pub max_header_bytes: usize,
    /// The most header fields in an HTTP/1 request; more get 431. Default: 100 (hyper's).
    pub max_headers: usize,
    /// How long a client has to send a complete request head, from connecting (or from the
    /// end of the previous response on a kept-alive connection, so it is also the idle
    /// timeout of HTTP/1 keep-alive). A slower client is disconnected. Default: 10 s.
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
    let limits = limits.usable();
    let app = layers::with_limits(app, &limits);
    let builder = Arc::new(builder(&limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (close, closing) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        while let Some(finished) = connections.try_join_next() {
            report_panic(finished);
        }
        // Back-pressure: take a permit before accepting, so at the limit the listener is not
        // polled and new clients queue in the kernel backlog instead of being refused.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
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
        connections.spawn(connection(
            stream,
            app.clone(),
            builder.clone(),
            limits.header_read_timeout,
            closing.clone(),
            permit,
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
        // Pings find dead peers, whose connections would otherwise hold a permit forever.
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Serves one connection until it closes, the first-request deadline passes without a
/// request, or shutdown is asked and its requests are done. Holds `_permit` throughout.
async fn connection<App>(
    stream: TcpStream,
    app: App,
    builder: Arc<Builder<TokioExecutor>>,
    header_read_timeout: Duration,
    mut closing: watch::Receiver<()>,
    _permit: OwnedSemaphorePermit,
) where
    App: Service<Request<Incoming>, Response = Response<AnswerBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    App::Future: Send + 'static,
{
    // Responses are small and written whole: waiting to coalesce them only adds latency.
    let _ = stream.set_nodelay(true);
    let requested = Arc::new(AtomicBool::new(false));
    let service = {
        let requested = requested.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            requested.store(true, Ordering::Relaxed);
            app.clone().oneshot(request)
        })
    };
    let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
    // hyper's header read timeout starts only once it knows the protocol, and telling HTTP/1
    // from HTTP/2 waits for the client's first bytes with no timeout: a client that connects
    // and sends nothing (or half an HTTP/2 preface) would hold its permit forever.
    let mut first_request = pin!(tokio::time::sleep(header_read_timeout));
    let mut awaiting_first_request = true;
    let mut shutting_down = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = &mut first_request, if awaiting_first_request => {
                awaiting_first_request = false;
                if !requested.load(Ordering::Relaxed) {
                    tracing::debug!("no request head within the header read timeout; closing");
                    return;
                }
            }
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
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
