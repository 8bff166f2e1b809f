//! Connection slots under attack: a client holding every slot does not starve the others.
//! With `MAX_CONNECTIONS` taken, a newcomer is answered at once (the connection idle longest
//! makes room), whether the slots are held by slow heads, by keep-alive connections asking
//! something every few seconds or by HTTP/2 connections that only answer PINGs; it waits
//! only while every connection has a request in progress. Connections also end by idleness,
//! request count and age. Everything over real sockets.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api::ServerLimits;
use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use http::{Request, Version};
use http_body_util::Empty;
use hyper::client::conn::http2::SendRequest;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, spawn_router_with};
use crate::raw_http::{
    DID_NOT_HANG, closed_without_answer, connect, exchange, http2_connection, read_response,
};

/// The target: a newcomer is answered within a second whatever the others hold.
const ANSWERED_AT_ONCE: Duration = Duration::from_secs(1);

/// Four slots, and every timeout long enough that only eviction can free a slot in time.
fn few_slots() -> ServerLimits {
    ServerLimits {
        max_connections: 4,
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(60),
        ..ServerLimits::default()
    }
}

/// `GET /` answers at once; `GET /hold` answers when the test lets it go; `POST /upload`
/// reads its whole body.
async fn server(limits: ServerLimits) -> (TestApp, Arc<Notify>) {
    let release = Arc::new(Notify::new());
    let held = release.clone();
    let router = Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/upload",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/hold",
            get(move || {
                let held = held.clone();
                async move {
                    held.notified().await;
                    "released"
                }
            }),
        );
    (spawn_router_with(router, limits).await, release)
}

fn request(target: &str, connection: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: {connection}\r\n\r\n").into_bytes()
}

/// A newcomer on a fresh connection gets its 200 within [`ANSWERED_AT_ONCE`].
async fn assert_a_newcomer_is_answered_at_once(app: &TestApp, held_by: &str) {
    let answer = tokio::time::timeout(ANSWERED_AT_ONCE, exchange(app, request("/", "close"))).await;
    match answer {
        Ok(Some(raw)) => assert_eq!(raw.status, 200, "{held_by}: {raw:?}"),
        Ok(None) => panic!("{held_by}: the newcomer's connection was closed unanswered"),
        Err(_) => panic!("{held_by}: the newcomer was not answered within {ANSWERED_AT_ONCE:?}"),
    }
}

/// A client that sends `opening`, then one more byte every 200 ms, forever: a slow-loris head
/// or a trickled body, depending on `opening`.
async fn trickle(app: &TestApp, opening: &'static [u8]) -> JoinHandle<()> {
    let mut stream = connect(app).await;
    stream.write_all(opening).await.expect("write");
    tokio::spawn(async move {
        while stream.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// A slow-loris head: its first line, then one header byte at a time.
const SLOW_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ";

/// A trickled body: one byte at a time of a declared kilobyte.
const SLOW_BODY: &[u8] = b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n";

/// Takes all four slots of [`few_slots`] with `attacker`'s connections and gives them time to
/// settle; abort the returned tasks to let go.
async fn hold_every_slot<Attack, Held>(attacker: Attack) -> Vec<JoinHandle<()>>
where
    Attack: Fn() -> Held,
    Held: Future<Output = JoinHandle<()>>,
{
    let mut attackers = Vec::new();
    for _ in 0..4 {
        attackers.push(attacker().await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    attackers
}

/// A keep-alive client that asks something every two seconds, forever.
async fn dawdling_keep_alive(app: &TestApp) -> JoinHandle<()> {
    let mut stream = connect(app).await;
    stream
        .write_all(&request("/", "keep-alive"))
        .await
        .expect("write");
    assert_eq!(
        read_response(&mut stream).await.expect("an answer").status,
        200
    );
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if stream.write_all(&request("/", "keep-alive")).await.is_err()
                || read_response(&mut stream).await.is_none()
            {
                return;
            }
        }
    })
}

/// Sends one HTTP/2 request on `sender`; its status, or `None` if the connection refused it.
async fn http2_get(sender: &mut SendRequest<Empty<Bytes>>, app: &TestApp) -> Option<u16> {
    let request = Request::get(format!("{}/", app.address))
        .version(Version::HTTP_2)
        .body(Empty::new())
        .expect("a request");
    sender.ready().await.ok()?;
    let response = sender.send_request(request).await.ok()?;
    Some(response.status().as_u16())
}

#[tokio::test]
async fn a_newcomer_is_answered_at_once_while_slow_heads_hold_every_slot() {
    let (app, _) = server(few_slots()).await;
    let attackers = hold_every_slot(|| trickle(&app, SLOW_HEAD)).await;

    assert_a_newcomer_is_answered_at_once(&app, "slow heads").await;
    // And again: the attacker's remaining connections keep making room.
    assert_a_newcomer_is_answered_at_once(&app, "slow heads, second newcomer").await;
    attackers.iter().for_each(JoinHandle::abort);
}

#[tokio::test]
async fn a_newcomer_is_answered_at_once_while_trickled_bodies_hold_every_slot() {
    let (app, _) = server(few_slots()).await;
    let attackers = hold_every_slot(|| trickle(&app, SLOW_BODY)).await;

    assert_a_newcomer_is_answered_at_once(&app, "trickled bodies").await;
    assert_a_newcomer_is_answered_at_once(&app, "trickled bodies, second newcomer").await;
    attackers.iter().for_each(JoinHandle::abort);
}

#[tokio::test]
async fn a_newcomer_is_answered_at_once_while_keep_alive_clients_hold_every_slot() {
    let (app, _) = server(few_slots()).await;
    let attackers = hold_every_slot(|| dawdling_keep_alive(&app)).await;

    assert_a_newcomer_is_answered_at_once(&app, "keep-alive connections").await;
    attackers.iter().for_each(JoinHandle::abort);
}

#[tokio::test]
async fn a_newcomer_is_answered_at_once_while_http2_connections_answering_pings_hold_every_slot() {
    let (app, _) = server(few_slots()).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let (mut sender, driver) = http2_connection(&app).await;
        assert_eq!(http2_get(&mut sender, &app).await, Some(200));
        held.push((sender, driver));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_a_newcomer_is_answered_at_once(&app, "HTTP/2 connections").await;
    // The connection idle longest, the first, made room and was closed.
    let (_, first_driver) = held.remove(0);
    tokio::time::timeout(DID_NOT_HANG, first_driver)
        .await
        .expect("the evicted HTTP/2 connection was closed")
        .expect("its driver");
}

#[tokio::test]
async fn while_every_connection_has_a_request_in_progress_a_newcomer_waits_for_a_free_slot() {
    let (app, release) = server(ServerLimits {
        max_connections: 2,
        ..few_slots()
    })
    .await;
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&app).await;
        stream
            .write_all(&request("/hold", "close"))
            .await
            .expect("write");
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Nobody can be closed for the newcomer: it waits in the backlog, unanswered.
    let mut waiting = std::pin::pin!(exchange(&app, request("/", "close")));
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.as_mut()).await;
    assert!(early.is_err(), "served beyond the limit: {early:?}");

    // The held requests are answered, their connections close, and the newcomer is served.
    release.notify_waiters();
    for stream in &mut busy {
        assert_eq!(read_response(stream).await.expect("an answer").status, 200);
    }
    let served = tokio::time::timeout(DID_NOT_HANG, waiting)
        .await
        .expect("the newcomer was served once a slot freed")
        .expect("an answer");
    assert_eq!(served.status, 200);
}

