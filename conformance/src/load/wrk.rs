//! One `wrk` scenario against a running server, and its figures: requests per second, latency
//! percentiles, and the CPU the server spent on them (from `/proc/PID/stat`).
//!
//! [`Wrk::run`] writes the scenario as a Lua script ([`script`]), runs wrk once to warm up
//! (JWKS fetch, connections, a full token cache) and once to measure, reads wrk's result
//! from the one JSON line the script's `done` prints ([`WrkResult::parse`]), and checks that
//! every answer had the expected status. Nothing is scraped from wrk's human output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use super::proc::cpu_seconds;

/// How wrk runs: the same for every scenario of a benchmark.
#[derive(Debug, Clone)]
pub struct Wrk {
    /// Length of each measurement, after a one-second warm-up.
    pub seconds: u64,
    /// Open connections, shared among the threads.
    pub connections: u32,
    /// wrk's threads; on a small machine, one per core, sharing it with the server.
    pub threads: u32,
    /// Where the scenario's Lua script is written (`scenario.lua`).
    pub dir: PathBuf,
}

/// The server under load: where to send requests and which process to bill the CPU to.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL without a trailing `/`, e.g. `http://127.0.0.1:3010`.
    pub url: String,
    /// The server's process id, whose CPU time is read from `/proc`.
    pub pid: u32,
}

/// One kind of request, sent over and over.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The name in tables and reports.
    pub name: &'static str,
    /// The HTTP method, e.g. `GET`.
    pub method: &'static str,
    /// The path, e.g. `/api/private`.
    pub path: &'static str,
    /// What each request carries.
    pub source: Source,
    /// The status every answer must have; any other fails the run.
    pub expected_status: u16,
}

/// Where a scenario's requests get their token or body.
#[derive(Debug, Clone)]
pub enum Source {
    /// Nothing: a bare request.
    None,
    /// This `Authorization` header value on every request.
    Header(String),
    /// One token per line of this file (sent as `Bearer TOKEN`), each wrk thread cycling
    /// through its own contiguous slice.
    Pool(PathBuf),
    /// This `application/x-www-form-urlencoded` body on every request.
    Form(String),
    /// Nothing but `Connection: close`: the server closes each connection after its answer
    /// and wrk opens a new one for the next request, so each request pays for a connection's
    /// set-up (over HTTPS a full handshake: wrk resumes no TLS session).
    NewConnection,
}

/// What one scenario measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Answers per second of wall time.
    pub requests_per_second: f64,
    /// Median latency, in microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, in microseconds.
    pub p99_us: u64,
    /// CPU cores the server used on average while measured (CPU time over wall time).
    pub server_cores: f64,
}

impl Wrk {
    /// Runs `scenario` against `target`: a one-second warm-up, then `seconds` measured. Fails
    /// if wrk fails, a socket fails, or any answer's status is not the expected one.
    pub fn run(&self, target: &Target, scenario: &Scenario) -> Result<Measurement> {
        let script_path = self.dir.join("scenario.lua");
        std::fs::write(&script_path, script(scenario, self.threads))
            .with_context(|| format!("writing {}", script_path.display()))?;
        let url = format!("{}{}", target.url, scenario.path);
        self.invoke(&script_path, &url, 1)
            .with_context(|| format!("warming up {}", scenario.name))?;
        let cpu_before = cpu_seconds(target.pid)?;
        let stdout = self
            .invoke(&script_path, &url, self.seconds)
            .with_context(|| format!("measuring {}", scenario.name))?;
        let cpu = cpu_seconds(target.pid)? - cpu_before;
        let result = WrkResult::parse(&stdout)
            .with_context(|| format!("reading wrk's result for {}", scenario.name))?;
        result
            .check(scenario.expected_status)
            .with_context(|| scenario.name)?;
        Ok(result.measurement(cpu))
    }

