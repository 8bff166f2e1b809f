//! `Browser`: headless Chromium under chromedriver, and the few steps every browser test takes
//! (go to a page, wait for an element or a URL, read text, click, type), each failing with a
//! message that names what it waited for.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::driver::{Chromedriver, ProfileDir, Tools};
use crate::wait::{DEFAULT_TIMEOUT, poll};

/// The window every test sees, so screenshots and layouts are comparable.
pub const WINDOW_SIZE: (u32, u32) = (1280, 900);

/// Chromium's flags: headless, and quiet on a closed network (without the last five it keeps
/// trying to reach Google hosts).
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Chromium's `profile.cookie_controls_mode` that lets third-party cookies through. Chromium
/// started by chromedriver on a fresh profile blocks them (148 does), while Chrome as shipped to
/// users allows them; the silent authentication Auth0's SDKs do in a hidden iframe needs them (the
/// app on `localhost`, the tenant on `127.0.0.1`: another site), so the tests run with Chrome's
/// default.
const ALLOW_THIRD_PARTY_COOKIES: u8 = 0;

/// A headless Chromium with a fresh profile, driven over WebDriver. Clones share the browser;
/// when the last clone goes, chromedriver and Chromium are killed and the profile removed.
#[derive(Debug, Clone)]
pub struct Browser {
    client: Client,
    _process: Arc<Process>,
}

/// What must outlive the session, dropped in this order: the processes, then their profile.
#[derive(Debug)]
struct Process {
    _driver: Chromedriver,
    _profile: ProfileDir,
}

