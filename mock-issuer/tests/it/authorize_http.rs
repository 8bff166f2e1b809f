//! The authorize endpoint, the login page, response modes and logout over plain HTTP: every rule without a browser.

use std::time::Duration;

use mock_issuer::config::defaults;
use mock_issuer::{AppType, ClientConfig, IssuerConfig, TokenSpec};
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_FRAME_OPTIONS,
};
use url::Url;

use crate::helpers::{SHARED_SEED, spawn, spawn_with};
use crate::user_login::{
    AuthorizeParams, Pkce, SPA_CALLBACK, authorize, get, http, location, log_in, log_in_manager,
    query_param, set_cookie, set_cookie_line, start_login, submit_login,
};

/// A state that breaks out of any HTML or script context that fails to escape it.
const HOSTILE: &str = "\"'><script>alert(1)</script>";

fn spa() -> AuthorizeParams {
    AuthorizeParams::spa(&Pkce::random())
}

/// Asserts `response` is the error page (400, HTML, no redirect, not frameable) and that it
/// says `needle`; returns the body.
async fn error_page(response: reqwest::Response, needle: &str) -> String {
    assert_eq!(response.status(), 400);
    assert!(
        response.headers().get(LOCATION).is_none(),
        "never a redirect"
    );
    let content_type = response.headers()[CONTENT_TYPE].to_str();
    assert!(content_type.is_ok_and(|t| t.starts_with("text/html")));
    assert_eq!(response.headers()[X_FRAME_OPTIONS], "DENY");
    let body = response.text().await.expect("a body");
    assert!(body.contains("Oops!, something went wrong"), "{body}");
    assert!(body.contains(needle), "{needle:?} not in {body}");
    body
}

/// Asserts `response` redirects to the SPA callback with an error in its query; returns
/// `error`, `error_description` and `state`.
fn redirected_error(response: &reqwest::Response) -> (String, String, Option<String>) {
    assert_eq!(response.status(), 302);
    let url = location(response);
    assert!(url.as_str().starts_with(SPA_CALLBACK), "{url}");
    assert_eq!(query_param(&url, "code"), None);
    (
        query_param(&url, "error").expect("an error"),
        query_param(&url, "error_description").expect("a description"),
        query_param(&url, "state"),
    )
}

#[tokio::test]
async fn an_unknown_or_missing_client_is_an_error_page() {
    let t = spawn().await;
    let unknown = AuthorizeParams {
        client_id: HOSTILE.to_owned(),
        ..spa()
    };
    let body = error_page(authorize(&t.issuer, &unknown, None).await, "Unknown client").await;
    assert!(!body.contains("<script>alert"), "the client id is escaped");
    let missing = AuthorizeParams {
        client_id: String::new(),
        ..spa()
    };
    error_page(
        authorize(&t.issuer, &missing, None).await,
        "Missing required parameter: client_id",
    )
    .await;
}

#[tokio::test]
async fn a_redirect_uri_not_exactly_registered_is_an_error_page() {
    let t = spawn().await;
    for redirect_uri in [
        "http://localhost:3000/callback/",
        "http://localhost:3000/callback?x=1",
        "http://evil.example/<script>alert(1)</script>",
        "",
    ] {
        let params = AuthorizeParams {
            redirect_uri: redirect_uri.to_owned(),
            ..spa()
        };
        let needle = if redirect_uri.is_empty() {
            "Missing required parameter: redirect_uri"
        } else {
            "Callback URL mismatch"
        };
        let body = error_page(authorize(&t.issuer, &params, None).await, needle).await;
        assert!(!body.contains("<script>alert"), "the URI is escaped");
    }
    // The callback's own client is not another client's.
    let other = AuthorizeParams {
        redirect_uri: "http://127.0.0.1:3000".to_owned(),
        ..AuthorizeParams::webapp()
    };
    error_page(
        authorize(&t.issuer, &other, None).await,
        "Callback URL mismatch",
    )
    .await;
}

