//! Auth0's own `@auth0/auth0-spa-js` 2.x against the mock, changed in nothing but its domain.
//!
//! The page (`fixtures/spa-js.html`) runs the vendored SDK on `http://localhost:PORT` and the
//! tenant is on `127.0.0.1`, another site, as a real tenant is: the login session cookie reaches
//! the silent-authentication iframe only because it is `SameSite=None; Secure`. The tests of
//! the SDK's DPoP are in [`dpop`].

mod dpop;

use std::future::Future;

use anyhow::{Context, Result, bail, ensure};
use api::auth::dpop::{DEFAULT_NONCE_LIFETIME, DpopNonces};
use e2e::{Browser, Pages, Stack, run};
use mock_issuer::config::defaults;
use serde_json::{Value, json};

/// Where the page is served; also its `redirect_uri` and logout `returnTo`.
const PAGE: &str = "/spa-js.html";
/// The page's configuration, written once the tenant's port is known.
const CONFIG: &str = "/spa-js-config.js";
/// What the page asks for, as the quickstart's SPA does.
const SCOPE: &str = "openid profile email offline_access read:messages";

/// The page and its scripts, as the harness serves them.
const FIXTURES: [(&str, &str, &str); 4] = [
    (
        PAGE,
        "text/html; charset=utf-8",
        include_str!("../../../fixtures/spa-js.html"),
    ),
    (
        "/spa-js.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../fixtures/spa-js.js"),
    ),
    (
        "/spa-js-record.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../fixtures/spa-js-record.js"),
    ),
    (
        "/auth0-spa-js.production.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../fixtures/auth0-spa-js/auth0-spa-js.production.js"),
    ),
];

/// How the SDK keeps tokens: the two set-ups Auth0's documentation recommends.
#[derive(Clone, Copy)]
enum Mode {
    /// The default: tokens in memory, a page reload restores the session through the hidden
    /// iframe (`prompt=none`, `response_mode=web_message`).
    SilentAuth,
    /// `useRefreshTokens` with the cache in `localStorage`, so refreshes go through the page's
    /// `fetch` (in memory the SDK refreshes from a Web Worker, out of the recorder's sight).
    RefreshTokens,
    /// `useDpop`: as [`Mode::SilentAuth`], with every token request and API call carrying a
    /// DPoP proof by a key the SDK keeps in IndexedDB.
    Dpop,
    /// As [`Mode::Dpop`], against an api that wants its own nonce in every proof (RFC 9449 §9).
    DpopWithNonces,
}

/// The page, the tenant that knows it, and the api that trusts the tenant.
struct SpaApp {
    pages: Pages,
    stack: Stack,
}

impl SpaApp {
    async fn start(mode: Mode) -> Result<Self> {
        let mut builder = Pages::builder();
        for (path, content_type, body) in FIXTURES {
            builder = builder.file(path, content_type, body);
        }
        let pages = builder.start().await?;
        let stack = Stack::builder()
            .app(pages.origin())
            .page(&pages.url(PAGE))
            .with_api();
        let stack = if matches!(mode, Mode::DpopWithNonces) {
            let nonces = DpopNonces::with_random_secret(DEFAULT_NONCE_LIFETIME)
                .context("making the api's DPoP nonces")?;
            stack.api_dpop(|dpop| dpop.nonces = Some(nonces))
        } else {
            stack
        };
        let stack = stack.start().await?;
        let (use_refresh_tokens, cache_location) = match mode {
            Mode::SilentAuth | Mode::Dpop | Mode::DpopWithNonces => (false, "memory"),
            Mode::RefreshTokens => (true, "localstorage"),
        };
        let config = json!({
            "domain": stack.domain(),
            "clientId": defaults::SPA_CLIENT_ID,
            "audience": defaults::API_AUDIENCE,
            "scope": SCOPE,
            "useRefreshTokens": use_refresh_tokens,
            "cacheLocation": cache_location,
            "useDpop": matches!(mode, Mode::Dpop | Mode::DpopWithNonces),
            "apiUrl": stack.api_url(),
        });
        pages.put(
            CONFIG,
            "text/javascript; charset=utf-8",
            format!("window.SPA_JS_CONFIG = {config};\n"),
        );
        Ok(Self { pages, stack })
    }