impl Browser {
    /// Starts chromedriver and a Chromium session (binaries from [`Tools::find`]).
    ///
    /// # Errors
    /// Chromium or chromedriver is missing (the message says how to install them), or the
    /// session cannot be created.
    pub async fn start() -> Result<Self> {
        let tools = Tools::find()?;
        let profile = ProfileDir::create()?;
        let chromedriver = tools.chromedriver.clone();
        let driver = tokio::task::spawn_blocking(move || Chromedriver::start(&chromedriver))
            .await
            .context("starting chromedriver")??;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&tools, &profile))
            .connect(&driver.url())
            .await
            .with_context(|| format!("opening a Chromium session at {}", driver.url()))?;
        Ok(Self {
            client,
            _process: Arc::new(Process {
                _driver: driver,
                _profile: profile,
            }),
        })
    }

    /// The WebDriver client, for anything the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Navigates to `url` and waits for the page to load.
    ///
    /// # Errors
    /// The navigation fails.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The current URL.
    ///
    /// # Errors
    /// The browser does not answer.
    pub async fn url(&self) -> Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// Waits up to [`DEFAULT_TIMEOUT`] (10 s) for an element matching the CSS `selector`.
    ///
    /// # Errors
    /// None appeared in time: the message names the selector and the page's URL.
    pub async fn wait_for(&self, selector: &str) -> Result<Element> {
        self.wait_for_within(selector, DEFAULT_TIMEOUT).await
    }

    /// [`Browser::wait_for`] with another timeout.
    ///
    /// # Errors
    /// As [`Browser::wait_for`].
    pub async fn wait_for_within(&self, selector: &str, timeout: Duration) -> Result<Element> {
        let found = poll(timeout, || self.find_now(selector)).await;
        self.name_the_page(found, || format!("an element matching `{selector}`"))
            .await
    }

    /// Waits up to 10 s until the URL starts with `prefix`; returns the URL.
    ///
    /// # Errors
    /// It did not: the message names the prefix and the URL the browser is at.
    pub async fn wait_for_url(&self, prefix: &str) -> Result<String> {
        let reached = poll(DEFAULT_TIMEOUT, || async {
            let url = self.url().await?;
            Ok(url.starts_with(prefix).then_some(url))
        })
        .await;
        self.name_the_page(reached, || format!("a URL starting with {prefix}"))
            .await
    }

    /// The visible text of the element matching `selector`, once it exists.
    ///
    /// # Errors
    /// No such element within 10 s.
    pub async fn text(&self, selector: &str) -> Result<String> {
        Ok(self.wait_for(selector).await?.text().await?)
    }

    /// Waits up to 10 s until the text of the element matching `selector` contains `needle`;
    /// returns the whole text.
    ///
    /// # Errors
    /// It did not: the message names both and the text last seen.
    pub async fn wait_for_text(&self, selector: &str, needle: &str) -> Result<String> {
        // A Mutex, not a RefCell: the test's future must stay `Send` to run in its own task.
        let last = Mutex::new(String::new());
        let found = poll(DEFAULT_TIMEOUT, || async {
            let Some(element) = self.find_now(selector).await? else {
                return Ok(None);
            };
            let text = match element.text().await {
                Ok(text) => text,
                Err(e) if e.is_stale_element_reference() => return Ok(None),
                Err(e) => return Err(anyhow!(e)),
            };
            if text.contains(needle) {
                return Ok(Some(text));
            }
            *last.lock().unwrap_or_else(PoisonError::into_inner) = text;
            Ok(None)
        })
        .await;
        self.name_the_page(found, || {
            let last = last.lock().unwrap_or_else(PoisonError::into_inner);
            format!("`{selector}` to contain {needle:?} (last text: {last:?})")
        })
        .await
    }

    /// Clicks the element matching `selector`, once it exists.
    ///
    /// # Errors
    /// No such element within 10 s, or it cannot be clicked.
    pub async fn click(&self, selector: &str) -> Result<()> {
        self.wait_for(selector)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking `{selector}`"))
    }

    /// Replaces the value of the input matching `selector` with `value`, by typing it.
    ///
    /// # Errors
    /// No such element within 10 s, or it takes no input.
    pub async fn fill(&self, selector: &str, value: &str) -> Result<()> {
        let input = self.wait_for(selector).await?;
        input.clear().await?;
        input
            .send_keys(value)
            .await
            .with_context(|| format!("typing into `{selector}`"))
    }

    /// Runs `script` (a function body: `arguments[i]` are `args`, `return` gives the result).
    ///
    /// # Errors
    /// The script throws.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client
            .execute(script, args)
            .await
            .context("running a script in the page")
    }

    /// Logs in on a Universal Login page (the mock's or a real tenant's) with the selectors both
    /// share: `#username`, `#password`, `button[type=submit][name=action]`.
    ///
    /// # Errors
    /// The page's fields did not appear within 10 s.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<()> {
        self.fill("#username", email).await?;
        self.fill("#password", password).await?;
        self.click("button[type=submit][name=action]").await
    }

    /// Ends the WebDriver session, letting Chromium quit cleanly.
    ///
    /// # Errors
    /// chromedriver does not answer; dropping the last clone still kills everything.
    pub async fn close(self) -> Result<()> {
        self.client.close().await.context("closing the session")
    }

    /// A PNG of the viewport.
    ///
    /// # Errors
    /// The browser does not answer.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        Ok(self.client.screenshot().await?)
    }

    /// The current document's HTML.
    ///
    /// # Errors
    /// The browser does not answer.
    pub async fn source(&self) -> Result<String> {
        Ok(self.client.source().await?)
    }

    /// The element matching `selector` now, if any.
    async fn find_now(&self, selector: &str) -> Result<Option<Element>> {
        match self.client.find(Locator::Css(selector)).await {
            Ok(element) => Ok(Some(element)),
            Err(e) if e.is_no_such_element() => Ok(None),
            Err(e) => Err(anyhow!(e)).with_context(|| format!("finding `{selector}`")),
        }
    }

    /// Adds "waiting for {what}, at {url}" to a failed wait.
    async fn name_the_page<T>(
        &self,
        result: Result<T>,
        what: impl FnOnce() -> String,
    ) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(e) => {
                let url = self.url().await.unwrap_or_else(|_| "an unknown URL".into());
                Err(e.context(format!("waiting for {}, at {url}", what())))
            }
        }
    }
}

/// chromedriver's session request: Chromium with [`CHROMIUM_FLAGS`], the profile, the window
/// size, and page-load and script timeouts short enough to fail before the test's own limit.
fn capabilities(tools: &Tools, profile: &ProfileDir) -> Capabilities {
    let mut args: Vec<String> = CHROMIUM_FLAGS.map(str::to_owned).to_vec();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.push(format!("--window-size={},{}", WINDOW_SIZE.0, WINDOW_SIZE.1));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": tools.chromium,
            "args": args,
            "prefs": { "profile.cookie_controls_mode": ALLOW_THIRD_PARTY_COOKIES },
        },
        "timeouts": { "pageLoad": 20_000, "script": 20_000 },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}
