//! `Pages`: the test's own web app on `http://localhost:PORT`, serving the files it is given and
//! recording every request to its callback paths (query and `form_post` bodies alike), so a
//! test can read what the issuer sent back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::wait::{DEFAULT_TIMEOUT, poll};

/// What a callback path answers: plain text, so nothing the issuer sent can run in the page.
pub const CALLBACK_BODY: &str = "callback received";

/// One request to a callback path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// `GET` or `POST` (`form_post`).
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// The raw body (`form_post` fields), empty for a `GET`.
    pub body: String,
}

impl Hit {
    /// The parameter `name` from the query or, for a `POST`, the form body (first occurrence).
    pub fn param(&self, name: &str) -> Option<String> {
        let source = if self.method == Method::POST {
            &self.body
        } else {
            &self.query
        };
        url::form_urlencoded::parse(source.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// Builds a [`Pages`] server: files by path, and the paths that record hits.
#[derive(Debug, Default)]
pub struct PagesBuilder {
    files: HashMap<String, (&'static str, Bytes)>,
    callbacks: Vec<String>,
}

impl PagesBuilder {
    /// Serves `body` at `path` (e.g. `/index.html`) with `content_type`.
    #[must_use]
    pub fn file(mut self, path: &str, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.files
            .insert(path.to_owned(), (content_type, body.into()));
        self
    }

    /// Serves the file at `source` (read now) at `path`, its content type taken from its
    /// extension (`.html`, `.js`, `.css`; anything else as `application/octet-stream`).
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn file_from(self, path: &str, source: &Path) -> Result<Self> {
        let body =
            std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
        Ok(self.file(path, content_type(source), body))
    }

    /// Records every request to `path` (any method) as a [`Hit`] and answers
    /// [`CALLBACK_BODY`]. With no callback path given, `/callback` is one.
    #[must_use]
    pub fn callback(mut self, path: &str) -> Self {
        self.callbacks.push(path.to_owned());
        self
    }

    /// Binds `127.0.0.1:0` and serves until the [`Pages`] is dropped.
    ///
    /// # Errors
    /// Binding fails.
    pub async fn start(mut self) -> Result<Pages> {
        if self.callbacks.is_empty() {
            self.callbacks.push("/callback".to_owned());
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the test app's port")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Served {
            files: Mutex::new(self.files),
            callbacks: self.callbacks,
            hits: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(serve).with_state(Arc::clone(&state));
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stop = async {
                let _ = on_shutdown.await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        });
        Ok(Pages {
            origin: format!("http://localhost:{port}"),
            state,
            _shutdown: shutdown,
        })
    }
}

/// The test's web app: see the module docs. Dropping it stops the server.
#[derive(Debug)]
pub struct Pages {
    origin: String,
    state: Arc<Served>,
    _shutdown: oneshot::Sender<()>,
}

#[derive(Debug)]
struct Served {
    files: Mutex<HashMap<String, (&'static str, Bytes)>>,
    callbacks: Vec<String>,
    hits: Mutex<Vec<Hit>>,
}

impl Pages {
    /// A builder with no file and no callback path yet.
    pub fn builder() -> PagesBuilder {
        PagesBuilder::default()
    }

    /// `http://localhost:PORT`: `localhost`, so that an issuer on `127.0.0.1` is another site,
    /// as a real tenant is to an app.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `origin()` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Serves `body` at `path` from now on, replacing what was there: for what is known only
    /// once the other servers run, such as a page's configuration naming the issuer's port.
    pub fn put(&self, path: &str, content_type: &'static str, body: impl Into<Bytes>) {
        self.state
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), (content_type, body.into()));
    }

    /// Every callback hit so far, oldest first.
    pub fn hits(&self) -> Vec<Hit> {
        self.state
            .hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits up to 10 s for the `n`th callback hit (counting from 1) and returns it.
    ///
    /// # Errors
    /// Fewer than `n` hits arrived in time.
    pub async fn wait_for_hit(&self, n: usize) -> Result<Hit> {
        self.wait_for_hit_within(n, DEFAULT_TIMEOUT).await
    }

    /// [`Pages::wait_for_hit`] with another timeout.
    ///
    /// # Errors
    /// As [`Pages::wait_for_hit`].
    pub async fn wait_for_hit_within(&self, n: usize, timeout: Duration) -> Result<Hit> {
        poll(timeout, || async { Ok(self.hits().get(n - 1).cloned()) })
            .await
            .with_context(|| format!("waiting for callback hit number {n} at {}", self.origin))
    }
}

async fn serve(State(state): State<Arc<Served>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if state.callbacks.contains(&path) {
        let method = request.method().clone();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        state
            .hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Hit {
                method,
                path,
                query,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        return ([(header::CONTENT_TYPE, "text/plain")], CALLBACK_BODY).into_response();
    }
    let file = state
        .files
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&path)
        .cloned();
    match file {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run;

    /// A page that posts a form to the callback path on load, as a `form_post` answer does.
    const FORM_POST: &str = r#"<!doctype html>
<form method="post" action="/callback">
  <input type="hidden" name="code" value="a&b c">
  <input type="hidden" name="state" value="xyz">
</form>
<script>document.forms[0].submit();</script>"#;

    #[tokio::test]
    async fn callbacks_record_query_and_form_post_parameters() {
        run("harness_self_check_of_callbacks", |browser| async move {
            let pages = Pages::builder()
                .file("/post.html", "text/html", FORM_POST)
                .start()
                .await?;
            browser
                .goto(&pages.url("/callback?code=first&state=s1"))
                .await?;
            let get = pages.wait_for_hit(1).await?;
            anyhow::ensure!(get.method == Method::GET && get.path == "/callback");
            anyhow::ensure!(get.param("code").as_deref() == Some("first"), "{get:?}");

            browser.goto(&pages.url("/post.html")).await?;
            let post = pages.wait_for_hit(2).await?;
            anyhow::ensure!(post.method == Method::POST, "{post:?}");
            anyhow::ensure!(post.param("code").as_deref() == Some("a&b c"), "{post:?}");
            anyhow::ensure!(post.param("state").as_deref() == Some("xyz"), "{post:?}");
            anyhow::ensure!(browser.text("body").await? == CALLBACK_BODY);

            pages.put("/late.js", "text/javascript", "window.late = 1;");
            browser.goto(&pages.url("/late.js")).await?;
            anyhow::ensure!(browser.text("body").await?.contains("window.late"));
            Ok(())
        })
        .await;
    }
}
