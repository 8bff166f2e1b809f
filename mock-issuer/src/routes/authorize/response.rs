//! Sending `/authorize`'s answer (a code, or an error) to the client in the response mode it
//! asked for: `query` and `fragment` redirects, a `form_post` page, a `web_message` page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use url::Url;

use super::request::web_origin;
use crate::login::{AuthorizeRequest, ResponseMode};
use crate::routes::page::{Page, error_page, escape, script_json};

/// Where and how the answer goes.
#[derive(Debug, Clone)]
pub(in crate::routes) struct Reply {
    /// One of the client's Allowed Callback URLs.
    pub redirect_uri: String,
    pub mode: ResponseMode,
    /// The client's `state`, echoed.
    pub state: Option<String>,
}

impl From<&AuthorizeRequest> for Reply {
    fn from(request: &AuthorizeRequest) -> Self {
        Self {
            redirect_uri: request.redirect_uri.clone(),
            mode: request.response_mode,
            state: request.state.clone(),
        }
    }
}

/// What the answer carries.
#[derive(Debug, Clone)]
pub(in crate::routes) enum Outcome {
    /// An authorization code.
    Code(String),
    /// An OAuth error code and its description.
    Error {
        error: &'static str,
        description: String,
    },
}

impl Reply {
    /// Sends `outcome` (and the state) to the client.
    pub(in crate::routes) fn send(&self, outcome: Outcome) -> Response {
        let mut fields: Vec<(&str, String)> = match outcome {
            Outcome::Code(code) => vec![("code", code)],
            Outcome::Error { error, description } => vec![
                ("error", error.to_owned()),
                ("error_description", description),
            ],
        };
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        match self.mode {
            ResponseMode::Query | ResponseMode::Fragment => self.redirect(&fields),
            ResponseMode::FormPost => self.form_post(&fields),
            ResponseMode::WebMessage => self.web_message(&fields),
        }
    }

    /// `302` to `redirect_uri` with `fields` added to its query, or as its fragment.
    fn redirect(&self, fields: &[(&str, String)]) -> Response {
        let Ok(mut url) = Url::parse(&self.redirect_uri) else {
            return unusable_callback();
        };
        if self.mode == ResponseMode::Fragment {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            url.set_fragment(Some(&encoded));
        } else {
            // Appends to a query the callback already has.
            url.query_pairs_mut().extend_pairs(fields);
        }
        found(url.as_str())
    }

    /// A page whose form posts `fields` to `redirect_uri` as soon as it loads (OAuth 2.0 Form
    /// Post Response Mode), with a button for a browser without script.
    fn form_post(&self, fields: &[(&str, String)]) -> Response {
        let inputs: String = fields
            .iter()
            .map(|(name, value)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    escape(name),
                    escape(value)
                )
            })
            .collect();
        let body = format!(
            "<main><form method=\"post\" action=\"{action}\">{inputs}\
             <noscript><p>Script is off: continue to the application.</p>\
             <button type=\"submit\">Continue</button></noscript></form></main>",
            action = escape(&self.redirect_uri),
        );
        Page::new("Submit this form", body)
            .script("document.forms[0].submit();".to_owned())
            .into_response()
    }

    /// A page that posts `{type: "authorization_response", response: fields}` to the window
    /// that opened it (a popup login) or holds it (silent login in a hidden iframe), for the
    /// origin of `redirect_uri` only; that origin alone may frame it.
    fn web_message(&self, fields: &[(&str, String)]) -> Response {
        let Some(origin) = web_origin(&self.redirect_uri) else {
            return unusable_callback();
        };
        let response: Map<String, Value> = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
            .collect();
        let message = serde_json::json!({
            "type": "authorization_response",
            "response": response,
        });
        let script = format!(
            "(window.opener || window.parent).postMessage({}, {});",
            script_json(&message),
            script_json(&Value::String(origin.clone())),
        );
        Page::new("Authorization response", String::new())
            .frameable_by(origin)
            .script(script)
            .into_response()
    }
}

/// `302` to `location`, never cached (locations carry codes and login handles); the error page
/// for a location that cannot be a header value.
pub(in crate::routes) fn found(location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return error_page(
            "invalid_request",
            "The redirect URL is not a valid header value",
        );
    };
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A callback the tenant accepted but cannot send to (only a hand-written tenant file can
/// get here): the error page.
fn unusable_callback() -> Response {
    error_page(
        "invalid_request",
        "The redirect_uri cannot receive this response mode",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(redirect_uri: &str, mode: ResponseMode) -> Reply {
        Reply {
            redirect_uri: redirect_uri.to_owned(),
            mode,
            state: Some("s t".to_owned()),
        }
    }

    fn location(response: &Response) -> &str {
        response.headers()[header::LOCATION].to_str().unwrap()
    }

    #[test]
    fn query_mode_appends_to_an_existing_query() {
        let response = reply("http://localhost:3000/cb?a=1", ResponseMode::Query)
            .send(Outcome::Code("c".into()));
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            location(&response),
            "http://localhost:3000/cb?a=1&code=c&state=s+t"
        );
    }

    #[test]
    fn fragment_mode_puts_the_error_after_the_hash() {
        let response =
            reply("http://localhost:3000/cb", ResponseMode::Fragment).send(Outcome::Error {
                error: "login_required",
                description: "Login required".into(),
            });
        assert_eq!(
            location(&response),
            "http://localhost:3000/cb#error=login_required&error_description=Login+required&state=s+t"
        );
    }
}