    fn page(&self) -> String {
        self.pages.url(PAGE)
    }

    /// Opens the page, logs in through the mock's Universal Login as the manager and waits
    /// until the SDK has handled the redirect back.
    async fn log_in_as_manager(&self, browser: &Browser) -> Result<()> {
        browser.goto(&self.page()).await?;
        settled(browser).await?;
        browser.click("#login").await?;
        browser
            .wait_for_url(&format!("{}u/login", self.stack.issuer.url()))
            .await?;
        browser
            .log_in(defaults::MANAGER_EMAIL, defaults::MANAGER_PASSWORD)
            .await?;
        settled(browser).await?;
        ensure_step(browser, "handleRedirectCallback done").await
    }
}

/// Waits until the page has done what it does on load; fails with the page's error if it met one.
async fn settled(browser: &Browser) -> Result<()> {
    browser.wait_for_text("#ready", "yes").await?;
    let error = browser.text("#error").await?;
    if !error.is_empty() {
        let step = browser.text("#step").await?;
        bail!("the page reports {step}: {error}");
    }
    Ok(())
}

async fn ensure_step(browser: &Browser, expected: &str) -> Result<()> {
    let step = browser.text("#step").await?;
    ensure!(
        step == expected,
        "the page's last step is {step:?}, not {expected:?}"
    );
    Ok(())
}

/// Clicks `button` and waits until the page's step `name` is done; fails with the SDK's error.
async fn press(browser: &Browser, button: &str, name: &str) -> Result<()> {
    browser.click(button).await?;
    let step = e2e::poll(e2e::DEFAULT_TIMEOUT, || async {
        let step = browser.text("#step").await?;
        Ok((step == format!("{name} done") || step == format!("{name} failed")).then_some(step))
    })
    .await
    .with_context(|| format!("waiting for {name} to finish"))?;
    if step.ends_with("failed") {
        bail!("{step}: {}", browser.text("#error").await?);
    }
    Ok(())
}

/// The JSON an element of the page shows.
async fn json_in(browser: &Browser, selector: &str) -> Result<Value> {
    let text = browser.text(selector).await?;
    serde_json::from_str(&text).with_context(|| format!("`{selector}` holds no JSON: {text:?}"))
}

/// The page shows the manager logged in: `isAuthenticated()` and `getUser()`'s email.
async fn ensure_manager_logged_in(browser: &Browser) -> Result<()> {
    ensure!(
        browser.text("#authenticated").await? == "true",
        "isAuthenticated() is false"
    );
    let user = json_in(browser, "#user").await?;
    ensure!(
        user["email"] == defaults::MANAGER_EMAIL,
        "getUser() gave {user}"
    );
    Ok(())
}

/// The access token the page last got grants `read:messages`, in `scope` and `permissions`.
async fn ensure_token_reads_messages(browser: &Browser) -> Result<()> {
    let claims = json_in(browser, "#claims").await?;
    let scope = claims["scope"].as_str().unwrap_or_default();
    ensure!(
        scope.split(' ').any(|s| s == defaults::READ_MESSAGES)
            && claims["permissions"] == json!([defaults::READ_MESSAGES]),
        "the access token does not grant read:messages: {claims}"
    );
    Ok(())
}

/// The page calls `/api/private-scoped` with the SDK's current access token: 200.
async fn ensure_api_answers_200(browser: &Browser) -> Result<()> {
    press(browser, "#call-api", "callApi").await?;
    let answer = json_in(browser, "#api").await?;
    ensure!(answer["status"] == 200, "the api answered {answer}");
    Ok(())
}

