//! The api's DPoP replay store for the soak: a real `redis-server` on a loopback port the
//! xtask chose (and gave the api as `DPOP_REPLAY_STORE`), without persistence, that the script
//! kills (SIGKILL, as a crash) and starts again on the same port, empty. The driver owns the
//! process from start to end, so exactly one program starts, kills and reaps it; dropping
//! [`ReplayStoreServer`] kills it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long a (re)started server may take to answer `PING`.
const START_LIMIT: Duration = Duration::from_secs(10);
/// The pause between two `PING`s while it starts.
const PING_EVERY: Duration = Duration::from_millis(10);

/// A `redis-server` on `127.0.0.1:port`, logging to a file beside the soak's summary.
pub struct ReplayStoreServer {
    port: u16,
    log: PathBuf,
    process: Option<Child>,
}

impl ReplayStoreServer {
    /// Starts a server on `port`, logging to `log`, and waits until it answers `PING`.
    ///
    /// # Errors
    /// `redis-server` missing or exiting (the port taken), or no `PONG` within 10 s.
    pub async fn start(port: u16, log: &Path) -> Result<Self> {
        let mut server = ReplayStoreServer {
            port,
            log: log.to_owned(),
            process: None,
        };
        server.restart().await?;
        Ok(server)
    }

    /// Kills the server with SIGKILL, as a crash would (nothing is saved), and reaps it: once
    /// this returns, its port is closed.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port (empty: no persistence) and waits until it
    /// answers `PING`; a running one is killed first.
    ///
    /// # Errors
    /// As [`ReplayStoreServer::start`].
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        // Appended to, so the log of every life of the server stays.
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut process = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stderr(log.try_clone()?)
            .stdout(log)
            .spawn()
            .context(
                "starting redis-server (`cargo xtask soak` installs Debian's redis-server package)",
            )?;
        let deadline = Instant::now() + START_LIMIT;
        while !answers_ping(self.port).await {
            if let Some(status) = process.try_wait()? {
                bail!(
                    "redis-server on port {} exited ({status}); is the port taken? see {}",
                    self.port,
                    self.log.display()
                );
            }
            if Instant::now() >= deadline {
                let _ = process.kill();
                let _ = process.wait();
                bail!("redis-server on port {} did not answer PING", self.port);
            }
            tokio::time::sleep(PING_EVERY).await;
        }
        self.process = Some(process);
        Ok(())
    }
}

impl Drop for ReplayStoreServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a server on `port` answers `PING` with `+PONG` within a second.
async fn answers_ping(port: u16) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0; 7];
        stream.read_exact(&mut answer).await?;
        Ok::<bool, std::io::Error>(&answer == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), exchange).await,
        Ok(Ok(true))
    )
}
