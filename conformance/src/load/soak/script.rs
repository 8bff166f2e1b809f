//! The fault script: which state the mock issuer is in during each phase, how keys are rotated
//! and revoked without ever sending a valid-looking token the api cannot yet know (the rule is in
//! [`super::keys`]), the phase in which an attacker holds every connection slot of the api
//! ([`super::attacker`]), the phase in which the api's DPoP replay store (Redis) is killed and
//! restarted ([`super::redis`]), and the issuer's own counts of what the api fetched.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mock_issuer::client::IssuerClient;
use mock_issuer::{Endpoint, Fault, RequestCounts};

use super::Settings;
use super::attacker::{AttackFigures, Attacker, Target};
use super::dpop::DpopClient;
use super::keys::{KeyChange, KeyEvent, Keys, Minter, Poll, TokenPair, Wait, seen_text};
use super::redis::ReplayStoreServer;
use super::traffic::{self, Shared};

/// A fault a phase sets, as the script states it.
#[derive(Debug, Clone, Copy)]
pub enum PhaseFault {
    /// This fault, as it is.
    Fixed(Fault),
    /// A latency a second above the api's fetch timeout ([`Settings::http_timeout`]), known
    /// only at run time: every fetch the api makes times out.
    SlowerThanTimeout,
}

impl PhaseFault {
    /// The fault to set, with the api's `settings`.
    fn resolve(self, settings: Settings) -> Fault {
        match self {
            PhaseFault::Fixed(fault) => fault,
            PhaseFault::SlowerThanTimeout => {
                Fault::Latency(settings.http_timeout + Duration::from_secs(1))
            }
        }
    }
}

/// What the script does at the start of a phase: to the issuer, or to the api's connections.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Nothing: every endpoint answers normally.
    Healthy,
    /// These faults, as `(endpoint, fault)`, for the whole phase.
    Faults(&'static [(Endpoint, PhaseFault)]),
    /// One rotation: the pre-published next key becomes current.
    Rotate,
    /// Two rotations while the JWKS is down, then the JWKS comes back: the new current key was
    /// never served to the api, so only a refresh after an unknown `kid` can bring it.
    RotateTwiceDuringOutage,
    /// The previous key stops being published.
    RevokePrevious,
    /// The issuer stays healthy while an attacker holds as many connections as the api serves
    /// at once, on top of the load's, for the whole phase.
    HoldEverySlot,
    /// The issuer stays healthy while the api's replay store is killed (SIGKILL) at the start
    /// and restarted, empty, on the same port halfway through.
    ReplayStoreDown,
}

/// One phase of the script.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Its name in the table.
    pub name: &'static str,
    /// What it does to the issuer.
    pub action: Action,
}

/// An endpoint that answers 503, as an Auth0 tenant in an outage does.
const DOWN: PhaseFault = PhaseFault::Fixed(Fault::Status(503));

/// Both discovery documents down.
const DISCOVERY_DOWN: [(Endpoint, PhaseFault); 2] = [
    (Endpoint::OpenidConfiguration, DOWN),
    (Endpoint::OauthAuthorizationServer, DOWN),
];

