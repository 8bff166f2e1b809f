//! The `api` binary: reads the configuration, serves the quickstart's routes until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;

use api::auth::Authenticator;
use api::config::Config;
use futures_util::FutureExt;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr, so stdout carries only the `listening on` line that tools wait for.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let authenticator = match Authenticator::new(config.auth) {
        Ok(authenticator) => authenticator,
        Err(error) => return fail(&error),
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
    println!("listening on http://{address}");
    let app = api::app(authenticator, &config.cors_origins);
    match api::serve_with(listener, app, shutdown, config.server).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// One clear line on stderr, no backtrace, exit code 2.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(2)
}