#[tokio::test]
async fn a_repeated_client_id_or_state_is_an_error_page() {
    let t = spawn().await;
    for name in ["client_id", "redirect_uri", "state"] {
        let mut params = spa();
        params.extra.push((name.to_owned(), "again".to_owned()));
        error_page(authorize(&t.issuer, &params, None).await, "more than once").await;
    }
}

/// A change to the SPA's request, the error it earns, and words its description must hold:
/// one row per rule, rows alike by design.
type RedirectCase = (fn(&mut AuthorizeParams), &'static str, &'static str);

const REDIRECT_CASES: [RedirectCase; 12] = [
    (
        |p| p.response_type = Some("token".into()),
        "unsupported_response_type",
        "token",
    ),
    (
        |p| p.response_type = None,
        "invalid_request",
        "response_type",
    ),
    (
        |p| (p.code_challenge, p.code_challenge_method) = (None, None),
        "invalid_request",
        "code_challenge",
    ),
    (
        |p| p.code_challenge_method = Some("plain".into()),
        "invalid_request",
        "S256",
    ),
    (
        |p| p.code_challenge_method = None,
        "invalid_request",
        "S256",
    ),
    (
        |p| p.code_challenge = Some("a".repeat(44)),
        "invalid_request",
        "code_challenge",
    ),
    (
        |p| p.audience = Some("https://nope".into()),
        "access_denied",
        "Service not found: https://nope",
    ),
    (
        |p| p.max_age = Some("-1".into()),
        "invalid_request",
        "max_age",
    ),
    (
        |p| p.prompt = Some("create".into()),
        "invalid_request",
        "prompt",
    ),
    (
        |p| p.prompt = Some("none login".into()),
        "invalid_request",
        "prompt",
    ),
    (
        |p| p.response_mode = Some("jwt".into()),
        "invalid_request",
        "response_mode",
    ),
    (
        |p| p.extra.push(("scope".into(), "openid".into())),
        "invalid_request",
        "scope was given more than once",
    ),
];

#[tokio::test]
async fn other_errors_go_back_to_the_callback_with_the_state() {
    let t = spawn().await;
    for (change, error, needle) in REDIRECT_CASES {
        let mut params = spa();
        change(&mut params);
        let response = authorize(&t.issuer, &params, None).await;
        let (got, description, state) = redirected_error(&response);
        assert_eq!(got, error, "{params:?}");
        assert!(
            description.contains(needle),
            "{description:?} lacks {needle:?}"
        );
        assert_eq!(state.as_deref(), Some("state-1"));
    }
}

/// The default tenant plus a machine-to-machine client that lists a callback, and a
/// single-page app whose callback has a query of its own.
async fn spawn_odd_clients() -> crate::helpers::TestIssuer {
    let mut config = IssuerConfig::default().with_seed(SHARED_SEED);
    config.clients.push(ClientConfig {
        callbacks: vec![SPA_CALLBACK.to_owned()],
        ..ClientConfig::new("m2m", "m2m-secret")
    });
    config.clients.push(ClientConfig {
        callbacks: vec!["http://localhost:3000/cb?from=mock".to_owned()],
        ..ClientConfig::public("spa2", AppType::Spa)
    });
    spawn_with(config).await
}

#[tokio::test]
async fn a_client_without_the_code_grant_is_unauthorized() {
    let t = spawn_odd_clients().await;
    let params = AuthorizeParams {
        client_id: "m2m".into(),
        ..AuthorizeParams::webapp()
    };
    let (error, _, state) = redirected_error(&authorize(&t.issuer, &params, None).await);
    assert_eq!(error, "unauthorized_client");
    assert_eq!(state.as_deref(), Some("state-1"));
}

#[tokio::test]
async fn query_mode_appends_to_a_callback_that_has_a_query() {
    let t = spawn_odd_clients().await;
    let params = AuthorizeParams {
        client_id: "spa2".into(),
        redirect_uri: "http://localhost:3000/cb?from=mock".into(),
        ..spa()
    };
    let login = log_in_manager(&t.issuer, &params).await;
    assert_eq!(
        query_param(&login.redirect, "from").as_deref(),
        Some("mock")
    );
    assert_eq!(login.redirect.path(), "/cb");
    assert_eq!(login.state.as_deref(), Some("state-1"));
}

