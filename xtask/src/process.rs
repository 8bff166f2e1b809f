//! The one guard for the servers a task starts (the api, the mock issuer): spawn, wait for the
//! line that announces the URL, drain the rest of stdout, notice an early exit, read /proc, and
//! kill on drop so no error path leaves a server running.
//!
//! Both servers print their address as their first stdout line (`listening on URL`,
//! `issuer: URL`) and log to stderr, which the caller routes (inherited by default, a log file
//! for the soak).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

/// How long a server may take to print its address: a release build starts in milliseconds,
/// a debug mock issuer that generates keys in about a second; a hung one fails the task.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a server prints before its URL on its first stdout line.
#[derive(Debug, Clone, Copy)]
pub enum Announce {
    /// The api: `listening on http://127.0.0.1:PORT`.
    Api,
    /// The mock issuer: `issuer: http://127.0.0.1:PORT/`.
    Issuer,
}

impl Announce {
    fn prefix(self) -> &'static str {
        match self {
            Self::Api => "listening on ",
            Self::Issuer => "issuer: ",
        }
    }
}

/// A started server, killed and reaped when dropped.
pub struct Server {
    name: &'static str,
    child: Child,
    url: String,
}

impl Server {
    /// Starts `command` (stdin closed, stdout piped; stderr as the caller set it, else
    /// inherited) and waits up to a minute for its announce line. The rest of stdout is drained
    /// on a thread, so the server never blocks on a full pipe.
    pub fn start(name: &'static str, mut command: Command, announce: Announce) -> Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        // Guarded from here on: an error below kills it.
        let mut server = Self {
            name,
            child,
            url: String::new(),
        };
        let line = first_line(stdout, ANNOUNCE_TIMEOUT)
            .with_context(|| format!("waiting for {name} to print its address"))?;
        let Some(line) = line else {
            bail!("{name} exited before printing its address (see its errors above, or its log)");
        };
        server.url = line
            .strip_prefix(announce.prefix())
            .with_context(|| format!("unexpected first line from {name}: {line:?}"))?
            .to_owned();
        Ok(server)
    }

    /// The server's name, as given to [`Server::start`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The URL the server announced, exactly as printed (the issuer's ends in `/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id, for /proc and for tools that sample the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the server has stopped, `None` while it runs.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .with_context(|| format!("checking on {}", self.name))
    }

    /// `VmHWM`: the peak resident memory since start, in KiB.
    pub fn peak_memory_kib(&self) -> Result<u64> {
        conformance::load::proc::memory_kib(self.pid(), "VmHWM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A working directory for a server whose settings must be exactly the task's. The api reads
/// `.env` from its working directory or the nearest parent that has one, so any directory in
/// the repository (`target/` included) would let a developer's `.env` in; the system's
/// temporary directory has no such parent.
pub fn outside_the_repository() -> PathBuf {
    std::env::temp_dir()
}

/// Sets the server's `RUST_LOG` to `level` unless the developer set one.
pub fn default_log_level(command: &mut Command, level: &str) {
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", level);
    }
}

/// Blocks until one of `servers` exits; returns its index and exit status. For a task that
/// serves until a server stops (Ctrl-C reaches the whole process group).
pub fn wait_for_any(servers: &mut [Server]) -> Result<(usize, ExitStatus)> {
    loop {
        for (index, server) in servers.iter_mut().enumerate() {
            if let Some(status) = server.exited()? {
                return Ok((index, status));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The first line of `stdout` without its line end, or `None` if it closed first. A thread
/// reads it (a pipe read cannot time out) and then drains the rest until the server exits.
fn first_line(stdout: ChildStdout, limit: Duration) -> Result<Option<String>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read = reader.read_line(&mut line).map(|n| (n > 0).then_some(line));
        let _ = sender.send(read);
        std::io::copy(&mut reader, &mut std::io::sink()).ok();
    });
    let line = receiver
        .recv_timeout(limit)
        .map_err(|_| anyhow::anyhow!("nothing after {} s", limit.as_secs()))??;
    Ok(line.map(|line| line.trim_end().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn the_announced_url_is_read_and_the_rest_drained() {
        let script = "echo 'listening on http://127.0.0.1:9'; yes | head -c 200000; exec sleep 5";
        let mut server = Server::start("api", shell(script), Announce::Api).expect("starts");

        assert_eq!(server.url(), "http://127.0.0.1:9");
        assert!(server.exited().expect("checks").is_none());
    }

    #[test]
    fn a_wrong_first_line_or_an_early_exit_is_an_error() {
        let wrong = Server::start("api", shell("echo 'issuer: http://x/'"), Announce::Api);
        let silent = Server::start("mock-issuer", shell("exit 3"), Announce::Issuer);

        assert!(wrong.is_err());
        assert!(format!("{:#}", silent.err().expect("fails")).contains("exited before"));
    }

    #[test]
    fn an_exit_is_noticed() {
        let mut servers = vec![
            Server::start(
                "a",
                shell("echo 'issuer: u/'; exec sleep 5"),
                Announce::Issuer,
            )
            .expect("starts"),
            Server::start("b", shell("echo 'issuer: v/'; exit 4"), Announce::Issuer)
                .expect("starts"),
        ];

        let (index, status) = wait_for_any(&mut servers).expect("waits");

        assert_eq!((servers[index].name(), status.code()), ("b", Some(4)));
    }
}
