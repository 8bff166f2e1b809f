//! The quickstart's single-page app served by `cargo xtask dev`: log in as each user, call each route.

use anyhow::{Context, Result, ensure};
use e2e::{Browser, DEFAULT_TIMEOUT, Stack, poll, run};
use mock_issuer::config::defaults;
use mock_issuer::demo_app::{self, DemoApp};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The demo app on `http://localhost:PORT`, a port of the OS's choosing, logging in at the
/// stack's tenant (which has it registered) and calling the stack's api (which allows it for
/// CORS), as `cargo xtask dev` runs it. Dropping it stops the app.
struct DemoSite {
    origin: String,
    stack: Stack,
    _shutdown: oneshot::Sender<()>,
}

impl DemoSite {
    async fn start() -> Result<Self> {
        // Bound first: the tenant and the api must know the app's origin before they start.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://localhost:{}", listener.local_addr()?.port());
        let stack = Stack::builder().app(&origin).with_api().start().await?;
        let app = DemoApp {
            issuer: stack.issuer.url().to_owned(),
            api_url: stack.api_url().to_owned(),
            ..DemoApp::default()
        };
        app.check().context("the demo app's settings")?;
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        tokio::spawn(demo_app::serve(listener, app, async {
            let _ = on_shutdown.await;
        }));
        Ok(Self {
            origin,
            stack,
            _shutdown: shutdown,
        })
    }
}

/// The manager's email and password: `read:messages` through the `manager` role.
const MANAGER: (&str, &str) = (defaults::MANAGER_EMAIL, defaults::MANAGER_PASSWORD);
/// The other user's: no role, no permission.
const USER: (&str, &str) = (defaults::USER_EMAIL, defaults::USER_PASSWORD);

/// Starts the app and its servers and opens the app, which settles on logged out (silent
/// authentication finds no session at the tenant).
async fn open_logged_out(browser: &Browser) -> Result<DemoSite> {
    let site = DemoSite::start().await?;
    browser.goto(&format!("{}/", site.origin)).await?;
    wait_until_logged_out(browser).await?;
    Ok(site)
}

/// Waits for the app to show that nobody is logged in.
async fn wait_until_logged_out(browser: &Browser) -> Result<()> {
    browser.wait_for_text("#status", "Logged out").await?;
    Ok(())
}

/// Clicks "Log in", logs in as `(email, password)` on the tenant's login page and waits until
/// the app, back with the code, shows that user.
async fn log_in(browser: &Browser, site: &DemoSite, (email, password): (&str, &str)) -> Result<()> {
    browser.click("#login").await?;
    browser
        .wait_for_url(&format!("{}u/login?state=", site.stack.issuer.url()))
        .await?;
    browser.log_in(email, password).await?;
    browser.wait_for_url(&site.origin).await?;
    browser
        .wait_for_text("#status", &format!("Logged in as {email}"))
        .await?;
    let shown = browser.text("#user-email").await?;
    ensure!(shown == email, "the profile shows {shown:?}, not {email:?}");
    Ok(())
}

/// Clicks the button of `route` (`private-scoped` for `/api/private-scoped`) and returns the
/// answer the page shows: its status and the rest of the text.
async fn call(browser: &Browser, route: &str) -> Result<(u16, String)> {
    let result = format!("#result-{route}");
    // Cleared first, so an earlier answer on the page is never taken for this one.
    browser
        .eval(
            "document.querySelector(arguments[0]).textContent = ''",
            vec![result.clone().into()],
        )
        .await?;
    browser.click(&format!("#call-{route}")).await?;
    let shown = poll(DEFAULT_TIMEOUT, || async {
        let text = browser.text(&result).await?;
        Ok((!text.is_empty() && text != "…").then_some(text))
    })
    .await
    .with_context(|| format!("waiting for the answer of /api/{route}"))?;
    let status = shown
        .split_whitespace()
        .next()
        .and_then(|status| status.parse().ok())
        .with_context(|| format!("no status in the answer {shown:?}"))?;
    Ok((status, shown))
}

/// Asserts that calling `route` shows the status `expected` and the api's `message`.
async fn expect_answer(browser: &Browser, route: &str, expected: u16, message: &str) -> Result<()> {
    let (status, shown) = call(browser, route).await?;
    ensure!(
        status == expected && shown.contains(message),
        "/api/{route}: expected {expected} with {message:?}, the page shows {shown:?}"
    );
    Ok(())
}

#[tokio::test]
async fn demo_app_shows_200_for_the_manager_and_403_for_the_user_on_the_scoped_route() {
    run("demo_app_manager_then_user", |browser| async move {
        let site = open_logged_out(&browser).await?;
        expect_answer(&browser, "public", 200, api::routes::PUBLIC_MESSAGE).await?;
        expect_answer(&browser, "private", 401, "Unauthorized").await?;

        log_in(&browser, &site, MANAGER).await?;
        expect_answer(&browser, "private-scoped", 200, api::routes::SCOPED_MESSAGE).await?;

        browser.click("#logout").await?;
        wait_until_logged_out(&browser).await?;
        expect_answer(&browser, "private", 401, "Unauthorized").await?;

        log_in(&browser, &site, USER).await?;
        expect_answer(&browser, "private", 200, api::routes::PRIVATE_MESSAGE).await?;
        expect_answer(&browser, "private-scoped", 403, "Insufficient Scope").await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn demo_app_restores_the_session_after_a_reload() {
    run("demo_app_reload", |browser| async move {
        let site = open_logged_out(&browser).await?;
        log_in(&browser, &site, MANAGER).await?;

        // Tokens live in memory only: after a reload they come back through silent
        // authentication in a hidden iframe, with no login page in between.
        browser.goto(&format!("{}/", site.origin)).await?;
        browser
            .wait_for_text("#status", &format!("Logged in as {}", MANAGER.0))
            .await?;
        expect_answer(&browser, "private-scoped", 200, api::routes::SCOPED_MESSAGE).await?;
        Ok(())
    })
    .await;
}
