//! The browser-test harness: Chromium under chromedriver, the servers a test needs on ports the
//! OS chooses, and a screenshot under `target/` when a test fails.
//!
//! A browser test is a `#[tokio::test]` that hands its body to [`run`]:
//!
//! ```no_run
//! use e2e::{Pages, Stack, run};
//!
//! # async fn demo() {
//! run("login_shows_the_universal_login_page", |browser| async move {
//!     let app = Pages::builder().start().await?;
//!     let stack = Stack::builder().app(app.origin()).start().await?;
//!     browser
//!         .goto(&format!(
//!             "{}authorize?response_type=code&client_id=spa&redirect_uri={}/callback",
//!             stack.issuer.url(),
//!             app.origin()
//!         ))
//!         .await?;
//!     browser.log_in("manager@example.com", "manager-password").await?;
//!     let hit = app.wait_for_hit(1).await?;
//!     anyhow::ensure!(hit.param("code").is_some(), "no code in {hit:?}");
//!     Ok(())
//! })
//! .await;
//! # }
//! ```
//!
//! - [`Browser`]: headless Chromium with a fresh profile; waits that name what they waited for.
//! - [`run`]: one browser per test; evidence under `target/e2e/` on failure.
//! - [`Pages`]: the test's app on `http://localhost:PORT` (files, and callback paths that record
//!   what the issuer sent).
//! - [`Stack`]: the mock tenant with the app registered, and optionally the api.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`), which
//! `cargo xtask test` installs when missing; without them every test fails saying so.

mod browser;
mod driver;
mod pages;
mod run;
mod stack;
mod wait;

pub use browser::{Browser, WINDOW_SIZE};
pub use driver::{DEFAULT_CHROMEDRIVER, DEFAULT_CHROMIUM, Tools};
pub use pages::{CALLBACK_BODY, Hit, Pages, PagesBuilder};
pub use run::{TEST_TIMEOUT, artifact_dir, run};
pub use stack::{Stack, StackBuilder};
pub use wait::{DEFAULT_TIMEOUT, poll};
