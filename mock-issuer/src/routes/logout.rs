//! Logout: `GET /v2/logout` (Auth0's) and `GET /oidc/logout` (RP-initiated, OpenID Connect).
//!
//! Both end the browser's login session and clear its cookie first, whatever follows: the user
//! asked to log out. Then they redirect only to one of the client's Allowed Logout URLs (exact
//! match); any other target is Auth0's error page, never a redirect (no open redirector).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use url::Url;

use super::authorize::cookies;
use super::authorize::params::{Params, Problem};
use super::authorize::response::found;
use super::page::{Page, error_page};
use crate::config::ClientConfig;
use crate::server::AppState;
use crate::verify::verify;

/// Where a logout ends: a redirect, or the "logged out" page.
type Target = Result<Option<String>, Problem>;

/// `GET /v2/logout?client_id=…&returnTo=…`. Without `returnTo`, Auth0 sends the browser to the
/// client's first Allowed Logout URL, and shows a "logged out" page when there is none (or no
/// `client_id`).
pub(super) async fn v2_logout(request: LogoutRequest) -> Response {
    log_out(request, v2_target)
}

/// `GET /oidc/logout` (OpenID Connect RP-Initiated Logout 1.0): `id_token_hint`, `client_id`,
/// `post_logout_redirect_uri`, `state`; `logout_hint` and `ui_locales` are accepted, unused.
/// The client is `client_id`, or the `aud` of the hint, which must be an ID token this tenant
/// signed (expired is fine: the spec allows it). Without `post_logout_redirect_uri`, the
/// "logged out" page.
pub(super) async fn oidc_logout(request: LogoutRequest) -> Response {
    log_out(request, oidc_target)
}

fn v2_target(state: &AppState, params: &Params) -> Target {
    let client = params
        .one("client_id")?
        .map(|id| known_client(state, id))
        .transpose()?;
    match (params.one("returnTo")?, client) {
        (Some(url), Some(client)) => allowed(client, url, "returnTo").map(|u| Some(u.to_owned())),
        (Some(url), None) => Err(not_allowed(url, "returnTo")),
        (None, client) => Ok(client.and_then(|c| c.allowed_logout_urls.first().cloned())),
    }
}

fn oidc_target(state: &AppState, params: &Params) -> Target {
    let hinted = params
        .one("id_token_hint")?
        .map(|hint| hinted_client(state, hint))
        .transpose()?;
    let client_id = match (params.one("client_id")?, hinted.as_deref()) {
        (Some(id), Some(hinted)) if id != hinted => {
            return Err((
                "invalid_request",
                "client_id does not match the audience of id_token_hint".to_owned(),
            ));
        }
        (Some(id), _) | (None, Some(id)) => Some(id),
        (None, None) => None,
    };
    let client = client_id.map(|id| known_client(state, id)).transpose()?;
    let Some(url) = params.one("post_logout_redirect_uri")? else {
        return Ok(None);
    };
    let Some(client) = client else {
        return Err(not_allowed(url, "post_logout_redirect_uri"));
    };
    let mut target = Url::parse(allowed(client, url, "post_logout_redirect_uri")?)
        .map_err(|_| not_allowed(url, "post_logout_redirect_uri"))?;
    if let Some(logout_state) = params.one("state")? {
        target.query_pairs_mut().append_pair("state", logout_state);
    }
    Ok(Some(target.into()))
}

/// The client an `id_token_hint` was issued to: its `aud`, a string or a one-element array.
fn hinted_client(state: &AppState, hint: &str) -> Result<String, Problem> {
    let verified = verify(state, hint).map_err(|e| {
        (
            "invalid_request",
            format!("id_token_hint is not a token of this tenant: {e}"),
        )
    })?;
    match verified.claims.get("aud") {
        Some(Value::String(aud)) => Ok(aud.clone()),
        Some(Value::Array(auds)) if auds.len() == 1 => match &auds[0] {
            Value::String(aud) => Ok(aud.clone()),
            _ => Err(not_an_id_token()),
        },
        _ => Err(not_an_id_token()),
    }
}

fn not_an_id_token() -> Problem {
    (
        "invalid_request",
        "id_token_hint is not an ID token: its audience is not one client".to_owned(),
    )
}

fn known_client<'a>(state: &'a AppState, id: &str) -> Result<&'a ClientConfig, Problem> {
    state
        .config()
        .client(id)
        .ok_or_else(|| ("invalid_request", format!("Unknown client: {id}")))
}

/// `url` if it is one of `client`'s Allowed Logout URLs.
fn allowed<'a>(client: &ClientConfig, url: &'a str, parameter: &str) -> Result<&'a str, Problem> {
    if client.allowed_logout_urls.iter().any(|u| u == url) {
        Ok(url)
    } else {
        Err(not_allowed(url, parameter))
    }
}

/// Auth0's words for a logout target that is not allowed.
fn not_allowed(url: &str, parameter: &str) -> Problem {
    (
        "invalid_request",
        format!(
            "The \"{parameter}\" querystring parameter \"{url}\" is not defined as a valid URL \
             in \"Allowed Logout URLs\"."
        ),
    )
}

/// What both logouts read: the tenant, the query and the cookies.
type LogoutRequest = (State<AppState>, RawQuery, HeaderMap);

/// Ends the session, then answers for where `target` says the logout goes.
fn log_out(
    (State(state), RawQuery(query), headers): LogoutRequest,
    target: fn(&AppState, &Params) -> Target,
) -> Response {
    end_session(&state, &headers);
    finish(target(
        &state,
        &Params::parse(query.as_deref().unwrap_or_default()),
    ))
}

/// Removes the session the request's cookie names, if any.
fn end_session(state: &AppState, headers: &HeaderMap) {
    if let Some(handle) = cookies::find(headers, cookies::SESSION)
        && state.login().sessions.take(handle).is_some()
    {
        tracing::info!("logout: session ended");
    }
}

/// Answers for `target`, clearing the session cookie in every case.
fn finish(target: Target) -> Response {
    let mut response = match target {
        Ok(Some(url)) => found(&url),
        Ok(None) => Page::new(
            "Logged out",
            "<main><div class=\"logo\"></div><h1>Logged out</h1>\
             <p>You have been logged out.</p></main>"
                .to_owned(),
        )
        .into_response(),
        Err((error, description)) => {
            tracing::info!(error, "logout: refused with the error page");
            error_page(error, &description)
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear_session());
    response
}
