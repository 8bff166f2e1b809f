//! `cargo xtask dev`: the project's main command. Builds and starts the mock issuer and the api
//! (pointed at it), gets tokens through `/oauth/token`, calls every route with and without them
//! and prints the answers next to the contract's, with curl lines to try; then serves until
//! Ctrl-C.
//!
//! - `cargo xtask dev [--api-port N] [--issuer-port N]`: interactive; ports default to 3010 (the
//!   Express sample's) and 4000 (the mock's), so curl lines keep working across restarts.
//! - `cargo xtask dev --once`: ports of the OS's choosing; exits after the table, non-zero if any
//!   answer differs from the contract (what CI runs).
//! - With `AUTH0_DOMAIN`, `AUTH0_AUDIENCE`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` set, the
//!   api trusts that tenant instead and no mock is started. `AUTH0_ISSUER_BASE_URL` overrides the
//!   issuer derived from the domain (`https://DOMAIN/`), so tests can play the tenant with a mock
//!   started separately. An `https` token endpoint is called through `curl`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

/// The contract's 200 bodies (see shared/reference/contract.md).
const PUBLIC_MESSAGE: &str =
    "Hello from a public endpoint! You don't need to be authenticated to see this.";
const PRIVATE_MESSAGE: &str =
    "Hello from a private endpoint! You need to be authenticated to see this.";
const SCOPED_MESSAGE: &str = "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.";
/// The scope `/api/private-scoped` requires.
const REQUIRED_SCOPE: &str = "read:messages";
/// The mock's default API and clients (mock-issuer's `IssuerConfig::default()`).
const MOCK_AUDIENCE: &str = "https://quickstarts/api";
const MOCK_CLIENTS: &[(&str, &str, &str)] = &[
    ("scoped", "reader", "reader-secret"),
    ("unscoped", "no-scopes", "no-scopes-secret"),
];
/// Every HTTP exchange gives up after this long, so a hung server fails the run instead of
/// hanging it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs the task; see the module documentation for the options.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let tenant = Tenant::from_env()?;
    let packages: &[&str] = if tenant.is_some() {
        &["--package", "api"]
    } else {
        &["--package", "api", "--package", "mock-issuer"]
    };
    cmd!(sh, "cargo build --quiet {packages...} --bins").run()?;
    let binaries = target_dir(sh).join("debug");
    let log_level = if options.once { "warn" } else { "info" };

    let mut processes = Vec::new();
    let (exited_tx, exited_rx) = mpsc::channel::<&'static str>();
    let (issuer, audience, clients, token_curl) = match &tenant {
        Some(tenant) => (
            tenant.issuer.clone(),
            tenant.audience.clone(),
            vec![Client {
                label: "tenant",
                id: tenant.client_id.clone(),
                secret: tenant.client_secret.clone(),
            }],
            // The secret stays in the environment rather than in the terminal's scrollback.
            format!(
                "curl -s {}oauth/token -H 'content-type: application/json' -d \"{{\\\"grant_type\\\":\\\"client_credentials\\\",\\\"client_id\\\":\\\"$AUTH0_CLIENT_ID\\\",\\\"client_secret\\\":\\\"$AUTH0_CLIENT_SECRET\\\",\\\"audience\\\":\\\"$AUTH0_AUDIENCE\\\"}}\"",
                tenant.issuer
            ),
        ),
        None => {
            let mut mock = Command::new(binaries.join("mock-issuer"));
            mock.args(["serve", "--host", "127.0.0.1", "--port"])
                .arg(options.issuer_port.to_string())
                .arg("--data-dir")
                .arg(target_dir(sh).join("mock-issuer"));
            let (process, first) = start(mock, "mock-issuer", log_level, &exited_tx)?;
            processes.push(process);
            let issuer = first
                .strip_prefix("issuer: ")
                .with_context(|| format!("unexpected first line from mock-issuer: {first:?}"))?
                .to_owned();
            let clients: Vec<Client> = MOCK_CLIENTS
                .iter()
                .map(|(label, id, secret)| Client {
                    label,
                    id: (*id).to_owned(),
                    secret: (*secret).to_owned(),
                })
                .collect();
            let body = token_body(&clients[0], MOCK_AUDIENCE);
            let curl = format!(
                "curl -s {issuer}oauth/token -H 'content-type: application/json' -d '{body}'"
            );
            (issuer, MOCK_AUDIENCE.to_owned(), clients, curl)
        }
    };

    let mut api = Command::new(binaries.join("api"));
    api.env("ISSUER_BASE_URL", &issuer)
        .env("AUDIENCE", &audience)
        .env("HOST", "127.0.0.1")
        .env("PORT", options.api_port.to_string());
    let (process, first) = start(api, "api", log_level, &exited_tx)?;
    processes.push(process);
    let api_url = first
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line from api: {first:?}"))?
        .trim_end_matches('/')
        .to_owned();

    println!("issuer: {issuer}");
    println!("api:    {api_url}  (audience {audience})\n");
    let mut tokens = Vec::new();
    for client in &clients {
        let token = fetch_token(&issuer, &audience, client)
            .with_context(|| format!("getting a token for client `{}`", client.id))?;
        tokens.push(token);
    }
    let rows = check_routes(&api_url, &tokens)?;
    print_table(&rows);
    // Real tenants' tokens are live credentials: keep them out of CI logs.
    let redact = tenant.is_some() && std::env::var_os("CI").is_some();
    print_curl_lines(&api_url, &tokens, &token_curl, redact);

    let mismatches = rows.iter().filter(|r| !r.matches()).count();
    if options.once {
        drop(processes);
        if mismatches > 0 {
            bail!("{mismatches} answer(s) differ from the contract");
        }
        println!("\nall {} answers match the contract", rows.len());
        return Ok(());
    }
    if mismatches > 0 {
        println!("\nwarning: {mismatches} answer(s) differ from the contract");
    }
    println!("\nserving; Ctrl-C stops both");
    // Ctrl-C reaches the whole foreground process group, so both servers get SIGINT and shut
    // down gracefully on their own; if one exits any other way, stop the other and report it.
    let stopped = exited_rx.recv().unwrap_or("a server");
    let status = processes
        .iter_mut()
        .find(|p| p.name == stopped)
        .map(|p| p.child.wait());
    drop(processes);
    match status {
        // A clean exit is the answer to Ctrl-C (or SIGTERM): the other one is stopped too.
        Some(Ok(status)) if status.success() => {
            println!("{stopped} stopped; both are down");
            Ok(())
        }
        Some(Ok(status)) => bail!("{stopped} exited with {status}"),
        _ => bail!("{stopped} stopped"),
    }
}

