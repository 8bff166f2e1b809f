//! Logging a user in over plain HTTP, as a browser would (authorize, login page, resume), for the protocol tests.
//!
//! The client here never follows redirects and carries cookies by hand, so each test sees every
//! step: [`log_in`] does the whole dance and returns the code; [`start_login`],
//! [`submit_login`] and [`authorize`] are its steps, for tests about one of them.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::MockIssuer;
use mock_issuer::config::defaults;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sha2::{Digest as _, Sha256};
use url::Url;

/// A PKCE pair (RFC 7636): a random verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    /// 43 base64url characters (32 random bytes).
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    pub fn random() -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        Self {
            challenge: Self::challenge_of(&verifier),
            verifier,
        }
    }

    /// The S256 challenge of `verifier`.
    pub fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

/// The query of a `GET /authorize`. Fields left `None` are not sent; `extra` is sent as is,
/// after the others (for repeated or unknown parameters).
///
/// Field for field the parameters the endpoint reads, so its shape follows the tenant's
/// record of a validated request; kept apart because tests send what the tenant would refuse.
#[derive(Debug, Clone)]
pub struct AuthorizeParams {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub response_mode: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub extra: Vec<(String, String)>,
}

/// The single-page app's callback that the presets use.
pub const SPA_CALLBACK: &str = "http://localhost:3000/callback";

impl AuthorizeParams {
    /// What auth0-spa-js sends for the default `spa` client: code flow with `pkce`'s S256
    /// challenge, callback [`SPA_CALLBACK`], scope `openid profile email offline_access
    /// read:messages`, the default API, a state and a nonce; query response mode.
    pub fn spa(pkce: &Pkce) -> Self {
        Self {
            client_id: defaults::SPA_CLIENT_ID.to_owned(),
            redirect_uri: SPA_CALLBACK.to_owned(),
            response_type: Some("code".to_owned()),
            scope: Some(format!(
                "openid profile email offline_access {}",
                defaults::READ_MESSAGES
            )),
            audience: Some(defaults::API_AUDIENCE.to_owned()),
            state: Some("state-1".to_owned()),
            nonce: Some("nonce-1".to_owned()),
            code_challenge: Some(pkce.challenge.clone()),
            code_challenge_method: Some("S256".to_owned()),
            response_mode: None,
            prompt: None,
            max_age: None,
            login_hint: None,
            extra: Vec::new(),
        }
    }

    /// The default `webapp` client (confidential): as [`AuthorizeParams::spa`] without PKCE, on
    /// its callback `http://localhost:3000/callback`.
    pub fn webapp() -> Self {
        Self {
            client_id: defaults::WEBAPP_CLIENT_ID.to_owned(),
            code_challenge: None,
            code_challenge_method: None,
            ..Self::spa(&Pkce::random())
        }
    }

    /// The query pairs, in a fixed order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let named = [
            ("response_type", &self.response_type),
            ("scope", &self.scope),
            ("audience", &self.audience),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("response_mode", &self.response_mode),
            ("prompt", &self.prompt),
            ("max_age", &self.max_age),
            ("login_hint", &self.login_hint),
        ];
        let mut pairs = vec![
            ("client_id".to_owned(), self.client_id.clone()),
            ("redirect_uri".to_owned(), self.redirect_uri.clone()),
        ];
        pairs.extend(
            named
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value.clone()?))),
        );
        pairs.extend(self.extra.iter().cloned());
        pairs
    }

    /// `{issuer}authorize?…`.
    pub fn url(&self, issuer: &MockIssuer) -> Url {
        let mut url = Url::parse(&format!("{}authorize", issuer.url())).expect("issuer URL");
        url.query_pairs_mut().extend_pairs(self.pairs());
        url
    }
}

/// An HTTP client that, like a test wants and unlike a browser, follows no redirect and keeps
/// no cookie.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

/// `GET /authorize` with `params`, sending `cookie` (`name=value`) if given.
pub async fn authorize(
    issuer: &MockIssuer,
    params: &AuthorizeParams,
    cookie: Option<&str>,
) -> reqwest::Response {
    get(params.url(issuer).as_str(), cookie).await
}