/// The script, in order; a long run cycles through it again.
pub const SCRIPT: &[Phase] = &[
    // The run's first phase doubles as the memory check's warm-up.
    Phase {
        name: "healthy",
        action: Action::Healthy,
    },
    // Second, so that whatever the attack leaves in the api's heap is in the memory check's
    // first third, and a long run that repeats it shows whether it leaks.
    Phase {
        name: "every slot held",
        action: Action::HoldEverySlot,
    },
    Phase {
        name: "jwks 503",
        action: Action::Faults(&[(Endpoint::Jwks, DOWN)]),
    },
    Phase {
        name: "jwks 500",
        action: Action::Faults(&[(Endpoint::Jwks, PhaseFault::Fixed(Fault::Status(500)))]),
    },
    Phase {
        name: "jwks slow",
        action: Action::Faults(&[(Endpoint::Jwks, PhaseFault::SlowerThanTimeout)]),
    },
    Phase {
        name: "jwks garbage",
        action: Action::Faults(&[(Endpoint::Jwks, PhaseFault::Fixed(Fault::MalformedBody))]),
    },
    Phase {
        name: "jwks empty",
        action: Action::Faults(&[(Endpoint::Jwks, PhaseFault::Fixed(Fault::EmptyKeySet))]),
    },
    Phase {
        name: "rotate",
        action: Action::Rotate,
    },
    Phase {
        name: "rotate x2 in outage",
        action: Action::RotateTwiceDuringOutage,
    },
    Phase {
        name: "revoke previous",
        action: Action::RevokePrevious,
    },
    Phase {
        name: "replay store down",
        action: Action::ReplayStoreDown,
    },
    Phase {
        name: "discovery down",
        action: Action::Faults(&DISCOVERY_DOWN),
    },
    Phase {
        name: "issuer down",
        action: Action::Faults(&[DISCOVERY_DOWN[0], DISCOVERY_DOWN[1], (Endpoint::Jwks, DOWN)]),
    },
    Phase {
        name: "recovered",
        action: Action::Healthy,
    },
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

    /// Phase `index` of the run.
    pub fn phase(&self, index: usize) -> Phase {
        SCRIPT[index % SCRIPT.len()]
    }
}

/// The issuer's request counts the report uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// JWKS fetches.
    pub jwks: u64,
    /// Discovery fetches, both well-known documents.
    pub discovery: u64,
}

impl Counts {
    /// How often the api has fetched each document so far.
    async fn read(issuer: &IssuerClient) -> Result<Self> {
        let counts: RequestCounts = issuer.requests().await?;
        Ok(Counts {
            jwks: counts.count(Endpoint::Jwks),
            discovery: counts.count(Endpoint::OpenidConfiguration)
                + counts.count(Endpoint::OauthAuthorizationServer),
        })
    }
}

/// What one phase did, for the report.
#[derive(Debug)]
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
    /// What the attacker did, in each phase that held every slot.
    pub attacks: Vec<AttackLog>,
    /// Each time the replay store was killed and restarted.
    pub outages: Vec<Outage>,
}

/// One outage of the replay store: the instants (µs since the origin) the judge reasons with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outage {
    /// The phase's index in the run.
    pub phase: usize,
    /// When the kill was sent: a request in flight from here may meet a store that is gone.
    pub kill_us: u64,
    /// When the killed server had been reaped: its port is closed, and every DPoP request
    /// sent from here must be refused 503 until the restart.
    pub down_us: u64,
    /// When the new server was started: from here the api may reach it again.
    pub restart_us: u64,
    /// When the new server answered the driver's `PING`.
    pub answering_us: u64,
}

/// What the attacker did in one phase.
#[derive(Debug)]
pub struct AttackLog {
    /// The phase's index in the run.
    pub phase: usize,
    /// The attacker's own counts.
    pub figures: AttackFigures,
}

/// Extra time every latency bound allows: the probe's pace, the fetch itself and scheduling on
/// a shared 2-core machine.
const SLACK: Duration = Duration::from_secs(1);

/// Gets the first tokens and waits until the api accepts them: the first key becomes known.
/// Then one DPoP request with a fresh proof must be accepted: the replay store answers.
pub async fn warm_up(
    issuer: &IssuerClient,
    api: &str,
    dpop: DpopClient,
    t0: Instant,
) -> Result<(Shared, Keys)> {
    issuer.clear_faults().await?;
    let pair = Minter::new(issuer, &dpop).pair().await?;
    let mut keys = Keys::default();
    let key = keys.register(&pair.kid, &pair.scoped);
    let poll = Poll::new(api, Duration::from_millis(200), Duration::from_secs(30))?;
    let wait = poll.until(&pair.scoped, 200, Instant::now()).await;
    let shared = Shared::new(t0, pair.into_active(key), dpop);
    if wait.latency.is_none() {
        bail!(
            "the api never accepted a fresh token from a healthy issuer (answers: {})",
            seen_text(&wait.seen)
        );
    }
    keys.mark_known(key, shared.now_us());
    let url = format!("{api}/api/private");
    let token = &shared.active().dpop;
    let proof = shared.dpop().proof(&url, token).unwrap_or_default();
    let client = traffic::client(Duration::from_secs(5))?;
    let status = traffic::status_of(traffic::dpop_request(&client, &url, token, &proof)).await;
    if status != 200 {
        bail!(
            "the api answered {status} to a DPoP request with a fresh proof: does its DPOP_REPLAY_STORE name the soak's Redis?"
        );
    }
    Ok((shared, keys))
}

