//! `Stack`: the servers a browser test talks to, on ports the OS chooses: the mock tenant, its
//! browser clients registered for the test's app, and optionally the quickstart's api trusting it.

use anyhow::{Context, Result};
use api::auth::{AuthOptions, Authenticator, DpopOptions};
use api::routes::CorsOrigins;
use axum::http::HeaderValue;
use mock_issuer::config::defaults;
use mock_issuer::{IssuerConfig, MockIssuer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Builds a [`Stack`]. By default: the default tenant, nothing registered for any app, no api.
#[derive(Debug, Default)]
pub struct StackBuilder {
    config: IssuerConfig,
    origins: Vec<String>,
    pages: Vec<String>,
    api: bool,
    api_dpop: DpopOptions,
}

impl StackBuilder {
    /// Registers an app running at `origin` (`http://localhost:PORT`, no path) with the `spa`
    /// client, as a developer does in Auth0's dashboard: Allowed Callback URLs `origin` and
    /// `origin/callback`, Allowed Web Origins and Allowed Logout URLs `origin`; and with the
    /// `webapp` client: callback `origin/callback`, logout URL `origin`. The api, when started,
    /// allows `origin` for CORS.
    #[must_use]
    pub fn app(mut self, origin: &str) -> Self {
        self.origins.push(origin.trim_end_matches('/').to_owned());
        self
    }

    /// Also registers the page at `url` with the `spa` and `webapp` clients, as an Allowed
    /// Callback URL and an Allowed Logout URL (for an app whose `redirect_uri` and `returnTo`
    /// are the page itself).
    #[must_use]
    pub fn page(mut self, url: &str) -> Self {
        self.pages.push(url.to_owned());
        self
    }

    /// Also starts the quickstart's api, trusting the mock tenant for the default audience.
    #[must_use]
    pub fn with_api(mut self) -> Self {
        self.api = true;
        self
    }

    /// Also starts the api, as [`StackBuilder::with_api`] does, with its DPoP options (by
    /// default [`DpopOptions::default`]: DPoP accepted, not required, no server nonces)
    /// changed by `change`.
    #[must_use]
    pub fn api_dpop(mut self, change: impl FnOnce(&mut DpopOptions)) -> Self {
        change(&mut self.api_dpop);
        self.with_api()
    }

    /// Changes the tenant before it starts (users, clients, lifetimes…); the apps registered
    /// with [`StackBuilder::app`] and [`StackBuilder::page`] are added to the result.
    #[must_use]
    pub fn config(mut self, change: impl FnOnce(&mut IssuerConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// Starts the tenant, then the api if asked.
    ///
    /// # Errors
    /// The tenant's configuration is invalid, or a server cannot start.
    pub async fn start(self) -> Result<Stack> {
        let mut config = self.config;
        register(&mut config, &self.origins, &self.pages);
        let issuer = MockIssuer::start(config)
            .await
            .context("starting the mock tenant")?;
        let api = if self.api {
            Some(ApiServer::start(&issuer, &self.origins, self.api_dpop).await?)
        } else {
            None
        };
        Ok(Stack { issuer, api })
    }
}

/// Adds the apps' URLs to the browser clients, once each.
fn register(config: &mut IssuerConfig, origins: &[String], pages: &[String]) {
    fn add(list: &mut Vec<String>, url: String) {
        if !list.contains(&url) {
            list.push(url);
        }
    }
    for client in &mut config.clients {
        let spa = client.id == defaults::SPA_CLIENT_ID;
        if !spa && client.id != defaults::WEBAPP_CLIENT_ID {
            continue;
        }
        for origin in origins {
            if spa {
                add(&mut client.callbacks, origin.clone());
                add(&mut client.web_origins, origin.clone());
            }
            add(&mut client.callbacks, format!("{origin}/callback"));
            add(&mut client.allowed_logout_urls, origin.clone());
        }
        for page in pages {
            add(&mut client.callbacks, page.clone());
            add(&mut client.allowed_logout_urls, page.clone());
        }
    }
}

/// The running servers. Dropping it stops them.
#[derive(Debug)]
pub struct Stack {
    /// The mock tenant on `http://127.0.0.1:PORT/`.
    pub issuer: MockIssuer,
    api: Option<ApiServer>,
}

impl Stack {
    /// A builder: see [`StackBuilder`].
    pub fn builder() -> StackBuilder {
        StackBuilder::default()
    }

    /// The tenant's URL without its trailing slash, `http://127.0.0.1:PORT`: what an SDK takes
    /// as its `domain` (it adds the slash back when checking the ID token's `iss`).
    pub fn domain(&self) -> &str {
        self.issuer.url().trim_end_matches('/')
    }

    /// The api's URL, `http://127.0.0.1:PORT`.
    ///
    /// # Panics
    /// When the stack was built without [`StackBuilder::with_api`].
    pub fn api_url(&self) -> &str {
        &self
            .api
            .as_ref()
            .expect("the stack was started without the api: call with_api()")
            .url
    }
}

/// The quickstart's api on port 0, trusting the mock for [`defaults::API_AUDIENCE`], with the
/// DPoP options the builder was given.
#[derive(Debug)]
struct ApiServer {
    url: String,
    _shutdown: oneshot::Sender<()>,
}

impl ApiServer {
    async fn start(issuer: &MockIssuer, origins: &[String], dpop: DpopOptions) -> Result<Self> {
        let mut options = AuthOptions::new(
            issuer.url().parse().context("the issuer's URL")?,
            defaults::API_AUDIENCE,
        );
        options.dpop = dpop;
        let authenticator = Authenticator::new(options).context("the api's options")?;
        let cors = origins
            .iter()
            .map(|origin| HeaderValue::from_str(origin))
            .collect::<Result<Vec<_>, _>>()
            .context("an app origin is not a header value")?;
        let cors = if cors.is_empty() {
            CorsOrigins::default()
        } else {
            CorsOrigins::List(cors)
        };
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the api's port")?;
        let url = format!("http://{}", listener.local_addr()?);
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        tokio::spawn(api::serve(
            listener,
            api::app(authenticator, &cors),
            async {
                let _ = on_shutdown.await;
            },
        ));
        Ok(Self {
            url,
            _shutdown: shutdown,
        })
    }
}
