//! The fault script: which state the mock issuer is in during each phase, how keys are rotated
//! without ever sending a valid-looking token the api cannot yet know, and the issuer's own
//! counts of what the api fetched.
//!
//! The rule the valid stream follows (and `report` checks): a key is *known* from the moment
//! the api first answered 200 to a token signed with it (the api then holds it in its cache,
//! and nothing but a successful refresh without that key removes it: failed and empty
//! refreshes keep the old set until the stale limit, far beyond any outage here). A key is
//! *retired* from the moment the script sends the rotation or revocation that stops the issuer
//! publishing it. The load only uses tokens of a known key, switches to a new key only after a
//! probe saw it accepted, and every valid request sent after its key was known and answered
//! before it was retired must get the contract's answer, whatever the issuer is doing.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::Settings;
use crate::load::{self, Active, Shared};

/// The mock's default API and its two clients (mock-issuer's `IssuerConfig::default()`).
const AUDIENCE: &str = "https://quickstarts/api";
const SCOPED_CLIENT: (&str, &str) = ("reader", "reader-secret");
const UNSCOPED_CLIENT: (&str, &str) = ("no-scopes", "no-scopes-secret");

/// What the script does to the issuer at the start of a phase.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Nothing: every endpoint answers normally.
    Healthy,
    /// These faults, as `(endpoint, fault)`, for the whole phase.
    Faults(&'static [(&'static str, &'static str)]),
    /// One rotation: the pre-published next key becomes current.
    Rotate,
    /// Two rotations while the JWKS is down, then the JWKS comes back: the new current key was
    /// never served to the api, so only a refresh after an unknown `kid` can bring it.
    RotateTwiceDuringOutage,
    /// The previous key stops being published.
    RevokePrevious,
}

/// A fault whose latency is replaced by [`Settings::http_timeout`] plus a second at run time.
const SLOW: &str = "slow";

