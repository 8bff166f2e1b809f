//! The soak's DPoP client (RFC 9449): one P-256 key for the run, tokens bound to it by the
//! mock's token endpoint (client credentials with a proof), a fresh ES256 proof for every
//! request (`iat` now, a random `jti`, `ath` of the token), the last accepted proof kept for
//! replaying, and what an answer to a DPoP request says beyond its status.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use mock_issuer::client::IssuerClient;
use mock_issuer::oauth::dpop::DpopKey;
use mock_issuer::oauth::{ClientCredentials, TokenResponse};
use reqwest::header::{HeaderMap, RETRY_AFTER, WWW_AUTHENTICATE};

use crate::challenge::Challenges;

/// The description of a replayed proof's refusal (CONTRACT.md §11 row 7).
const REPLAYED: &str = "DPoP proof has already been used";
/// The message of the 503 a replay store that cannot answer causes (CONTRACT.md §3 row 11).
const STORE_DOWN: &str = "DPoP proofs cannot be checked right now; try again later";

/// What an answer to a DPoP request said beyond its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refusal {
    /// Nothing this soak reads: a 200, or a request that is not DPoP.
    #[default]
    None,
    /// 401, `error="invalid_dpop_proof"` on the DPoP challenge, the replay's description.
    Replayed,
    /// 401 `invalid_dpop_proof` on the DPoP challenge for another reason.
    ProofRefused,
    /// 503 with `Retry-After` and the replay store's message: `replay_store_unavailable`.
    StoreDown,
    /// Any other refusal (a 503 without `Retry-After` or with the issuer's message among them).
    Other,
}

impl Refusal {
    /// Reads an answer of `status` with `headers` and the body `body`.
    pub fn of(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        match status {
            200 => Refusal::None,
            401 => {
                let challenges = headers
                    .get(WWW_AUTHENTICATE)
                    .and_then(|value| value.to_str().ok())
                    .and_then(Challenges::parse);
                let dpop = challenges.as_ref().and_then(|c| c.scheme("DPoP"));
                match dpop.and_then(|challenge| {
                    (challenge.error() == Some("invalid_dpop_proof"))
                        .then(|| challenge.params.get("error_description"))
                }) {
                    Some(Some(description)) if description == REPLAYED => Refusal::Replayed,
                    Some(_) => Refusal::ProofRefused,
                    None => Refusal::Other,
                }
            }
            503 => {
                let message = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|json| json.get("message")?.as_str().map(str::to_owned));
                if headers.contains_key(RETRY_AFTER) && message.as_deref() == Some(STORE_DOWN) {
                    Refusal::StoreDown
                } else {
                    Refusal::Other
                }
            }
            _ => Refusal::Other,
        }
    }

    /// A short name for failure examples.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::None => "",
            Refusal::Replayed => " (replayed proof)",
            Refusal::ProofRefused => " (proof refused)",
            Refusal::StoreDown => " (replay store unavailable)",
            Refusal::Other => " (other refusal)",
        }
    }
}

/// The run's DPoP key and where its tokens come from. `Debug` shows the key's thumbprint only.
#[derive(Debug)]
pub struct DpopClient {
    key: DpopKey,
    /// The issuer's token endpoint, which the token requests' proofs name.
    token_endpoint: String,
    http: reqwest::Client,
}

impl DpopClient {
    /// A new key, for the token endpoint of `issuer`.
    ///
    /// # Errors
    /// No key could be generated, or no HTTP client built.
    pub fn new(issuer: &IssuerClient) -> Result<Self> {
        Ok(DpopClient {
            key: DpopKey::generate()?,
            token_endpoint: issuer.base().join("oauth/token")?.to_string(),
            http: super::traffic::client(Duration::from_secs(10))?,
        })
    }

    /// A token bound to the run's key: `client`'s client-credentials request with a proof.
    ///
    /// # Errors
    /// Transport, a refusal, or a token that is not DPoP-bound.
    pub async fn bound_token(&self, client: &ClientCredentials) -> Result<String> {
        let proof = self.key.proof("POST", &self.token_endpoint, None)?;
        let response = self
            .http
            .post(&self.token_endpoint)
            .header("DPoP", proof)
            .form(client)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!("the token endpoint refused a DPoP token request: {status}");
        }
        let token: TokenResponse = response.json().await.context("a DPoP token response")?;
        if token.token_type != "DPoP" {
            bail!(
                "the token endpoint answered a {} token to a request with a proof",
                token.token_type
            );
        }
        Ok(token.access_token.into_inner())
    }

    /// A fresh proof for `GET url` with `token`; `None` if signing failed (the request then
    /// goes without one, and its refusal counts against the driver's own run).
    pub fn proof(&self, url: &str, token: &str) -> Option<String> {
        self.key.proof("GET", url, Some(token)).ok()
    }
}

/// A DPoP request the api accepted: what is sent again to replay it.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The path it was sent to (a proof names its URL).
    pub path: &'static str,
    /// Its token.
    pub token: String,
    /// Its proof.
    pub proof: String,
    /// The registry index of its token's key.
    pub key: usize,
    /// When it was first sent, in microseconds since the run's origin.
    pub sent_us: u64,
}

/// The last DPoP request the api accepted, for the load's replays.
#[derive(Debug, Default)]
pub struct Replayable(Mutex<Option<Accepted>>);

impl Replayable {
    /// Keeps `accepted` for replaying, in place of the one before.
    pub fn remember(&self, accepted: Accepted) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(accepted);
    }

    /// The request to replay, if one was accepted since the last [`Replayable::forget`].
    pub fn get(&self) -> Option<Accepted> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the kept request: the replay store that accepted it is about to be lost.
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(reqwest::header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn a_replay_is_told_apart_from_other_proof_refusals() {
        let replayed = headers(&[(
            WWW_AUTHENTICATE,
            r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof has already been used", algs="ES256", Bearer realm="api""#,
        )]);
        let other = headers(&[(
            WWW_AUTHENTICATE,
            r#"DPoP error="invalid_dpop_proof", error_description="DPoP proof htu mismatch", algs="ES256", Bearer realm="api""#,
        )]);
        let on_bearer = headers(&[(
            WWW_AUTHENTICATE,
            r#"Bearer realm="api", error="invalid_token", DPoP algs="ES256""#,
        )]);

        assert_eq!(Refusal::of(401, &replayed, b""), Refusal::Replayed);
        assert_eq!(Refusal::of(401, &other, b""), Refusal::ProofRefused);
        assert_eq!(Refusal::of(401, &on_bearer, b""), Refusal::Other);
    }

    #[test]
    fn only_a_503_with_retry_after_and_the_stores_message_is_the_store_down() {
        let body = br#"{"message":"DPoP proofs cannot be checked right now; try again later"}"#;
        let issuer = br#"{"message":"The authorization server is unavailable; try again later"}"#;
        let retry = headers(&[(RETRY_AFTER, "1")]);

        assert_eq!(Refusal::of(503, &retry, body), Refusal::StoreDown);
        assert_eq!(Refusal::of(503, &HeaderMap::new(), body), Refusal::Other);
        assert_eq!(Refusal::of(503, &retry, issuer), Refusal::Other);
        assert_eq!(Refusal::of(500, &retry, body), Refusal::Other);
    }
}
