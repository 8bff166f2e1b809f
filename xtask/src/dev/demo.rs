//! The quickstart's single-page app ([`mock_issuer::demo_app`]) for `cargo xtask dev`: served
//! from this process on a thread of its own, and the lines that tell a person how to use it.

use std::net::{Ipv4Addr, TcpListener};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use mock_issuer::IssuerConfig;
use mock_issuer::config::defaults;
use mock_issuer::demo_app::{self, DemoApp};
use tokio::sync::oneshot;

use super::issuer::Issuer;

/// Where the app runs interactively: the default tenant's `spa` client lists
/// `http://localhost:3000` among its callbacks, web origins and logout URLs, and the api's
/// default CORS origin is the same.
pub const PORT: u16 = 3000;

/// The app serving on loopback; dropping it stops the server and its thread.
pub struct DemoServer {
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Serves `app` on `127.0.0.1:port` (`0`: a port of the OS's choosing) on a thread with its
    /// own runtime, so the task's blocking code goes on beside it.
    ///
    /// # Errors
    /// An invalid setting, or the port cannot be bound (taken, most likely).
    pub fn start(app: DemoApp, port: u16) -> Result<Self> {
        // Refused settings are reported here, not lost on the server's thread.
        app.check().context("the demo app's settings")?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .with_context(|| format!("binding 127.0.0.1:{port}"))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("demo-app".to_owned())
            .spawn(move || {
                let served = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(mock_issuer::Error::from)
                    .and_then(|runtime| {
                        runtime.block_on(async move {
                            let listener = tokio::net::TcpListener::from_std(listener)?;
                            demo_app::serve(listener, app, async move {
                                // A dropped sender also means stop.
                                let _ = on_shutdown.await;
                            })
                            .await
                        })
                    });
                if let Err(e) = served {
                    eprintln!("demo app stopped: {e}");
                }
            })
            .context("starting the demo app's thread")?;
        Ok(Self {
            url: format!("http://localhost:{port}"),
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://localhost:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The app's settings for `issuer`, calling the api at `api_url`; `None` when the issuer has
/// no single-page app to log in with.
pub fn settings(issuer: &Issuer, api_url: &str) -> Option<DemoApp> {
    Some(DemoApp {
        issuer: issuer.url.clone(),
        client_id: issuer.spa_client_id.clone()?,
        audience: issuer.audience.clone(),
        api_url: api_url.to_owned(),
        ..DemoApp::default()
    })
}

/// How to use the app: who can log in and what each will see.
pub fn print_guide(issuer: &Issuer, demo: &DemoServer) {
    let url = demo.url();
    let Some(client_id) = &issuer.spa_client_id else {
        return;
    };
    println!(
        "\ndemo app: {url}  (single-page app `{client_id}`, logs in at {})",
        issuer.url
    );
    if issuer.is_tenant() {
        println!(
            "  your tenant's application `{client_id}` needs {url} among its Allowed Callback \
             URLs, Allowed Web Origins and Allowed Logout URLs\nopen {url} and log in as a user \
             of your tenant: /api/private-scoped answers 200 when the user has the {} \
             permission, else 403",
            defaults::READ_MESSAGES
        );
        return;
    }
    print_default_users();
    println!(
        "open {url} and log in as {} / {} to see 200 on /api/private-scoped, or as {} / {} to \
         see 403",
        defaults::MANAGER_EMAIL,
        defaults::MANAGER_PASSWORD,
        defaults::USER_EMAIL,
        defaults::USER_PASSWORD
    );
}

/// The default tenant's users, passwords and permissions on the default API.
fn print_default_users() {
    let tenant = IssuerConfig::default();
    println!("users (email / password):");
    for user in &tenant.users {
        let permissions = tenant.permissions(user, defaults::API_AUDIENCE);
        let roles = match user.roles.as_slice() {
            [] => "no role".to_owned(),
            roles => format!("role {}", roles.join(", ")),
        };
        let permissions = match permissions.as_slice() {
            [] => "no permission".to_owned(),
            permissions => permissions.join(" "),
        };
        let login = format!("{} / {}", user.email, user.password);
        println!("  {login:<40} {roles}: {permissions}");
    }
}