#[tokio::test]
async fn an_http2_connection_with_no_open_stream_is_closed_after_the_idle_timeout_whatever_pings_it_answers()
 {
    let (app, _) = server(ServerLimits {
        idle_timeout: Duration::from_millis(500),
        ..few_slots()
    })
    .await;
    let (mut sender, driver) = http2_connection(&app).await;
    assert_eq!(http2_get(&mut sender, &app).await, Some(200));

    // Pings every 100 ms do not keep it open.
    tokio::time::timeout(DID_NOT_HANG, driver)
        .await
        .expect("the idle HTTP/2 connection was closed")
        .expect("its driver");
}

#[tokio::test]
async fn the_request_cap_closes_an_http1_connection_after_its_last_answer() {
    let (app, _) = server(ServerLimits {
        max_requests_per_connection: 3,
        ..few_slots()
    })
    .await;
    let mut stream = connect(&app).await;
    let mut connection_headers = Vec::new();
    for _ in 0..3 {
        stream
            .write_all(&request("/", "keep-alive"))
            .await
            .expect("write");
        let answer = read_response(&mut stream).await.expect("an answer");
        assert_eq!(answer.status, 200);
        connection_headers.push(answer.header("connection").map(str::to_owned));
    }

    assert_eq!(
        connection_headers,
        [None, None, Some("close".to_owned())],
        "only the last answer says the connection closes"
    );
    assert!(closed_without_answer(&mut stream).await);
}

#[tokio::test]
async fn the_request_cap_closes_an_http2_connection_after_its_last_answer() {
    let (app, _) = server(ServerLimits {
        max_requests_per_connection: 3,
        ..few_slots()
    })
    .await;
    let (mut sender, driver) = http2_connection(&app).await;
    for _ in 0..3 {
        assert_eq!(http2_get(&mut sender, &app).await, Some(200));
    }

    tokio::time::timeout(DID_NOT_HANG, driver)
        .await
        .expect("the server sent GOAWAY and closed")
        .expect("its driver");
    assert_eq!(http2_get(&mut sender, &app).await, None);
}

#[tokio::test]
async fn a_connection_past_its_maximum_age_is_closed_without_losing_a_request() {
    let (app, _) = server(ServerLimits {
        max_connection_age: Duration::from_millis(500),
        ..few_slots()
    })
    .await;
    let mut stream = connect(&app).await;
    let mut answered = 0;
    let closed = loop {
        if stream.write_all(&request("/", "keep-alive")).await.is_err() {
            break true;
        }
        match read_response(&mut stream).await {
            Some(answer) => {
                assert_eq!(answer.status, 200);
                answered += 1;
                if answer.header("connection") == Some("close") {
                    break closed_without_answer(&mut stream).await;
                }
            }
            None => break true,
        }
        assert!(answered < 100, "still open after {answered} requests");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert!(closed);
    assert!(answered >= 2, "closed before its age: {answered} answers");
}
