//! `cargo xtask dev`: the project's main command, the quickstart's whole picture on one machine.
//! Builds and starts the mock issuer and the api (pointed at it), serves the demo single-page
//! app, gets tokens through `/oauth/token`, calls every route with and without them and prints
//! the answers next to the contract's, checks the pages a person opens, prints curl lines, the
//! users and how to log in; then serves until Ctrl-C. Its first line is the mock's console.
//!
//! - `cargo xtask dev [--api-port N] [--issuer-port N]`: interactive; ports default to 3010 (the
//!   Express sample's) and 4000 (the mock's), so curl lines keep working across restarts. The
//!   demo app is on `http://localhost:3000`, the default `spa` client's callback; if that port
//!   is taken, everything else still runs.
//! - `cargo xtask dev --once`: ports of the OS's choosing; exits after the checks, non-zero if
//!   any answer differs from the contract or any page does not load (what CI runs).
//! - With `AUTH0_DOMAIN` and `AUTH0_AUDIENCE` set, the api trusts that tenant instead and no mock
//!   is started: `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` (a machine-to-machine application)
//!   get the table's token, and `AUTH0_SPA_CLIENT_ID` (a single-page application) is the one the
//!   demo app logs users in with; either or both. `AUTH0_ISSUER_BASE_URL` overrides the issuer
//!   derived from the domain (`https://DOMAIN/`), so tests can play the tenant with a mock
//!   started separately.
//!
//! [`issuer`] says where tokens come from (the mock or the tenant) and gets them; [`contract`]
//! calls the routes and prints the table; [`demo`] serves the demo app and says how to use it;
//! [`pages`] checks that the console, the login page and the demo app load.

mod contract;
mod demo;
mod dpop;
mod issuer;
mod pages;

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};
use clap::Args;
use mock_issuer::config::defaults;
use xshell::{Shell, cmd};

use crate::http::Http;
use crate::process::{self, Announce, Server};
use demo::DemoServer;
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

    /// The demo app's: the port of the `spa` client's callbacks, which is not an option.
    fn demo_port(&self) -> u16 {
        self.port(None, demo::PORT)
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
    // Not echoed: the console's URL is the first line the task prints.
    cmd!(sh, "cargo build --quiet {packages...} --bins")
        .quiet()
        .run()?;
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
    print_console(&issuer);
    let api = start_api(&binaries, &issuer, options)?;
    let api_url = api.url().trim_end_matches('/').to_owned();
    servers.push(api);
    println!("issuer:  {}", issuer.url);
    println!("api:     {api_url}  (audience {})", issuer.audience);
    let demo = start_demo(&issuer, &api_url, options)?;

    let http = Http::new()?;
    let mismatches = check(&http, &issuer, &api_url, demo.as_ref())?;
    if !issuer.is_tenant() {
        dpop::print(&binaries.join("mock-issuer"), &issuer.url, &api_url);
    }
    if options.once {
        drop(servers);
        if mismatches > 0 {
            bail!("{mismatches} answer(s) differ from the contract or the pages");
        }
        println!("\nall answers match the contract and every page loads");
        return Ok(());
    }
    if mismatches > 0 {
        println!("\nwarning: {mismatches} answer(s) differ from the contract or the pages");
    }
    if let Some(demo) = &demo {
        demo::print_guide(&issuer, demo);
    }
    serve(servers)
}

/// The first line: where the tenant can be seen and worked with.
fn print_console(issuer: &Issuer) {
    if issuer.is_tenant() {
        println!("console: https://manage.auth0.com/  (a real tenant: no mock console)");
    } else {
        println!(
            "console: {}  (the tenant at a glance: users, clients, keys; mint and decode tokens)",
            issuer.url
        );
    }
}

/// The contract table, curl lines and page checks; the number of mismatches.
fn check(http: &Http, issuer: &Issuer, api_url: &str, demo: Option<&DemoServer>) -> Result<usize> {
    println!();
    let tokens = issuer.tokens(http)?;
    let rows = contract::check_routes(http, api_url, &tokens)?;
    contract::print_table(&rows);
    // Real tenants' tokens are live credentials: keep them out of CI logs.
    let redact = issuer.is_tenant() && std::env::var_os("CI").is_some();
    let token_curl = issuer.token_curl();
    contract::print_curl_lines(api_url, &tokens, token_curl.as_deref(), redact);
    let pages = pages::check_pages(http, issuer, demo)?;
    pages::print_checks(&pages);
    Ok(rows.iter().filter(|row| !row.matches()).count()
        + pages.iter().filter(|page| !page.passes()).count())
}

/// The demo app on its port, logging in at `issuer` and calling the api at `api_url`; `None`
/// when the issuer has no single-page app, or (interactively) when the port is taken, said
/// so and the rest goes on. With `--once` failing to serve it is an error.
fn start_demo(issuer: &Issuer, api_url: &str, options: &Options) -> Result<Option<DemoServer>> {
    let Some(app) = demo::settings(issuer, api_url) else {
        println!("demo:    not served: set AUTH0_SPA_CLIENT_ID to log users in through the tenant");
        return Ok(None);
    };
    match DemoServer::start(app, options.demo_port()) {
        Ok(demo) => {
            println!("demo:    {}", demo.url());
            Ok(Some(demo))
        }
        Err(e) if !options.once => {
            println!(
                "demo:    NOT SERVED: {e:#}; stop what holds the port and run `cargo xtask dev` \
                 again to log in from a browser (the api and the issuer run without it)"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
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
        .env("PORT", options.api_port().to_string())
        // The demo app's origins: it calls the api from the browser.
        .env("CORS_ORIGINS", defaults::SPA_ORIGINS.join(","));
    process::default_log_level(&mut api, options.log_level());
    Server::start("api", api, Announce::Api)
}

/// Serves until a server stops. Ctrl-C reaches the whole foreground process group, so the
/// servers get SIGINT and shut down gracefully on their own; if one exits any other way, the
/// others are stopped too and the exit reported. The demo app, served by this process, stops
/// when the task returns.
fn serve(mut servers: Vec<Server>) -> Result<()> {
    println!("\nserving; Ctrl-C stops everything");
    let (index, status) = process::wait_for_any(&mut servers)?;
    let stopped = servers[index].name();
    drop(servers);
    // A clean exit is the answer to Ctrl-C (or SIGTERM).
    if !status.success() {
        bail!("{stopped} exited with {status}");
    }
    println!("{stopped} stopped; everything is down");
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
        assert_eq!((once.demo_port(), interactive.demo_port()), (0, 3000));
    }
}