#[tokio::test]
async fn without_a_session_the_browser_goes_to_the_login_page() {
    let t = spawn().await;
    let response = authorize(&t.issuer, &spa(), None).await;
    assert_eq!(response.status(), 302);
    let url = location(&response);
    assert_eq!(url.path(), "/u/login");
    let login_state = query_param(&url, "state").unwrap();
    let binding = set_cookie_line(&response, &format!("auth0_login_{login_state}")).unwrap();
    for attribute in ["Path=/u/login", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(binding.contains(attribute), "{binding}");
    }
    // The login page's state is the tenant's, never the client's.
    assert_ne!(login_state, "state-1");
}

#[tokio::test]
async fn the_login_page_has_universal_login_selectors_and_secure_headers() {
    let t = spawn().await;
    let params = AuthorizeParams {
        login_hint: Some(HOSTILE.into()),
        ..spa()
    };
    let page = start_login(&t.issuer, &params).await;
    let response = get(page.url.as_str(), None).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'none'"));
    let body = response.text().await.unwrap();
    let host = Url::parse(t.issuer.url()).unwrap();
    for needle in [
        "<h1>Welcome</h1>".to_owned(),
        format!(
            "Log in to 127.0.0.1:{} to continue to spa.",
            host.port().unwrap()
        ),
        format!(
            "<input type=\"hidden\" name=\"state\" value=\"{}\">",
            page.login_state
        ),
        "<input id=\"username\" name=\"username\" type=\"text\"".to_owned(),
        "<input id=\"password\" name=\"password\" type=\"password\"".to_owned(),
        "<button type=\"submit\" name=\"action\" value=\"default\">".to_owned(),
        "<form method=\"post\" action=\"/u/login?state=".to_owned(),
        // The login hint prefills the email, escaped.
        "value=\"&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"".to_owned(),
    ] {
        assert!(body.contains(&needle), "{needle} not in {body}");
    }
    assert!(!body.contains("<script>"), "{body}");
}

#[tokio::test]
async fn an_unknown_login_state_is_an_error_page() {
    let t = spawn().await;
    let response = get(&format!("{}u/login?state=nope", t.issuer.url()), None).await;
    error_page(response, "expired").await;
    let response = get(&format!("{}u/login", t.issuer.url()), None).await;
    error_page(response, "Missing required parameter: state").await;
}

#[tokio::test]
async fn wrong_credentials_show_the_page_again_and_issue_nothing() {
    let t = spawn().await;
    let page = start_login(&t.issuer, &spa()).await;
    for (email, password) in [
        (defaults::MANAGER_EMAIL, "not-the-password"),
        (defaults::MANAGER_EMAIL, ""),
        ("nobody@example.com", defaults::MANAGER_PASSWORD),
        (defaults::USER_EMAIL, defaults::MANAGER_PASSWORD),
    ] {
        let response = submit_login(&page, email, password).await;
        assert_eq!(response.status(), 400);
        assert!(set_cookie(&response, "auth0").is_none(), "no session");
        let body = response.text().await.unwrap();
        assert!(body.contains("Wrong email or password."), "{body}");
        assert!(body.contains("id=\"username\""), "the form again");
    }
    // The page still works with the right password, and emails compare without case.
    let response = submit_login(&page, "Manager@Example.com", defaults::MANAGER_PASSWORD).await;
    assert_eq!(response.status(), 302);
    assert_eq!(location(&response).path(), "/authorize/resume");
}

#[tokio::test]
async fn the_session_cookie_crosses_sites_and_stays_out_of_scripts() {
    let t = spawn().await;
    let page = start_login(&t.issuer, &spa()).await;
    let response = submit_login(&page, defaults::USER_EMAIL, defaults::USER_PASSWORD).await;
    let line = set_cookie_line(&response, "auth0").expect("a session cookie");
    let attributes: Vec<&str> = line.split("; ").skip(1).collect();
    assert_eq!(
        attributes,
        [
            "Path=/",
            "Max-Age=259200",
            "HttpOnly",
            "Secure",
            "SameSite=None"
        ]
    );
    // The binding cookie has done its job and goes.
    let unbind = set_cookie_line(&response, &page.binding_cookie.replace("=1", "")).unwrap();
    assert!(unbind.contains("Max-Age=0"), "{unbind}");
}

