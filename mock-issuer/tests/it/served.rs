//! The real `mock-issuer` binary as a child process: `serve` with its banner, its log and a
//! clean stop, and the one-shot commands with their output.

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mock-issuer");

/// `mock-issuer --data-dir DIR serve --port 0 ARGS…`, logging at `log_level`.
pub fn serve_command(data_dir: &Path, log_level: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--port", "0"])
        .args(args)
        .env("RUST_LOG", log_level)
        // Whatever the developer's shell exports must not change what a test asserts.
        .env_remove("MOCK_ADMIN_TOKEN");
    command
}

/// `command` run under `sh` with the file-creation mask `umask` (an octal string such as
/// `"000"`), since the test process cannot change its own without a libc binding.
pub fn under_umask(umask: &str, command: &Command) -> Command {
    let mut wrapped = Command::new("sh");
    wrapped
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    wrapped
}

/// A one-shot command's output, with logs at `warn` and no admin token from the environment.
pub fn output(mut command: Command) -> Output {
    command
        .env("RUST_LOG", "warn")
        .env_remove("MOCK_ADMIN_TOKEN")
        .output()
        .expect("mock-issuer runs")
}

/// A running `mock-issuer serve`. Dropping it kills the process, so no server outlives a
/// failed test.
pub struct Served {
    child: Child,
    /// The URL of the first stdout line, `issuer: <url>`.
    pub issuer: String,
    /// Every banner line, the first included.
    pub banner: Vec<String>,
    log: PathBuf,
}

impl Served {
    /// Starts `command` (a `serve`), its stderr going to `log`, and reads its banner (up to the
    /// `curl` line). Panics with the log if the process ends before printing its issuer.
    pub fn start(mut command: Command, log: PathBuf) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("mock-issuer starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).expect("banner line") == 0 {
                break;
            }
            let last = line.starts_with("curl ");
            banner.push(line.trim_end().to_owned());
            if last {
                break;
            }
        }
        let issuer = banner
            .first()
            .and_then(|line| line.strip_prefix("issuer: "))
            .map(str::to_owned);
        let Some(issuer) = issuer else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no `issuer:` line; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Self {
            child,
            issuer,
            banner,
            log,
        }
    }

    /// The issuer's URL with its host replaced by `127.0.0.1`: a wildcard bind announces
    /// `localhost`, which may resolve to an IPv6 address the IPv4 wildcard does not serve.
    pub fn loopback_url(&self) -> String {
        self.issuer.replace("//localhost:", "//127.0.0.1:")
    }

    /// The banner line that starts with `prefix`, if any.
    pub fn banner_line(&self, prefix: &str) -> Option<&str> {
        self.banner
            .iter()
            .map(String::as_str)
            .find(|line| line.starts_with(prefix))
    }

    /// Sends SIGTERM, waits for the exit, and returns the exit status and everything logged.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -TERM failed");
        let exit = self.child.wait().expect("exits");
        let log = std::fs::read_to_string(&self.log).expect("log read");
        (exit, log)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
