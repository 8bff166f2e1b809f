//! `cargo xtask bench`: the performance figures of issue 5, from one run: criterion
//! micro-benchmarks of verification, then release binaries on loopback under `wrk`, then the
//! targets' ratios, printed as a table and written to `target/bench/results.json`.
//!
//! Options: `--seconds N` per HTTP scenario (default 10), `--connections N` (default 32),
//! `--skip-micro` to reuse the last criterion results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// The audience of the Auth0-shaped tokens (the quickstart's API).
const AUDIENCE: &str = "https://quickstarts/api";
/// A second API whose tokens follow RFC 9068, which gives each a random `jti`: the mock
/// issuer's Auth0-shaped tokens minted in the same second are byte-identical, and the pool
/// scenario needs thousands of distinct ones.
const POOL_AUDIENCE: &str = "https://quickstarts/api/pool";
/// The api's default `TOKEN_CACHE_CAPACITY`, in entries of a typical token.
const CACHE_CAPACITY: usize = 4096;
/// Twice the cache: each wrk thread cycles through its own half, so a token comes back only
/// after the other requests have pushed it out, and nearly every request is a miss.
const POOL_SIZE: usize = 2 * CACHE_CAPACITY;

/// wrk's threads: one per core of this 2-core machine, sharing it with the server, as any
/// load generator on the same host must.
const THREADS: u32 = 2;

const TENANT: &str = r#"
[[apis]]
identifier = "https://quickstarts/api"
scopes = ["read:messages"]

[[apis]]
identifier = "https://quickstarts/api/pool"
scopes = ["read:messages"]
dialect = "rfc9068"

[[clients]]
id = "reader"
secret = "reader-secret"
grants = [
  { audience = "https://quickstarts/api", scopes = ["read:messages"] },
  { audience = "https://quickstarts/api/pool", scopes = ["read:messages"] },
]
"#;

/// Reports each request's latency percentiles and error counts as one JSON line, so nothing
/// is scraped from wrk's human output.
const DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;

struct Options {
    seconds: u64,
    connections: u32,
    skip_micro: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        seconds: 10,
        connections: 32,
        skip_micro: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64> {
            args.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} takes a whole number"))
        };
        match arg.as_str() {
            "--seconds" => options.seconds = value("--seconds")?.max(1),
            "--connections" => options.connections = u32::try_from(value("--connections")?)?,
            "--skip-micro" => options.skip_micro = true,
            other => {
                bail!("unknown option `{other}` (try --seconds N, --connections N, --skip-micro)")
            }
        }
    }
    Ok(options)
}

