//! The replay store in Redis, shared by every replica: one `SET key attempt NX GET PX ms` per
//! proof, an atomic set-if-absent with expiry, so of two replicas seeing the same proof at once
//! exactly one is told it is the first. Needs Redis 7.0 or later (or Valkey), for `NX` with
//! `GET`.
//!
//! The value is a random attempt id, and `GET` returns what the key held: a command that is
//! sent again after a broken connection (which may or may not have run the first time) sees
//! its own id and still counts as the first use, so retrying never turns a proof into a
//! "replay". Each proof's command is retried once, within its deadline, when the connection
//! failed: a replica whose connection broke while it was idle answers its next request after
//! Redis is back, instead of failing it.
//!
//! Availability: every proof has a deadline ([`RedisSettings::command_timeout`]), so a dead or
//! black-holed Redis costs a request that long and is answered 503, never a hang. The
//! connection is made lazily and remade by redis's connection manager when it breaks (one
//! attempt at a time, started by the first command after a failure), so a replica starts while
//! Redis is down. The log says when Redis stops answering and when it answers again, once
//! each, not once per request.
//!
//! What Redis forgets, the replicas forget: a Redis restarted without persistence has lost the
//! proofs seen in the last `iat` window, and each of them could be replayed once. Where that
//! matters, run Redis with persistence (`appendonly yes`) or a replica that takes over.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{ReplayStoreError, ReplayStoreUnavailable};

/// The prefix of every key the store writes (then 64 hex digits of the replay key).
pub const DEFAULT_KEY_PREFIX: &str = "dpop:jti:";

/// How long one command, connecting included, may take before the request is answered 503.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// How the Redis store names its keys and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// Prepended to every key, so several APIs (or other users) can share one Redis. Default:
    /// [`DEFAULT_KEY_PREFIX`].
    pub key_prefix: String,
    /// The deadline of one command, connecting included. Default: [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }
}

/// The Redis replay store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisReplayStore {
    connection: ConnectionManager,
    settings: Arc<RedisSettings>,
    /// Whether the last command failed: the log reports only the changes.
    failing: Arc<AtomicBool>,
}

impl RedisReplayStore {
    /// A store in the Redis server at `url` (see [`ReplayStore::redis`](super::ReplayStore::redis)
    /// for the URL's form): checks the URL, sets up the connection without waiting for it, then
    /// sends one `PING` to warn early when Redis does not answer. Only an unusable URL is an
    /// error.
    pub async fn connect(url: &str, settings: RedisSettings) -> Result<Self, ReplayStoreError> {
        // The URL may hold a password: errors name what is wrong with it, never the URL.
        let client =
            redis::Client::open(url).map_err(|error| ReplayStoreError(error.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.command_timeout))
            .set_response_timeout(Some(settings.command_timeout))
            // No retry inside one attempt: the next command starts the next attempt, and each
            // command's deadline bounds what it waits for.
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| ReplayStoreError(error.to_string()))?;
        let store = Self {
            connection,
            settings: Arc::new(settings),
            failing: Arc::new(AtomicBool::new(false)),
        };
        let ping = redis::cmd("PING");
        let _ = store.run::<String>(&ping).await;
        Ok(store)
    }

    /// Records `key` for `remember_for` (at least a millisecond), as
    /// [`ReplayStore::first_use`](super::ReplayStore::first_use) says: Redis counts the time,
    /// so the replicas' clocks need not agree.
    pub async fn first_use(
        &self,
        key: &[u8; 32],
        remember_for: Duration,
    ) -> Result<bool, ReplayStoreUnavailable> {
        let mut attempt = [0; 16];
        aws_lc_rs::rand::fill(&mut attempt).map_err(|_| ReplayStoreUnavailable::Failed)?;
        self.set_once(&self.key_name(key), &hex(&attempt), remember_for)
            .await
    }

    /// `SET name attempt NX GET PX ms`: `true` when the key was absent or holds `attempt` (this
    /// same attempt, sent before), `false` when another attempt set it.
    async fn set_once(
        &self,
        name: &str,
        attempt: &str,
        remember_for: Duration,
    ) -> Result<bool, ReplayStoreUnavailable> {
        let milliseconds = u64::try_from(remember_for.as_millis()).unwrap_or(u64::MAX);
        let mut set = redis::cmd("SET");
        set.arg(name)
            .arg(attempt)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(milliseconds.max(1));
        let previous: Option<String> = self.run(&set).await?;
        Ok(previous.is_none_or(|previous| previous == attempt))
    }

    /// The prefix and the replay key in hex.
    fn key_name(&self, key: &[u8; 32]) -> String {
        format!("{}{}", self.settings.key_prefix, hex(key))
    }

    /// Sends `command` within the deadline, once more if the connection failed (the first
    /// failure starts the reconnection the second try waits for); logs when Redis stops or
    /// starts answering. Only for commands that may safely run twice.
    async fn run<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, ReplayStoreUnavailable> {
        let mut connection = self.connection.clone();
        let tries = async {
            match command.query_async(&mut connection).await {
                Err(error) if error.is_io_error() || error.is_unrecoverable_error() => {
                    command.query_async(&mut connection).await
                }
                answer => answer,
            }
        };
        let outcome = tokio::time::timeout(self.settings.command_timeout, tries).await;
        let result = match outcome {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err((ReplayStoreUnavailable::Failed, error.to_string())),
            Err(_) => Err((
                ReplayStoreUnavailable::Timeout,
                format!("no answer within {:?}", self.settings.command_timeout),
            )),
        };
        match &result {
            Ok(_) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!("the DPoP replay store (Redis) answers again");
            }
            Err((_, reason)) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(
                    ?reason,
                    "the DPoP replay store (Redis) is unavailable; DPoP requests are answered 503 until it answers"
                );
            }
            _ => {}
        }
        result.map_err(|(unavailable, _)| unavailable)
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

