//! The login page's HTML: Auth0's New Universal Login, identifier and password on one page,
//! with the element ids and names that browser tests written for a real tenant look for.

use axum::http::StatusCode;

use crate::routes::page::{Page, escape};

/// What the page shows.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoginForm<'a> {
    /// The pending login's handle, posted back in a hidden field.
    pub login_state: &'a str,
    /// The tenant, as the user knows it (the issuer's host).
    pub tenant: &'a str,
    /// The application asking for the login.
    pub client_id: &'a str,
    /// Prefills the email field (`login_hint`, or what was typed before a wrong password).
    pub username: &'a str,
    /// Shows "Wrong email or password." and answers `400`.
    pub wrong_credentials: bool,
}

impl LoginForm<'_> {
    /// The page, as a response.
    pub(super) fn page(&self) -> Page {
        let state = escape(self.login_state);
        let error = if self.wrong_credentials {
            "<p class=\"error\" id=\"error-element-password\" role=\"alert\">\
             Wrong email or password.</p>"
        } else {
            ""
        };
        let body = format!(
            "<main><div class=\"logo\"></div><h1>Welcome</h1>\
             <p>Log in to {tenant} to continue to {client}.</p>{error}\
             <form method=\"post\" action=\"/u/login?state={state}\" novalidate>\
             <input type=\"hidden\" name=\"state\" value=\"{state}\">\
             <label for=\"username\">Email address</label>\
             <input id=\"username\" name=\"username\" type=\"text\" inputmode=\"email\" \
             autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" autofocus \
             value=\"{username}\">\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\">\
             <button type=\"submit\" name=\"action\" value=\"default\">Continue</button>\
             </form></main>",
            tenant = escape(self.tenant),
            client = escape(self.client_id),
            username = escape(self.username),
        );
        let status = if self.wrong_credentials {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Page::new("Log in", body).status(status)
    }
}