/// What the script acts on: the issuer, the api and the api's replay store.
pub struct Servers<'a> {
    /// The mock issuer's client.
    pub issuer: &'a IssuerClient,
    /// The api's base URL, without a trailing slash.
    pub api: &'a str,
    /// The api's DPoP replay store.
    pub store: &'a mut ReplayStoreServer,
}

/// Runs the phases until `deadline`, then stops the load and the monitors.
pub async fn run(
    plan: &Plan,
    servers: Servers<'_>,
    shared: &Shared,
    keys: &mut Keys,
    settings: Settings,
    deadline: Instant,
) -> Result<ScriptLog> {
    let result = match Runner::new(servers, shared, keys, settings) {
        Ok(mut runner) => runner.phases(plan, deadline).await.map(|()| runner.log),
        Err(error) => Err(error),
    };
    // Workers stop at the deadline anyway; an early error stops them now.
    shared.stop();
    result
}

/// The script at work: the issuer, the api, the state it shares with the load, the key
/// registry, the replay store, and what it has seen so far.
struct Runner<'a> {
    issuer: &'a IssuerClient,
    minter: Minter<'a>,
    /// Polls for a key change: every 50 ms, for at most three cooldowns plus the max age, a
    /// fetch timeout and the slack (so a slow answer is measured, not cut off).
    poll: Poll,
    shared: &'a Shared,
    keys: &'a mut Keys,
    /// The api's DPoP replay store, which one phase kills and restarts.
    store: &'a mut ReplayStoreServer,
    settings: Settings,
    /// The api's socket, for the attacker.
    target: Target,
    /// The attacker, while a phase holds every slot.
    attacker: Option<Attacker>,
    log: ScriptLog,
}

impl<'a> Runner<'a> {
    fn new(
        servers: Servers<'a>,
        shared: &'a Shared,
        keys: &'a mut Keys,
        settings: Settings,
    ) -> Result<Self> {
        let limit = settings.cooldown * 3 + settings.cache_max_age + settings.http_timeout + SLACK;
        let Servers { issuer, api, store } = servers;
        Ok(Runner {
            issuer,
            minter: Minter::new(issuer, shared.dpop()),
            poll: Poll::new(api, Duration::from_millis(50), limit)?,
            shared,
            keys,
            store,
            settings,
            target: Target::of(api)?,
            attacker: None,
            log: ScriptLog::default(),
        })
    }

    /// Runs each phase of `plan` in turn until `deadline`.
    async fn phases(&mut self, plan: &Plan, deadline: Instant) -> Result<()> {
        let start = Instant::now();
        let mut counts = Counts::read(self.issuer).await?;
        let mut start_us = self.shared.now_us();
        for index in 0..plan.phases {
            let phase = plan.phase(index);
            let end = (start + plan.phase_length * (index as u32 + 1)).min(deadline);
            self.shared.set_phase(index);
            println!(
                "[{:>6.1} s] phase {index}: {}",
                self.shared.now_s(),
                phase.name
            );
            let fault_start = self.shared.now_us();
            self.begin(index, phase.action, end).await?;
            self.refresh_tokens_until(end).await;
            if let Some(attacker) = self.attacker.take() {
                let figures = attacker.finish().await;
                self.log.attacks.push(AttackLog {
                    phase: index,
                    figures,
                });
            }
            if let Action::Faults(_) = phase.action {
                self.issuer.clear_faults().await?;
                self.log
                    .fault_windows
                    .push((fault_start, self.shared.now_us()));
            }
            let end_counts = Counts::read(self.issuer).await?;
            let end_us = self.shared.now_us();
            self.log.phases.push(PhaseLog {
                name: phase.name,
                start_us,
                end_us,
                counts_start: counts,
                counts_end: end_counts,
            });
            (counts, start_us) = (end_counts, end_us);
            if Instant::now() >= deadline {
                break;
            }
        }
        Ok(())
    }

