//! Auth0's SDK with `useDpop` against the api: tokens bound to the SDK's key, each proof
//! accepted once, and the api's own nonces (RFC 9449 §9), which the SDK's fetcher picks up by
//! itself from a `use_dpop_nonce` refusal.
//!
//! The page's fetch recorder (`fixtures/spa-js-record.js`) reports each api call: its scheme,
//! whether its proof carried the api's last nonce, and the answer's status and challenge error.
//! It never shows a token or a proof: it keeps the last call's headers to itself, for
//! `window.replayLastApiCall()` to send again.

use anyhow::{Result, ensure};
use e2e::Browser;
use serde_json::{Value, json};

use super::{Mode, as_the_manager, ensure_api_answers_200, ensure_manager_logged_in, json_in};

/// What the api says of a proof it has already accepted once.
const REPLAYED: &str = "DPoP proof has already been used";

/// Runs `body` in the page with `token`, the SDK's `getTokenSilently({ detailedResponse: true })`
/// answer; `body` may return a promise, which WebDriver waits for.
async fn with_token(browser: &Browser, body: &str) -> Result<Value> {
    let script = format!(
        "return window.spaClient.getTokenSilently({{ detailedResponse: true }})\
         .then((token) => {{ {body} }});"
    );
    browser.eval(&script, Vec::new()).await
}

/// The api calls the page has recorded so far (a JSON list, printed as JSON when a check fails).
async fn api_calls(browser: &Browser) -> Result<Value> {
    let calls = json_in(browser, "#api-calls").await?;
    ensure!(calls.is_array(), "#api-calls is not a list: {calls}");
    Ok(calls)
}

/// How many calls `calls`, from [`api_calls`], lists.
fn count(calls: &Value) -> usize {
    calls.as_array().map_or(0, Vec::len)
}

/// `call` is the SDK's fetcher sending the token as `DPoP` with a proof; `nonce` says whether
/// the proof carried the nonce the api handed out last.
fn ensure_sdk_proof(call: &Value, nonce: bool) -> Result<()> {
    ensure!(
        call["scheme"] == "DPoP"
            && call["has_proof"] == true
            && call["proof_has_nonce"] == nonce
            && call["proof_nonce_is_the_last_given"] == nonce,
        "expected a DPoP call with a proof {} the api's nonce: {call}",
        if nonce { "carrying" } else { "without" }
    );
    Ok(())
}

#[tokio::test]
async fn spa_js_logs_in_with_dpop_and_calls_the_api_with_a_bound_token() {
    as_the_manager(
        "spa_js_logs_in_with_dpop_and_calls_the_api_with_a_bound_token",
        Mode::Dpop,
        |browser, _page| async move {
            ensure_manager_logged_in(&browser).await?;
            let claims = json_in(&browser, "#claims").await?;
            let jkt = claims["cnf"]["jkt"].as_str().unwrap_or_default();
            ensure!(
                jkt.len() == 43,
                "the access token is not bound to a key: {claims}"
            );
            let token_type = with_token(&browser, "return token.token_type;").await?;
            ensure!(token_type == "DPoP", "token_type is {token_type}, not DPoP");

            // The SDK's fetcher proves possession of the key with each call: the api serves it.
            ensure_api_answers_200(&browser).await?;
            // The same token sent as a bearer token, with no proof: refused.
            let as_bearer = with_token(
                &browser,
                "return fetch(window.SPA_JS_CONFIG.apiUrl + '/api/private-scoped', \
                 { headers: { Authorization: 'Bearer ' + token.access_token } })\
                 .then((response) => response.status);",
            )
            .await?;
            ensure!(
                as_bearer == 401,
                "the bound token sent as Bearer got {as_bearer}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn spa_js_dpop_proof_is_accepted_once() {
    as_the_manager(
        "spa_js_dpop_proof_is_accepted_once",
        Mode::Dpop,
        |browser, _page| async move {
            ensure_api_answers_200(&browser).await?;
            let calls = api_calls(&browser).await?;
            ensure!(count(&calls) == 1, "expected one api call: {calls}");
            ensure_sdk_proof(&calls[0], false)?;

            // The very same request again, token and proof: a replay, refused.
            let replay = browser
                .eval("return window.replayLastApiCall();", Vec::new())
                .await?;
            ensure!(
                replay
                    == json!({
                        "status": 401,
                        "error": "invalid_dpop_proof",
                        "message": REPLAYED,
                    }),
                "the SDK's proof sent a second time got {replay}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn spa_js_retries_with_the_nonce_the_api_asks_for() {
    as_the_manager(
        "spa_js_retries_with_the_nonce_the_api_asks_for",
        Mode::DpopWithNonces,
        |browser, _page| async move {
            // One press: the SDK's fetcher is refused, takes the nonce and tries again, alone.
            ensure_api_answers_200(&browser).await?;
            let calls = api_calls(&browser).await?;
            ensure!(
                count(&calls) == 2,
                "expected a refusal and a retry: {calls}"
            );
            ensure_sdk_proof(&calls[0], false)?;
            ensure!(
                calls[0]["status"] == 401
                    && calls[0]["error"] == "use_dpop_nonce"
                    && calls[0]["nonce_given"] == true,
                "a proof without a nonce was not answered use_dpop_nonce with a DPoP-Nonce: {}",
                calls[0]
            );
            ensure_sdk_proof(&calls[1], true)?;
            ensure!(calls[1]["status"] == 200, "the retry got {}", calls[1]);

            // The SDK keeps the nonce for the api: the next call carries it from the start.
            ensure_api_answers_200(&browser).await?;
            let calls = api_calls(&browser).await?;
            ensure!(count(&calls) == 3, "expected one more call: {calls}");
            ensure_sdk_proof(&calls[2], true)?;
            Ok(())
        },
    )
    .await;
}
