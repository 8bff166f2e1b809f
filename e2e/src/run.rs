//! The test runner: one browser per test, the test in a task of its own (so a panic is caught
//! like an error), and on failure a screenshot and the page's HTML under `target/e2e/`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::Browser;

/// The longest a browser test may run before it fails (with its screenshot): below nextest's
/// slow-timeout for the crate, so a hung page still leaves evidence behind.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `test` with a fresh [`Browser`]. When it returns `Err`, panics or outlives
/// [`TEST_TIMEOUT`], writes `target/e2e/<name>.png` and `target/e2e/<name>.html` and panics with
/// the error, the URL the browser was at and both paths.
///
/// ```no_run
/// # async fn demo() {
/// e2e::run("example_page", |browser| async move {
///     browser.goto("http://localhost:3000/").await?;
///     browser.wait_for("h1").await?;
///     Ok(())
/// })
/// .await;
/// # }
/// ```
///
/// # Panics
/// When the browser cannot start (Chromium or chromedriver missing: the message says how to
/// install them) or the test fails.
pub async fn run<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let browser = match Browser::start().await {
        Ok(browser) => browser,
        Err(e) => panic!("{name}: the browser did not start: {e:#}"),
    };
    let task = tokio::spawn(test(browser.clone()));
    let outcome = match tokio::time::timeout(TEST_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) if join.is_panic() => Err(anyhow!("panicked: {}", panic_text(join))),
        Ok(Err(join)) => Err(anyhow!("the test task ended: {join}")),
        Err(_) => Err(anyhow!("still running after {}s", TEST_TIMEOUT.as_secs())),
    };
    match outcome {
        Ok(()) => {
            // Dropping would kill Chromium anyway; a clean quit keeps chromedriver's log quiet.
            let _ = browser.close().await;
        }
        Err(error) => {
            let evidence = save_evidence(&browser, name).await;
            panic!("{name} failed: {error:#}\n{evidence}");
        }
    }
}

/// The text of a panic's payload, when it has one.
fn panic_text(join: tokio::task::JoinError) -> String {
    let payload = join.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a non-text payload".to_owned())
}

/// Writes the screenshot and the page source; says where, or why not.
async fn save_evidence(browser: &Browser, name: &str) -> String {
    let url = browser
        .url()
        .await
        .unwrap_or_else(|e| format!("unknown ({e})"));
    let dir = artifact_dir();
    let png = dir.join(format!("{name}.png"));
    let html = dir.join(format!("{name}.html"));
    let screenshot = match browser.screenshot().await {
        Ok(bytes) => write(&png, &bytes),
        Err(e) => Err(e),
    };
    let source = match browser.source().await {
        Ok(text) => write(&html, text.as_bytes()),
        Err(e) => Err(e),
    };
    format!(
        "browser at: {url}\nscreenshot: {}\npage source: {}",
        describe(&png, screenshot),
        describe(&html, source)
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn describe(path: &Path, written: Result<()>) -> String {
    match written {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("not saved: {e:#}"),
    }
}

/// `<target dir>/e2e`: `CARGO_TARGET_DIR` when set (relative to the workspace), else the
/// workspace's `target/`.
pub fn artifact_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), |dir| workspace.join(dir));
    target.join("e2e")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_test_leaves_its_screenshot_and_page_source_behind() {
        let name = "harness_self_check_of_a_failure";
        let png = artifact_dir().join(format!("{name}.png"));
        let html = artifact_dir().join(format!("{name}.html"));
        let _ = std::fs::remove_file(&png);
        let _ = std::fs::remove_file(&html);

        let outcome = tokio::spawn(run(name, |browser| async move {
            browser
                .goto("data:text/html,<h1 id=marker>the evidence</h1>")
                .await?;
            browser.wait_for("#marker").await?;
            browser
                .wait_for_within("#absent", Duration::from_millis(300))
                .await?;
            Ok(())
        }))
        .await;

        let message = panic_text(outcome.expect_err("the failing test must fail"));
        assert!(
            message.contains("waiting for an element matching `#absent`"),
            "{message}"
        );
        assert!(message.contains(&png.display().to_string()), "{message}");
        let image = std::fs::read(&png).expect("the screenshot is written");
        assert!(image.starts_with(b"\x89PNG"), "not a PNG");
        let source = std::fs::read_to_string(&html).expect("the page source is written");
        assert!(source.contains("the evidence"), "{source}");
    }

    #[tokio::test]
    async fn a_panic_in_the_test_is_reported_as_a_failure() {
        let outcome = tokio::spawn(run("harness_self_check_of_a_panic", |_browser| async {
            panic!("deliberately");
        }))
        .await;
        let message = panic_text(outcome.expect_err("the panicking test must fail"));
        assert!(message.contains("panicked: deliberately"), "{message}");
    }
}