    /// Does phase `index`'s `action` to the issuer (or the api's connections, or its replay
    /// store), the phase ending at `end`.
    async fn begin(&mut self, index: usize, action: Action, end: Instant) -> Result<()> {
        match action {
            Action::Healthy => {}
            Action::Faults(faults) => {
                for &(endpoint, fault) in faults {
                    let fault = fault.resolve(self.settings);
                    self.issuer.set_fault(endpoint, fault).await?;
                }
            }
            Action::Rotate => {
                self.rotate_and_adopt(index, KeyChange::RotatedPrePublished)
                    .await?;
            }
            Action::RotateTwiceDuringOutage => self.rotate_twice_during_outage(index).await?,
            Action::RevokePrevious => self.revoke_previous(index).await?,
            Action::HoldEverySlot => {
                let slots = self.settings.max_connections;
                self.attacker = Some(Attacker::start(&self.target, slots));
            }
            Action::ReplayStoreDown => self.replay_store_down(index, end).await?,
        }
        Ok(())
    }

    /// Kills the replay store now and restarts it halfway to `end`, keeping the valid stream's
    /// tokens fresh meanwhile. The load's replays are forgotten at both moments: a proof the
    /// killed store accepted may be accepted once more by the new one, and is not replayed.
    async fn replay_store_down(&mut self, phase: usize, end: Instant) -> Result<()> {
        let kill_us = self.shared.now_us();
        let halfway = Instant::now() + end.saturating_duration_since(Instant::now()) / 2;
        self.shared.replayable().forget();
        self.store.kill();
        let down_us = self.shared.now_us();
        self.refresh_tokens_until(halfway).await;
        self.shared.replayable().forget();
        let restart_us = self.shared.now_us();
        self.store.restart().await?;
        self.log.outages.push(Outage {
            phase,
            kill_us,
            down_us,
            restart_us,
            answering_us: self.shared.now_us(),
        });
        Ok(())
    }

    /// The valid stream gets fresh tokens every second until `end`, so verifications keep
    /// happening (not only token-cache hits) while the issuer misbehaves.
    async fn refresh_tokens_until(&mut self, end: Instant) {
        while Instant::now() < end {
            let left = end.saturating_duration_since(Instant::now());
            tokio::time::sleep(Duration::from_secs(1).min(left)).await;
            if Instant::now() >= end {
                break;
            }
            let Ok(pair) = self.minter.pair().await else {
                continue;
            };
            self.log.tokens_minted += 2;
            let active = self.shared.active();
            if self
                .keys
                .get(active.key)
                .is_some_and(|key| key.kid == pair.kid)
            {
                self.shared.set_active(pair.into_active(active.key));
            }
        }
    }

    /// Rotates once and retires the keys the issuer stops publishing; when it was done.
    async fn rotate(&mut self) -> Result<Instant> {
        let retire_us = self.shared.now_us();
        let published = self.issuer.rotate().await?;
        let rotated = Instant::now();
        self.keys.retire_unpublished(&published, retire_us);
        Ok(rotated)
    }

    /// Tokens of the issuer's current key, and that key's registry index.
    async fn mint_current(&mut self) -> Result<(usize, TokenPair)> {
        let pair = self.minter.pair().await?;
        let key = self.keys.register(&pair.kid, &pair.scoped);
        Ok((key, pair))
    }

    /// Rotates once, mints tokens of the new current key and adopts them once the api accepts
    /// one.
    async fn rotate_and_adopt(&mut self, phase: usize, change: KeyChange) -> Result<()> {
        let rotated = self.rotate().await?;
        let (key, pair) = self.mint_current().await?;
        let wait = self.poll.until(&pair.scoped, 200, rotated).await;
        self.adopt(phase, change, key, pair, wait);
        Ok(())
    }

