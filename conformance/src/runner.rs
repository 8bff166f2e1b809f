//! Sending cases to a target and judging the answers.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::catalogue::{Case, Challenge, Origin, Placement};
use crate::challenge::BearerChallenge;
use crate::forge::Forge;

/// What a server answered to one case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header, verbatim.
    pub challenge: Option<String>,
    /// The body, parsed as JSON if it is JSON.
    pub body: Option<Value>,
    /// Why the exchange failed, when it did (connection refused, timeout…).
    pub transport_error: Option<String>,
}

/// A case's verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The case.
    pub case: Case,
    /// What came back.
    pub outcome: Outcome,
    /// `None` when the answer is what the case expects, else why not.
    pub failure: Option<String>,
}

impl Verdict {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Sends every case to `target` (e.g. `http://127.0.0.1:3010`) and judges the answers.
pub async fn run(target: &str, forge: &Forge<'_>, cases: &[Case]) -> Report {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a plain HTTP client builds");
    let mut verdicts = Vec::with_capacity(cases.len());
    for case in cases {
        let outcome = send(&client, target, forge, case).await;
        let failure = judge(case, &outcome);
        verdicts.push(Verdict {
            case: case.clone(),
            outcome,
            failure,
        });
    }
    Report { verdicts }
}

/// Sends one case.
pub async fn send(
    client: &reqwest::Client,
    target: &str,
    forge: &Forge<'_>,
    case: &Case,
) -> Outcome {
    let token = forge.token(&case.recipe);
    let url = format!("{}{}", target.trim_end_matches('/'), case.route.path());
    let bearer = format!("Bearer {token}");
    let request = match &case.placement {
        Placement::Nowhere => client.get(&url),
        Placement::Bearer => client.get(&url).header("authorization", &bearer),
        Placement::Header(template) => client
            .get(&url)
            .header("authorization", template.replace("{token}", &token)),
        Placement::TwoHeaders => client
            .get(&url)
            .header("authorization", &bearer)
            .header("authorization", &bearer),
        // Tokens are base64url and dots: nothing in them needs percent-encoding.
        Placement::Query => client.get(format!("{url}?access_token={token}")),
        Placement::HeaderAndQuery => client
            .get(format!("{url}?access_token={token}"))
            .header("authorization", &bearer),
    };
    exchange(request).await
}

/// Sends a request and records the answer.
pub async fn exchange(request: reqwest::RequestBuilder) -> Outcome {
    match request.send().await {
        Err(error) => Outcome {
            status: 0,
            challenge: None,
            body: None,
            transport_error: Some(error.without_url().to_string()),
        },
        Ok(response) => {
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            let body = response
                .bytes()
                .await
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok());
            Outcome {
                status,
                challenge,
                body,
                transport_error: None,
            }
        }
    }
}

/// Compares an outcome with a case's expectation: status, challenge error and scope, body shape.
pub fn judge(case: &Case, outcome: &Outcome) -> Option<String> {
    if let Some(error) = &outcome.transport_error {
        return Some(format!("no answer: {error}"));
    }
    let expect = &case.expect;
    if outcome.status != expect.status {
        return Some(format!(
            "status {} instead of {}",
            outcome.status, expect.status
        ));
    }
    let parsed = outcome.challenge.as_deref().map(BearerChallenge::parse);
    match (&expect.challenge, parsed) {
        (Challenge::Absent, None) => {}
        (Challenge::Absent, Some(_)) => return Some("unexpected WWW-Authenticate".into()),
        (_, None) => return Some("no WWW-Authenticate challenge".into()),
        (_, Some(None)) => return Some("WWW-Authenticate is not a Bearer challenge".into()),
        (Challenge::Bare, Some(Some(challenge))) => {
            if let Some(error) = challenge.error() {
                return Some(format!("challenge has error=\"{error}\", expected none"));
            }
        }
        (Challenge::Error(code), Some(Some(challenge))) => {
            if challenge.error() != Some(code) {
                return Some(format!(
                    "challenge error {:?} instead of {code:?}",
                    challenge.error()
                ));
            }
        }
        (Challenge::InsufficientScope(scope), Some(Some(challenge))) => {
            if challenge.error() != Some("insufficient_scope") {
                return Some(format!(
                    "challenge error {:?} instead of \"insufficient_scope\"",
                    challenge.error()
                ));
            }
            if challenge.scope() != Some(scope) {
                return Some(format!(
                    "challenge scope {:?} instead of {scope:?}",
                    challenge.scope()
                ));
            }
        }
    }
    let message = outcome
        .body
        .as_ref()
        .and_then(|body| body.get("message"))
        .and_then(Value::as_str);
    if expect.status == 200 {
        if message != Some(case.route.message()) {
            return Some("body is not the route's message".into());
        }
    } else if message.is_none() {
        return Some("error body is not {\"message\": \"…\"}".into());
    }
    None
}

/// The verdicts of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per case, in catalogue order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// Cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|verdict| !verdict.passed())
    }

    /// Names of the failed cases.
    pub fn failed_names(&self) -> Vec<&str> {
        self.failures()
            .map(|verdict| verdict.case.name.as_str())
            .collect()
    }

    /// Whether a reference-contract case failed (or, with `strict`, any case).
    pub fn is_failure(&self, strict: bool) -> bool {
        self.failures()
            .any(|verdict| strict || verdict.case.origin == Origin::Reference)
    }

    /// The table: case, rule, expected, actual, pass; then `N passed, M failed`.
    pub fn table(&self) -> String {
        let width = self
            .verdicts
            .iter()
            .map(|v| v.case.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:<9}  {:<36}  {:<36}  result",
            "case", "rule", "expected", "actual"
        );
        for verdict in &self.verdicts {
            let origin = match verdict.case.origin {
                Origin::Reference => "reference",
                Origin::Project => "project",
            };
            let result = match &verdict.failure {
                None => "pass".to_owned(),
                Some(why) => format!("FAIL: {why}"),
            };
            let _ = writeln!(
                out,
                "{:<width$}  {origin:<9}  {:<36}  {:<36}  {result}",
                verdict.case.name,
                verdict.case.expect.describe(),
                describe_outcome(&verdict.outcome),
            );
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// `N passed, M failed`.
    pub fn summary(&self) -> String {
        let failed = self.failures().count();
        format!("{} passed, {failed} failed", self.verdicts.len() - failed)
    }
}

/// `401 invalid_token`, `403 insufficient_scope read:messages`, `200`…
pub fn describe_outcome(outcome: &Outcome) -> String {
    if outcome.transport_error.is_some() {
        return "no answer".into();
    }
    match outcome
        .challenge
        .as_deref()
        .and_then(BearerChallenge::parse)
    {
        None if outcome.challenge.is_some() => format!("{} (unparsable challenge)", outcome.status),
        None => outcome.status.to_string(),
        Some(challenge) => match (challenge.error(), challenge.scope()) {
            (None, _) => format!("{} bare", outcome.status),
            (Some(error), None) => format!("{} {error}", outcome.status),
            (Some(error), Some(scope)) => format!("{} {error} {scope}", outcome.status),
        },
    }
}
