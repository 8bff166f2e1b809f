//! The JSON summary written under `target/soak/`: the settings, the plan, every figure of the
//! table (the attacker's and the replay store's outages among them), every check, and the
//! api's memory samples.

use serde::Serialize;

use super::checks::Check;
use super::connections::AttackSummary;
use super::dpop::OutageSummary;
use super::figures::{MemorySummary, PhaseStats, ProbeSummary, StallSummary};
use super::{DiscoveryFetches, Report};
use crate::load::soak::keys::KeyEvent;

/// The summary, borrowing from the report.
#[derive(Serialize)]
pub struct Summary<'a> {
    settings: SettingsJson,
    plan: PlanJson,
    phases: &'a [PhaseStats],
    key_events: Vec<KeyEventJson<'a>>,
    tokens_minted: u64,
    machine_stalls: &'a StallSummary,
    discovery_fetches: DiscoveryFetches,
    probe: &'a ProbeSummary,
    memory: &'a MemorySummary,
    attacks: &'a [AttackSummary],
    replay_store_outages: &'a [OutageSummary],
    checks: &'a [Check],
    passed: usize,
    failed: usize,
}

/// The api's settings, durations in seconds.
#[derive(Serialize)]
struct SettingsJson {
    jwks_cooldown_s: f64,
    jwks_cache_max_age_s: f64,
    http_timeout_s: f64,
    max_connections: usize,
}

/// How the run was cut into phases.
#[derive(Serialize)]
struct PlanJson {
    phases: usize,
    phase_length_s: f64,
}

/// A key change, with its durations in seconds.
#[derive(Serialize)]
struct KeyEventJson<'a> {
    phase: usize,
    what: &'static str,
    kid: &'a str,
    latency_s: Option<f64>,
    bound_s: f64,
    /// `[status, count]` pairs.
    seen: &'a [(u16, u64)],
}

impl<'a> From<&'a KeyEvent> for KeyEventJson<'a> {
    fn from(event: &'a KeyEvent) -> Self {
        KeyEventJson {
            phase: event.phase,
            what: event.change.name(),
            kid: &event.kid,
            latency_s: event.latency.map(|l| l.as_secs_f64()),
            bound_s: event.bound.as_secs_f64(),
            seen: &event.seen,
        }
    }
}

impl Report {
    /// The JSON summary.
    pub fn summary(&self) -> Summary<'_> {
        let failed = self.failed();
        Summary {
            settings: SettingsJson {
                jwks_cooldown_s: self.settings.cooldown.as_secs_f64(),
                jwks_cache_max_age_s: self.settings.cache_max_age.as_secs_f64(),
                http_timeout_s: self.settings.http_timeout.as_secs_f64(),
                max_connections: self.settings.max_connections,
            },
            plan: PlanJson {
                phases: self.plan.phases,
                phase_length_s: self.plan.phase_length.as_secs_f64(),
            },
            phases: &self.phases,
            key_events: self.key_events.iter().map(KeyEventJson::from).collect(),
            tokens_minted: self.tokens_minted,
            machine_stalls: &self.stalls,
            discovery_fetches: self.discovery,
            probe: &self.probe,
            memory: &self.memory,
            attacks: &self.attacks,
            replay_store_outages: &self.outages,
            checks: &self.checks,
            passed: self.checks.len() - failed,
            failed,
        }
    }
}