/// `GET url`, sending `cookie` (`name=value`) if given.
pub async fn get(url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = http().get(url);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.expect("request sent")
}

/// The `Location` of a redirect, resolved against the request's URL.
pub fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get(LOCATION)
        .expect("a Location header")
        .to_str()
        .expect("an ASCII Location");
    response.url().join(location).expect("a URL")
}

/// The whole `Set-Cookie` line that sets the cookie `name`, if any.
pub fn set_cookie_line(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.split_once('=').is_some_and(|(n, _)| n == name))
        .map(str::to_owned)
}

/// `name=value` of the cookie `name` set by `response` (for a `Cookie` header), if any.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    let line = set_cookie_line(response, name)?;
    Some(line.split(';').next().unwrap_or_default().to_owned())
}

/// The value of the query parameter `name` of `url`.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// The login page an `/authorize` sent the browser to.
#[derive(Debug, Clone)]
pub struct LoginPage {
    /// `{issuer}u/login?state=…`.
    pub url: Url,
    /// The page's `state` (not the client's).
    pub login_state: String,
    /// The cookie binding the page to this "browser" (`name=value`), which the form post needs.
    pub binding_cookie: String,
}

/// `GET /authorize` without a session; asserts it sends the browser to the login page.
pub async fn start_login(issuer: &MockIssuer, params: &AuthorizeParams) -> LoginPage {
    let response = authorize(issuer, params, None).await;
    assert_eq!(
        response.status(),
        302,
        "authorize redirects to the login page"
    );
    let url = location(&response);
    assert_eq!(url.path(), "/u/login");
    let login_state = query_param(&url, "state").expect("the login page's state");
    let binding_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.starts_with("auth0_login_"))
        .and_then(|line| line.split(';').next())
        .expect("a login binding cookie")
        .to_owned();
    LoginPage {
        url,
        login_state,
        binding_cookie,
    }
}

/// Posts the login form of `page` as the page's own button would.
pub async fn submit_login(page: &LoginPage, email: &str, password: &str) -> reqwest::Response {
    http()
        .post(page.url.as_str())
        .header(COOKIE, &page.binding_cookie)
        .form(&[
            ("state", page.login_state.as_str()),
            ("username", email),
            ("password", password),
            ("action", "default"),
        ])
        .send()
        .await
        .expect("request sent")
}

/// A finished login: the code the client received and the browser's session.
#[derive(Debug, Clone)]
pub struct Login {
    /// The authorization code.
    pub code: String,
    /// The client's `state`, as echoed.
    pub state: Option<String>,
    /// The session cookie, `auth0=…`, ready for a `Cookie` header.
    pub cookie: String,
    /// Where the code was sent: the callback with `code` and `state` in its query.
    pub redirect: Url,
}

/// Logs `email` in for `params` (query response mode) through the login page, as a browser
/// would, and returns the code sent to the callback. Panics on any other outcome.
pub async fn log_in(
    issuer: &MockIssuer,
    params: &AuthorizeParams,
    email: &str,
    password: &str,
) -> Login {
    let page = start_login(issuer, params).await;
    let submitted = submit_login(&page, email, password).await;
    assert_eq!(submitted.status(), 302, "the password is accepted");
    let cookie = set_cookie(&submitted, "auth0").expect("a session cookie");
    let resumed = get(location(&submitted).as_str(), Some(&cookie)).await;
    assert_eq!(resumed.status(), 302, "resume sends the code");
    let redirect = location(&resumed);
    Login {
        code: query_param(&redirect, "code").expect("a code in the callback's query"),
        state: query_param(&redirect, "state"),
        cookie,
        redirect,
    }
}

/// Logs the default tenant's manager in for `params` (see [`log_in`]).
pub async fn log_in_manager(issuer: &MockIssuer, params: &AuthorizeParams) -> Login {
    log_in(
        issuer,
        params,
        defaults::MANAGER_EMAIL,
        defaults::MANAGER_PASSWORD,
    )
    .await
}
