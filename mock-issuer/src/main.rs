//! `mock-issuer`: serve the offline tenant, mint tokens offline, manage its persisted keys, and
//! act as a DPoP client (make a key, print proofs) so a person can try DPoP with `curl`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use mock_issuer::admin_access::{ADMIN_TOKEN_ENV, AdminAccess};
use mock_issuer::oauth::dpop::DpopKey;
use mock_issuer::server::{self, AppState};
use mock_issuer::{ClientCredentials, Dialect, IssuerConfig, SigningAlg, TokenSpec};
use serde_json::Value;
use tokio::net::TcpListener;

/// An offline Auth0 tenant: discovery, JWKS, client-credentials tokens, key rotation, faults.
#[derive(Debug, Parser)]
#[command(name = "mock-issuer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    tenant: TenantArgs,
}

/// Options every command shares: which tenant and which keys.
#[derive(Debug, Args)]
struct TenantArgs {
    /// Tenant TOML file (APIs and clients); default: the built-in quickstart tenant.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where keys are persisted; default: `target/mock-issuer` of the enclosing Cargo workspace,
    /// else the user's data dir.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Deterministic keys (and tokens, with a fixed `iat`) for snapshots.
    #[arg(long, global = true, value_name = "N")]
    seed: Option<u64>,
    /// How the first API (the default audience) signs its access tokens: RS256, PS256, ES256,
    /// EdDSA or HS256 (with its `signing_secret`, else a generated one kept in the data dir);
    /// default: as the tenant file says, else RS256.
    #[arg(long, global = true, value_name = "ALG")]
    signing_alg: Option<SigningAlg>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the tenant until Ctrl-C or SIGTERM. The first stdout line is `issuer: <url>`.
    Serve {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to bind; 0 lets the OS choose (the first line tells which).
        #[arg(long, default_value_t = 4000)]
        port: u16,
        #[command(flatten)]
        admin: AdminArgs,
    },
    /// Print a signed token, offline, with the persisted current key.
    Mint(MintArgs),
    /// Rotate the persisted keys: next becomes current, a new next is made. Prints the kids.
    ///
    /// A running `serve` keeps the keys it loaded; rotate it with `POST /_mock/rotate`.
    Rotate,
    /// Stop publishing the previous key. Prints the kids.
    RevokePrevious,
    /// Print the JWKS the server would publish.
    Jwks,
    /// Make a new DPoP key (EC P-256) in FILE, a PEM file only you can read (mode 0600); print
    /// its public JWK and thumbprint (the `cnf.jkt` of tokens bound to it) as JSON.
    ///
    /// An existing FILE is never replaced: tokens may be bound to the key in it.
    DpopKey {
        /// The new key file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print a fresh DPoP proof (ES256) for one request, to send as its `DPoP` header:
    /// `curl -H "DPoP: $(mock-issuer proof --key k.pem --url URL)" URL`. A proof is good once.
    Proof(ProofArgs),
}

#[derive(Debug, Args)]
struct ProofArgs {
    /// The key file, as `mock-issuer dpop-key` makes it (PKCS#8 PEM, P-256, mode 0600).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The request's method (`htm`): POST for the token endpoint, GET for the API's routes.
    #[arg(long, default_value = "GET")]
    method: String,
    /// The request's URL (`htu`); its query and fragment are left out of the proof.
    #[arg(long, value_name = "URL")]
    url: String,
    /// The access token the request carries, to add its hash (`ath`); for the API, not for the
    /// token endpoint. (A flag shows in `ps`: use it with development tokens.)
    #[arg(long, value_name = "ACCESS_TOKEN")]
    token: Option<String>,
    /// The nonce a server handed out in its `DPoP-Nonce` header, for the `nonce` claim (an API
    /// run with `DPOP_NONCE=true` asks for it).
    #[arg(long, value_name = "NONCE")]
    nonce: Option<String>,
}

/// Who may use the admin surface under `/_mock/` (rotation, faults, counters).
#[derive(Debug, Args)]
struct AdminArgs {
    /// Bearer token every request under `/_mock/` must carry, on any address. Default:
    /// $MOCK_ADMIN_TOKEN (preferable: a flag shows in `ps`); without either, none on a loopback
    /// address and, on any other, a random one printed in the banner.
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// Serve `/_mock/` without a token on a non-loopback address: anyone who can reach the port
    /// can rotate the keys and inject faults. Prints a warning.
    #[arg(long)]
    open_admin: bool,
}

#[derive(Debug, Args)]
struct MintArgs {
    /// Client id: `sub` is `<client>@clients`.
    #[arg(long, default_value = "reader")]
    client: String,
    /// Audience; default: the first configured API.
    #[arg(long)]
    audience: Option<String>,
    /// A scope (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// A permission for the `permissions` claim (repeatable).
    #[arg(long = "permission", value_name = "PERMISSION")]
    permissions: Vec<String>,
    /// Lifetime in seconds; default: the API's (86400).
    #[arg(long, value_name = "SECONDS")]
    expires_in: Option<u64>,
    /// Make the token already expired.
    #[arg(long)]
    expired: bool,
    /// Add `nbf` = now + SECONDS (e.g. 3600: not yet valid).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    not_before: Option<i64>,
    /// Fixed `iat` (Unix seconds), for reproducible tokens.
    #[arg(long, value_name = "UNIX_SECONDS")]
    iat: Option<u64>,
    /// RFC 9068 dialect (`typ: at+jwt`, `client_id`, `jti`) instead of the API's.
    #[arg(long)]
    rfc9068: bool,
    /// Extra claim NAME=JSON (repeatable; a value that is not JSON is taken as a string).
    #[arg(long = "claim", value_name = "NAME=JSON")]
    claims: Vec<String>,
    /// Issuer URL for `iss`; must match the server's.
    #[arg(long, default_value = "http://127.0.0.1:4000/")]
    issuer: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    mock_issuer::install_crypto_provider();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-issuer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    // Logs go to stderr so stdout stays machine-readable (its first line is the issuer URL);
    // colours only on a terminal, so a log file holds no escape sequences.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: Cli) -> Result<()> {
    // Read only by the commands that need a tenant (not the DPoP client's).
    let config = || tenant_config(&cli.tenant);
    match cli.command {
        Command::Serve { host, port, admin } => serve(config()?, &host, port, admin),
        Command::Mint(args) => {
            let spec = token_spec(&args)?;
            let state = AppState::new(config()?, normalise_issuer(&args.issuer))?;
            println!("{}", state.mint(&spec)?);
            Ok(())
        }
        Command::Rotate => {
            let state = AppState::new(config()?, String::new())?;
            println!("{}", serde_json::to_string(&state.rotate()?)?);
            Ok(())
        }
        Command::RevokePrevious => {
            let state = AppState::new(config()?, String::new())?;
            println!("{}", serde_json::to_string(&state.revoke_previous()?)?);
            Ok(())
        }
        Command::Jwks => {
            let state = AppState::new(config()?, String::new())?;
            println!("{}", serde_json::to_string_pretty(&state.jwks())?);
            Ok(())
        }
        Command::DpopKey { file } => dpop_key(&file),
        Command::Proof(args) => proof(&args),
    }
}

/// `mock-issuer dpop-key FILE`: a new key in FILE; its public JWK and thumbprint on stdout.
fn dpop_key(file: &Path) -> Result<()> {
    let key = DpopKey::create_file(file)?;
    let public = serde_json::json!({ "jwk": key.public_jwk(), "jkt": key.thumbprint() });
    println!("{public}");
    Ok(())
}

/// `mock-issuer proof`: one fresh proof on stdout.
fn proof(args: &ProofArgs) -> Result<()> {
    let key = DpopKey::load_file(&args.key)?;
    println!(
        "{}",
        key.proof_with_nonce(
            &args.method,
            &args.url,
            args.token.as_deref(),
            args.nonce.as_deref()
        )?
    );
    Ok(())
}

fn tenant_config(args: &TenantArgs) -> Result<IssuerConfig> {
    let mut config = IssuerConfig::default();
    if let Some(path) = &args.config {
        config = config.with_tenant_file(path)?;
    }
    config.seed = args.seed;
    if let Some(alg) = args.signing_alg {
        let api = config
            .apis
            .first_mut()
            .context("--signing-alg: the tenant has no API")?;
        api.signing_alg = alg;
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    Ok(config.with_data_dir(dir))
}

/// `<workspace>/target/mock-issuer` when run inside a Cargo workspace (git-ignored with
/// `target/`), else `$XDG_DATA_HOME/mock-issuer` or `~/.local/share/mock-issuer`.
fn default_data_dir() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let workspace = cwd.ancestors().find(|dir| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|text| text.contains("[workspace]"))
    });
    if let Some(root) = workspace {
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        return Ok(target.join("mock-issuer"));
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(Path::new(&data).join("mock-issuer"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(Path::new(&home).join(".local/share/mock-issuer")),
        None => bail!("no data dir: pass --data-dir"),
    }
}

fn normalise_issuer(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// The token `mock-issuer mint` describes.
fn token_spec(args: &MintArgs) -> Result<TokenSpec> {
    let mut spec = TokenSpec::for_client(&args.client).scopes(args.scopes.clone());
    if let Some(audience) = &args.audience {
        spec = spec.audience(audience);
    }
    if !args.permissions.is_empty() {
        spec = spec.permissions(args.permissions.clone());
    }
    if let Some(seconds) = args.expires_in {
        spec = spec.expires_in(seconds);
    }
    if args.expired {
        spec = spec.expired();
    }
    if let Some(offset) = args.not_before {
        spec = spec.not_before(offset);
    }
    if let Some(iat) = args.iat {
        spec = spec.issued_at(iat);
    }
    if args.rfc9068 {
        spec = spec.dialect(Dialect::Rfc9068);
    }
    for claim in &args.claims {
        let (name, raw) = claim
            .split_once('=')
            .with_context(|| format!("--claim `{claim}`: expected NAME=JSON"))?;
        // A bare word is meant as a string; anything that parses as JSON is taken as JSON.
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        spec = spec.claim(name, value);
    }
    Ok(spec)
}

/// The admin surface's guard for a server bound to `addr`, from `args` and the environment.
fn admin_access(addr: SocketAddr, args: AdminArgs) -> Result<AdminAccess> {
    let env = match std::env::var(ADMIN_TOKEN_ENV) {
        Ok(token) => Some(token),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => bail!("{ADMIN_TOKEN_ENV} is not UTF-8"),
    };
    Ok(AdminAccess::decide(
        addr.ip(),
        args.admin_token,
        env,
        args.open_admin,
    )?)
}

#[tokio::main]
async fn serve(mut config: IssuerConfig, host: &str, port: u16, admin: AdminArgs) -> Result<()> {
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("binding {host}:{port}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    let issuer = server::issuer_url(addr);
    let access = admin_access(addr, admin)?;
    config.admin_token = access.token().cloned();
    if let Some(warning) = access.warning(&addr.to_string()) {
        eprintln!("{warning}");
    }
    let state = tokio::task::spawn_blocking({
        let issuer = issuer.clone();
        move || AppState::new(config, issuer)
    })
    .await??;

    print_banner(&state, &access)?;
    tracing::info!(%addr, data_dir = ?state.config().data_dir, "serving");
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server::serve(listener, state, async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    });
    // In-flight requests get a grace period, not forever: a request held by a latency fault or
    // a client that never reads must not keep the process alive after Ctrl-C.
    let grace_over = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result?,
        () = grace_over => tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still in flight; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long in-flight requests may run on after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The first line is exactly `issuer: <url>` and is flushed at once, so a parent process can
/// read the chosen port; the second, `console: <url>`, is the page a person opens; the rest
/// helps a human get a token.
fn print_banner(state: &AppState, access: &AdminAccess) -> Result<()> {
    let issuer = state.issuer();
    let mut out = std::io::stdout().lock();
    writeln!(out, "issuer: {issuer}")?;
    out.flush()?;
    writeln!(out, "console: {issuer}")?;
    writeln!(out, "jwks: {issuer}.well-known/jwks.json")?;
    writeln!(out, "token endpoint: {issuer}oauth/token")?;
    writeln!(out, "{}", access.banner_line())?;
    for api in &state.config().apis {
        writeln!(
            out,
            "api: {} (scopes: {}; dialect: {}; lifetime: {} s; signing: {})",
            api.identifier,
            if api.scopes.is_empty() {
                "none".to_owned()
            } else {
                api.scopes.join(" ")
            },
            api.dialect,
            api.token_lifetime,
            signing(state, api),
        )?;
    }
    for client in &state.config().clients {
        let grants: Vec<String> = client
            .grants
            .iter()
            .map(|g| format!("{} [{}]", g.audience, g.scopes.join(" ")))
            .collect();
        writeln!(
            out,
            "client: {} / {} ({}) -> {}",
            client.id,
            client.secret.as_deref().unwrap_or("public, no secret"),
            client.app_type.as_str(),
            if grants.is_empty() {
                "no grants".to_owned()
            } else {
                grants.join(", ")
            }
        )?;
    }
    for (alg, keys) in state.published_keys() {
        let keys = serde_json::to_string(&keys)?;
        match alg {
            // The line the RSA keys have always had.
            SigningAlg::Rs256 => writeln!(out, "keys: {keys}")?,
            _ => writeln!(out, "keys ({alg}): {keys}")?,
        }
    }
    let machine_client = state.config().clients.iter().find_map(|c| {
        c.secret
            .as_deref()
            .filter(|_| !c.grants.is_empty())
            .map(|secret| (c, secret))
    });
    if let Some((client, secret)) = machine_client {
        let body = serde_json::to_string(&ClientCredentials::new(
            &client.id,
            secret,
            &client.grants[0].audience,
        ))?;
        writeln!(
            out,
            "dpop: make a key with `mock-issuer dpop-key KEY`, add -H \"DPoP: $(mock-issuer proof --key KEY --method POST --url {issuer}oauth/token)\" to the curl below, get a bound token (token_type DPoP)"
        )?;
        writeln!(
            out,
            "curl -s {issuer}oauth/token -H 'content-type: application/json' -d '{body}'"
        )?;
    }
    out.flush()?;
    Ok(())
}

/// How `api` signs, for the banner: the algorithm, and an HS256 API's secret (a development
/// tenant's, printed as the client secrets are).
fn signing(state: &AppState, api: &mock_issuer::ApiConfig) -> String {
    match (api.signing_alg, state.signing_secret(&api.identifier)) {
        (SigningAlg::Hs256, Some(secret)) => format!("HS256, secret {}", secret.expose()),
        (alg, _) => alg.to_string(),
    }
}

/// Completes on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and process managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
