//! Sending cases to a target and judging the answers.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::catalogue::{
    Case, Challenge, DpopRequest, Origin, Placement, ProofHeaders, Route, nonce_probe,
};
use crate::challenge::Challenges;
use crate::forge::Forge;
use crate::metadata::{self, MetadataReport};
use crate::proof::ProofRequest;

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
    /// For a replayed DPoP proof, the status its first use got (which must be 200 for the
    /// refusal of the second to mean anything).
    pub first_use: Option<u16>,
    /// The `DPoP-Nonce` header: the nonce the server wants in the next proof (RFC 9449 §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_nonce: Option<String>,
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

/// Sends every case to `target` (e.g. `http://127.0.0.1:3010`) and judges the answers; then
/// checks its Protected Resource Metadata ([`metadata::probe`]), if it serves any.
pub async fn run(target: &str, forge: &Forge<'_>, cases: &[Case]) -> Report {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a plain HTTP client builds");
    let dpop_advertised = advertises_dpop(&client, target).await;
    let mut nonce = match dpop_advertised {
        true => learn_nonce(&client, target, forge).await,
        false => None,
    };
    let nonces_required = nonce.is_some();
    let mut verdicts = Vec::with_capacity(cases.len());
    let mut not_applicable = 0;
    for case in cases {
        if case.needs_nonces() && !nonces_required {
            not_applicable += 1;
            continue;
        }
        let outcome = send(&client, target, forge, case, nonce.as_deref()).await;
        // As a client does: the next proof carries the nonce the server last handed out.
        if let Some(next) = &outcome.dpop_nonce {
            nonce = Some(next.clone());
        }
        let failure = judge(case, &outcome);
        verdicts.push(Verdict {
            case: case.clone(),
            outcome,
            failure,
        });
    }
    Report {
        verdicts,
        dpop_advertised,
        nonces_required,
        not_applicable,
        metadata: metadata::probe(&client, target, forge).await,
    }
}

/// The nonce `target` hands out, if it requires one: a valid DPoP request whose proof has no
/// nonce ([`nonce_probe`]) answered 401 `use_dpop_nonce` with a `DPoP-Nonce` header. `None`
/// when it is answered otherwise (served: the target asks for no nonce).
pub async fn learn_nonce(
    client: &reqwest::Client,
    target: &str,
    forge: &Forge<'_>,
) -> Option<String> {
    let (recipe, request) = nonce_probe();
    let url = format!("{}{}", target.trim_end_matches('/'), Route::Private.path());
    let outcome = send_dpop(client, &url, forge, &forge.token(&recipe), &request, None).await;
    let asks_for_nonce = outcome
        .challenge
        .as_deref()
        .and_then(Challenges::parse)
        .and_then(|challenges| {
            challenges
                .scheme("DPoP")
                .map(|dpop| dpop.error() == Some("use_dpop_nonce"))
        })
        .unwrap_or(false);
    outcome
        .dpop_nonce
        .filter(|_| outcome.status == 401 && asks_for_nonce)
}

/// Whether `target` advertises DPoP: a `DPoP` challenge beside the Bearer one when a
/// protected route is asked for without credentials (RFC 9449 §7.1). A server without DPoP
/// must not advertise it.
pub async fn advertises_dpop(client: &reqwest::Client, target: &str) -> bool {
    let url = format!("{}{}", target.trim_end_matches('/'), Route::Private.path());
    exchange(client.get(url))
        .await
        .challenge
        .as_deref()
        .and_then(Challenges::parse)
        .is_some_and(|challenges| challenges.scheme("DPoP").is_some())
}

/// Sends one case.
pub async fn send(
    client: &reqwest::Client,
    target: &str,
    forge: &Forge<'_>,
    case: &Case,
    nonce: Option<&str>,
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
        Placement::Dpop(dpop) => {
            return send_dpop(client, &url, forge, &token, dpop, nonce).await;
        }
    };
    exchange(request).await
}

/// Sends a DPoP request: `Authorization: <scheme> <token>` (the scheme `DPoP`, unless the
/// case says otherwise) and fresh proofs for `GET url`, carrying `nonce` if given.
async fn send_dpop(
    client: &reqwest::Client,
    url: &str,
    forge: &Forge<'_>,
    token: &str,
    dpop: &DpopRequest,
    nonce: Option<&str>,
) -> Outcome {
    let proof = || {
        let request = ProofRequest {
            method: "GET",
            url,
            token,
            nonce,
        };
        forge.proof(&dpop.proof, &request)
    };
    let request = client
        .get(url)
        .header("authorization", format!("{} {token}", dpop.scheme));
    match dpop.headers {
        ProofHeaders::None => exchange(request).await,
        ProofHeaders::One => exchange(request.header("dpop", proof())).await,
        ProofHeaders::Two => {
            exchange(request.header("dpop", proof()).header("dpop", proof())).await
        }
        ProofHeaders::Replayed => {
            let request = request.header("dpop", proof());
            let again = request
                .try_clone()
                .expect("a request without a body clones");
            let first = exchange(request).await;
            let second = exchange(again).await;
            Outcome {
                first_use: Some(first.status),
                ..second
            }
        }
    }
}

