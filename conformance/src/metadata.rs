//! The Protected Resource Metadata probe (RFC 9728): fetches the target's document from
//! `/.well-known/oauth-protected-resource` (or its §3.1 path-suffixed form) and checks it
//! against what the target does: the issuer the suite's tokens come from, the DPoP algorithms
//! its 401 challenge offers, whether it refuses bearer tokens, and the `resource_metadata` URL
//! its challenges name. A target that serves no document (as the reference) is "not served",
//! not a failure: the metadata is this project's rule, not the reference contract's.

use std::collections::BTreeSet;

use reqwest::Url;
use serde_json::{Map, Value};

use crate::catalogue::{Recipe, Route};
use crate::challenge::Challenges;
use crate::forge::Forge;

/// Where the document is published, at the root of the target's origin (RFC 9728 §3.1).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The bearer methods RFC 9728 §2 names (RFC 6750 §2).
const BEARER_METHODS: [&str; 3] = ["header", "body", "query"];

/// The scope the contract's scoped route needs, which the document must list.
const SCOPE: &str = "read:messages";

/// What the document must agree with: what the suite knows and what the target showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The suite's issuer, exactly as its tokens' `iss`.
    pub issuer: String,
    /// The resource identifier: [`probe`] expects the audience the suite's tokens are for
    /// ([`crate::AUDIENCE`]); for a target configured with another, give it to [`expected_of`].
    pub resource: String,
    /// The `algs` of the target's bare `DPoP` challenge, split; `None` without a DPoP
    /// challenge (the target does not offer DPoP).
    pub dpop_algs: Option<BTreeSet<String>>,
    /// Whether the target refused a valid token sent as a bearer token (DPoP required).
    pub refuses_bearer: bool,
    /// Every `resource_metadata` URL its bare 401 challenge names, in order, without repeats.
    pub challenge_urls: Vec<String>,
}

/// One named check and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `metadata/…`.
    pub name: &'static str,
    /// `None` when the check passed, else why not.
    pub failure: Option<String>,
}

/// What the probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataReport {
    /// The URL the document was served at; `None` when neither well-known URL served one.
    pub served_at: Option<String>,
    /// The checks made: none when the document is not served and no challenge names one.
    pub checks: Vec<Check>,
}

impl MetadataReport {
    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| check.failure.is_some())
    }
}

/// What one GET of a metadata URL came to.
#[derive(Debug, Clone, PartialEq)]
enum Fetched {
    /// 200, `application/json`, a JSON value.
    Document(Value),
    /// 404: nothing published there.
    NotFound,
    /// Anything else, and why it is not a document.
    Broken(String),
}

/// Learns what the target shows ([`expected_of`]) and checks its document against it.
pub async fn probe(client: &reqwest::Client, target: &str, forge: &Forge<'_>) -> MetadataReport {
    let expected = expected_of(client, target, forge, crate::AUDIENCE).await;
    check_target(client, target, &expected).await
}

