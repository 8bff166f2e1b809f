//! Two api processes sharing one real Redis: a proof used on one replica is refused on the other;
//! Redis down is answered as documented.
//!
//! Both replicas are the real binary behind an imagined load balancer: one issuer, one
//! `PUBLIC_URL` (the origin every proof's `htu` names), one `DPOP_REPLAY_STORE=redis://…`.
//! Tokens are bound to an ES256 key (`cnf.jkt`) and the proofs are signed with it here.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::dpop_proof::ProofKey;
use crate::helpers::{AUDIENCE, TestIssuer, now, start_api_binary};

/// The same test harness the replay store's unit tests use: test support, so it is not part
/// of the library, and one copy serves both.
#[path = "../../src/auth/dpop_replay/redis_server.rs"]
mod redis_server;

use redis_server::RedisServer;

/// The origin clients reach both replicas at.
const PUBLIC_URL: &str = "https://api.example.com";
const PRIVATE: &str = "/api/private";

#[tokio::test]
async fn a_proof_used_on_one_replica_is_refused_on_the_other_and_redis_down_is_a_503() {
    let mut redis = RedisServer::start();
    let issuer = TestIssuer::start().await;
    let first = Replica::start(&issuer, &redis);
    let second = Replica::start(&issuer, &redis);
    let key = ProofKey::new("ES256");
    let token = issuer.token_with(json!({"cnf": {"jkt": key.thumbprint()}}));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let proof = fresh_proof(&key, &token);
    assert_eq!(first.dpop(&client, &token, &proof).await.status(), 200);
    assert_replay_refused(second.dpop(&client, &token, &proof).await);
    assert_replay_refused(first.dpop(&client, &token, &proof).await);
    let proof = fresh_proof(&key, &token);
    assert_eq!(second.dpop(&client, &token, &proof).await.status(), 200);
    assert_replay_refused(first.dpop(&client, &token, &proof).await);

    redis.stop();
    let started = Instant::now();
    let proof = fresh_proof(&key, &token);
    let answer = first.dpop(&client, &token, &proof).await;
    assert_eq!(answer.status(), 503, "a fresh proof while Redis is down");
    assert!(
        answer.headers().contains_key("retry-after"),
        "{:?}",
        answer.headers()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a dead Redis is a quick 503, not a hang: {:?}",
        started.elapsed()
    );
    let bearer = issuer.token();
    for replica in [&first, &second] {
        let answer = replica.bearer(&client, &bearer).await;
        assert_eq!(answer.status(), 200, "a bearer request does not need Redis");
    }

    // Both replicas' connections broke; each answers its first proof once Redis is back.
    redis.restart();
    let proof = fresh_proof(&key, &token);
    assert_eq!(first.dpop(&client, &token, &proof).await.status(), 200);
    assert_replay_refused(second.dpop(&client, &token, &proof).await);
    let proof = fresh_proof(&key, &token);
    assert_eq!(second.dpop(&client, &token, &proof).await.status(), 200);
}

/// A new proof (fresh `jti`, `iat` now) for a GET of the private route at the public URL.
fn fresh_proof(key: &ProofKey, token: &str) -> String {
    let iat = u64::try_from(now()).expect("a clock after 1970");
    key.proof("GET", &format!("{PUBLIC_URL}{PRIVATE}"), token, iat)
}

fn assert_replay_refused(answer: reqwest::Response) {
    assert_eq!(answer.status(), 401, "a replayed proof");
    let challenge = answer
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains("DPoP") && challenge.contains(r#"error="invalid_dpop_proof""#),
        "{challenge}"
    );
}

/// One api process, killed when dropped.
struct Replica {
    process: Child,
    address: String,
}

impl Replica {
    fn start(issuer: &TestIssuer, redis: &RedisServer) -> Self {
        let (process, address) = start_api_binary(
            &[
                ("ISSUER_BASE_URL", &issuer.url()),
                ("AUDIENCE", AUDIENCE),
                ("PORT", "0"),
                ("PUBLIC_URL", PUBLIC_URL),
                ("DPOP_REPLAY_STORE", &redis.url()),
            ],
            Stdio::null(),
        );
        Self { process, address }
    }

    async fn dpop(&self, client: &reqwest::Client, token: &str, proof: &str) -> reqwest::Response {
        client
            .get(format!("{}{PRIVATE}", self.address))
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .send()
            .await
            .expect("an answer")
    }

    async fn bearer(&self, client: &reqwest::Client, token: &str) -> reqwest::Response {
        client
            .get(format!("{}{PRIVATE}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("an answer")
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
