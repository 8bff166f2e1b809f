//! The quickstart's single-page app, served for `cargo xtask dev` and the browser tests.
//!
//! Plain HTML, CSS and JavaScript from `demo/`, compiled in: no npm, no build step, no CDN. The
//! page logs a user in through a tenant (this mock or a real Auth0 one) with the authorization
//! code flow and PKCE, and calls the API's three routes with the access token; `demo/app.js`
//! says how. Its settings ([`DemoApp`]) reach the page as a JSON block that is data, not script,
//! and a strict Content Security Policy lets the page run only `/app.js` and talk only to itself,
//! the tenant and the API.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use url::Url;

use crate::Error;
use crate::config::defaults;
use crate::routes::page::script_json;

/// The page, with [`CONFIG_SLOT`] where its settings go.
const INDEX_HTML: &str = include_str!("../demo/index.html");
/// Everything the page does.
const APP_JS: &str = include_str!("../demo/app.js");
/// How it looks.
const APP_CSS: &str = include_str!("../demo/app.css");
/// Replaced in [`INDEX_HTML`] by the settings' JSON.
const CONFIG_SLOT: &str = "{{config}}";

/// The scopes the app asks for: an ID token with the user's profile and email, and the scope
/// `/api/private-scoped` requires (granted only to users whose roles give it).
pub const DEFAULT_SCOPE: &str = "openid profile email read:messages";

/// The app's settings: where users log in and which API it calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoApp {
    /// The tenant's issuer URL, `http(s)://HOST[:PORT]/` (a trailing slash is added if missing):
    /// the ID token's `iss`, and the base of `/authorize`, `/oauth/token` and `/v2/logout`.
    /// Default `http://127.0.0.1:4000/`, where `mock-issuer serve` listens.
    pub issuer: String,
    /// The application's client id: a single-page app (public, PKCE) whose Allowed Callback
    /// URLs, Web Origins and Logout URLs include the origin the app is served on. Default `spa`.
    pub client_id: String,
    /// The API the access token is for. Default `https://quickstarts/api`.
    pub audience: String,
    /// The API's base URL, without a trailing slash (one is removed). Default
    /// `http://127.0.0.1:3010`, where the api listens.
    pub api_url: String,
    /// The scopes asked for, space-separated. Default [`DEFAULT_SCOPE`].
    pub scope: String,
}

impl Default for DemoApp {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:4000/".to_owned(),
            client_id: defaults::SPA_CLIENT_ID.to_owned(),
            audience: defaults::API_AUDIENCE.to_owned(),
            api_url: "http://127.0.0.1:3010".to_owned(),
            scope: DEFAULT_SCOPE.to_owned(),
        }
    }
}

impl DemoApp {
    /// Checks the settings [`DemoApp::router`] and [`serve`] refuse, for a caller that wants to
    /// know before it serves on another thread.
    ///
    /// # Errors
    /// As [`DemoApp::router`].
    pub fn check(&self) -> Result<(), Error> {
        Site::new(self).map(drop)
    }