    /// One wrk run of `seconds`; its stdout.
    fn invoke(&self, script: &Path, url: &str, seconds: u64) -> Result<String> {
        let output = Command::new("wrk")
            .args(["-t", &self.threads.to_string()])
            .args(["-c", &self.connections.to_string()])
            .args(["-d", &format!("{seconds}s"), "--timeout", "5s", "-s"])
            .arg(script)
            .arg(url)
            .output()
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "wrk failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(stdout)
    }
}

/// The Lua script of `scenario` for wrk with `threads` threads: the request, then [`DONE`].
pub fn script(scenario: &Scenario, threads: u32) -> String {
    let mut lua = match &scenario.source {
        Source::None => format!("wrk.method = {}\n", lua_string(scenario.method)),
        Source::Header(value) => format!(
            "wrk.method = {}\nwrk.headers[\"Authorization\"] = {}\n",
            lua_string(scenario.method),
            lua_string(value)
        ),
        Source::Form(body) => format!(
            "wrk.method = {}\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n",
            lua_string(scenario.method),
            lua_string(body)
        ),
        Source::NewConnection => format!(
            "wrk.method = {}\nwrk.headers[\"Connection\"] = \"close\"\n",
            lua_string(scenario.method)
        ),
        Source::Pool(file) => pool_script(scenario, file, threads),
    };
    lua.push_str(DONE);
    lua
}

/// Reports each run's figures as one JSON line, `RESULT {…}`, read by [`WrkResult::parse`].
const DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;