    /// Two rotations while the JWKS answers 503, then the JWKS comes back with a current key
    /// the api was never served.
    async fn rotate_twice_during_outage(&mut self, phase: usize) -> Result<()> {
        let fault_start = self.shared.now_us();
        self.issuer
            .set_fault(Endpoint::Jwks, Fault::Status(503))
            .await?;
        // The first rotation's key was published as next long before: the api has it although
        // the issuer is down, which is what pre-publication is for.
        self.rotate_and_adopt(phase, KeyChange::RotatedPrePublishedIssuerDown)
            .await?;
        self.rotate().await?;
        let (key, pair) = self.mint_current().await?;
        self.issuer.clear_faults().await?;
        // From here the api can learn the new key; it was never served to it before.
        let servable = Instant::now();
        self.log
            .fault_windows
            .push((fault_start, self.shared.now_us()));
        let wait = self.poll.until(&pair.scoped, 200, servable).await;
        self.adopt(phase, KeyChange::RotatedNeverServed, key, pair, wait);
        Ok(())
    }

    /// Records a new key's acceptance; if it was accepted, marks the key known and gives its
    /// tokens to the load.
    fn adopt(&mut self, phase: usize, change: KeyChange, key: usize, pair: TokenPair, wait: Wait) {
        self.log.key_events.push(KeyEvent {
            phase,
            change,
            kid: pair.kid.clone(),
            latency: wait.latency,
            // A key the api has never seen must come with the first refetch an unknown kid may
            // cause: within one cooldown (plus slack) of the moment the issuer could serve it.
            bound: self.settings.cooldown + SLACK,
            seen: wait.seen,
        });
        if wait.latency.is_some() {
            self.keys.mark_known(key, self.shared.now_us());
            self.shared.set_active(pair.into_active(key));
        }
    }

    /// Stops publishing the previous key and measures how soon the api refuses a token of it
    /// that it accepted until now.
    async fn revoke_previous(&mut self, phase: usize) -> Result<()> {
        let previous = self.issuer.keys().await?.previous;
        let retire_us = self.shared.now_us();
        let sent = Instant::now();
        let published = self.issuer.revoke_previous().await?;
        self.keys.retire_unpublished(&published, retire_us);
        let Some(revoked) = previous
            .and_then(|kid| self.keys.find(&kid))
            .filter(|key| key.known_us.is_some())
        else {
            return Ok(());
        };
        let (kid, token) = (revoked.kid.clone(), revoked.token.clone());
        let wait = self.poll.until(&token, 401, sent).await;
        self.log.key_events.push(KeyEvent {
            phase,
            change: KeyChange::RevokedRefused,
            kid,
            latency: wait.latency,
            // The next refresh drops the key, and one comes within the max age (background) or
            // one cooldown (the unknown-kid flood), whichever is first.
            bound: self.settings.cache_max_age + self.settings.cooldown + SLACK,
            seen: wait.seen,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_phase_answers_only_after_the_apis_fetch_timeout() {
        let settings = Settings {
            cooldown: Duration::from_secs(2),
            cache_max_age: Duration::from_secs(5),
            http_timeout: Duration::from_secs(1),
            max_connections: 128,
        };

        let fault = PhaseFault::SlowerThanTimeout.resolve(settings);

        assert_eq!(fault, Fault::Latency(Duration::from_secs(2)));
    }

    #[test]
    fn a_run_shorter_than_the_script_is_refused_and_a_long_one_repeats_it() {
        assert!(Plan::new(Duration::from_secs(139)).is_err());
        assert!(Plan::new(Duration::from_secs(140)).is_ok());

        let plan = Plan::new(Duration::from_secs(600)).expect("long enough");

        assert_eq!(plan.phases, 30);
        assert_eq!(plan.phase_length, Duration::from_secs(20));
        assert_eq!(plan.phase(SCRIPT.len()).name, SCRIPT[0].name);
    }
}