impl fmt::Debug for RedisReplayStore {
    /// The settings only: the connection's details may include the Redis password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ReplayStore;
    use super::super::redis_server::RedisServer;
    use super::*;

    /// How long a proof made now is remembered by default.
    const WINDOW: Duration = Duration::from_secs(330);

    async fn store(server: &RedisServer) -> RedisReplayStore {
        RedisReplayStore::connect(&server.url(), RedisSettings::default())
            .await
            .expect("store")
    }

    /// A Redis of its own, and a store in it.
    async fn started() -> (RedisServer, RedisReplayStore) {
        let server = RedisServer::start();
        let store = store(&server).await;
        (server, store)
    }

    #[tokio::test]
    async fn a_key_is_accepted_once_then_refused_as_a_replay() {
        let (_server, store) = started().await;
        assert_eq!(store.first_use(&[1; 32], WINDOW).await, Ok(true));
        assert_eq!(store.first_use(&[1; 32], WINDOW).await, Ok(false));
        assert_eq!(store.first_use(&[2; 32], WINDOW).await, Ok(true));
    }

    /// The expiry Redis was given for `key`, in milliseconds.
    async fn expiry_of(store: &RedisReplayStore, key: [u8; 32]) -> i64 {
        let name = format!("dpop:jti:{}", hex(&key));
        store
            .run(redis::cmd("PTTL").arg(&name))
            .await
            .expect("PTTL")
    }

    #[tokio::test]
    async fn the_key_is_written_with_its_prefix_and_the_rest_of_its_window() {
        let (_server, store) = started().await;
        let shared = ReplayStore::Redis(store.clone());
        let now = 1_700_000_000;
        assert_eq!(shared.first_use([0xab; 32], now + 330, now).await, Ok(true));
        let expiry = expiry_of(&store, [0xab; 32]).await;
        assert!((329_000..=330_000).contains(&expiry), "PTTL {expiry}");
        // A window already closed is still remembered for a second.
        assert_eq!(shared.first_use([0xcd; 32], now - 5, now).await, Ok(true));
        let expiry = expiry_of(&store, [0xcd; 32]).await;
        assert!((900..=1000).contains(&expiry), "PTTL {expiry}");
    }

    #[tokio::test]
    async fn an_attempt_sent_twice_is_still_the_first_use_and_another_is_a_replay() {
        let (_server, store) = started().await;
        let name = "dpop:jti:retried";
        let once = |attempt: &'static str| store.set_once(name, attempt, WINDOW);
        assert_eq!(once("attempt-1").await, Ok(true));
        assert_eq!(once("attempt-1").await, Ok(true), "the same attempt again");
        assert_eq!(once("attempt-2").await, Ok(false), "another attempt");
    }

    #[tokio::test]
    async fn two_stores_on_one_redis_share_what_they_saw() {
        let server = RedisServer::start();
        let (first, second) = (store(&server).await, store(&server).await);
        assert_eq!(first.first_use(&[3; 32], WINDOW).await, Ok(true));
        assert_eq!(second.first_use(&[3; 32], WINDOW).await, Ok(false));
    }

    #[tokio::test]
    async fn a_key_is_forgotten_when_its_time_is_up() {
        let (_server, store) = started().await;
        let brief = Duration::from_millis(200);
        assert_eq!(store.first_use(&[4; 32], brief).await, Ok(true));
        assert_eq!(store.first_use(&[4; 32], brief).await, Ok(false));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.first_use(&[4; 32], brief).await, Ok(true));
    }

    #[tokio::test]
    async fn redis_down_fails_closed_quickly_and_the_first_proof_after_is_answered() {
        let (mut server, store) = started().await;
        assert_eq!(store.first_use(&[5; 32], WINDOW).await, Ok(true));
        server.stop();
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let answer = store.first_use(&[6; 32], WINDOW).await;
            assert!(
                matches!(
                    answer,
                    Err(ReplayStoreUnavailable::Failed | ReplayStoreUnavailable::Timeout)
                ),
                "{answer:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        assert_answered_after_restart(&mut server, &store).await;
    }

    #[tokio::test]
    async fn a_store_idle_while_redis_restarted_answers_its_next_proof() {
        let (mut server, store) = started().await;
        assert_eq!(store.first_use(&[7; 32], WINDOW).await, Ok(true));
        assert_answered_after_restart(&mut server, &store).await;
    }

    /// Restarts Redis: the store's next proof is answered at once (its broken connection is
    /// remade within the proof's deadline), and remembered.
    async fn assert_answered_after_restart(server: &mut RedisServer, store: &RedisReplayStore) {
        server.restart();
        assert_eq!(store.first_use(&[8; 32], WINDOW).await, Ok(true));
        assert_eq!(store.first_use(&[8; 32], WINDOW).await, Ok(false));
    }

    #[tokio::test]
    async fn an_unusable_url_is_an_error_that_does_not_repeat_it() {
        for url in [
            "http://localhost:6379",
            "rediss://:secret-password@localhost:6379",
            "redis://:secret-password@localhost:6379/not-a-db",
        ] {
            let error = RedisReplayStore::connect(url, RedisSettings::default())
                .await
                .expect_err(url);
            assert!(!error.to_string().contains("secret-password"), "{error}");
        }
    }

    #[tokio::test]
    async fn the_debug_form_does_not_show_the_password() {
        let server = RedisServer::start();
        let url = server
            .url()
            .replace("redis://", "redis://:secret-password@");
        let store = RedisReplayStore::connect(&url, RedisSettings::default())
            .await
            .expect("store");
        assert!(!format!("{store:?}").contains("secret-password"));
    }
}
