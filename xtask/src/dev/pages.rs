//! `cargo xtask dev`'s page checks: the pages a person opens answer as a browser would load
//! them. The mock's console and login page (reached through `/authorize`, as every login is),
//! and the demo app with its script.

use anyhow::{Context as _, Result};
use mock_issuer::config::defaults;

use super::demo::DemoServer;
use super::issuer::Issuer;
use crate::http::{Http, Response};

/// A well-formed S256 challenge (43 base64url characters): the login page is only looked at,
/// and no code is ever issued or redeemed.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One page, the status it answered and what, if anything, was wrong with its body.
pub struct PageCheck {
    page: String,
    status: u16,
    /// What the body lacked, for a page that answered 200.
    missing: Option<&'static str>,
}

impl PageCheck {
    /// `page`'s answer, judged by its status and whether the body contains `marker`.
    fn judge(page: String, response: &Response, marker: &'static str) -> Self {
        Self {
            page,
            status: response.status,
            missing: (!response.body.contains(marker)).then_some(marker),
        }
    }

    /// A 200 with the page's marker in its body.
    pub fn passes(&self) -> bool {
        self.status == 200 && self.missing.is_none()
    }
}

/// Loads the mock's console and login page (none for a real tenant) and the demo app, if it is
/// served.
pub fn check_pages(
    http: &Http,
    issuer: &Issuer,
    demo: Option<&DemoServer>,
) -> Result<Vec<PageCheck>> {
    let mut checks = Vec::new();
    if !issuer.is_tenant() {
        let console = http.get(&issuer.url, None)?;
        checks.push(PageCheck::judge(
            format!("{} (console)", issuer.url),
            &console,
            "<html",
        ));
        let login = login_page(http, &issuer.url)?;
        checks.push(PageCheck::judge(
            format!("{}authorize -> /u/login (login page)", issuer.url),
            &login,
            "id=\"username\"",
        ));
    }
    if let Some(demo) = demo {
        for (path, marker) in [("/", "id=\"config\""), ("/app.js", "code_verifier")] {
            let url = format!("{}{path}", demo.url());
            let answer = http.get(&url, None)?;
            checks.push(PageCheck::judge(
                format!("{url} (demo app)"),
                &answer,
                marker,
            ));
        }
    }
    Ok(checks)
}

/// The login page, as a browser reaches it: `/authorize` for the default single-page app,
/// then the redirect it answers with.
fn login_page(http: &Http, issuer_url: &str) -> Result<Response> {
    let authorize = reqwest::Url::parse_with_params(
        &format!("{issuer_url}authorize"),
        [
            ("response_type", "code"),
            ("client_id", defaults::SPA_CLIENT_ID),
            ("redirect_uri", defaults::SPA_ORIGINS[0]),
            ("scope", "openid profile email"),
            ("state", "xtask-dev"),
            ("nonce", "xtask-dev"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .context("the /authorize URL")?;
    // As a browser: `/authorize` answers with a redirect to the login page, which `Http`
    // leaves to its caller.
    let redirect = http.get(authorize.as_str(), None)?;
    let location = redirect.location.with_context(|| {
        format!(
            "GET /authorize answered {} without a redirect",
            redirect.status
        )
    })?;
    let login = reqwest::Url::parse(issuer_url)?
        .join(&location)
        .context("the login page's URL")?;
    http.get(login.as_str(), None)
}

/// The checks, one line each: page, status, and `ok` or what is wrong; nothing when no page
/// was checked.
pub fn print_checks(checks: &[PageCheck]) {
    if checks.is_empty() {
        return;
    }
    println!("\npages:");
    for check in checks {
        let result = match (check.status, check.missing) {
            (200, None) => "ok".to_owned(),
            (200, Some(marker)) => format!("MISMATCH: no {marker} in the page"),
            _ => "MISMATCH: expected 200".to_owned(),
        };
        println!("  GET {:<62} {:>3}  {result}", check.page, check.status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            body: body.to_owned(),
            location: None,
        }
    }

    #[test]
    fn a_page_passes_with_a_200_that_holds_its_marker() {
        let judge = |response| PageCheck::judge("/".to_owned(), &response, "id=\"username\"");

        assert!(judge(answer(200, "<input id=\"username\">")).passes());
        assert!(!judge(answer(200, "<h1>Oops!, something went wrong</h1>")).passes());
        assert!(!judge(answer(400, "<input id=\"username\">")).passes());
    }
}
