//! Universal Login in a real browser: the page, wrong credentials, an unregistered callback, the session cookie, logout.

use anyhow::{Result, ensure};
use e2e::{Browser, Pages, Stack, run};
use mock_issuer::config::defaults;
use url::Url;

/// RFC 7636's example challenge (appendix B): these tests stop at the code, so any well-formed
/// S256 challenge will do.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCgvo8jhq1bo-8M7HdKUEwtI";

/// The test's app and the tenant that knows it.
async fn app_and_tenant() -> Result<(Pages, Stack)> {
    let app = Pages::builder().start().await?;
    let stack = Stack::builder().app(app.origin()).start().await?;
    Ok((app, stack))
}

/// Sends the browser to the `spa` client's `/authorize` for `redirect_uri`, as auth0-spa-js
/// would, with `extra` parameters.
async fn go_authorize(
    browser: &Browser,
    stack: &Stack,
    redirect_uri: &str,
    extra: &[(&str, &str)],
) -> Result<()> {
    let mut url = Url::parse(&format!("{}authorize", stack.issuer.url()))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", defaults::SPA_CLIENT_ID)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid profile email offline_access")
        .append_pair("audience", defaults::API_AUDIENCE)
        .append_pair("state", "browser-state")
        .append_pair("nonce", "browser-nonce")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .extend_pairs(extra);
    browser.goto(url.as_str()).await
}

/// Goes to `/authorize` and logs the manager in on the login page; returns the code the
/// callback received (the app's `n`th hit).
async fn log_in(browser: &Browser, app: &Pages, stack: &Stack, n: usize) -> Result<String> {
    go_authorize(browser, stack, &app.url("/callback"), &[]).await?;
    browser
        .wait_for_url(&format!("{}u/login?state=", stack.issuer.url()))
        .await?;
    browser.wait_for_text("h1", "Welcome").await?;
    browser
        .log_in(defaults::MANAGER_EMAIL, defaults::MANAGER_PASSWORD)
        .await?;
    let hit = app.wait_for_hit(n).await?;
    ensure!(
        hit.param("state").as_deref() == Some("browser-state"),
        "state not echoed: {hit:?}"
    );
    hit.param("code")
        .ok_or_else(|| anyhow::anyhow!("no code in {hit:?}"))
}

/// Fails if the app's callback was called.
fn no_callback(app: &Pages) -> Result<()> {
    let hits = app.hits();
    ensure!(hits.is_empty(), "the callback was called: {hits:?}");
    Ok(())
}

// Each test below is a short script of browser steps; steps of one kind look alike.

#[tokio::test]
async fn login_through_the_page_sends_the_code_to_the_callback() {
    run("login_through_the_page", |browser| async move {
        let (app, stack) = app_and_tenant().await?;
        let code = log_in(&browser, &app, &stack, 1).await?;
        ensure!(code.len() == 43, "an unexpected code: {code:?}");
        browser.wait_for_url(&app.url("/callback?code=")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn login_with_a_wrong_password_shows_the_message_and_sends_nothing() {
    run("login_wrong_password", |browser| async move {
        let (app, stack) = app_and_tenant().await?;
        go_authorize(&browser, &stack, &app.url("/callback"), &[]).await?;
        browser
            .log_in(defaults::MANAGER_EMAIL, "not-the-password")
            .await?;
        browser
            .wait_for_text("#error-element-password", "Wrong email or password.")
            .await?;
        // The email stays filled in for the next try.
        let kept = browser.wait_for("#username").await?.prop("value").await?;
        ensure!(
            kept.as_deref() == Some(defaults::MANAGER_EMAIL),
            "email field holds {kept:?}"
        );
        no_callback(&app)?;
        // The same page then accepts the right password.
        browser
            .log_in(defaults::MANAGER_EMAIL, defaults::MANAGER_PASSWORD)
            .await?;
        ensure!(
            app.wait_for_hit(1).await?.param("code").is_some(),
            "no code"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn login_to_an_unregistered_callback_shows_the_error_page() {
    run("login_unregistered_callback", |browser| async move {
        let (app, stack) = app_and_tenant().await?;
        go_authorize(&browser, &stack, &app.url("/elsewhere"), &[]).await?;
        browser
            .wait_for_text("h1", "Oops!, something went wrong")
            .await?;
        browser
            .wait_for_text("#error-description", "Callback URL mismatch")
            .await?;
        let url = browser.url().await?;
        ensure!(
            url.starts_with(stack.issuer.url()),
            "left the tenant for {url}"
        );
        no_callback(&app)?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn login_a_second_authorize_uses_the_session_without_the_page() {
    run("login_session_reused", |browser| async move {
        let (app, stack) = app_and_tenant().await?;
        let first = log_in(&browser, &app, &stack, 1).await?;
        go_authorize(&browser, &stack, &app.url("/callback"), &[]).await?;
        let second = app.wait_for_hit(2).await?;
        let code = second.param("code");
        ensure!(
            code.is_some() && code.as_deref() != Some(first.as_str()),
            "no new code: {second:?}"
        );
        // Straight to the callback: the login page never showed.
        browser.wait_for_url(&app.url("/callback?code=")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn login_then_logout_then_prompt_none_is_login_required() {
    run("login_logout_prompt_none", |browser| async move {
        let (app, stack) = app_and_tenant().await?;
        log_in(&browser, &app, &stack, 1).await?;
        let mut logout = Url::parse(&format!("{}v2/logout", stack.issuer.url()))?;
        logout
            .query_pairs_mut()
            .append_pair("client_id", defaults::SPA_CLIENT_ID)
            .append_pair("returnTo", app.origin());
        browser.goto(logout.as_str()).await?;
        browser.wait_for_url(app.origin()).await?;
        go_authorize(
            &browser,
            &stack,
            &app.url("/callback"),
            &[("prompt", "none")],
        )
        .await?;
        let hit = app.wait_for_hit(2).await?;
        ensure!(
            hit.param("error").as_deref() == Some("login_required"),
            "expected login_required: {hit:?}"
        );
        ensure!(hit.param("code").is_none(), "a code after logout: {hit:?}");
        Ok(())
    })
    .await;
}