#[tokio::test]
async fn a_login_form_from_another_browser_or_site_is_refused() {
    let t = spawn().await;
    let page = start_login(&t.issuer, &spa()).await;
    let unbound = crate::user_login::LoginPage {
        binding_cookie: "other=1".into(),
        ..page.clone()
    };
    let response = submit_login(&unbound, defaults::USER_EMAIL, defaults::USER_PASSWORD).await;
    assert!(set_cookie(&response, "auth0").is_none());
    error_page(response, "not started in this browser").await;
}

#[tokio::test]
async fn a_malformed_login_form_is_a_400_page() {
    let t = spawn().await;
    let page = start_login(&t.issuer, &spa()).await;
    let url = page.url.as_str();
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            "username=a&password=b".to_owned(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!(
                "state={0}&state={0}&username=a&password=b",
                page.login_state
            ),
        ),
        ("application/json", "{\"state\":1}".to_owned()),
        (
            "application/x-www-form-urlencoded",
            "%%%\u{0}\u{1}".to_owned(),
        ),
    ] {
        let response = http()
            .post(url)
            .header(CONTENT_TYPE, content_type)
            .header(reqwest::header::COOKIE, &page.binding_cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        error_page(response, "invalid_request").await;
    }
}

#[tokio::test]
async fn resume_needs_the_login_and_the_cookie_and_works_once() {
    let t = spawn().await;
    let page = start_login(&t.issuer, &spa()).await;
    let resume = format!(
        "{}authorize/resume?state={}",
        t.issuer.url(),
        page.login_state
    );
    // Before the password: back to the login page.
    let early = get(&resume, None).await;
    assert_eq!(early.status(), 302);
    assert_eq!(location(&early).path(), "/u/login");
    let submitted = submit_login(&page, defaults::USER_EMAIL, defaults::USER_PASSWORD).await;
    let cookie = set_cookie(&submitted, "auth0").unwrap();
    error_page(get(&resume, None).await, "cookie").await;
    let done = get(&resume, Some(&cookie)).await;
    assert_eq!(done.status(), 302);
    assert!(query_param(&location(&done), "code").is_some());
    error_page(get(&resume, Some(&cookie)).await, "expired").await;
}

#[tokio::test]
async fn a_session_answers_at_once_and_prompt_none_needs_one() {
    let t = spawn().await;
    let silent = AuthorizeParams {
        prompt: Some("none".into()),
        ..spa()
    };
    let (error, _, state) = redirected_error(&authorize(&t.issuer, &silent, None).await);
    assert_eq!(
        (error.as_str(), state.as_deref()),
        ("login_required", Some("state-1"))
    );
    let login = log_in_manager(&t.issuer, &spa()).await;
    for params in [spa(), silent] {
        let response = authorize(&t.issuer, &params, Some(&login.cookie)).await;
        assert_eq!(response.status(), 302);
        let url = location(&response);
        assert!(url.as_str().starts_with(SPA_CALLBACK));
        let code = query_param(&url, "code").expect("a code without the login page");
        assert_ne!(code, login.code, "a new code each time");
        // Using the session keeps it alive, cookie included.
        let refreshed = set_cookie_line(&response, "auth0").unwrap();
        assert!(
            refreshed.starts_with(&format!("{}; ", login.cookie)),
            "{refreshed}"
        );
    }
    // A cookie naming no session is no session.
    let (error, _, _) = redirected_error(
        &authorize(
            &t.issuer,
            &AuthorizeParams {
                prompt: Some("none".into()),
                ..spa()
            },
            Some("auth0=forged"),
        )
        .await,
    );
    assert_eq!(error, "login_required");
}