/// Runs every benchmark and prints the table.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let root = sh.current_dir();
    let out = root.join("target/bench");
    sh.create_dir(&out)?;
    ensure_wrk(sh)?;

    if !options.skip_micro {
        cmd!(sh, "cargo bench -p api --bench verify").run()?;
    }
    let micro = read_micro(&root.join("target/criterion"))?;
    let paired = read_paired(&out.join("paired.txt"))?;

    cmd!(sh, "cargo build --release --locked -p api -p mock-issuer").run()?;
    let release = root.join("target/release");
    let tenant = out.join("tenant.toml");
    std::fs::write(&tenant, TENANT)?;
    let issuer = Server::start(
        Command::new(release.join("mock-issuer"))
            .arg("--config")
            .arg(&tenant)
            .arg("--data-dir")
            .arg(out.join("mock-issuer"))
            .args(["serve", "--port", "0"])
            .env("RUST_LOG", "warn"),
        "issuer: ",
    )?;
    let issuer_url = issuer.url.clone();
    eprintln!("bench: minting {POOL_SIZE} distinct tokens from {issuer_url}");
    let token = mint(&issuer_url, AUDIENCE)?;
    let pool = mint_pool(&issuer_url, POOL_SIZE)?;
    let invalid_pool: Vec<String> = pool.iter().map(|token| tamper(token)).collect();
    let pool_file = out.join("pool.txt");
    let invalid_file = out.join("pool-invalid.txt");
    std::fs::write(&pool_file, pool.join("\n") + "\n")?;
    std::fs::write(&invalid_file, invalid_pool.join("\n") + "\n")?;

    let wrk = Wrk {
        seconds: options.seconds,
        connections: options.connections,
        dir: out.clone(),
    };
    let mut http = Vec::new();
    let cached = Api::start(&release, &issuer_url, CACHE_CAPACITY)?;
    let auth = format!("Bearer {token}");
    http.push(wrk.run(
        &cached.server,
        "public",
        "GET",
        "/api/public",
        Source::None,
        200,
    )?);
    let reused = Source::Header(auth.clone());
    // The same request bytes as the next scenario on a route that ignores them: separates what
    // carrying a 700-byte header costs (kernel, hyper, wrk) from what authenticating costs.
    http.push(wrk.run(
        &cached.server,
        "public, same Authorization header",
        "GET",
        "/api/public",
        reused.clone(),
        200,
    )?);
    http.push(wrk.run(
        &cached.server,
        "private, one token",
        "GET",
        "/api/private",
        reused.clone(),
        200,
    )?);
    http.push(wrk.run(
        &cached.server,
        "private-scoped, one token",
        "GET",
        "/api/private-scoped",
        reused,
        200,
    )?);
    let pool_source = Source::Pool(pool_file.clone());
    http.push(wrk.run(
        &cached.server,
        "private, token pool, cache on",
        "GET",
        "/api/private",
        pool_source.clone(),
        200,
    )?);
    http.push(wrk.run(
        &cached.server,
        "private, invalid pool, cache on",
        "GET",
        "/api/private",
        Source::Pool(invalid_file),
        401,
    )?);
    let cached_peak = cached.server.peak_memory_kib()?;
    drop(cached);
    let uncached = Api::start(&release, &issuer_url, 0)?;
    http.push(wrk.run(
        &uncached.server,
        "private, token pool, cache off",
        "GET",
        "/api/private",
        pool_source,
        200,
    )?);
    let uncached_peak = uncached.server.peak_memory_kib()?;
    drop(uncached);
    let body = "grant_type=client_credentials&client_id=reader&client_secret=reader-secret&audience=https%3A%2F%2Fquickstarts%2Fapi";
    http.push(wrk.run(
        &issuer,
        "mock issuer /oauth/token",
        "POST",
        "/oauth/token",
        Source::Form(body.into()),
        200,
    )?);
    drop(issuer);

    let report = Report {
        micro,
        paired,
        http,
        cached_peak,
        uncached_peak,
        options,
    };
    let table = report.table();
    print!("{table}");
    std::fs::write(out.join("results.json"), report.json())?;
    std::fs::write(out.join("results.txt"), &table)?;
    eprintln!("bench: wrote target/bench/results.json and target/bench/results.txt");
    Ok(())
}

/// Installs Debian's wrk when it is missing (the machines run as root).
fn ensure_wrk(sh: &Shell) -> Result<()> {
    if which("wrk") {
        return Ok(());
    }
    eprintln!("bench: installing wrk");
    if cmd!(sh, "apt-get install -y wrk").run().is_err() {
        cmd!(sh, "apt-get update").run()?;
        cmd!(sh, "apt-get install -y wrk").run()?;
    }
    Ok(())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The medians of the criterion run, in nanoseconds, by `group/name`.
fn read_micro(dir: &Path) -> Result<BTreeMap<String, f64>> {
    let mut medians = BTreeMap::new();
    for name in [
        "verify/bare_rsa",
        "verify/full",
        "verify/cache_hit",
        "reject/expired",
        "reject/bad_signature",
        "reject/unknown_kid",
        "reject/malformed",
        "sign/bare_rsa",
    ] {
        let path = dir.join(name).join("new/estimates.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: run without --skip-micro", path.display()))?;
        medians.insert(
            name.to_owned(),
            median_ns(&text).with_context(|| format!("{}", path.display()))?,
        );
    }
    Ok(medians)
}

/// The bench's `paired.txt`: `group/name ratio` per line.
fn read_paired(path: &Path) -> Result<BTreeMap<String, f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: run without --skip-micro", path.display()))?;
    text.lines()
        .map(|line| {
            let (name, ratio) = line.split_once(' ').context("`name ratio`")?;
            Ok((name.to_owned(), ratio.parse()?))
        })
        .collect()
}

/// `estimates.json` is `{"mean":{…},"median":{"confidence_interval":{…},"point_estimate":X,…},…}`.
fn median_ns(estimates: &str) -> Result<f64> {
    let median = estimates.find("\"median\"").context("no median")?;
    let rest = &estimates[median..];
    let start = rest
        .find("\"point_estimate\":")
        .context("no point estimate")?
        + "\"point_estimate\":".len();
    let number: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    Ok(number.parse()?)
}

