//! The HTML every page of the tenant is built from: escaping, the page shell and its styles,
//! the error page, and the security headers each page answers with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::login::random_handle;

/// `text` made safe for HTML text and for a double- or single-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    substitute(text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// `value` as JSON that stays data inside a `<script>` element: `<`, `>` and `&` become `\u`
/// escapes (so no `</script>` or `<!--` can appear), and so do U+2028 and U+2029 (line
/// terminators in older JavaScript). The result is still valid JSON and a JavaScript literal.
pub(crate) fn script_json(value: &Value) -> String {
    substitute(&value.to_string(), |c| match c {
        '<' => Some("\\u003c"),
        '>' => Some("\\u003e"),
        '&' => Some("\\u0026"),
        '\u{2028}' => Some("\\u2028"),
        '\u{2029}' => Some("\\u2029"),
        _ => None,
    })
}

/// `text` with each character for which `replacement` has a string replaced by it.
fn substitute(text: &str, replacement: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match replacement(c) {
            Some(replaced) => out.push_str(replaced),
            None => out.push(c),
        }
    }
    out
}

/// The styles of every page: Auth0's New Universal Login look, self-contained.
const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
background:#f3f3f4;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
color:#1e212a;font-size:14px}\
main{background:#fff;width:400px;max-width:100%;padding:40px;border-radius:5px;\
box-shadow:0 12px 40px rgba(0,0,0,.12);text-align:center}\
h1{font-size:24px;font-weight:400;margin:8px 0 16px}\
p{line-height:1.5;margin:0 0 16px}\
.logo{width:52px;height:52px;margin:0 auto;border-radius:50%;background:#635dff}\
form{text-align:left}\
label{display:block;font-size:12px;color:#65676e;margin:16px 0 4px}\
input{width:100%;height:52px;padding:0 16px;border:1px solid #c9cace;border-radius:3px;font-size:16px}\
input:focus{outline:none;border-color:#635dff;box-shadow:0 0 0 1px #635dff}\
button{width:100%;height:52px;margin-top:24px;border:0;border-radius:3px;background:#635dff;\
color:#fff;font-size:16px;cursor:pointer}\
button:hover{background:#4f49d6}\
.error{color:#d03c38;background:#fdf1f0;border-radius:3px;padding:12px;text-align:left}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}\
table{border-collapse:collapse;width:100%;text-align:left}\
th,td{border-bottom:1px solid #e4e5e8;padding:6px 8px;vertical-align:top}\
pre{text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f7f9;padding:12px}";

/// A whole HTML document: `title` (plain text, escaped here) in the head, and `body`, which is
/// HTML the caller built with [`escape`] around everything that is not its own.
pub(crate) fn layout(title: &str, body: &str) -> String {
    document(title, body, None)
}

fn document(title: &str, body: &str, script: Option<(&str, &str)>) -> String {
    let script = script.map_or_else(String::new, |(nonce, code)| {
        format!("<script nonce=\"{nonce}\">{code}</script>")
    });
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex,nofollow\">\
         <title>{title}</title><style>{STYLE}</style></head><body>{body}{script}</body></html>",
        title = escape(title),
    )
}

/// Who may show a page inside a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Nobody: the login page and the error pages, so no other site can overlay them
    /// (clickjacking).
    Deny,
    /// Pages of this origin only (scheme, host and port, as a CSP source): the `web_message`
    /// answer, which auth0-spa-js loads in a hidden iframe of the app's page. The answer is
    /// only posted to that origin anyway; this keeps other sites from even loading it.
    Origin(String),
}

/// An HTML page and how to serve it: `200`, not frameable, no script, unless changed.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    title: String,
    body: String,
    status: StatusCode,
    framing: Framing,
    script: Option<String>,
}

impl Page {
    /// A page titled `title` (plain text) with `body` (HTML, see [`layout`]).
    pub(crate) fn new(title: &str, body: String) -> Self {
        Self {
            title: title.to_owned(),
            body,
            status: StatusCode::OK,
            framing: Framing::Deny,
            script: None,
        }
    }

    /// Answers with `status` instead of `200`.
    #[must_use]
    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Lets pages of `origin` frame this one (see [`Framing::Origin`]).
    #[must_use]
    pub(crate) fn frameable_by(mut self, origin: String) -> Self {
        self.framing = Framing::Origin(origin);
        self
    }

    /// Runs `code` at the end of the body. It is the only script the page's Content Security
    /// Policy lets run (by a nonce drawn per response), so it must not contain `</script>`:
    /// put data in it with [`script_json`].
    #[must_use]
    pub(crate) fn script(mut self, code: String) -> Self {
        self.script = Some(code);
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let nonce = self.script.as_ref().map(|_| random_handle());
        let html = match nonce.as_deref().zip(self.script.as_deref()) {
            Some(script) => document(&self.title, &self.body, Some(script)),
            None => layout(&self.title, &self.body),
        };
        let mut response = (self.status, axum::response::Html(html)).into_response();
        let headers = response.headers_mut();
        // Pages carry one-time state (login handles, codes): never from a cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // The login page's URL holds its state handle; no page leaks its URL onwards.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.framing == Framing::Deny {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if let Ok(csp) =
            HeaderValue::from_str(&content_security_policy(&self.framing, nonce.as_deref()))
        {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        response
    }
}

/// No script but the page's own, styles inline, no plugins, no `<base>`, and who may frame it.
/// There is no `form-action`: the `form_post` answer posts to the client's callback, and a
/// login's redirects end there too.
fn content_security_policy(framing: &Framing, nonce: Option<&str>) -> String {
    let script = nonce.map_or_else(|| "'none'".to_owned(), |nonce| format!("'nonce-{nonce}'"));
    let ancestors = match framing {
        Framing::Deny => "'none'",
        Framing::Origin(origin) => origin.as_str(),
    };
    format!(
        "default-src 'none'; script-src {script}; style-src 'unsafe-inline'; \
         img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; \
         object-src 'none'; frame-ancestors {ancestors}"
    )
}

/// Auth0's error page: "Oops!, something went wrong", the error code and its description
/// (both escaped), status `400`. For requests the tenant cannot answer with a redirect, such as
/// an unknown client or an unregistered `redirect_uri`.
pub(crate) fn error_page(error: &str, description: &str) -> Response {
    let body = format!(
        "<main><div class=\"logo\"></div><h1>Oops!, something went wrong</h1>\
         <p class=\"error\" id=\"error-description\">{description}</p>\
         <p>Error code: <code id=\"error-code\">{error}</code></p></main>",
        description = escape(description),
        error = escape(error),
    );
    Page::new("Error", body)
        .status(StatusCode::BAD_REQUEST)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_text_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn script_json_keeps_a_closing_tag_as_data() {
        let hostile = Value::String("</script><script>alert(1)</script>\u{2028}&".into());
        let out = script_json(&hostile);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        assert!(!out.contains('\u{2028}'));
        // Still JSON for the same string.
        assert_eq!(serde_json::from_str::<Value>(&out).ok(), Some(hostile));
    }

    #[test]
    fn the_error_page_is_a_400_that_no_one_can_frame_or_cache() {
        let response = error_page("invalid_request", "<b>bad</b>");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let headers = response.headers();
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'none'"));
    }

    #[test]
    fn a_frameable_page_with_a_script_names_its_framer_and_nonce() {
        let response = Page::new("t", String::new())
            .frameable_by("http://localhost:3000".into())
            .script("1".into())
            .into_response();
        let headers = response.headers();
        assert!(!headers.contains_key(header::X_FRAME_OPTIONS));
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(csp.contains("frame-ancestors http://localhost:3000"));
        assert!(csp.contains("script-src 'nonce-"));
    }
}