/// What `target` shows: its bare 401 challenge to `GET /api/private` (DPoP algorithms and
/// `resource_metadata` URLs) and its answer to a valid bearer token; the issuer is the one
/// in the suite's tokens, and `resource` the resource identifier to expect.
pub async fn expected_of(
    client: &reqwest::Client,
    target: &str,
    forge: &Forge<'_>,
    resource: &str,
) -> Expected {
    let url = format!("{}{}", target.trim_end_matches('/'), Route::Private.path());
    let bare = crate::runner::exchange(client.get(&url)).await;
    let challenges = bare.challenge.as_deref().and_then(Challenges::parse);
    let challenges = challenges.as_ref().map_or(&[][..], |parsed| &parsed.0[..]);
    let dpop_algs = challenges
        .iter()
        .find(|challenge| challenge.is("DPoP"))
        .map(|dpop| {
            let algs = dpop.params.get("algs").map_or("", String::as_str);
            algs.split_whitespace().map(str::to_owned).collect()
        });
    let mut challenge_urls: Vec<String> = Vec::new();
    for url in challenges
        .iter()
        .filter_map(|challenge| challenge.params.get("resource_metadata"))
    {
        if !challenge_urls.contains(url) {
            challenge_urls.push(url.clone());
        }
    }
    let token = forge.token(&Recipe::valid());
    let bearer = client
        .get(&url)
        .header("authorization", format!("Bearer {token}"));
    let refuses_bearer = crate::runner::exchange(bearer).await.status != 200;
    Expected {
        issuer: forge.default_claims()["iss"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        resource: resource.to_owned(),
        dpop_algs,
        refuses_bearer,
        challenge_urls,
    }
}

/// Fetches the document (the well-known URL, else its form suffixed with the expected
/// resource's path) and checks it and the URLs the challenges name.
pub async fn check_target(
    client: &reqwest::Client,
    target: &str,
    expected: &Expected,
) -> MetadataReport {
    let origin = target.trim_end_matches('/');
    let mut urls = vec![format!("{origin}{WELL_KNOWN_PATH}")];
    urls.extend(suffixed_path(&expected.resource).map(|path| format!("{origin}{path}")));
    let mut checks = Vec::new();
    let mut found = None;
    for url in urls {
        match fetch(client, &url).await {
            Fetched::NotFound => continue,
            Fetched::Document(document) => found = Some((url, document)),
            Fetched::Broken(why) => checks.push(failed("metadata/served", format!("{url}: {why}"))),
        }
        break;
    }
    let Some((served_at, document)) = found else {
        for url in &expected.challenge_urls {
            let why = format!(
                "the challenge names {url}, but {origin}{WELL_KNOWN_PATH} serves no document"
            );
            checks.push(failed("metadata/challenge-url", why));
        }
        return MetadataReport {
            served_at: None,
            checks,
        };
    };
    checks.push(passed("metadata/served"));
    checks.extend(check_document(&document, expected));
    checks.push(check_path_form(client, origin, &document).await);
    for url in &expected.challenge_urls {
        checks.push(Check {
            name: "metadata/challenge-url",
            failure: serves_the_same(client, url, &document).await,
        });
    }
    MetadataReport {
        served_at: Some(served_at),
        checks,
    }
}

/// RFC 9728 §3.3: the document's `resource` is the identifier its URL was made from, so a
/// resource with a path has its document at the path-suffixed URL too (§3.1).
async fn check_path_form(client: &reqwest::Client, origin: &str, document: &Value) -> Check {
    let resource = document.get("resource").and_then(Value::as_str);
    let Some(path) = resource.and_then(suffixed_path) else {
        return passed("metadata/path-form");
    };
    let url = format!("{origin}{path}");
    Check {
        name: "metadata/path-form",
        failure: serves_the_same(client, &url, document).await,
    }
}

/// `None` when `url` serves `document`, else why not.
async fn serves_the_same(client: &reqwest::Client, url: &str, document: &Value) -> Option<String> {
    match fetch(client, url).await {
        Fetched::Document(other) if &other == document => None,
        Fetched::Document(_) => Some(format!("{url} serves another document")),
        Fetched::NotFound => Some(format!("{url} answers 404")),
        Fetched::Broken(why) => Some(format!("{url}: {why}")),
    }
}

/// The §3.1 path for a resource with a path (`/.well-known/oauth-protected-resource/api`);
/// `None` for a resource without one, or not a URL.
fn suffixed_path(resource: &str) -> Option<String> {
    let url = Url::parse(resource).ok()?;
    let path = url.path().trim_end_matches('/');
    (!path.is_empty()).then(|| format!("{WELL_KNOWN_PATH}{path}"))
}

/// GETs `url`: a document only if 200, `application/json` and JSON.
async fn fetch(client: &reqwest::Client, url: &str) -> Fetched {
    let response = match client.get(url).send().await {
        Ok(response) => response,
        Err(error) => return Fetched::Broken(format!("no answer: {}", error.without_url())),
    };
    match response.status().as_u16() {
        200 => {}
        404 => return Fetched::NotFound,
        status => return Fetched::Broken(format!("status {status}")),
    }
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return Fetched::Broken(format!(
            "content type {content_type:?}, not application/json"
        ));
    }
    match response
        .bytes()
        .await
        .map(|body| serde_json::from_slice(&body))
    {
        Ok(Ok(document)) => Fetched::Document(document),
        _ => Fetched::Broken("the body is not JSON".into()),
    }
}

/// A check that passed.
fn passed(name: &'static str) -> Check {
    Check {
        name,
        failure: None,
    }
}

/// A check that failed, and why.
fn failed(name: &'static str, why: String) -> Check {
    Check {
        name,
        failure: Some(why),
    }
}

/// A check of the document's members against what is expected.
type DocumentCheck = fn(&Map<String, Value>, &Expected) -> Result<(), String>;

/// The document's checks, in the order reported.
const DOCUMENT_CHECKS: [(&str, DocumentCheck); 7] = [
    ("metadata/member-types", check_member_types),
    ("metadata/resource", check_resource),
    ("metadata/authorization-servers", check_issuer),
    ("metadata/bearer-methods", check_bearer_methods),
    ("metadata/scopes", check_scopes),
    ("metadata/dpop-algs", check_dpop_algs),
    ("metadata/dpop-required", check_dpop_required),
];

/// Every document check (RFC 9728 §2, this project's contract §12) on `document`.
pub fn check_document(document: &Value, expected: &Expected) -> Vec<Check> {
    let Some(members) = document.as_object() else {
        return vec![failed(
            "metadata/member-types",
            "the document is not a JSON object".into(),
        )];
    };
    DOCUMENT_CHECKS
        .iter()
        .map(|(name, check)| Check {
            name,
            failure: check(members, expected).err(),
        })
        .collect()
}

/// The JSON type an RFC 9728 §2 member must have.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Texts,
    Flag,
}