/// Command-line options.
struct Options {
    once: bool,
    api_port: u16,
    issuer_port: u16,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self> {
        let once = args.iter().any(|a| a == "--once");
        let mut api_port = None;
        let mut issuer_port = None;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let port = |iter: &mut std::slice::Iter<'_, String>| -> Result<u16> {
                let value = iter.next().with_context(|| format!("{arg} needs a port"))?;
                value
                    .parse()
                    .with_context(|| format!("{arg}: `{value}` is not a port"))
            };
            match arg.as_str() {
                "--once" => {}
                "--api-port" => api_port = Some(port(&mut iter)?),
                "--issuer-port" => issuer_port = Some(port(&mut iter)?),
                other => bail!(
                    "unknown option `{other}`; usage: cargo xtask dev [--once] [--api-port N] [--issuer-port N]"
                ),
            }
        }
        // Interactive runs get stable ports for copy-pasted curl lines; --once (CI) must never
        // collide with anything, so it lets the OS choose.
        let default = |interactive: u16| if once { 0 } else { interactive };
        Ok(Self {
            once,
            api_port: api_port.unwrap_or(default(3010)),
            issuer_port: issuer_port.unwrap_or(default(4000)),
        })
    }
}

/// A real Auth0 tenant, from the `AUTH0_*` variables.
struct Tenant {
    issuer: String,
    audience: String,
    client_id: String,
    client_secret: String,
}

impl Tenant {
    /// `None` when none of the four variables is set; an error when only some are.
    fn from_env() -> Result<Option<Self>> {
        const NAMES: [&str; 4] = [
            "AUTH0_DOMAIN",
            "AUTH0_AUDIENCE",
            "AUTH0_CLIENT_ID",
            "AUTH0_CLIENT_SECRET",
        ];
        let values: Vec<Option<String>> = NAMES
            .iter()
            .map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = NAMES
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            bail!(
                "a real tenant needs all of {}; missing: {}",
                NAMES.join(", "),
                missing.join(", ")
            );
        }
        let [domain, audience, client_id, client_secret] =
            <[Option<String>; 4]>::try_from(values).map_err(|_| anyhow::anyhow!("four values"))?;
        let domain = domain.unwrap_or_default();
        let issuer = std::env::var("AUTH0_ISSUER_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("https://{}/", domain.trim_end_matches('/')));
        let issuer = if issuer.ends_with('/') {
            issuer
        } else {
            format!("{issuer}/")
        };
        Ok(Some(Self {
            issuer,
            audience: audience.unwrap_or_default(),
            client_id: client_id.unwrap_or_default(),
            client_secret: client_secret.unwrap_or_default(),
        }))
    }
}

