//! Polling with a deadline: the one way the harness waits for a browser or a server to reach a
//! state, instead of sleeping for a guessed time.

use std::future::Future;
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::time::{Instant, sleep};

/// How long a wait lasts unless told otherwise: long enough for a slow shared machine, short
/// enough that a broken page fails the test well before nextest's limit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a condition is checked.
const PERIOD: Duration = Duration::from_millis(100);

/// Calls `check` every 100 ms until it gives `Some`, and returns that, or fails after `timeout`
/// with "timed out after Ns". An `Err` from `check` ends the wait at once.
///
/// # Errors
/// `check` failed, or gave `None` until the deadline.
pub async fn poll<T, F, Fut>(timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {}s", timeout.as_secs_f32());
        }
        sleep(PERIOD).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn polling_returns_the_first_value_and_times_out_without_one() {
        let calls = AtomicU32::new(0);
        let third = poll(Duration::from_secs(5), || async {
            Ok((calls.fetch_add(1, Ordering::Relaxed) == 2).then_some("third"))
        })
        .await;
        assert_eq!(third.unwrap(), "third");

        let never = poll(Duration::from_millis(250), || async { Ok(None::<()>) }).await;
        assert!(
            never
                .unwrap_err()
                .to_string()
                .starts_with("timed out after")
        );
    }
}
