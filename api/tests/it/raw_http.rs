//! Raw HTTP/1 over a socket, for tests about what a client sends that an HTTP client library
//! would never send (half heads, bad `Host` lines, held connections), and about connections;
//! and an HTTP/2 connection with prior knowledge, through hyper's own client.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::helpers::{Answer, TestApp};

/// How long a raw read waits before the test fails: far longer than any answer takes.
pub const DID_NOT_HANG: Duration = Duration::from_secs(10);

/// A new raw connection to `app`.
pub async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// A response read off a raw connection.
#[derive(Debug)]
pub struct Raw {
    /// The status code.
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body, lossily as text.
    pub body: String,
}

impl Raw {
    /// The value of the header called `name`, if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.head, name)
    }

    /// The response as an [`Answer`]: status, challenge and the JSON body's message.
    pub fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            challenge: self.header("www-authenticate").map(str::to_owned),
            message: self.message(),
        }
    }

    /// The `message` of a JSON body.
    pub fn message(&self) -> String {
        let body: serde_json::Value = serde_json::from_str(&self.body).expect("a JSON body");
        body["message"].as_str().expect("a message").to_owned()
    }
}

/// The value of the first header called `name` (case-insensitive) in a response head.
pub fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Reads one response (head, then a `Content-Length` body). `None` if the server closed the
/// connection (EOF or reset) before a whole head arrived.
pub async fn read_response(stream: &mut TcpStream) -> Option<Raw> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout(DID_NOT_HANG, stream.read(&mut chunk))
            .await
            .expect("the server answered or closed");
        match read {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let length: usize = header_value(&head, "content-length")
        .map(|value| value.parse().expect("a Content-Length"))
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(DID_NOT_HANG, stream.read(&mut chunk))
            .await
            .expect("the body arrived")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(Raw {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Sends `request` on a new connection and reads the answer. The write runs alongside the
/// read and may fail: a server refusing an oversized head stops reading and closes.
pub async fn exchange(app: &TestApp, request: Vec<u8>) -> Option<Raw> {
    let stream = connect(app).await;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        // Keep the write half open until the answer is read: closing it could end the
        // exchange before the server has answered.
        writer
    });
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(DID_NOT_HANG, reader.read_to_end(&mut buffer))
        .await
        .expect("the server closed the connection");
    drop(write);
    // A reset after the answer arrived still leaves the answer in `buffer`.
    let _ = read;
    let text = String::from_utf8_lossy(&buffer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Raw {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

/// True once the server has closed `stream` without answering: EOF or a reset, and never a
/// status line.
pub async fn closed_without_answer(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(DID_NOT_HANG, stream.read(&mut chunk))
        .await
        .expect("the server closed the connection");
    matches!(read, Ok(0) | Err(_))
}

/// An HTTP/2 connection to `app` (prior knowledge) that sends a PING every 100 ms, and the task
/// driving it, which ends when the server closes the connection.
pub async fn http2_connection(app: &TestApp) -> (SendRequest<Empty<Bytes>>, JoinHandle<()>) {
    let stream = connect(app).await;
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_millis(100))
        .keep_alive_while_idle(true)
        .handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/2 handshake");
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    (sender, driver)
}