/// RFC 9728 §2's members (and RFC 9449 §5.2's two DPoP ones) and their types.
const MEMBER_KINDS: [(&str, Kind); 14] = [
    ("resource", Kind::Text),
    ("authorization_servers", Kind::Texts),
    ("jwks_uri", Kind::Text),
    ("scopes_supported", Kind::Texts),
    ("bearer_methods_supported", Kind::Texts),
    ("resource_signing_alg_values_supported", Kind::Texts),
    ("resource_name", Kind::Text),
    ("resource_documentation", Kind::Text),
    ("resource_policy_uri", Kind::Text),
    ("resource_tos_uri", Kind::Text),
    ("tls_client_certificate_bound_access_tokens", Kind::Flag),
    ("authorization_details_types_supported", Kind::Texts),
    ("dpop_signing_alg_values_supported", Kind::Texts),
    ("dpop_bound_access_tokens_required", Kind::Flag),
];

/// No member of a known name with another JSON type.
fn check_member_types(members: &Map<String, Value>, _: &Expected) -> Result<(), String> {
    let wrong: Vec<&str> = MEMBER_KINDS
        .iter()
        .filter(|(name, kind)| {
            members.get(*name).is_some_and(|value| match kind {
                Kind::Text => !value.is_string(),
                Kind::Texts => texts(value).is_none(),
                Kind::Flag => !value.is_boolean(),
            })
        })
        .map(|(name, _)| *name)
        .collect();
    match wrong.is_empty() {
        true => Ok(()),
        false => Err(format!("of the wrong JSON type: {}", wrong.join(", "))),
    }
}

/// `value` as a list of strings, if it is one.
fn texts(value: &Value) -> Option<Vec<&str>> {
    value.as_array()?.iter().map(Value::as_str).collect()
}

/// The member `name` as a list of strings: `Ok(None)` when absent.
fn list<'a>(members: &'a Map<String, Value>, name: &str) -> Result<Option<Vec<&'a str>>, String> {
    members
        .get(name)
        .map(|value| texts(value).ok_or_else(|| format!("{name} is not a list of strings")))
        .transpose()
}

/// `resource` (required, RFC 9728 §2) is the expected resource identifier.
fn check_resource(members: &Map<String, Value>, expected: &Expected) -> Result<(), String> {
    match members.get("resource").and_then(Value::as_str) {
        None => Err("no resource string".into()),
        Some(resource) if resource == expected.resource => Ok(()),
        Some(resource) => Err(format!(
            "resource {resource:?}, not {:?}",
            expected.resource
        )),
    }
}

/// `authorization_servers` lists the suite's issuer, exactly as its tokens' `iss`.
fn check_issuer(members: &Map<String, Value>, expected: &Expected) -> Result<(), String> {
    let servers = list(members, "authorization_servers")?.unwrap_or_default();
    match servers.contains(&expected.issuer.as_str()) {
        true => Ok(()),
        false => Err(format!(
            "{servers:?} lacks the issuer {:?}",
            expected.issuer
        )),
    }
}

/// `bearer_methods_supported`, when present, names only RFC 6750's three methods.
fn check_bearer_methods(members: &Map<String, Value>, _: &Expected) -> Result<(), String> {
    let methods = list(members, "bearer_methods_supported")?.unwrap_or_default();
    match methods
        .iter()
        .find(|method| !BEARER_METHODS.contains(method))
    {
        None => Ok(()),
        Some(unknown) => Err(format!("unknown bearer method {unknown:?}")),
    }
}

/// `scopes_supported` lists the scoped route's scope.
fn check_scopes(members: &Map<String, Value>, _: &Expected) -> Result<(), String> {
    match list(members, "scopes_supported")? {
        Some(scopes) if scopes.contains(&SCOPE) => Ok(()),
        Some(scopes) => Err(format!("{scopes:?} lacks {SCOPE}")),
        None => Err(format!("no scopes_supported (with {SCOPE})")),
    }
}

/// `dpop_signing_alg_values_supported` is the `algs` the target's DPoP challenge offers, and
/// absent when it offers no DPoP.
fn check_dpop_algs(members: &Map<String, Value>, expected: &Expected) -> Result<(), String> {
    let listed = list(members, "dpop_signing_alg_values_supported")?;
    let listed: Option<BTreeSet<String>> =
        listed.map(|algs| algs.into_iter().map(str::to_owned).collect());
    match (&expected.dpop_algs, listed) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err("DPoP algorithms listed, but no DPoP challenge offered".into()),
        (Some(_), None) => Err("no DPoP algorithms, but the challenge offers DPoP".into()),
        (Some(offered), Some(listed)) if offered.is_empty() || *offered == listed => Ok(()),
        (Some(offered), Some(listed)) => Err(format!(
            "{listed:?}, but the challenge offers algs {offered:?}"
        )),
    }
}

/// `dpop_bound_access_tokens_required` (default false) matches whether a valid bearer token
/// was refused.
fn check_dpop_required(members: &Map<String, Value>, expected: &Expected) -> Result<(), String> {
    let required = members
        .get("dpop_bound_access_tokens_required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match (required, expected.refuses_bearer) {
        (true, false) => Err("DPoP said required, but a bearer token was served".into()),
        (false, true) => Err("DPoP not said required, but a bearer token was refused".into()),
        _ => Ok(()),
    }
}