/// An application whose token the table uses.
struct Client {
    label: &'static str,
    id: String,
    secret: String,
}

/// A token and what the contract then expects of `/api/private-scoped`.
struct Token {
    label: &'static str,
    access_token: String,
    has_required_scope: bool,
}

impl Token {
    /// The shell variable the curl lines use for this token: `SCOPED`, `UNSCOPED`, `TENANT`.
    fn variable(&self) -> String {
        self.label.to_ascii_uppercase()
    }
}

/// A started server, killed when dropped so no error path leaves it running.
pub(crate) struct Process {
    name: &'static str,
    pub(crate) child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Starts `command`, returns it with its first stdout line. The rest of stdout is drained on a
/// thread (so the child never blocks on a full pipe) that reports on `exited` when it closes.
pub(crate) fn start(
    mut command: Command,
    name: &'static str,
    log_level: &str,
    exited: &mpsc::Sender<&'static str>,
) -> Result<(Process, String)> {
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", log_level);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let process = Process { name, child };
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .with_context(|| format!("reading {name}'s first line"))?;
    if first.is_empty() {
        bail!("{name} exited before printing its address (see its errors above)");
    }
    let exited = exited.clone();
    std::thread::spawn(move || drain(reader, name, &exited));
    Ok((process, first.trim_end().to_owned()))
}

fn drain(
    mut reader: BufReader<ChildStdout>,
    name: &'static str,
    exited: &mpsc::Sender<&'static str>,
) {
    let mut sink = Vec::new();
    while matches!(reader.read_until(b'\n', &mut sink), Ok(n) if n > 0) {
        sink.clear();
    }
    let _ = exited.send(name);
}

fn token_body(client: &Client, audience: &str) -> Value {
    json!({
        "grant_type": "client_credentials",
        "client_id": client.id,
        "client_secret": client.secret,
        "audience": audience,
    })
}

/// Gets a client-credentials token through the issuer's `/oauth/token`, like any client would.
fn fetch_token(issuer: &str, audience: &str, client: &Client) -> Result<Token> {
    let url = format!("{issuer}oauth/token");
    let body = token_body(client, audience).to_string();
    let response = if url.starts_with("https://") {
        post_json_with_curl(&url, &body)?
    } else {
        http(
            "POST",
            &url,
            &[("Content-Type", "application/json")],
            Some(&body),
        )?
    };
    if response.status != 200 {
        bail!("{url} answered {}: {}", response.status, response.body);
    }
    let json: Value = serde_json::from_str(&response.body)
        .with_context(|| format!("{url} answered something that is not JSON"))?;
    let access_token = json["access_token"]
        .as_str()
        .with_context(|| format!("{url} answered no access_token"))?
        .to_owned();
    let has_required_scope = json["scope"]
        .as_str()
        .is_some_and(|s| s.split(' ').any(|scope| scope == REQUIRED_SCOPE));
    Ok(Token {
        label: client.label,
        access_token,
        has_required_scope,
    })
}

/// One call to the api and what the contract expects of it.
struct Row {
    route: &'static str,
    token: &'static str,
    expected_status: u16,
    expected_message: Option<&'static str>,
    status: u16,
    message: Option<String>,
}

impl Row {
    fn matches(&self) -> bool {
        self.status == self.expected_status
            && self
                .expected_message
                .is_none_or(|m| self.message.as_deref() == Some(m))
    }
}

/// Calls each route without a token and with each token.
fn check_routes(api_url: &str, tokens: &[Token]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let no_token = std::iter::once(None);
    for token in no_token.chain(tokens.iter().map(Some)) {
        let routes: [(&str, u16, &str); 3] = [
            ("/api/public", 200, PUBLIC_MESSAGE),
            (
                "/api/private",
                if token.is_some() { 200 } else { 401 },
                PRIVATE_MESSAGE,
            ),
            (
                "/api/private-scoped",
                match token {
                    None => 401,
                    Some(t) if t.has_required_scope => 200,
                    Some(_) => 403,
                },
                SCOPED_MESSAGE,
            ),
        ];
        for (route, expected_status, contract_message) in routes {
            let authorization = token.map(|t| format!("Bearer {}", t.access_token));
            let headers: Vec<(&str, &str)> = authorization
                .as_deref()
                .map(|a| ("Authorization", a))
                .into_iter()
                .collect();
            let response = http("GET", &format!("{api_url}{route}"), &headers, None)
                .with_context(|| format!("calling {route}"))?;
            let message = serde_json::from_str::<Value>(&response.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned));
            rows.push(Row {
                route,
                token: token.map_or("none", |t| t.label),
                expected_status,
                expected_message: (expected_status == 200).then_some(contract_message),
                status: response.status,
                message,
            });
        }
    }
    Ok(rows)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<24} {:<10} {:>8} {:>5}  result",
        "route", "token", "expected", "got"
    );
    for row in rows {
        let result = if row.matches() {
            "ok".to_owned()
        } else if row.status == row.expected_status {
            format!("MISMATCH: body {:?}", row.message.as_deref().unwrap_or(""))
        } else {
            "MISMATCH".to_owned()
        };
        println!(
            "GET {:<20} {:<10} {:>8} {:>5}  {result}",
            row.route, row.token, row.expected_status, row.status
        );
    }
}

