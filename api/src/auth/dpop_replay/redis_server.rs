//! A real `redis-server` for tests, on a port of its own, stopped when dropped.
//!
//! Shared by the replay store's unit tests and the multi-replica integration test (which
//! includes this file by path: it is test support, not part of the library). Debian's
//! `redis-server` must be installed; `cargo xtask test` installs it. Without it the tests fail
//! with a message saying so, they never skip.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` process listening on `127.0.0.1:port`, without persistence.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    process: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis-server's working directory");
        let mut server = Self {
            port,
            dir,
            process: None,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: nothing is saved) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port (empty, as after a crash without persistence).
    pub fn restart(&mut self) {
        self.stop();
        let mut process = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start redis-server ({error}): install Debian's redis-server package, \
                     or run `cargo xtask test`, which installs it"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers_ping(self.port) {
            if let Ok(Some(status)) = process.try_wait() {
                panic!("redis-server on port {} exited: {status}", self.port);
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer PING within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Another server that took the port would answer too: make sure ours is the one alive.
        assert!(
            matches!(process.try_wait(), Ok(None)),
            "redis-server on port {} exited; is the port taken?",
            self.port
        );
        self.process = Some(process);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on now: the OS picks it for a listener that is closed at once
/// (`redis-server` itself cannot be asked for port 0).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Whether a server on `port` answers `PING` with `+PONG`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}