/// Sends a request and records the answer.
pub async fn exchange(request: reqwest::RequestBuilder) -> Outcome {
    match request.send().await {
        Err(error) => Outcome {
            status: 0,
            challenge: None,
            body: None,
            transport_error: Some(error.without_url().to_string()),
            first_use: None,
            dpop_nonce: None,
        },
        Ok(response) => {
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
            let dpop_nonce = response
                .headers()
                .get("dpop-nonce")
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
                first_use: None,
                dpop_nonce,
            }
        }
    }
}

/// Compares an outcome with a case's expectation: status, challenge error and scope, body shape.
pub fn judge(case: &Case, outcome: &Outcome) -> Option<String> {
    if let Some(error) = &outcome.transport_error {
        return Some(format!("no answer: {error}"));
    }
    if let Some(first) = outcome.first_use
        && first != 200
    {
        return Some(format!("the proof's first use got {first}, not 200"));
    }
    let expect = &case.expect;
    if outcome.status != expect.status {
        return Some(format!(
            "status {} instead of {}",
            outcome.status, expect.status
        ));
    }
    if let Some(failure) = judge_challenge(&expect.challenge, outcome.challenge.as_deref()) {
        return Some(failure);
    }
    // RFC 9449 §9: the refusal hands out the nonce to use.
    if expect.challenge == Challenge::DpopError("use_dpop_nonce") && outcome.dpop_nonce.is_none() {
        return Some("use_dpop_nonce without a DPoP-Nonce header".into());
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

/// Compares a `WWW-Authenticate` header with the expected challenge: the error (and scope)
/// on the expected scheme's challenge, and no error on any other (RFC 9449 §7.1: the error
/// goes on the scheme the client used).
fn judge_challenge(expected: &Challenge, header: Option<&str>) -> Option<String> {
    let (scheme, code, scope) = match expected {
        Challenge::Absent => {
            return header.map(|_| "unexpected WWW-Authenticate".into());
        }
        Challenge::Bare => ("Bearer", None, None),
        Challenge::Error(code) => ("Bearer", Some(*code), None),
        Challenge::InsufficientScope(scope) => ("Bearer", Some("insufficient_scope"), Some(*scope)),
        Challenge::DpopError(code) => ("DPoP", Some(*code), None),
    };
    let Some(header) = header else {
        return Some("no WWW-Authenticate challenge".into());
    };
    let Some(challenges) = Challenges::parse(header) else {
        return Some("WWW-Authenticate is not a list of challenges".into());
    };
    let Some(challenge) = challenges.scheme(scheme) else {
        return Some(format!("WWW-Authenticate has no {scheme} challenge"));
    };
    if challenge.error() != code {
        return Some(format!(
            "{scheme} challenge error {:?} instead of {code:?}",
            challenge.error()
        ));
    }
    if let Some(other) = challenges
        .0
        .iter()
        .find(|other| !other.is(scheme) && other.error().is_some())
    {
        return Some(format!(
            "error on the {} challenge, not on the {scheme} one",
            other.scheme
        ));
    }
    if scope.is_some() && challenge.scope() != scope {
        return Some(format!(
            "challenge scope {:?} instead of {scope:?}",
            challenge.scope()
        ));
    }
    None
}

/// The verdicts of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per case, in catalogue order.
    pub verdicts: Vec<Verdict>,
    /// Whether the target advertised DPoP ([`advertises_dpop`]). If not, its DPoP cases are
    /// expected to fail.
    pub dpop_advertised: bool,
    /// Whether the target asked the probe's proof for a nonce ([`learn_nonce`]): then every
    /// DPoP case carries the nonce it handed out, and the nonce cases are asked.
    pub nonces_required: bool,
    /// Cases not sent because they do not apply: the nonce cases, to a target that hands out
    /// no nonces ([`Case::needs_nonces`]).
    pub not_applicable: usize,
    /// The metadata checks ([`metadata::probe`]): none when the target serves no document.
    pub metadata: MetadataReport,
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

    /// Whether a reference-contract case failed (or, with `strict`, any case). A target that
    /// does not advertise DPoP is expected to fail the DPoP cases ([`Case::needs_dpop`]):
    /// they count only with `strict`, as this project's rules do; so do the metadata checks.
    pub fn is_failure(&self, strict: bool) -> bool {
        (strict && self.metadata.failures().next().is_some())
            || self.failures().any(|verdict| {
                strict
                    || (verdict.case.origin == Origin::Reference
                        && (self.dpop_advertised || !verdict.case.needs_dpop()))
            })
    }

    /// The table: case, rule, expected, actual, pass; then `N passed, M failed`.
    pub fn table(&self) -> String {
        let width = self
            .verdicts
            .iter()
            .map(|v| v.case.name.len())
            .chain(self.metadata.checks.iter().map(|check| check.name.len()))
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = String::new();
        if !self.dpop_advertised {
            let _ = writeln!(
                out,
                "The target does not advertise DPoP (no DPoP challenge): its DPoP cases are \
                 expected to fail and count only with --strict."
            );
        }
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
        if self.not_applicable > 0 {
            let _ = writeln!(
                out,
                "{} nonce cases not asked: the target hands out no DPoP nonces.",
                self.not_applicable
            );
        }
        out.push_str(&self.metadata_table(width));
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// The metadata checks, a line each, or the line saying the target serves no document.
    fn metadata_table(&self, width: usize) -> String {
        let mut out = String::new();
        match &self.metadata.served_at {
            Some(url) => {
                let _ = writeln!(out, "Protected Resource Metadata (RFC 9728) at {url}:");
            }
            None => {
                let _ = writeln!(
                    out,
                    "Protected Resource Metadata (RFC 9728): not served at {}.",
                    metadata::WELL_KNOWN_PATH
                );
            }
        }
        for check in &self.metadata.checks {
            let result = match &check.failure {
                None => "pass".to_owned(),
                Some(why) => format!("FAIL: {why}"),
            };
            let _ = writeln!(out, "{:<width$}  {:<9}  {result}", check.name, "project");
        }
        out
    }

    /// `N passed, M failed`: the cases and the metadata checks.
    pub fn summary(&self) -> String {
        let failed = self.failures().count() + self.metadata.failures().count();
        let total = self.verdicts.len() + self.metadata.checks.len();
        format!("{} passed, {failed} failed", total - failed)
    }
}

/// `401 invalid_token`, `403 insufficient_scope read:messages`, `401 DPoP invalid_dpop_proof`
/// (an error on a challenge other than Bearer names its scheme), `200`…
pub fn describe_outcome(outcome: &Outcome) -> String {
    if outcome.transport_error.is_some() {
        return "no answer".into();
    }
    let status = outcome.status;
    let Some(header) = outcome.challenge.as_deref() else {
        return status.to_string();
    };
    let Some(challenges) = Challenges::parse(header) else {
        return format!("{status} (unparsable challenge)");
    };
    match challenges.with_error() {
        None => format!("{status} bare"),
        Some(challenge) => {
            let error = challenge.error().unwrap_or_default();
            match (challenge.is("Bearer"), challenge.scope()) {
                (true, None) => format!("{status} {error}"),
                (true, Some(scope)) => format!("{status} {error} {scope}"),
                (false, _) => format!("{status} {} {error}", challenge.scheme),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::catalogue;

    const ALGS: &str = "algs=\"ES256 EdDSA\"";

    fn case(name: &str) -> Case {
        catalogue()
            .into_iter()
            .find(|case| case.name == name)
            .expect("a catalogue case")
    }

    fn answer(status: u16, challenge: &str) -> Outcome {
        Outcome {
            status,
            challenge: Some(challenge.to_owned()),
            body: Some(serde_json::json!({"message": "refused"})),
            transport_error: None,
            first_use: None,
            dpop_nonce: None,
        }
    }

    #[test]
    fn use_dpop_nonce_counts_only_with_the_nonce_to_use() {
        let missing = case("private/dpop-nonce-missing");
        assert!(missing.needs_nonces() && !case("private/dpop-valid-proof").needs_nonces());
        let challenge = format!(
            "DPoP error=\"use_dpop_nonce\", error_description=\"x\", {ALGS}, Bearer realm=\"api\""
        );
        let without_header = answer(401, &challenge);
        assert_eq!(
            judge(&missing, &without_header).as_deref(),
            Some("use_dpop_nonce without a DPoP-Nonce header")
        );
        let with_header = Outcome {
            dpop_nonce: Some("AAAA".into()),
            ..without_header
        };
        assert_eq!(judge(&missing, &with_header), None);
        let as_invalid_proof = Outcome {
            challenge: Some(challenge.replace("use_dpop_nonce", "invalid_dpop_proof")),
            ..with_header
        };
        assert!(judge(&missing, &as_invalid_proof).is_some());
    }

    #[test]
    fn an_error_counts_only_on_the_scheme_the_client_used() {
        let proof = Challenge::DpopError("invalid_dpop_proof");
        let on_dpop = format!(
            "DPoP error=\"invalid_dpop_proof\", error_description=\"x\", {ALGS}, Bearer realm=\"api\""
        );
        assert_eq!(judge_challenge(&proof, Some(&on_dpop)), None);
        let on_bearer = format!("Bearer realm=\"api\", error=\"invalid_dpop_proof\", DPoP {ALGS}");
        assert_eq!(
            judge_challenge(&proof, Some(&on_bearer)).as_deref(),
            Some("DPoP challenge error None instead of Some(\"invalid_dpop_proof\")")
        );
        let on_both = format!("{on_dpop}, error=\"invalid_token\"");
        assert_eq!(
            judge_challenge(&proof, Some(&on_both)).as_deref(),
            Some("error on the Bearer challenge, not on the DPoP one")
        );
        assert_eq!(
            judge_challenge(
                &proof,
                Some("Bearer realm=\"api\", error=\"invalid_token\"")
            )
            .as_deref(),
            Some("WWW-Authenticate has no DPoP challenge")
        );
        let bearer_error = format!("Bearer realm=\"api\", error=\"invalid_token\", DPoP {ALGS}");
        assert_eq!(
            judge_challenge(&Challenge::Error("invalid_token"), Some(&bearer_error)),
            None
        );
        assert_eq!(
            judge_challenge(&Challenge::Bare, Some(&on_dpop)).as_deref(),
            Some("error on the DPoP challenge, not on the Bearer one")
        );
    }

    #[test]
    fn a_replay_refused_means_nothing_unless_the_first_use_was_accepted() {
        let replayed = case("private/dpop-replayed-proof");
        let challenge = format!("DPoP error=\"invalid_dpop_proof\", {ALGS}, Bearer realm=\"api\"");
        let mut outcome = answer(401, &challenge);
        outcome.first_use = Some(200);
        assert_eq!(judge(&replayed, &outcome), None);
        outcome.first_use = Some(401);
        assert_eq!(
            judge(&replayed, &outcome).as_deref(),
            Some("the proof's first use got 401, not 200")
        );
    }

    #[test]
    fn a_dpop_refusal_is_described_with_its_scheme() {
        let challenge = format!("DPoP error=\"invalid_token\", {ALGS}, Bearer realm=\"api\"");
        assert_eq!(
            describe_outcome(&answer(401, &challenge)),
            "401 DPoP invalid_token"
        );
        assert_eq!(
            describe_outcome(&answer(401, &format!("Bearer realm=\"api\", DPoP {ALGS}"))),
            "401 bare"
        );
        assert_eq!(
            describe_outcome(&answer(
                403,
                "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"read:messages\""
            )),
            "403 insufficient_scope read:messages"
        );
    }

    #[test]
    fn without_dpop_advertised_failed_dpop_cases_count_only_when_strict() {
        let failed = |name: &str| Verdict {
            case: case(name),
            outcome: answer(400, "Bearer realm=\"api\""),
            failure: Some("status 400 instead of 401".into()),
        };
        let report = |name: &str, dpop_advertised| Report {
            nonces_required: false,
            not_applicable: 0,
            verdicts: vec![failed(name)],
            dpop_advertised,
            metadata: MetadataReport::default(),
        };
        // A reference DPoP case: expected to fail where DPoP is not advertised.
        let binding = "private/dpop-bound-to-another-key";
        assert!(!report(binding, false).is_failure(false));
        assert!(report(binding, false).is_failure(true));
        assert!(report(binding, true).is_failure(false));
        assert!(
            report(binding, false)
                .table()
                .starts_with("The target does not advertise DPoP")
        );
        // Any other reference case still fails the run.
        assert!(report("private/wrong-audience", false).is_failure(false));
    }

    #[test]
    fn failed_metadata_checks_are_counted_and_fail_the_run_only_when_strict() {
        let check = |name, failure: Option<&str>| metadata::Check {
            name,
            failure: failure.map(str::to_owned),
        };
        let report = Report {
            verdicts: Vec::new(),
            dpop_advertised: true,
            nonces_required: false,
            not_applicable: 0,
            metadata: MetadataReport {
                served_at: Some("http://target/.well-known/oauth-protected-resource".into()),
                checks: vec![
                    check("metadata/resource", None),
                    check("metadata/scopes", Some("[] lacks read:messages")),
                ],
            },
        };
        assert!(!report.is_failure(false));
        assert!(report.is_failure(true));
        assert_eq!(report.summary(), "1 passed, 1 failed");
        let table = report.table();
        assert!(
            table.contains("metadata/scopes    project    FAIL: [] lacks read:messages"),
            "{table}"
        );
    }
}
