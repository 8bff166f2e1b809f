//! The console page at the issuer's `/`: minting, decoding (hostile claims stay text), keys and faults.

use anyhow::{Context, Result, ensure};
use e2e::{Browser, DEFAULT_TIMEOUT, Stack, poll, run};
use mock_issuer::config::defaults;
use mock_issuer::{Endpoint, Fault, IssuerClient, IssuerConfig};
use serde_json::{Value, json};

/// A claim that would run script twice over if the page rendered it as HTML.
const HOSTILE_NOTE: &str = r#"<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"#;

/// Starts the default tenant, opens its console and waits until the page has loaded the tenant
/// (the mint form is filled in).
async fn open_console(browser: &Browser) -> Result<Stack> {
    let stack = Stack::builder().start().await?;
    browser.goto(stack.issuer.url()).await?;
    browser.wait_for("#mint-client option").await?;
    Ok(stack)
}

/// Chooses the option whose value is `value` in the select matching `selector`.
async fn choose(browser: &Browser, selector: &str, value: &str) -> Result<()> {
    browser
        .wait_for(selector)
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("choosing {value} in `{selector}`"))
}

/// The kid of the key shown with `role`, if one is.
async fn shown_kid(browser: &Browser, role: &str) -> Result<Option<String>> {
    let kid = browser
        .eval(
            "const li = document.querySelector(`#keys li[data-role=${arguments[0]}]`);\
             return li ? li.dataset.kid : null;",
            vec![json!(role)],
        )
        .await?;
    Ok(kid.as_str().map(str::to_owned))
}

/// Waits until the key list shows `kid` (or no key, for `None`) as `role`.
async fn wait_for_kid(browser: &Browser, role: &str, kid: Option<&str>) -> Result<()> {
    poll(DEFAULT_TIMEOUT, || async {
        Ok((shown_kid(browser, role).await?.as_deref() == kid).then_some(()))
    })
    .await
    .with_context(|| format!("waiting for the {role} key to be shown as {kid:?}"))
}

#[tokio::test]
async fn console_shows_a_hostile_claim_as_text_in_the_decode_view() {
    run("console_hostile_claim", |browser| async move {
        let stack = open_console(&browser).await?;

        let manager = stack
            .issuer
            .state()
            .config()
            .user_by_email(defaults::MANAGER_EMAIL)
            .context("the default manager")?
            .id
            .clone();
        choose(&browser, "#mint-user", &manager).await?;
        choose(&browser, "#mint-client", defaults::SPA_CLIENT_ID).await?;
        browser.fill("#mint-scopes", "read:messages").await?;
        let claims = json!({ "note": HOSTILE_NOTE }).to_string();
        browser.fill("#mint-claims", &claims).await?;
        browser.click("#mint-submit").await?;
        browser.wait_for_text("#minted-token", "eyJ").await?;
        let token = browser
            .eval(
                "return document.getElementById('minted-token').textContent;",
                vec![],
            )
            .await?;
        let token = token.as_str().context("the minted token")?;
        browser.fill("#decode-input", token).await?;
        browser.click("#decode-submit").await?;

        let shown = browser
            .wait_for_text("#decoded-claims", "window.__xss=2")
            .await?;
        // The claim as JSON shows it (quotes escaped), character for character.
        let as_json = Value::String(HOSTILE_NOTE.to_owned()).to_string();
        ensure!(shown.contains(&as_json), "{as_json} not in {shown}");
        ensure!(shown.contains(&manager), "sub not shown: {shown}");
        let verification = browser.text("#decoded-verification").await?;
        ensure!(
            verification.starts_with("verified by kid "),
            "{verification}"
        );
        // An image's error handler runs after its load fails: give it the time to.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let page = browser
            .eval(
                "return { xss: typeof window.__xss, images: document.images.length,\
                 scripts: document.scripts.length,\
                 elements_in_claims: document.getElementById('decoded-claims').children.length };",
                vec![],
            )
            .await?;
        let safe = json!({"xss": "undefined", "images": 0, "scripts": 1, "elements_in_claims": 0});
        ensure!(page == safe, "the claim became markup: {page}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn console_rotates_and_revokes_keys_and_shows_the_new_kids() {
    run("console_rotate_keys", |browser| async move {
        let stack = open_console(&browser).await?;
        let before = stack.issuer.key_summary();
        wait_for_kid(&browser, "current", Some(&before.current)).await?;
        wait_for_kid(&browser, "previous", None).await?;

        browser.click("#rotate").await?;
        wait_for_kid(&browser, "current", Some(&before.next)).await?;
        wait_for_kid(&browser, "previous", Some(&before.current)).await?;
        let rotated = stack.issuer.key_summary();
        ensure!(shown_kid(&browser, "next").await?.as_deref() == Some(rotated.next.as_str()));
        ensure!(rotated.next != before.next, "no new next key: {rotated:?}");

        browser.click("#revoke-previous").await?;
        wait_for_kid(&browser, "previous", None).await?;
        ensure!(stack.issuer.key_summary().previous.is_none());
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn console_switches_a_fault_on_and_off() {
    run("console_faults", |browser| async move {
        let stack = open_console(&browser).await?;
        let admin = IssuerClient::new(stack.issuer.url())?;

        // The jwks row's first control is the status input (503 by default), then its button.
        browser
            .click("#fault-table tr:has([data-endpoint=jwks]) button")
            .await?;
        browser
            .wait_for_text("[data-endpoint=jwks]", "status 503")
            .await?;
        let set = admin.faults().await?;
        ensure!(set.jwks == [Fault::Status(503)], "{set:?}");
        ensure!(set.get(Endpoint::Token).is_empty(), "{set:?}");

        browser.click("#faults-clear").await?;
        browser
            .wait_for_text("[data-endpoint=jwks]", "none")
            .await?;
        ensure!(admin.faults().await?.jwks.is_empty());
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn console_asks_once_for_the_admin_token_when_the_issuer_has_one() {
    run("console_admin_token", |browser| async move {
        let stack = Stack::builder()
            .config(|config: &mut IssuerConfig| {
                config.admin_token = Some("console-test-token".into());
            })
            .start()
            .await?;
        browser.goto(stack.issuer.url()).await?;
        browser.wait_for("#admin-token-input").await?;
        browser.fill("#admin-token-input", "wrong-token").await?;
        browser.click("#admin-token-form button").await?;
        browser
            .wait_for_text("#admin-token-message", "refused")
            .await?;

        browser
            .fill("#admin-token-input", "console-test-token")
            .await?;
        browser.click("#admin-token-form button").await?;
        browser.wait_for("#mint-client option").await?;
        // Kept for the tab: a reload goes straight to the console.
        browser.goto(stack.issuer.url()).await?;
        browser.wait_for("#mint-client option").await?;
        let asked = browser
            .eval(
                "return document.getElementById('admin-token').hidden;",
                vec![],
            )
            .await?;
        ensure!(asked == json!(true), "the token form is showing again");
        Ok(())
    })
    .await;
}
