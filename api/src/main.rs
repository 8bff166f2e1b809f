//! The `api` binary: reads the configuration, serves the quickstart's routes (over HTTPS
//! when a certificate is configured) until Ctrl-C or SIGTERM, and logs to stderr with every
//! control character escaped.

use std::fmt::{self, Write as _};
use std::process::ExitCode;

use api::auth::Authenticator;
use api::config::Config;
use api::server::{Tls, serve_tls_with};
use futures_util::FutureExt;
use tokio::net::TcpListener;
use tracing::field::Field;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();

    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    config.auth.dpop.replay_store = match config.replay_store.open().await {
        Ok(store) => store,
        Err(error) => return fail(&error),
    };
    let authenticator = match Authenticator::new(config.auth) {
        Ok(authenticator) => authenticator,
        Err(error) => return fail(&error),
    };
    let tls = match config.tls {
        None => None,
        Some(files) => match Tls::load(files).await {
            Ok(tls) => Some(tls),
            Err(error) => return fail(&error),
        },
    };
    let listener = match TcpListener::bind((config.host, config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            return fail(&format!(
                "cannot listen on {}:{}: {error}",
                config.host, config.port
            ));
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => return fail(&error),
    };
    // The signal handlers are installed on the first poll: poll once before announcing
    // readiness, so a SIGTERM right after `listening on` stops the server cleanly instead of
    // killing it with the default action.
    let mut shutdown = Box::pin(api::shutdown::shutdown_signal());
    if (&mut shutdown).now_or_never().is_some() {
        return ExitCode::SUCCESS;
    }
    let app = api::app(authenticator, &config.cors_origins);
    let served = match tls {
        None => {
            println!("listening on http://{address}");
            api::serve_with(listener, app, shutdown, config.server).await
        }
        Some(tls) => {
            tls.certificate()
                .log("serving HTTPS; the certificate is reloaded when its files change");
            println!("listening on https://{address}");
            serve_tls_with(listener, app, shutdown, config.server, tls).await
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// One clear line on stderr, no backtrace, exit code 2.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
}

/// Logs to stderr, so stdout carries only the `listening on` line that tools wait for; the
/// level from `RUST_LOG`, `info` by default. Every field is written through [`write_field`].
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .fmt_fields(debug_fn(write_field).delimited(" "))
        .with_writer(std::io::stderr)
        .init();
}

/// Writes one field (`name=value`, or the message alone) with every control character and
/// Unicode line or paragraph separator escaped. The code logs values from clients and from the
/// issuer with `?` already; this makes it hold for every crate's events and every way of
/// formatting, so no value can start a log line of its own or steer a terminal.
fn write_field(writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug) -> fmt::Result {
    let mut escaped = Escaping(writer);
    if field.name() == "message" {
        write!(escaped, "{value:?}")
    } else {
        write!(escaped, "{field}={value:?}")
    }
}

/// A writer that passes text on with [`must_escape`] characters written as Rust escapes
/// (`\n`, `\r`, `\u{85}`).
struct Escaping<W>(W);

impl<W: fmt::Write> fmt::Write for Escaping<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(must_escape) {
            let (clean, tail) = rest.split_at(at);
            self.0.write_str(clean)?;
            let mut chars = tail.chars();
            if let Some(special) = chars.next() {
                write!(self.0, "{}", special.escape_default())?;
            }
            rest = chars.as_str();
        }
        self.0.write_str(rest)
    }
}

/// C0 and C1 controls (CR, LF, ESC, NEL…) and the Unicode line and paragraph separators: what
/// a log reader or a terminal may take for the end of a line or a command.
fn must_escape(character: char) -> bool {
    character.is_control() || matches!(character, '\u{2028}' | '\u{2029}')
}