    /// The app's routes: `GET /` (the page), `/app.js` and `/app.css`.
    ///
    /// # Errors
    /// [`Error::Config`] when `issuer` or `api_url` is not an `http` or `https` URL.
    pub fn router(&self) -> Result<Router, Error> {
        let site = Arc::new(Site::new(self)?);
        Ok(Router::new()
            .route("/", get(index))
            .route("/app.js", get(script))
            .route("/app.css", get(style))
            .with_state(site))
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
///
/// # Errors
/// An invalid setting (see [`DemoApp::router`]), or an I/O error from the listener.
pub async fn serve(
    listener: TcpListener,
    app: DemoApp,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let router = app.router()?;
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// What every answer is built from, computed once.
#[derive(Debug)]
struct Site {
    /// The page with its settings in.
    index: String,
    /// The page's Content Security Policy.
    policy: HeaderValue,
}

impl Site {
    fn new(app: &DemoApp) -> Result<Self, Error> {
        let issuer = web_url("issuer", &app.issuer)?;
        let api = web_url("api_url", &app.api_url)?;
        let issuer_url = issuer.as_str();
        let issuer_url = if issuer_url.ends_with('/') {
            issuer_url.to_owned()
        } else {
            format!("{issuer_url}/")
        };
        let settings = json!({
            "issuer": issuer_url,
            "clientId": app.client_id,
            "audience": app.audience,
            "apiUrl": app.api_url.trim_end_matches('/'),
            "scope": app.scope,
        });
        let policy = content_security_policy(
            &issuer.origin().ascii_serialization(),
            &api.origin().ascii_serialization(),
        );
        Ok(Self {
            index: INDEX_HTML.replacen(CONFIG_SLOT, &script_json(&settings), 1),
            policy: HeaderValue::from_str(&policy)
                .map_err(|e| Error::Config(format!("demo app policy: {e}")))?,
        })
    }
}

/// `value` parsed as an `http` or `https` URL, or an error naming `setting`.
fn web_url(setting: &str, value: &str) -> Result<Url, Error> {
    let invalid = |why: &str| Error::Config(format!("demo app {setting} {value:?}: {why}"));
    let url = Url::parse(value).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("not an http or https URL"));
    }
    Ok(url)
}

/// Only this origin's script and styles; fetch to itself, the tenant and the API; frames (the
/// silent-authentication iframe) from the tenant only; nobody may frame the app.
fn content_security_policy(issuer_origin: &str, api_origin: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self' {issuer_origin} {api_origin}; frame-src {issuer_origin}; \
         base-uri 'none'; object-src 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

async fn index(State(site): State<Arc<Site>>) -> Response {
    let mut response = asset("text/html; charset=utf-8", site.index.clone());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, site.policy.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The page's URL briefly holds an authorization code: never sent onwards.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS.to_owned())
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", APP_CSS.to_owned())
}

/// `body` as `content_type`, revalidated on every load (the settings change between runs on
/// the same port), never sniffed as anything else.
fn asset(content_type: &'static str, body: String) -> Response {
    let headers: [(HeaderName, HeaderValue); 3] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The JSON between the config element's tags.
    fn settings_of(page: &str) -> Value {
        let open = r#"<script type="application/json" id="config">"#;
        let start = page.find(open).expect("the config element") + open.len();
        let end = start + page[start..].find("</script>").expect("its end");
        serde_json::from_str(&page[start..end]).expect("JSON")
    }

    /// The site for `issuer` and `api_url`, the other settings left at their defaults.
    fn site_for(issuer: &str, api_url: &str) -> Result<Site, Error> {
        Site::new(&DemoApp {
            issuer: issuer.to_owned(),
            api_url: api_url.to_owned(),
            ..DemoApp::default()
        })
    }

    #[test]
    fn the_page_carries_the_settings_normalised() {
        let site = site_for("http://127.0.0.1:4000", "http://127.0.0.1:3010/").expect("valid");

        assert_eq!(
            settings_of(&site.index),
            json!({
                "issuer": "http://127.0.0.1:4000/",
                "clientId": "spa",
                "audience": "https://quickstarts/api",
                "apiUrl": "http://127.0.0.1:3010",
                "scope": "openid profile email read:messages",
            })
        );
        assert!(!site.index.contains(CONFIG_SLOT));
    }

    #[test]
    fn a_hostile_setting_stays_data_inside_the_config_element() {
        let hostile = "</script><script>alert(1)</script><!--";
        let app = DemoApp {
            client_id: hostile.to_owned(),
            ..DemoApp::default()
        };
        let site = Site::new(&app).expect("valid");

        // One closing tag for the config element, one for app.js's element: none added.
        assert_eq!(
            site.index.matches("</script>").count(),
            INDEX_HTML.matches("</script>").count()
        );
        assert_eq!(settings_of(&site.index)["clientId"], hostile);
    }

    #[test]
    fn the_policy_names_the_tenant_and_the_api_and_nothing_inline() {
        let site = site_for("https://tenant.eu.auth0.com/", "http://localhost:3010/base");
        let policy = site.expect("valid").policy;
        let policy = policy.to_str().expect("ASCII");

        assert!(
            policy
                .contains("connect-src 'self' https://tenant.eu.auth0.com http://localhost:3010;")
        );
        assert!(policy.contains("frame-src https://tenant.eu.auth0.com;"));
        assert!(policy.contains("script-src 'self';"));
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn urls_that_are_not_http_are_refused_by_name() {
        let bare_domain = site_for("tenant.auth0.com", "http://127.0.0.1:3010");
        let script_url = site_for("http://127.0.0.1:4000/", "javascript:alert(1)");

        assert!(matches!(bare_domain, Err(Error::Config(m)) if m.contains("issuer")));
        assert!(matches!(script_url, Err(Error::Config(m)) if m.contains("api_url")));
    }
}