/// A token pool: each thread takes its own contiguous slice of the file and cycles through
/// it, so a token comes back only after the thread's other tokens.
fn pool_script(scenario: &Scenario, file: &Path, threads: u32) -> String {
    let mut lua = String::new();
    let _ = write!(
        lua,
        r#"
local count = 0
setup = function(thread)
  count = count + 1
  thread:set("index", count)
end
local tokens, i = {{}}, 0
init = function(args)
  local all = {{}}
  for line in io.lines({file}) do all[#all + 1] = line end
  local n = {threads}
  local from = math.floor((index - 1) * #all / n) + 1
  local to = math.floor(index * #all / n)
  for k = from, to do tokens[#tokens + 1] = "Bearer " .. all[k] end
end
request = function()
  i = i % #tokens + 1
  return wrk.format({method}, {path}, {{["Authorization"] = tokens[i]}})
end
"#,
        file = lua_string(&file.display().to_string()),
        method = lua_string(scenario.method),
        path = lua_string(scenario.path),
    );
    lua
}

/// A Lua string literal. Rust's escapes (`\"`, `\\`, `\n`) are Lua's for the ASCII that
/// methods, paths, tokens and file names hold.
fn lua_string(text: &str) -> String {
    format!("{text:?}")
}

/// The `RESULT` line [`DONE`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct WrkResult {
    /// Requests completed.
    pub requests: u64,
    /// Wall time of the run, in microseconds.
    pub duration_us: u64,
    /// Answers with a status of 400 or above.
    pub non2xx: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    /// Median latency, in microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, in microseconds.
    pub p99_us: u64,
}

impl WrkResult {
    /// The figures of the `RESULT {…}` line in wrk's stdout.
    pub fn parse(stdout: &str) -> Result<Self> {
        let json = stdout
            .lines()
            .find_map(|line| line.strip_prefix("RESULT "))
            .with_context(|| format!("no RESULT line in wrk's output: {stdout}"))?;
        serde_json::from_str(json)
            .with_context(|| format!("a RESULT line that is not ours: {json}"))
    }

    /// Fails unless every answer had `expected_status` and no socket failed. wrk counts only
    /// answers of 400 and above, so a refusal scenario must expect one status throughout.
    pub fn check(&self, expected_status: u16) -> Result<()> {
        let wrong = if (200..300).contains(&expected_status) {
            self.non2xx
        } else {
            self.requests - self.non2xx
        };
        if wrong > 0 || self.socket_errors > 0 {
            bail!(
                "{wrong} of {} answers were not {expected_status}, {} sockets failed",
                self.requests,
                self.socket_errors
            );
        }
        Ok(())
    }

    /// The figures, with `server_cpu_seconds` spent by the server meanwhile.
    pub fn measurement(&self, server_cpu_seconds: f64) -> Measurement {
        let seconds = self.duration_us as f64 / 1e6;
        Measurement {
            requests_per_second: self.requests as f64 / seconds,
            p50_us: self.p50_us,
            p99_us: self.p99_us,
            server_cores: server_cpu_seconds / seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(source: Source) -> Scenario {
        Scenario {
            name: "test",
            method: "GET",
            path: "/api/private",
            source,
            expected_status: 200,
        }
    }

    #[test]
    fn a_header_scenario_sets_the_method_and_the_header() {
        let lua = script(&scenario(Source::Header("Bearer a.b.c".into())), 2);

        assert!(lua.starts_with(
            "wrk.method = \"GET\"\nwrk.headers[\"Authorization\"] = \"Bearer a.b.c\"\n"
        ));
        assert!(lua.contains("RESULT {"));
        assert!(!lua.contains("request = function"));
    }

    #[test]
    fn a_new_connection_scenario_asks_the_server_to_close_each_one() {
        let lua = script(&scenario(Source::NewConnection), 2);

        assert!(lua.starts_with("wrk.method = \"GET\"\nwrk.headers[\"Connection\"] = \"close\"\n"));
        assert!(!lua.contains("Authorization"));
    }

    #[test]
    fn a_form_scenario_sends_its_body_as_a_form() {
        let mut form = scenario(Source::Form("grant_type=client_credentials&x=\"y\"".into()));
        form.method = "POST";

        let lua = script(&form, 2);

        assert!(lua.contains("wrk.method = \"POST\""));
        assert!(lua.contains(r#"wrk.body = "grant_type=client_credentials&x=\"y\"""#));
        assert!(lua.contains("application/x-www-form-urlencoded"));
    }

    #[test]
    fn a_pool_scenario_slices_the_file_among_the_threads() {
        let lua = script(&scenario(Source::Pool("/tmp/pool.txt".into())), 4);

        assert!(lua.contains(r#"for line in io.lines("/tmp/pool.txt") do"#));
        assert!(lua.contains("local n = 4\n"));
        assert!(lua.contains(
            r#"return wrk.format("GET", "/api/private", {["Authorization"] = tokens[i]})"#
        ));
        assert!(!lua.contains("{{"), "format! braces left in the Lua: {lua}");
    }

    #[test]
    fn the_result_line_is_read_among_wrks_other_output() {
        let stdout = "Running 10s test @ http://127.0.0.1:1/api/public\n  2 threads and 32 connections\nRESULT {\"requests\":50000,\"duration_us\":10000000,\"non2xx\":0,\"socket_errors\":0,\"p50_us\":310,\"p99_us\":1900}\n";

        let result = WrkResult::parse(stdout).expect("parses");

        assert_eq!(result.requests, 50_000);
        assert_eq!((result.p50_us, result.p99_us), (310, 1900));
        let measured = result.measurement(15.0);
        assert!((measured.requests_per_second - 5000.0).abs() < 1e-9);
        assert!((measured.server_cores - 1.5).abs() < 1e-9);
        assert!(WrkResult::parse("Running 10s test\n").is_err());
        assert!(WrkResult::parse("RESULT {\"requests\":1}\n").is_err());
    }

    #[test]
    fn every_answer_must_have_the_expected_status() {
        let result = |non2xx, socket_errors| WrkResult {
            requests: 100,
            duration_us: 1_000_000,
            non2xx,
            socket_errors,
            p50_us: 1,
            p99_us: 2,
        };

        assert!(result(0, 0).check(200).is_ok());
        assert!(result(1, 0).check(200).is_err());
        assert!(result(100, 0).check(401).is_ok());
        assert!(result(99, 0).check(401).is_err());
        assert!(result(0, 3).check(200).is_err());
    }
}
