//! `GET /authorize` and `GET /authorize/resume`: validate the request, use or ask for a login, send the code back in the requested response mode.

pub(super) mod cookies;
pub(super) mod params;
mod request;
pub(super) mod response;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;

use self::params::Params;
use self::request::{Refusal, Validated};
use self::response::{Outcome, Reply, found};
use crate::login::{AuthorizeRequest, CodeGrant, Session};
use crate::routes::page::error_page;
use crate::server::AppState;
use crate::token::unix_now;

/// `GET /authorize`: answers at once when the browser's login session will do, else sends the
/// user to the login page (or, with `prompt=none`, answers `login_required`).
pub(super) async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Validated {
        request,
        prompt_none,
    } = match request::validate(state.config(), query.as_deref().unwrap_or_default()) {
        Ok(validated) => validated,
        Err(Refusal::Page { error, description }) => {
            tracing::info!(error, "authorize: refused with the error page");
            return error_page(error, &description);
        }
        Err(Refusal::Redirect {
            reply,
            error,
            description,
        }) => {
            tracing::info!(error, "authorize: refused back to the client");
            return reply.send(Outcome::Error { error, description });
        }
    };
    let session = cookies::session(&state, &headers)
        .filter(|(_, session)| !request.force_login && recent_enough(session, request.max_age));
    match session {
        Some((handle, session)) => {
            let mut response = issue_code(&state, &request, &session);
            // The session was just used: its cookie lives as long as it now does.
            response.headers_mut().append(
                header::SET_COOKIE,
                cookies::set_session(&handle, state.login().sessions.ttl()),
            );
            response
        }
        None if prompt_none => Reply::from(&request).send(Outcome::Error {
            error: "login_required",
            description: "Login required".to_owned(),
        }),
        None => to_login_page(&state, request),
    }
}

/// Whether a login at `session.auth_time` satisfies `max_age` (OpenID Connect Core §3.1.2.1).
fn recent_enough(session: &Session, max_age: Option<u64>) -> bool {
    max_age.is_none_or(|max_age| unix_now().saturating_sub(session.auth_time) <= max_age)
}

/// Keeps `request` for the login page and sends the browser there, bound to it by a cookie.
fn to_login_page(state: &AppState, mut request: AuthorizeRequest) -> Response {
    // A pending request always asks for the password: the login page clears the flag once it
    // was given, and `/authorize/resume` issues nothing before.
    request.force_login = true;
    let pending = &state.login().pending;
    let handle = pending.insert(request);
    let mut response = found(&login_page_url(&handle));
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::bind_login(&handle, pending.ttl()),
    );
    response
}

/// `/u/login?state=…` for the pending login `handle`.
pub(super) fn login_page_url(handle: &str) -> String {
    with_state("/u/login", handle)
}

/// `path?state=…`, the state encoded.
pub(super) fn with_state(path: &str, handle: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", handle)
        .finish();
    format!("{path}?{query}")
}

/// Issues a code for `request` to `session`'s user and sends it to the client.
fn issue_code(state: &AppState, request: &AuthorizeRequest, session: &Session) -> Response {
    let code = state.login().codes.issue(CodeGrant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        user_id: session.user_id.clone(),
        scope: request.scope.clone(),
        audience: request.audience.clone(),
        nonce: request.nonce.clone(),
        max_age_sent: request.max_age.is_some(),
        auth_time: session.auth_time,
        sid: session.sid.clone(),
    });
    tracing::info!(
        client_id = ?request.client_id,
        response_mode = ?request.response_mode,
        "authorize: code issued"
    );
    Reply::from(request).send(Outcome::Code(code))
}

/// `GET /authorize/resume?state=…`, where the login page sends the browser once the password
/// was right: issues the code of the pending login to the session's user.
pub(super) async fn resume(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or_default());
    let handle = match params.required("state") {
        Ok(handle) => handle,
        Err((error, description)) => return error_page(error, &description),
    };
    let pending = &state.login().pending;
    let Some(request) = pending.get(handle) else {
        return expired_login();
    };
    if request.force_login {
        // Nobody gave the password for this login yet.
        return found(&login_page_url(handle));
    }
    let Some((_, session)) = cookies::session(&state, &headers) else {
        return error_page(
            "login_required",
            "The login session cookie did not come back: this browser may block cookies",
        );
    };
    // Taken, not read: a login page's state resumes once.
    let Some(request) = pending.take(handle) else {
        return expired_login();
    };
    issue_code(&state, &request, &session)
}

/// The error page for a login state that is unknown, expired or already used.
pub(super) fn expired_login() -> Response {
    error_page(
        "invalid_request",
        "This login has expired or was already completed: start again from the application",
    )
}
