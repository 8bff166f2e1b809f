//! The cookies of a browser's login: the session cookie `auth0` (who is logged in), and the
//! short-lived cookie that ties a login page to the browser that asked for it.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::login::Session;
use crate::server::AppState;

/// The session cookie's name, Auth0's.
pub(in crate::routes) const SESSION: &str = "auth0";

/// Where the login-binding cookie is sent: the login page only.
const LOGIN_PATH: &str = "/u/login";

/// The value of the cookie `name` in the request's `Cookie` headers, if present once or more
/// (the first wins, as browsers send the most specific path first).
pub(in crate::routes) fn find<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// The live session the request's `auth0` cookie names, with that cookie's value; using it
/// restarts its inactivity timeout.
pub(in crate::routes) fn session(
    state: &AppState,
    headers: &HeaderMap,
) -> Option<(String, Session)> {
    let handle = find(headers, SESSION)?;
    let session = state.login().sessions.touch(handle)?;
    Some((handle.to_owned(), session))
}

/// `Set-Cookie` for the session `handle`. `SameSite=None; Secure` as Auth0's: silent
/// authentication sends it from a hidden iframe inside an app on another site, a cross-site
/// request that a `Lax` cookie would not join (browsers accept `Secure` cookies from
/// `http://localhost` and `http://127.0.0.1`). `HttpOnly`: no script needs it.
pub(in crate::routes) fn set_session(handle: &str, lifetime: Duration) -> HeaderValue {
    cookie(&format!(
        "{SESSION}={handle}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=None",
        lifetime.as_secs()
    ))
}

/// `Set-Cookie` that removes the session cookie.
pub(in crate::routes) fn clear_session() -> HeaderValue {
    cookie(&format!(
        "{SESSION}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None"
    ))
}

/// The name of the cookie binding the login page `login_state` to this browser. One cookie per
/// login, so logins in two tabs do not undo each other.
fn login_binding_name(login_state: &str) -> String {
    format!("auth0_login_{login_state}")
}

/// `Set-Cookie` binding the login page `login_state` to the browser that was sent to it, for
/// `lifetime`. `SameSite=Lax`: a form posted from another site does not carry it, so no site
/// can log a visitor in under an account of its choosing (login CSRF).
pub(in crate::routes) fn bind_login(login_state: &str, lifetime: Duration) -> HeaderValue {
    cookie(&format!(
        "{}=1; Path={LOGIN_PATH}; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        login_binding_name(login_state),
        lifetime.as_secs()
    ))
}

/// Whether the request carries the binding cookie of `login_state`.
pub(in crate::routes) fn is_login_bound(headers: &HeaderMap, login_state: &str) -> bool {
    find(headers, &login_binding_name(login_state)).is_some()
}

/// `Set-Cookie` that removes the binding cookie of `login_state`.
pub(in crate::routes) fn unbind_login(login_state: &str) -> HeaderValue {
    cookie(&format!(
        "{}=; Path={LOGIN_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
        login_binding_name(login_state)
    ))
}

fn cookie(text: &str) -> HeaderValue {
    // Handles are base64url and names fixed, so the text is always a valid header value.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_reads_one_cookie_among_several_lines() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; auth0=xyz"));
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(find(&headers, SESSION), Some("xyz"));
        assert_eq!(find(&headers, "b"), Some("2"));
        assert_eq!(find(&headers, "auth"), None);
    }

    #[test]
    fn the_session_cookie_crosses_sites_and_scripts_cannot_read_it() {
        let value = set_session("h", Duration::from_secs(60));
        assert_eq!(
            value,
            "auth0=h; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=None"
        );
    }
}