/// Runs `then` in a browser where the manager has just logged in to the page (set up for `mode`)
/// through the mock's Universal Login; `then` gets the page's URL. The servers live until
/// `then` is done.
async fn as_the_manager<F, Fut>(name: &str, mode: Mode, then: F)
where
    F: FnOnce(Browser, String) -> Fut + Send + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    run(name, |browser| async move {
        let app = SpaApp::start(mode).await?;
        app.log_in_as_manager(&browser).await?;
        then(browser, app.page()).await
    })
    .await;
}

#[tokio::test]
async fn spa_js_logs_in_with_redirect_and_calls_the_api() {
    as_the_manager(
        "spa_js_logs_in_with_redirect_and_calls_the_api",
        Mode::SilentAuth,
        |browser, _page| async move {
            ensure_manager_logged_in(&browser).await?;
            ensure_token_reads_messages(&browser).await?;
            let claims = json_in(&browser, "#claims").await?;
            ensure!(claims["azp"] == defaults::SPA_CLIENT_ID, "{claims}");
            ensure_api_answers_200(&browser).await
        },
    )
    .await;
}

#[tokio::test]
async fn spa_js_restores_the_session_silently_after_a_reload() {
    as_the_manager(
        "spa_js_restores_the_session_silently_after_a_reload",
        Mode::SilentAuth,
        |browser, page| async move {
            // The memory cache is gone with the page: only the tenant's session cookie, sent to the
            // hidden iframe, can log the user back in.
            browser.client().refresh().await?;
            settled(&browser).await?;
            ensure_step(&browser, "checkSession done").await?;
            ensure!(browser.url().await? == page, "the reload left the page");
            ensure_manager_logged_in(&browser).await?;
            let calls = json_in(&browser, "#token-calls").await?;
            ensure!(
                calls.as_array().map(Vec::len) == Some(1)
                    && calls[0]["grant_type"] == "authorization_code"
                    && calls[0]["status"] == 200,
                "expected one code exchange, from the iframe's code: {calls}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn spa_js_refreshes_with_rotation() {
    as_the_manager(
        "spa_js_refreshes_with_rotation",
        Mode::RefreshTokens,
        |browser, _page| async move {
            press(&browser, "#token", "getTokenSilently").await?;
            press(&browser, "#token", "getTokenSilently").await?;

            let calls = json_in(&browser, "#token-calls").await?;
            let calls = calls.as_array().context("#token-calls is a list")?;
            ensure!(
                calls.len() == 3,
                "expected a code exchange and two refreshes: {calls:?}"
            );
            ensure!(
                calls[0]["grant_type"] == "authorization_code"
                    && calls[0]["refresh_token_returned"] == true,
                "the code exchange gave no refresh token: {}",
                calls[0]
            );
            for refresh in &calls[1..] {
                ensure!(
                    refresh["grant_type"] == "refresh_token"
                        && refresh["status"] == 200
                        && refresh["has_id_token"] == true
                        && refresh["access_token_returned"] == true
                        && refresh["new_refresh_token"] == true,
                    "a refresh did not rotate (an access token, an ID token and a new refresh \
                 token): {refresh}"
                );
            }
            ensure_token_reads_messages(&browser).await?;
            // The SDK now holds the last refresh's access token; the api takes it.
            ensure_api_answers_200(&browser).await
        },
    )
    .await;
}

#[tokio::test]
async fn spa_js_logs_out_through_the_tenant() {
    as_the_manager(
        "spa_js_logs_out_through_the_tenant",
        Mode::SilentAuth,
        |browser, page| async move {
            browser.click("#logout").await?;
            // Back from the tenant's /v2/logout to `returnTo`, where the page checks the session.
            browser.wait_for_text("#step", "checkSession done").await?;
            settled(&browser).await?;
            ensure!(
                browser.url().await? == page,
                "logout did not return to the page"
            );
            ensure!(browser.text("#authenticated").await? == "false");

            // The SDK forgot the user; the tenant must have too: silent authentication now fails.
            browser.click("#token").await?;
            let error = browser.wait_for_text("#error", "login_required").await?;
            ensure!(
                browser.text("#step").await? == "getTokenSilently failed",
                "unexpected: {error}"
            );
            Ok(())
        },
    )
    .await;
}
