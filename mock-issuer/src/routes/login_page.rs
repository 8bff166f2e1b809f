//! The Universal Login page at `/u/login`: the form, and checking what it posts.

mod form;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use self::form::LoginForm;
use super::authorize::params::Params;
use super::authorize::response::found;
use super::authorize::{cookies, expired_login, with_state};
use crate::constant_time::secrets_equal;
use crate::login::{AuthorizeRequest, Session, random_handle};
use crate::routes::page::error_page;
use crate::server::AppState;
use crate::token::unix_now;

/// `GET /u/login?state=…`: the form for a pending login.
pub(super) async fn show(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default());
    let handle = match params.required("state") {
        Ok(handle) => handle,
        Err((error, description)) => return error_page(error, &description),
    };
    let Some(request) = state.login().pending.get(handle) else {
        return expired_login();
    };
    form(
        &state,
        handle,
        &request,
        request.login_hint.as_deref(),
        false,
    )
}

fn form(
    state: &AppState,
    handle: &str,
    request: &AuthorizeRequest,
    username: Option<&str>,
    wrong_credentials: bool,
) -> Response {
    let tenant = url::Url::parse(state.issuer())
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(
                url.port()
                    .map_or(host.clone(), |port| format!("{host}:{port}")),
            )
        })
        .unwrap_or_default();
    LoginForm {
        login_state: handle,
        tenant: &tenant,
        client_id: &request.client_id,
        username: username.unwrap_or_default(),
        wrong_credentials,
    }
    .page()
    .into_response()
}

/// `POST /u/login`: checks the email and password. Right: starts a login session (the `auth0`
/// cookie) and sends the browser to `/authorize/resume`. Wrong: the form again, `400`, with
/// "Wrong email or password." and nothing issued.
pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::parse(&String::from_utf8_lossy(&body));
    let (Ok(handle), Ok(username), Ok(password)) = (
        params.required("state"),
        params.one("username"),
        params.one("password"),
    ) else {
        return error_page("invalid_request", "The login form is incomplete");
    };
    let Some(request) = state.login().pending.get(handle) else {
        return expired_login();
    };
    if !cookies::is_login_bound(&headers, handle) {
        // Another site posted this form, or the login began in another browser.
        tracing::info!("login: refused, the login was not started in this browser");
        return error_page(
            "invalid_request",
            "This login was not started in this browser: start again from the application",
        );
    }
    let config = state.config();
    let user = config.user_by_email(username.unwrap_or_default());
    let password = password.unwrap_or_default().as_bytes();
    // An unknown email costs the same comparison as a known one: timing tells no one which
    // emails exist.
    let expected = user.map_or(b"\0no such user".as_slice(), |u| u.password.as_bytes());
    let right = secrets_equal(password, expected) && user.is_some();
    let Some(user) = user.filter(|_| right) else {
        tracing::info!(client_id = ?request.client_id, "login: wrong email or password");
        return form(&state, handle, &request, username, true);
    };
    log_in(&state, &headers, handle, &user.id)
}

/// Starts a session for `user_id`, marks the pending login `handle` as done and sends the
/// browser on to `/authorize/resume`.
fn log_in(state: &AppState, headers: &HeaderMap, handle: &str, user_id: &str) -> Response {
    let login = state.login();
    // A new login replaces the browser's previous session rather than leaving it alive.
    if let Some(previous) = cookies::find(headers, cookies::SESSION) {
        login.sessions.take(previous);
    }
    let session = login.sessions.insert(Session {
        user_id: user_id.to_owned(),
        auth_time: unix_now(),
        sid: random_handle(),
    });
    login
        .pending
        .update(handle, |request| request.force_login = false);
    tracing::info!("login: password accepted, session started");
    let mut response = found(&with_state("/authorize/resume", handle));
    let set = response.headers_mut();
    set.append(
        header::SET_COOKIE,
        cookies::set_session(&session, login.sessions.ttl()),
    );
    set.append(header::SET_COOKIE, cookies::unbind_login(handle));
    response
}