fn print_curl_lines(api_url: &str, tokens: &[Token], token_curl: &str, redact: bool) {
    println!("\ntry it:");
    for token in tokens {
        let value = if redact {
            "<not printed on CI>"
        } else {
            token.access_token.as_str()
        };
        println!("  {}='{value}'", token.variable());
    }
    println!("  curl -si {api_url}/api/public");
    for token in tokens {
        for route in ["/api/private", "/api/private-scoped"] {
            println!(
                "  curl -si {api_url}{route} -H \"Authorization: Bearer ${}\"",
                token.variable()
            );
        }
    }
    println!("a fresh token:\n  {token_curl}");
}

/// An HTTP answer: status and body text.
struct Response {
    status: u16,
    body: String,
}

/// A minimal HTTP/1.1 exchange over a plain TCP connection, enough for local `http://` servers
/// (the xtask stays free of an HTTP client and a TLS stack). `Connection: close` delimits the
/// body; chunked bodies are decoded.
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Result<Response> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// is supported here"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let address = authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("{authority} resolves to nothing"))?;
    let mut stream = TcpStream::connect_timeout(&address, HTTP_TIMEOUT)
        .with_context(|| format!("connecting to {authority}"))?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer of {url}"))?;
    parse_response(&raw).with_context(|| format!("parsing the answer of {url}"))
}

fn parse_response(raw: &[u8]) -> Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).context("headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("truncated chunk size")?;
        let size_text = std::str::from_utf8(&data[..line_end])?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).context("bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).context("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).context("truncated chunk")?;
    }
}

/// `POST` JSON over HTTPS through `curl`, for a real tenant's token endpoint.
fn post_json_with_curl(url: &str, body: &str) -> Result<Response> {
    let mut child = Command::new("curl")
        .args(["-sS", "--max-time", "15", "-X", "POST", url])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ])
        .args(["-w", "\n%{http_code}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running curl (needed for an https token endpoint)")?;
    // The body holds the client secret: it goes through stdin, not the process list.
    child
        .stdin
        .take()
        .context("curl stdin")?
        .write_all(body.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("curl {url} failed");
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let (body, status) = text.rsplit_once('\n').context("curl printed no status")?;
    Ok(Response {
        status: status.trim().parse().context("curl status")?,
        body: body.to_owned(),
    })
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub(crate) fn target_dir(sh: &Shell) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| sh.current_dir().join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_answer_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";

        let response = parse_response(raw).expect("parses");

        assert_eq!(response.status, 200);
        assert_eq!(response.body, "{\"a\":1}");
    }

    #[test]
    fn a_plain_answer_keeps_its_body() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}";

        let response = parse_response(raw).expect("parses");

        assert_eq!(response.status, 401);
        assert_eq!(response.body, "{}");
    }

    #[test]
    fn a_200_with_the_wrong_message_is_a_mismatch() {
        let row = Row {
            route: "/api/public",
            token: "none",
            expected_status: 200,
            expected_message: Some(PUBLIC_MESSAGE),
            status: 200,
            message: Some("hello".to_owned()),
        };

        assert!(!row.matches());
    }

    #[test]
    fn once_defaults_to_ports_of_the_os_choosing() {
        let once = Options::parse(&["--once".to_owned()]).expect("parses");
        let interactive = Options::parse(&[]).expect("parses");

        assert_eq!((once.api_port, once.issuer_port), (0, 0));
        assert_eq!(
            (interactive.api_port, interactive.issuer_port),
            (3010, 4000)
        );
    }
}
