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
//!   started separately.
//!
//! [`issuer`] says where tokens come from (the mock or the tenant) and gets them; [`contract`]
//! calls the routes and prints the table.

mod contract;
mod issuer;

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};
use clap::Args;
use xshell::{Shell, cmd};

use crate::http::Http;
use crate::process::{self, Announce, Server};
use issuer::{Issuer, Tenant};

/// `cargo xtask dev`'s options.
#[derive(Debug, Args)]
pub struct Options {
    /// Exit after the table, non-zero if any answer differs from the contract (what CI runs).
    #[arg(long)]
    once: bool,
    /// The api's port. Default: 3010, or one of the OS's choosing with --once.
    #[arg(long, value_name = "N")]
    api_port: Option<u16>,
    /// The mock issuer's port. Default: 4000, or one of the OS's choosing with --once.
    #[arg(long, value_name = "N")]
    issuer_port: Option<u16>,
}

impl Options {
    /// `--once` with the default ports, as `cargo xtask test` runs it.
    pub fn once() -> Self {
        Self {
            once: true,
            api_port: None,
            issuer_port: None,
        }
    }

    /// Interactive runs get stable ports for copy-pasted curl lines; --once (CI) must never
    /// collide with anything, so it lets the OS choose.
    fn port(&self, chosen: Option<u16>, interactive: u16) -> u16 {
        chosen.unwrap_or(if self.once { 0 } else { interactive })
    }

    fn api_port(&self) -> u16 {
        self.port(self.api_port, 3010)
    }

    fn issuer_port(&self) -> u16 {
        self.port(self.issuer_port, 4000)
    }

    /// The servers' `RUST_LOG` unless the developer set one: quiet under CI, chatty live.
    fn log_level(&self) -> &'static str {
        if self.once { "warn" } else { "info" }
    }
}

/// Runs the task; see the module documentation for the options.
pub fn run(sh: &Shell, options: &Options) -> Result<()> {
    let tenant = Tenant::from_env()?;
    let packages: &[&str] = if tenant.is_some() {
        &["--package", "api"]
    } else {
        &["--package", "api", "--package", "mock-issuer"]
    };
    cmd!(sh, "cargo build --quiet {packages...} --bins").run()?;
    let binaries = crate::target_dir(sh).join("debug");

    let mut servers = Vec::new();
    let issuer = match tenant {
        Some(tenant) => Issuer::tenant(tenant),
        None => {
            let mock = start_mock(sh, &binaries, options)?;
            let issuer = Issuer::mock(mock.url());
            servers.push(mock);
            issuer
        }
    };
    let api = start_api(&binaries, &issuer, options)?;
    let api_url = api.url().trim_end_matches('/').to_owned();
    servers.push(api);

    println!("issuer: {}", issuer.url);
    println!("api:    {api_url}  (audience {})\n", issuer.audience);
    let http = Http::new()?;
    let tokens = issuer.tokens(&http)?;
    let rows = contract::check_routes(&http, &api_url, &tokens)?;
    contract::print_table(&rows);
    // Real tenants' tokens are live credentials: keep them out of CI logs.
    let redact = issuer.is_tenant() && std::env::var_os("CI").is_some();
    contract::print_curl_lines(&api_url, &tokens, &issuer.token_curl(), redact);

    let mismatches = rows.iter().filter(|row| !row.matches()).count();
    if options.once {
        drop(servers);
        if mismatches > 0 {
            bail!("{mismatches} answer(s) differ from the contract");
        }
        println!("\nall {} answers match the contract", rows.len());
        return Ok(());
    }
    if mismatches > 0 {
        println!("\nwarning: {mismatches} answer(s) differ from the contract");
    }
    serve(servers)
}

/// The mock issuer on `--issuer-port`, with the keys `cargo xtask dev` persists.
fn start_mock(sh: &Shell, binaries: &Path, options: &Options) -> Result<Server> {
    let mut mock = Command::new(binaries.join("mock-issuer"));
    mock.args(["serve", "--host", "127.0.0.1", "--port"])
        .arg(options.issuer_port().to_string())
        .arg("--data-dir")
        .arg(crate::target_dir(sh).join("mock-issuer"));
    process::default_log_level(&mut mock, options.log_level());
    Server::start("mock-issuer", mock, Announce::Issuer)
}

/// The api on `--api-port`, trusting `issuer`.
fn start_api(binaries: &Path, issuer: &Issuer, options: &Options) -> Result<Server> {
    let mut api = Command::new(binaries.join("api"));
    api.env("ISSUER_BASE_URL", &issuer.url)
        .env("AUDIENCE", &issuer.audience)
        .env("HOST", "127.0.0.1")
        .env("PORT", options.api_port().to_string());
    process::default_log_level(&mut api, options.log_level());
    Server::start("api", api, Announce::Api)
}

/// Serves until a server stops. Ctrl-C reaches the whole foreground process group, so both
/// servers get SIGINT and shut down gracefully on their own; if one exits any other way, the
/// other is stopped too and the exit reported.
fn serve(mut servers: Vec<Server>) -> Result<()> {
    println!("\nserving; Ctrl-C stops both");
    let (index, status) = process::wait_for_any(&mut servers)?;
    let stopped = servers[index].name();
    drop(servers);
    // A clean exit is the answer to Ctrl-C (or SIGTERM).
    if !status.success() {
        bail!("{stopped} exited with {status}");
    }
    println!("{stopped} stopped; both are down");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `cargo xtask dev ARGS`'s options.
    fn options(args: &[&str]) -> Options {
        #[derive(Parser)]
        struct Dev {
            #[command(flatten)]
            options: Options,
        }
        Dev::try_parse_from(std::iter::once("dev").chain(args.iter().copied()))
            .expect("parses")
            .options
    }

    #[test]
    fn once_defaults_to_ports_of_the_os_choosing() {
        let once = options(&["--once"]);
        let interactive = options(&[]);
        let chosen = options(&["--once", "--api-port", "8080"]);

        assert_eq!((once.api_port(), once.issuer_port()), (0, 0));
        assert_eq!(
            (interactive.api_port(), interactive.issuer_port()),
            (3010, 4000)
        );
        assert_eq!((chosen.api_port(), chosen.issuer_port()), (8080, 0));
    }
}