#[tokio::test]
async fn prompt_login_and_an_old_login_ask_for_the_password_again() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let forced = AuthorizeParams {
        prompt: Some("login".into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &forced, Some(&login.cookie)).await;
    assert_eq!(location(&response).path(), "/u/login");
    // A recent enough login will do.
    let recent = AuthorizeParams {
        max_age: Some("3600".into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &recent, Some(&login.cookie)).await;
    assert!(query_param(&location(&response), "code").is_some());
    // One second later, a login must be younger than that.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let strict = AuthorizeParams {
        max_age: Some("0".into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &strict, Some(&login.cookie)).await;
    assert_eq!(location(&response).path(), "/u/login");
    let silent_strict = AuthorizeParams {
        prompt: Some("none".into()),
        ..strict
    };
    let (error, _, _) =
        redirected_error(&authorize(&t.issuer, &silent_strict, Some(&login.cookie)).await);
    assert_eq!(error, "login_required");
}

#[tokio::test]
async fn fragment_mode_sends_the_code_after_the_hash() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let params = AuthorizeParams {
        response_mode: Some("fragment".into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &params, Some(&login.cookie)).await;
    let url = location(&response);
    assert_eq!(url.query(), None);
    let fragment: Vec<(String, String)> =
        url::form_urlencoded::parse(url.fragment().expect("a fragment").as_bytes())
            .into_owned()
            .collect();
    assert_eq!(fragment[0].0, "code");
    assert_eq!(fragment[1], ("state".to_owned(), "state-1".to_owned()));
}

#[tokio::test]
async fn form_post_mode_posts_escaped_fields_to_the_callback() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let params = AuthorizeParams {
        response_mode: Some("form_post".into()),
        state: Some(HOSTILE.into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &params, Some(&login.cookie)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let body = response.text().await.unwrap();
    for needle in [
        format!("<form method=\"post\" action=\"{SPA_CALLBACK}\">"),
        "<input type=\"hidden\" name=\"code\" value=\"".to_owned(),
        "<input type=\"hidden\" name=\"state\" value=\"&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">".to_owned(),
        "document.forms[0].submit();".to_owned(),
    ] {
        assert!(body.contains(&needle), "{needle} not in {body}");
    }
    assert!(!body.contains("<script>alert"), "{body}");
}

#[tokio::test]
async fn web_message_mode_posts_to_the_callback_origin_and_keeps_state_as_data() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let hostile = "</script><script>alert(1)</script>";
    let params = AuthorizeParams {
        response_mode: Some("web_message".into()),
        prompt: Some("none".into()),
        redirect_uri: "http://localhost:3000".into(),
        state: Some(hostile.into()),
        ..spa()
    };
    let response = authorize(&t.issuer, &params, Some(&login.cookie)).await;
    assert_eq!(response.status(), 200);
    // Framed by the app, and by nobody else.
    assert!(response.headers().get(X_FRAME_OPTIONS).is_none());
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors http://localhost:3000"),
        "{csp}"
    );
    let body = response.text().await.unwrap();
    assert_eq!(body.matches("</script>").count(), 1, "{body}");
    assert!(
        body.contains("(window.opener || window.parent).postMessage("),
        "{body}"
    );
    assert!(body.contains(r#"{"response":{"code":""#), "{body}");
    assert!(
        body.contains(r#""state":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"},"type":"authorization_response"}, "http://localhost:3000");"#),
        "{body}"
    );
    // Errors travel the same way.
    let response = authorize(
        &t.issuer,
        &AuthorizeParams {
            state: Some("s".into()),
            ..params
        },
        None,
    )
    .await;
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"{"response":{"error":"login_required","error_description":"Login required","state":"s"},"type":"authorization_response"}"#), "{body}");
}

#[tokio::test]
async fn web_message_needs_the_callback_origin_among_the_web_origins() {
    let t = spawn().await;
    let params = AuthorizeParams {
        response_mode: Some("web_message".into()),
        ..AuthorizeParams::webapp()
    };
    error_page(
        authorize(&t.issuer, &params, None).await,
        "Allowed Web Origins",
    )
    .await;
}

async fn logout(
    path_and_query: &str,
    cookie: &str,
    issuer: &mock_issuer::MockIssuer,
) -> reqwest::Response {
    let response = get(&format!("{}{path_and_query}", issuer.url()), Some(cookie)).await;
    let cleared = set_cookie_line(&response, "auth0").expect("the cookie is cleared");
    assert!(
        cleared.starts_with("auth0=; ") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    response
}

/// Asserts the session behind `cookie` is gone: `prompt=none` answers `login_required`.
async fn assert_logged_out(issuer: &mock_issuer::MockIssuer, cookie: &str) {
    let silent = AuthorizeParams {
        prompt: Some("none".into()),
        ..spa()
    };
    let (error, _, _) = redirected_error(&authorize(issuer, &silent, Some(cookie)).await);
    assert_eq!(error, "login_required");
}

#[tokio::test]
async fn v2_logout_ends_the_session_and_returns_only_to_allowed_urls() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let response = logout(
        "v2/logout?client_id=spa&returnTo=http%3A%2F%2F127.0.0.1%3A3000",
        &login.cookie,
        &t.issuer,
    )
    .await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()[LOCATION], "http://127.0.0.1:3000");
    assert_logged_out(&t.issuer, &login.cookie).await;

    let login = log_in_manager(&t.issuer, &spa()).await;
    let response = logout(
        "v2/logout?client_id=spa&returnTo=https%3A%2F%2Fevil.example",
        &login.cookie,
        &t.issuer,
    )
    .await;
    error_page(response, "Allowed Logout URLs").await;
    // The user asked to log out: the session ends even so.
    assert_logged_out(&t.issuer, &login.cookie).await;

    // A returnTo needs a client to be checked against.
    let response = logout(
        "v2/logout?returnTo=http%3A%2F%2Flocalhost%3A3000",
        "a=b",
        &t.issuer,
    )
    .await;
    error_page(response, "Allowed Logout URLs").await;
}

#[tokio::test]
async fn v2_logout_without_return_to_goes_to_the_first_allowed_url_or_a_page() {
    let t = spawn().await;
    let response = logout("v2/logout?client_id=spa", "a=b", &t.issuer).await;
    assert_eq!(response.headers()[LOCATION], defaults::SPA_ORIGINS[0]);
    let response = logout("v2/logout", "a=b", &t.issuer).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("You have been logged out.")
    );
    error_page(
        logout("v2/logout?client_id=nope", "a=b", &t.issuer).await,
        "Unknown client",
    )
    .await;
}

#[tokio::test]
async fn oidc_logout_trusts_only_a_hint_this_tenant_signed() {
    let t = spawn().await;
    let login = log_in_manager(&t.issuer, &spa()).await;
    let hint = t
        .issuer
        .mint(&TokenSpec::for_user("auth0|x", "spa").audience("spa"));
    let response = logout(
        &format!("oidc/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000&state=a%20b"),
        &login.cookie,
        &t.issuer,
    )
    .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()[LOCATION],
        "http://localhost:3000/?state=a+b"
    );
    assert_logged_out(&t.issuer, &login.cookie).await;

    let redirect = "post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A3000";
    let forged = format!(
        "{}.{}.AAAA",
        hint.split('.').next().unwrap(),
        hint.split('.').nth(1).unwrap()
    );
    for (query, needle) in [
        (
            format!("id_token_hint={forged}&{redirect}"),
            "id_token_hint",
        ),
        (
            format!("id_token_hint={hint}&client_id=webapp&{redirect}"),
            "does not match",
        ),
        (redirect.to_owned(), "Allowed Logout URLs"),
        (
            "client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fevil.example".to_owned(),
            "Allowed Logout URLs",
        ),
    ] {
        let response = logout(&format!("oidc/logout?{query}"), "a=b", &t.issuer).await;
        error_page(response, needle).await;
    }
    let response = logout("oidc/logout?client_id=spa", "a=b", &t.issuer).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_code_goes_to_the_callback_with_the_clients_state() {
    let t = spawn().await;
    let login = log_in(
        &t.issuer,
        &AuthorizeParams::webapp(),
        defaults::USER_EMAIL,
        defaults::USER_PASSWORD,
    )
    .await;
    assert_eq!(
        login.redirect.as_str().split('?').next(),
        Some(SPA_CALLBACK)
    );
    assert_eq!(login.state.as_deref(), Some("state-1"));
    assert_eq!(login.code.len(), 43);
}
