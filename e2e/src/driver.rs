//! chromedriver as a child process: found, started on a port of its own choosing, and killed
//! with every Chromium it started when the last handle goes.
//!
//! It stays in the test's process group, so whatever ends the test process from outside (nextest's
//! timeout, Ctrl-C) ends the browser too; on drop, its descendants are found in `/proc`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// The Chromium binary, unless the `CHROMIUM` environment variable names another.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// The chromedriver binary, unless the `CHROMEDRIVER` environment variable names another.
pub const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long chromedriver may take to say which port it listens on.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The line chromedriver prints once it listens, followed by the port and a full stop.
const READY_LINE: &str = "was started successfully on port ";

/// The two binaries a browser test needs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Chromium (`CHROMIUM`, default [`DEFAULT_CHROMIUM`]).
    pub chromium: PathBuf,
    /// chromedriver (`CHROMEDRIVER`, default [`DEFAULT_CHROMEDRIVER`]).
    pub chromedriver: PathBuf,
}

impl Tools {
    /// Finds both binaries.
    ///
    /// # Errors
    /// One is missing: the message says how to install it, never a silent skip.
    pub fn find() -> Result<Self> {
        let tools = Self {
            chromium: from_env("CHROMIUM", DEFAULT_CHROMIUM),
            chromedriver: from_env("CHROMEDRIVER", DEFAULT_CHROMEDRIVER),
        };
        for (what, path) in [
            ("Chromium", &tools.chromium),
            ("chromedriver", &tools.chromedriver),
        ] {
            if !path.is_file() {
                bail!(
                    "{what} is not installed at {}: the browser tests need Debian's `chromium` and \
                     `chromium-driver` packages. `cargo xtask test` installs them; or run \
                     `apt-get install chromium chromium-driver` (or set CHROMIUM / CHROMEDRIVER)",
                    path.display()
                );
            }
        }
        Ok(tools)
    }
}

fn from_env(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A running chromedriver. Dropping it kills it and every process it started (Chromium and its
/// helpers), whatever state the test left them in.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    /// Starts `binary --port=0` and reads the port it chose from its output.
    ///
    /// # Errors
    /// The binary does not start, or does not report a port within 20 s.
    pub fn start(binary: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("chromedriver's stdout")?;
        let (port_tx, port_rx) = mpsc::channel();
        // Reads to the end, so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = parse_port(&line) {
                    let _ = port_tx.send(port);
                }
            }
        });
        // Owned before the wait, so a chromedriver that never reports is killed on the way out.
        let mut driver = Self { child, port: 0 };
        driver.port = port_rx.recv_timeout(STARTUP_TIMEOUT).with_context(|| {
            format!(
                "{} did not report its port within {}s",
                binary.display(),
                STARTUP_TIMEOUT.as_secs()
            )
        })?;
        Ok(driver)
    }

    /// `http://127.0.0.1:PORT`, where it takes WebDriver commands.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Chromium first: killed chromedriver would leave it to init. `kill` is the way to
        // signal a process without unsafe code.
        let mut pids: Vec<String> = descendants(self.child.id())
            .iter()
            .map(u32::to_string)
            .collect();
        if !pids.is_empty() {
            pids.insert(0, "-KILL".to_owned());
            let _ = Command::new("kill")
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every live descendant of `root`, from the parent links in `/proc/<pid>/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, parent_in_stat(&stat)?))
        })
        .collect();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            parents
                .iter()
                .filter(|&&(_, ppid)| ppid == parent)
                .map(|&(pid, _)| pid),
        );
        next += 1;
    }
    found.remove(0);
    found
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid …`, where `comm` may hold
/// spaces and parentheses, so the fields are counted from the last `)`.
fn parent_in_stat(stat: &str) -> Option<u32> {
    let (_, after_comm) = stat.rsplit_once(')')?;
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// The port in chromedriver's "… was started successfully on port 41234." line.
fn parse_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once(READY_LINE)?;
    rest.trim_end().trim_end_matches('.').parse().ok()
}

/// A fresh, empty Chromium profile directory, removed when dropped.
#[derive(Debug)]
pub struct ProfileDir(PathBuf);

impl ProfileDir {
    /// Creates `$TMPDIR/e2e-chromium-<pid>-<n>`.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn create() -> Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("e2e-chromium-{}-{n}", std::process::id()));
        // A leftover of a killed earlier run with the same pid would not be fresh.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_ready_line() {
        let line = "ChromeDriver was started successfully on port 43549.";
        assert_eq!(parse_port(line), Some(43549));
        assert_eq!(parse_port("Starting ChromeDriver 148.0 on port 0"), None);
    }

    #[test]
    fn the_parent_is_read_after_the_command_name_whatever_it_holds() {
        let stat = "4321 (chrome (renderer) x) S 1234 4321 4321 0 -1 4194560";
        assert_eq!(parent_in_stat(stat), Some(1234));
        assert_eq!(parent_in_stat("garbage"), None);
    }

    #[test]
    fn a_child_process_is_found_among_the_descendants() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let found = descendants(std::process::id());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found.contains(&child.id()), "{found:?}");
    }
}