/// The script, in order; a long run cycles through it again.
pub const SCRIPT: &[(&str, Action)] = &[
    // The run's first phase doubles as the memory check's warm-up.
    ("healthy", Action::Healthy),
    (
        "jwks 503",
        Action::Faults(&[("jwks", r#"{"type":"status","code":503}"#)]),
    ),
    (
        "jwks 500",
        Action::Faults(&[("jwks", r#"{"type":"status","code":500}"#)]),
    ),
    ("jwks slow", Action::Faults(&[("jwks", SLOW)])),
    (
        "jwks garbage",
        Action::Faults(&[("jwks", r#"{"type":"malformed_body"}"#)]),
    ),
    (
        "jwks empty",
        Action::Faults(&[("jwks", r#"{"type":"empty_key_set"}"#)]),
    ),
    ("rotate", Action::Rotate),
    ("rotate x2 in outage", Action::RotateTwiceDuringOutage),
    ("revoke previous", Action::RevokePrevious),
    (
        "discovery down",
        Action::Faults(&[
            ("openid_configuration", r#"{"type":"status","code":503}"#),
            (
                "oauth_authorization_server",
                r#"{"type":"status","code":503}"#,
            ),
        ]),
    ),
    (
        "issuer down",
        Action::Faults(&[
            ("openid_configuration", r#"{"type":"status","code":503}"#),
            (
                "oauth_authorization_server",
                r#"{"type":"status","code":503}"#,
            ),
            ("jwks", r#"{"type":"status","code":503}"#),
        ]),
    ),
    ("recovered", Action::Healthy),
];

/// How long the run lasts and how it is cut into phases.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Phases in the run (the script, cycled).
    pub phases: usize,
    /// Length of each phase.
    pub phase_length: Duration,
}

/// Shortest phase: longer than the cache's max age plus the cooldown plus a fetch timeout with
/// the soak's settings, so every fault meets background refreshes and unknown-kid refetches.
const MIN_PHASE: Duration = Duration::from_secs(10);
/// Longest phase: beyond it a long run repeats the script rather than stretching it.
const MAX_PHASE: Duration = Duration::from_secs(20);

impl Plan {
    /// Cuts `total` into phases of 10 to 20 s, at least one full script.
    pub fn new(total: Duration) -> Result<Self> {
        let minimum = MIN_PHASE * SCRIPT.len() as u32;
        if total < minimum {
            bail!(
                "--seconds must be at least {} so each of the {} phases lasts {} s",
                minimum.as_secs(),
                SCRIPT.len(),
                MIN_PHASE.as_secs()
            );
        }
        let phases = (total.as_secs_f64() / MAX_PHASE.as_secs_f64())
            .ceil()
            .max(SCRIPT.len() as f64) as usize;
        Ok(Plan {
            phases,
            phase_length: total / phases as u32,
        })
    }

    /// The whole run.
    pub fn total(&self) -> Duration {
        self.phase_length * self.phases as u32
    }

    /// The name and action of phase `index`.
    pub fn phase(&self, index: usize) -> (&'static str, Action) {
        SCRIPT[index % SCRIPT.len()]
    }
}

/// The mock issuer's public and admin endpoints.
pub struct Issuer {
    client: reqwest::Client,
    base: String,
}

/// Request counts from `GET /_mock/requests`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// JWKS fetches.
    pub jwks: u64,
    /// Discovery fetches, both well-known documents.
    pub discovery: u64,
}

impl Issuer {
    /// A client for the issuer at `base` (a trailing slash is added if missing).
    pub fn new(base: &str) -> Result<Self> {
        let base = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        // Rotations generate RSA keys on a busy machine: give admin calls room.
        Ok(Issuer {
            client: load::client(Duration::from_secs(30))?,
            base,
        })
    }

    /// The issuer's base URL, with its trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}_mock/{path}", self.base);
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{url} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn set_fault(&self, endpoint: &str, fault: Value) -> Result<()> {
        self.admin(
            reqwest::Method::PUT,
            &format!("faults/{endpoint}"),
            Some(fault),
        )
        .await
        .map(drop)
    }

    /// Clears every fault.
    pub async fn clear_faults(&self) -> Result<()> {
        self.admin(reqwest::Method::DELETE, "faults", None)
            .await
            .map(drop)
    }

    /// How often the api has fetched each document so far.
    pub async fn counts(&self) -> Result<Counts> {
        let counts = self.admin(reqwest::Method::GET, "requests", None).await?;
        let count = |name: &str| counts[name].as_u64().unwrap_or(0);
        Ok(Counts {
            jwks: count("jwks"),
            discovery: count("openid_configuration") + count("oauth_authorization_server"),
        })
    }

    async fn rotate(&self) -> Result<()> {
        self.admin(reqwest::Method::POST, "rotate", None)
            .await
            .map(drop)
    }

    async fn revoke_previous(&self) -> Result<()> {
        self.admin(reqwest::Method::POST, "revoke-previous", None)
            .await
            .map(drop)
    }

    /// The kids the issuer publishes now (current, next and any previous).
    async fn published(&self) -> Result<BTreeSet<String>> {
        let keys = self.admin(reqwest::Method::GET, "keys", None).await?;
        Ok(["current", "next", "previous"]
            .iter()
            .filter_map(|role| keys[role].as_str().map(str::to_owned))
            .collect())
    }

    /// A client-credentials token, as any client gets one.
    async fn mint(&self, (id, secret): (&str, &str)) -> Result<String> {
        let url = format!("{}oauth/token", self.base);
        let response = self
            .client
            .post(&url)
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": id,
                "client_secret": secret,
                "audience": AUDIENCE,
            }))
            .send()
            .await
            .with_context(|| format!("calling {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.context("a token response")?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{url} answered {status} without a token: {body}"))
    }

    /// A scoped and an unscoped token from the current key, and that key's `kid`.
    async fn mint_pair(&self) -> Result<(String, String, String)> {
        let scoped = self.mint(SCOPED_CLIENT).await?;
        let unscoped = self.mint(UNSCOPED_CLIENT).await?;
        let kid = load::kid_of(&scoped).context("a token without a kid")?;
        if load::kid_of(&unscoped).as_deref() != Some(kid.as_str()) {
            // A rotation between the two mints: the caller tries again.
            bail!("the two tokens were signed with different keys");
        }
        Ok((kid, scoped, unscoped))
    }
}

/// A signing key the run has seen, with the times (µs since the origin) that decide whether a
/// valid request with its token is judged.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The key's `kid`.
    pub kid: String,
    /// When a token of this key was first answered 200 (the api has it cached).
    pub known_us: Option<u64>,
    /// When the script sent the request that stopped the issuer publishing it.
    pub retired_us: Option<u64>,
    /// A scoped token signed with it, to see when the api stops accepting it once revoked.
    pub token: Option<String>,
}

/// One measured key change: a new key's first acceptance, or a revoked key's first refusal.
#[derive(Debug, Clone)]
pub struct KeyEvent {
    /// The phase it happened in.
    pub phase: usize,
    /// What was measured.
    pub what: &'static str,
    /// The key's `kid`.
    pub kid: String,
    /// From the moment the api could learn of the change to the answer that showed it had,
    /// or `None` if it never did within the wait.
    pub latency: Option<Duration>,
    /// The most the check allows.
    pub bound: Duration,
    /// Statuses seen while waiting, as (status, count); 0 is no answer.
    pub seen: Vec<(u16, u64)>,
}

/// What one phase did, for the report.
#[derive(Debug, Clone)]
pub struct PhaseLog {
    /// Its name in the script.
    pub name: &'static str,
    /// When it started and ended (µs since the origin), as the issuer's counts were read.
    pub start_us: u64,
    /// See `start_us`.
    pub end_us: u64,
    /// The issuer's counts at its start and end.
    pub counts_start: Counts,
    /// See `counts_start`.
    pub counts_end: Counts,
}

/// Everything the script observed.
#[derive(Debug, Default)]
pub struct ScriptLog {
    /// Every phase that ran.
    pub phases: Vec<PhaseLog>,
    /// Rotated keys' first acceptances and revoked keys' first refusals.
    pub key_events: Vec<KeyEvent>,
    /// Periods (µs since the origin) when some endpoint the api fetches from was faulted.
    pub fault_windows: Vec<(u64, u64)>,
    /// Tokens minted for the valid stream during the run.
    pub tokens_minted: u64,
}

/// Gets the first tokens and waits until the api accepts them: the first key becomes known.
pub async fn warm_up(issuer: &Issuer, api: &str, t0: Instant) -> Result<(Shared, Vec<KeyInfo>)> {
    issuer.clear_faults().await?;
    let (kid, scoped, unscoped) = issuer.mint_pair().await?;
    let shared = Shared {
        t0,
        phase: Default::default(),
        active: std::sync::RwLock::new(Arc::new(Active {
            key: 0,
            scoped: scoped.clone(),
            unscoped: unscoped.clone(),
        })),
        stop: Default::default(),
    };
    let mut keys = vec![KeyInfo {
        kid,
        known_us: None,
        retired_us: None,
        token: Some(scoped.clone()),
    }];
    let client = load::client(Duration::from_secs(5))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        match client
            .get(format!("{api}/api/private"))
            .bearer_auth(&scoped)
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => {
                keys[0].known_us = Some(shared.now_us());
                return Ok((shared, keys));
            }
            Ok(response) => last = format!("status {}", response.status()),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the api never accepted a fresh token from a healthy issuer (last: {last})")
}

/// Runs the phases until `deadline`, then leaves the issuer without faults.
pub async fn run(
    plan: &Plan,
    issuer: &Issuer,
    api: &str,
    shared: &Shared,
    keys: &mut Vec<KeyInfo>,
    settings: Settings,
    deadline: Instant,
) -> Result<ScriptLog> {
    let result = phases(plan, issuer, api, shared, keys, settings, deadline).await;
    // Workers stop at the deadline anyway; an early error stops them now.
    shared.stop.store(true, Ordering::Relaxed);
    result
}

async fn phases(
    plan: &Plan,
    issuer: &Issuer,
    api: &str,
    shared: &Shared,
    keys: &mut Vec<KeyInfo>,
    settings: Settings,
    deadline: Instant,
) -> Result<ScriptLog> {
    let mut log = ScriptLog::default();
    let probe = load::client(Duration::from_secs(5))?;
    let start = Instant::now();
    let mut counts = issuer.counts().await?;
    let mut boundary_us = shared.now_us();
    for index in 0..plan.phases {
        let (name, action) = plan.phase(index);
        let phase_end = (start + plan.phase_length * (index as u32 + 1)).min(deadline);
        shared.phase.store(index, Ordering::Relaxed);
        println!(
            "[{:>6.1} s] phase {index}: {name}",
            shared.t0.elapsed().as_secs_f64()
        );
        let fault_start = shared.now_us();
        match action {
            Action::Healthy => {}
            Action::Faults(faults) => {
                for (endpoint, fault) in faults {
                    issuer
                        .set_fault(endpoint, fault_body(fault, settings)?)
                        .await?;
                }
            }
            Action::Rotate => {
                rotate_and_adopt(
                    issuer,
                    api,
                    &probe,
                    shared,
                    keys,
                    &mut log,
                    index,
                    settings,
                    "rotated key (pre-published)",
                )
                .await?;
            }
            Action::RotateTwiceDuringOutage => {
                issuer
                    .set_fault("jwks", json!({"type": "status", "code": 503}))
                    .await?;
                // The first rotation's key was published as next long before: the api has it
                // although the issuer is down, which is what pre-publication is for.
                rotate_and_adopt(
                    issuer,
                    api,
                    &probe,
                    shared,
                    keys,
                    &mut log,
                    index,
                    settings,
                    "rotated key (pre-published, issuer down)",
                )
                .await?;
                let retire_us = shared.now_us();
                issuer.rotate().await?;
                retire_unpublished(issuer, keys, retire_us).await?;
                let (kid, scoped, unscoped) = issuer.mint_pair().await?;
                let key = register(keys, &kid, &scoped);
                issuer.clear_faults().await?;
                // From here the api can learn the new key; it was never served to it before.
                let servable = Instant::now();
                log.fault_windows.push((fault_start, shared.now_us()));
                let event = wait_for(&probe, api, &scoped, 200, servable, settings).await;
                finish_adoption(
                    shared,
                    keys,
                    &mut log,
                    index,
                    key,
                    scoped,
                    unscoped,
                    event,
                    "rotated key (never served before)",
                    settings,
                );
            }
            Action::RevokePrevious => {
                let previous = issuer.admin(reqwest::Method::GET, "keys", None).await?["previous"]
                    .as_str()
                    .map(str::to_owned);
                let retire_us = shared.now_us();
                let sent = Instant::now();
                issuer.revoke_previous().await?;
                retire_unpublished(issuer, keys, retire_us).await?;
                let revoked = previous.and_then(|kid| keys.iter().find(|k| k.kid == kid));
                if let Some(KeyInfo {
                    kid,
                    known_us: Some(_),
                    token: Some(token),
                    ..
                }) = revoked
                {
                    // A token the api accepted until now: how soon is it refused? The next
                    // refresh drops the key, and one comes within the max age (background) or
                    // one cooldown (the unknown-kid flood), whichever is first.
                    let mut event = wait_for(&probe, api, token, 401, sent, settings).await;
                    event.bound = settings.cache_max_age + settings.cooldown + SLACK;
                    event.phase = index;
                    event.what = "revoked key refused";
                    event.kid = kid.clone();
                    log.key_events.push(event);
                }
            }
        }
        // The valid stream gets fresh tokens every second, so verifications keep happening
        // (not only token-cache hits) while the issuer misbehaves.
        while Instant::now() < phase_end {
            let left = phase_end.saturating_duration_since(Instant::now());
            tokio::time::sleep(Duration::from_secs(1).min(left)).await;
            if Instant::now() >= phase_end {
                break;
            }
            if let Ok((kid, scoped, unscoped)) = issuer.mint_pair().await {
                log.tokens_minted += 2;
                let active = shared.active();
                if keys[active.key].kid == kid {
                    shared.set_active(Active {
                        key: active.key,
                        scoped,
                        unscoped,
                    });
                }
            }
        }
        if let Action::Faults(_) = action {
            issuer.clear_faults().await?;
            log.fault_windows.push((fault_start, shared.now_us()));
        }
        let end_counts = issuer.counts().await?;
        let end_us = shared.now_us();
        log.phases.push(PhaseLog {
            name,
            start_us: boundary_us,
            end_us,
            counts_start: counts,
            counts_end: end_counts,
        });
        counts = end_counts;
        boundary_us = end_us;
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(log)
}

/// Extra time every latency bound allows: the probe's pace, the fetch itself and scheduling on
/// a shared 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

/// The JSON of a fault; [`SLOW`] becomes a latency a second above the api's fetch timeout.
fn fault_body(fault: &str, settings: Settings) -> Result<Value> {
    if fault == SLOW {
        let ms = (settings.http_timeout + Duration::from_secs(1)).as_millis() as u64;
        return Ok(json!({"type": "latency", "ms": ms}));
    }
    Ok(serde_json::from_str(fault)?)
}

/// The registry index of `kid`, added if new, with a token signed by it.
fn register(keys: &mut Vec<KeyInfo>, kid: &str, token: &str) -> usize {
    if let Some(index) = keys.iter().position(|k| k.kid == kid) {
        return index;
    }
    keys.push(KeyInfo {
        kid: kid.to_owned(),
        known_us: None,
        retired_us: None,
        token: Some(token.to_owned()),
    });
    keys.len() - 1
}

/// Marks every key the issuer no longer publishes as retired at `at_us` (when the change was
/// sent), so no request answered after that counts against the api.
async fn retire_unpublished(issuer: &Issuer, keys: &mut [KeyInfo], at_us: u64) -> Result<()> {
    let published = issuer.published().await?;
    for key in keys.iter_mut() {
        if key.retired_us.is_none() && !published.contains(&key.kid) {
            key.retired_us = Some(at_us);
        }
    }
    Ok(())
}

/// Rotates once, mints tokens of the new current key and adopts them once the api accepts one.
#[allow(clippy::too_many_arguments)]
async fn rotate_and_adopt(
    issuer: &Issuer,
    api: &str,
    probe: &reqwest::Client,
    shared: &Shared,
    keys: &mut Vec<KeyInfo>,
    log: &mut ScriptLog,
    phase: usize,
    settings: Settings,
    what: &'static str,
) -> Result<()> {
    let retire_us = shared.now_us();
    issuer.rotate().await?;
    let rotated = Instant::now();
    retire_unpublished(issuer, keys, retire_us).await?;
    let (kid, scoped, unscoped) = issuer.mint_pair().await?;
    let key = register(keys, &kid, &scoped);
    let event = wait_for(probe, api, &scoped, 200, rotated, settings).await;
    finish_adoption(
        shared, keys, log, phase, key, scoped, unscoped, event, what, settings,
    );
    Ok(())
}

/// Records the event; if the key was accepted, marks it known and gives its tokens to the load.
#[allow(clippy::too_many_arguments)]
fn finish_adoption(
    shared: &Shared,
    keys: &mut [KeyInfo],
    log: &mut ScriptLog,
    phase: usize,
    key: usize,
    scoped: String,
    unscoped: String,
    mut event: KeyEvent,
    what: &'static str,
    settings: Settings,
) {
    event.phase = phase;
    event.what = what;
    event.kid = keys[key].kid.clone();
    // A key the api has never seen must come with the first refetch an unknown kid may cause:
    // within one cooldown (plus slack) of the moment the issuer could serve it.
    event.bound = settings.cooldown + SLACK;
    if event.latency.is_some() {
        keys[key].known_us = Some(shared.now_us());
        shared.set_active(Active {
            key,
            scoped,
            unscoped,
        });
    }
    log.key_events.push(event);
}

/// Sends `token` to `/api/private` every 50 ms until it gets `want`, for at most three
/// cooldowns plus a fetch timeout and the slack (so a slow answer is measured, not cut off).
async fn wait_for(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    want: u16,
    from: Instant,
    settings: Settings,
) -> KeyEvent {
    let limit = settings.cooldown * 3 + settings.cache_max_age + settings.http_timeout + SLACK;
    let mut seen: Vec<(u16, u64)> = Vec::new();
    let mut latency = None;
    while from.elapsed() < limit {
        let status = match client
            .get(format!("{api}/api/private"))
            .bearer_auth(token)
            .send()
            .await
        {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        match seen.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += 1,
            None => seen.push((status, 1)),
        }
        if status == want {
            latency = Some(from.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    KeyEvent {
        phase: 0,
        what: "",
        kid: String::new(),
        latency,
        bound: Duration::ZERO,
        seen,
    }
}