/// A child process that announced its URL on its first stdout line; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(command: &mut Command, prefix: &str) -> Result<Server> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a release binary")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix(prefix) else {
            let _ = child.kill();
            bail!("expected `{prefix}<url>`, got {line:?}");
        };
        let url = url.trim_end_matches('/').to_owned();
        Ok(Server { child, url })
    }

    fn proc(&self, file: &str) -> Result<String> {
        Ok(std::fs::read_to_string(format!(
            "/proc/{}/{file}",
            self.child.id()
        ))?)
    }

    /// `VmHWM`: the peak resident memory since start.
    fn peak_memory_kib(&self) -> Result<u64> {
        let status = self.proc("status")?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .context("no VmHWM")?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("VmHWM value")?
            .parse()?)
    }

    /// User plus system CPU time so far, in seconds (clock ticks are 1/100 s on Linux).
    fn cpu_seconds(&self) -> Result<f64> {
        let stat = self.proc("stat")?;
        // The command name may hold spaces; the fields after its closing parenthesis do not.
        let fields: Vec<&str> = stat[stat.rfind(')').context("stat")? + 2..]
            .split(' ')
            .collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(ticks as f64 / 100.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release api against the mock issuer, with the given token cache capacity.
struct Api {
    server: Server,
}

impl Api {
    fn start(release: &Path, issuer: &str, cache_capacity: usize) -> Result<Api> {
        let server = Server::start(
            Command::new(release.join("api"))
                .env("ISSUER_BASE_URL", format!("{issuer}/"))
                .env("AUDIENCE", format!("{AUDIENCE},{POOL_AUDIENCE}"))
                .env("PORT", "0")
                .env("RUST_LOG", "warn")
                .env("TOKEN_CACHE_CAPACITY", cache_capacity.to_string()),
            "listening on ",
        )?;
        Ok(Api { server })
    }
}

/// Where a scenario's requests get their token or body.
#[derive(Clone)]
enum Source {
    None,
    Header(String),
    /// One `Authorization` header per line of this file, each wrk thread cycling through its
    /// own slice.
    Pool(PathBuf),
    Form(String),
}

struct Wrk {
    seconds: u64,
    connections: u32,
    dir: PathBuf,
}

/// One HTTP scenario's figures.
struct Http {
    name: &'static str,
    requests_per_second: f64,
    p50_us: u64,
    p99_us: u64,
    /// CPU cores the server used on average while measured.
    server_cores: f64,
}

impl Wrk {
    fn run(
        &self,
        server: &Server,
        name: &'static str,
        method: &str,
        path: &str,
        source: Source,
        status: u16,
    ) -> Result<Http> {
        let script = self.dir.join("scenario.lua");
        let mut lua = String::new();
        let lua_string = |text: &str| format!("{text:?}");
        writeln!(lua, "wrk.method = {}", lua_string(method))?;
        match &source {
            Source::None => {}
            Source::Header(value) => writeln!(
                lua,
                "wrk.headers[\"Authorization\"] = {}",
                lua_string(value)
            )?,
            Source::Form(body) => {
                writeln!(lua, "wrk.body = {}", lua_string(body))?;
                writeln!(
                    lua,
                    "wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\""
                )?;
            }
            Source::Pool(file) => {
                // Each thread takes its own contiguous slice and cycles through it.
                write!(
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
                    method = lua_string(method),
                    path = lua_string(path),
                    threads = THREADS,
                )?;
            }
        }
        lua.push_str(DONE);
        std::fs::write(&script, lua)?;
        let url = format!("{}{path}", server.url);
        let wrk = |seconds: u64| -> Result<String> {
            let output = Command::new("wrk")
                .args([
                    "-t",
                    &THREADS.to_string(),
                    "-c",
                    &self.connections.to_string(),
                ])
                .args(["-d", &format!("{seconds}s"), "--timeout", "5s", "-s"])
                .arg(&script)
                .arg(&url)
                .output()
                .context("running wrk")?;
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            if !output.status.success() {
                bail!(
                    "wrk failed for {name}: {stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Ok(stdout)
        };
        // Warm up (JWKS fetch, connection set-up, a full cache), then measure.
        wrk(1)?;
        let cpu_before = server.cpu_seconds()?;
        let stdout = wrk(self.seconds)?;
        let cpu = server.cpu_seconds()? - cpu_before;
        let result = stdout
            .lines()
            .find_map(|line| line.strip_prefix("RESULT "))
            .with_context(|| format!("no RESULT line from wrk for {name}: {stdout}"))?;
        let field = |key: &str| -> Result<u64> {
            let start = result.find(&format!("\"{key}\":")).context("field")? + key.len() + 3;
            Ok(result[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()?)
        };
        let requests = field("requests")?;
        let seconds = field("duration_us")? as f64 / 1e6;
        let wrong = if status == 200 {
            field("non2xx")?
        } else {
            requests - field("non2xx")?
        };
        if wrong > 0 || field("socket_errors")? > 0 {
            bail!("{name}: {wrong} answers were not {status}, or sockets failed: {result}");
        }
        let http = Http {
            name,
            requests_per_second: requests as f64 / seconds,
            p50_us: field("p50_us")?,
            p99_us: field("p99_us")?,
            server_cores: cpu / seconds,
        };
        eprintln!("bench: {name}: {:.0} req/s", http.requests_per_second);
        Ok(http)
    }
}

/// POSTs a client-credentials request and returns the access token, trying up to three times:
/// a connection reset while thousands are minted should not void a ten-minute run.
fn mint(issuer: &str, audience: &str) -> Result<String> {
    let mut attempt = 0;
    loop {
        match request_token(issuer, audience) {
            Ok(token) => return Ok(token),
            Err(error) if attempt < 2 => {
                attempt += 1;
                eprintln!("bench: token request failed ({error}); retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => return Err(error),
        }
    }
}

/// One token request. A bare HTTP/1.1 client: the xtask keeps to std for what loopback needs.
fn request_token(issuer: &str, audience: &str) -> Result<String> {
    let address = issuer.strip_prefix("http://").context("an http issuer")?;
    let body = format!(
        "grant_type=client_credentials&client_id=reader&client_secret=reader-secret&audience={}",
        audience.replace(':', "%3A").replace('/', "%2F")
    );
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST /oauth/token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let start = response
        .find("\"access_token\":\"")
        .with_context(|| format!("no access token in {response:?}"))?
        + "\"access_token\":\"".len();
    let end = response[start..].find('"').context("unterminated token")?;
    Ok(response[start..start + end].to_owned())
}

/// `count` distinct tokens, minted over a few connections at once.
fn mint_pool(issuer: &str, count: usize) -> Result<Vec<String>> {
    let workers = 4;
    let tokens = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (0..count)
                        .filter(|n| n % workers == w)
                        .map(|_| mint(issuer, POOL_AUDIENCE))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("minting thread"))
            .collect::<Result<Vec<_>>>()
    })?;
    let tokens: Vec<String> = tokens.into_iter().flatten().collect();
    let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
    if distinct.len() != count {
        bail!(
            "the issuer minted {} distinct tokens of {count}",
            distinct.len()
        );
    }
    Ok(tokens)
}

/// The same token with its signature's first character changed: still canonical base64url,
/// so it reaches the signature check and fails there.
fn tamper(token: &str) -> String {
    let (input, signature) = token.rsplit_once('.').expect("three segments");
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    format!("{input}.{flipped}{}", &signature[1..])
}

struct Report {
    micro: BTreeMap<String, f64>,
    /// Ratios to bare RSA verification measured in alternating batches, by `group/name`.
    paired: BTreeMap<String, f64>,
    http: Vec<Http>,
    cached_peak: u64,
    uncached_peak: u64,
    options: Options,
}

/// One of issue 5's targets: the measured ratio and the bound it must meet.
struct Target {
    name: &'static str,
    ratio: f64,
    bound: f64,
    at_least: bool,
}

impl Target {
    fn holds(&self) -> bool {
        if self.at_least {
            self.ratio >= self.bound
        } else {
            self.ratio <= self.bound
        }
    }
}

impl Report {
    fn http(&self, name: &str) -> &Http {
        self.http
            .iter()
            .find(|h| h.name == name)
            .expect("scenario ran")
    }

    fn targets(&self) -> Vec<Target> {
        let bare_verify_per_core = 1e9 / self.micro["verify/bare_rsa"];
        let bare_sign_per_core = 1e9 / self.micro["sign/bare_rsa"];
        let pool_off = self.http("private, token pool, cache off");
        let token = self.http("mock issuer /oauth/token");
        // The cache's bound: capacity units of 4 KiB each.
        let cache_bound_kib = (CACHE_CAPACITY * 4) as f64;
        vec![
            Target {
                name: "full verify / bare RSA verify (paired CPU time)",
                ratio: self.paired["verify/full"],
                bound: 1.15,
                at_least: false,
            },
            Target {
                name: "private, one token / public (req/s)",
                ratio: self.http("private, one token").requests_per_second
                    / self.http("public").requests_per_second,
                bound: 0.9,
                at_least: true,
            },
            Target {
                name: "token pool, cache off / (bare verify rate x server cores)",
                ratio: pool_off.requests_per_second
                    / (bare_verify_per_core * pool_off.server_cores),
                bound: 0.8,
                at_least: true,
            },
            Target {
                name: "peak RSS, cache on - cache off / cache bound (KiB)",
                ratio: (self.cached_peak as f64 - self.uncached_peak as f64) / cache_bound_kib,
                bound: 1.0,
                at_least: false,
            },
            Target {
                name: "token endpoint / (bare sign rate x issuer cores)",
                ratio: token.requests_per_second / (bare_sign_per_core * token.server_cores),
                bound: 0.8,
                at_least: true,
            },
            Target {
                name: "worst rejection / full verify (paired CPU time)",
                ratio: [
                    "reject/expired",
                    "reject/bad_signature",
                    "reject/unknown_kid",
                    "reject/malformed",
                ]
                .iter()
                .map(|name| self.paired[*name])
                .fold(0.0, f64::max)
                    / self.paired["verify/full"],
                bound: 1.0,
                at_least: false,
            },
        ]
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nMicro-benchmarks (criterion medians of thread CPU time; x bare = paired ratio)"
        );
        for (name, ns) in &self.micro {
            let paired = self
                .paired
                .get(name)
                .map_or(String::new(), |ratio| format!("{ratio:>8.3} x bare"));
            let _ = writeln!(out, "  {name:<24} {:>12} {paired}", format_ns(*ns));
        }
        let _ = writeln!(
            out,
            "\nHTTP on loopback (wrk, 2 threads, {} connections, {} s; server cores = CPU time / wall time)",
            self.options.connections, self.options.seconds
        );
        let _ = writeln!(
            out,
            "  {:<34} {:>10} {:>9} {:>9} {:>7} {:>11}",
            "scenario", "req/s", "p50 µs", "p99 µs", "cores", "CPU µs/req"
        );
        for h in &self.http {
            let _ = writeln!(
                out,
                "  {:<34} {:>10.0} {:>9} {:>9} {:>7.2} {:>11.1}",
                h.name,
                h.requests_per_second,
                h.p50_us,
                h.p99_us,
                h.server_cores,
                h.server_cores / h.requests_per_second * 1e6
            );
        }
        let _ = writeln!(
            out,
            "\nPeak memory of the api (VmHWM): cache on {} KiB, cache off {} KiB; cache bound {} KiB",
            self.cached_peak,
            self.uncached_peak,
            CACHE_CAPACITY * 4
        );
        let _ = writeln!(out, "\nTargets");
        for t in self.targets() {
            let _ = writeln!(
                out,
                "  {:<58} {:>6.3} {} {:<5} {}",
                t.name,
                t.ratio,
                if t.at_least { ">=" } else { "<=" },
                t.bound,
                if t.holds() { "held" } else { "MISSED" }
            );
        }
        out
    }

    fn json(&self) -> String {
        let mut out = String::from("{\n  \"micro_median_ns\": {");
        let micro: Vec<String> = self
            .micro
            .iter()
            .map(|(k, v)| format!("\n    {k:?}: {v:.1}"))
            .collect();
        out += &micro.join(",");
        out += "\n  },\n  \"micro_paired_ratio_to_bare_rsa\": {";
        let paired: Vec<String> = self
            .paired
            .iter()
            .map(|(k, v)| format!("\n    {k:?}: {v:.4}"))
            .collect();
        out += &paired.join(",");
        out += "\n  },\n  \"http\": [";
        let http: Vec<String> = self
            .http
            .iter()
            .map(|h| {
                format!(
                    "\n    {{\"scenario\": {:?}, \"requests_per_second\": {:.1}, \"p50_us\": {}, \"p99_us\": {}, \"server_cores\": {:.3}}}",
                    h.name, h.requests_per_second, h.p50_us, h.p99_us, h.server_cores
                )
            })
            .collect();
        out += &http.join(",");
        let _ = write!(
            out,
            "\n  ],\n  \"peak_memory_kib\": {{\"cache_on\": {}, \"cache_off\": {}, \"cache_bound\": {}}},\n  \"settings\": {{\"seconds\": {}, \"connections\": {}, \"wrk_threads\": 2, \"pool_size\": {POOL_SIZE}, \"cache_capacity\": {CACHE_CAPACITY}}},\n  \"targets\": [",
            self.cached_peak,
            self.uncached_peak,
            CACHE_CAPACITY * 4,
            self.options.seconds,
            self.options.connections
        );
        let targets: Vec<String> = self
            .targets()
            .iter()
            .map(|t| {
                format!(
                    "\n    {{\"target\": {:?}, \"ratio\": {:.4}, \"bound\": {}, \"at_least\": {}, \"held\": {}}}",
                    t.name, t.ratio, t.bound, t.at_least, t.holds()
                )
            })
            .collect();
        out += &targets.join(",");
        out += "\n  ]\n}\n";
        out
    }
}

fn format_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
