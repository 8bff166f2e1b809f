//! The soak's verdict: per-phase figures, each check judged from the records with a stated
//! bound, the printed table and the JSON summary.
//!
//! - [`judge`]: which requests are judged and which failures a fault or a stall excuses.
//! - [`figures`]: per-phase counts and latencies, stalls, probe and memory summaries.
//! - [`connections`]: new clients' figures per phase, and the attacker phases' summaries.
//! - [`dpop`]: the replay store's outages' figures, and the checks on DPoP traffic.
//! - [`checks`]: the other checks, one function each.
//! - [`table`] and [`json`]: the two ways the report is written out.

mod checks;
mod connections;
mod dpop;
mod figures;
mod json;
mod judge;
mod table;

use serde::Serialize;

use self::checks::Check;
use self::connections::AttackSummary;
use self::dpop::OutageSummary;
use self::figures::{MemorySummary, PhaseStats, ProbeSummary, StallSummary};
use self::judge::{Judge, Tally};
use super::Settings;
use super::keys::{KeyEvent, Keys};
use super::monitors::Observed;
use super::script::{Plan, ScriptLog};
use super::traffic::Record;

/// Discovery fetches: the api caches the metadata after its first success, so the second
/// figure is expected to stay 0.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct DiscoveryFetches {
    before_first_phase: u64,
    during_run: u64,
}

impl DiscoveryFetches {
    fn new(script: &ScriptLog) -> Self {
        match (script.phases.first(), script.phases.last()) {
            (Some(first), Some(last)) => DiscoveryFetches {
                before_first_phase: first.counts_start.discovery,
                during_run: last.counts_end.discovery - first.counts_start.discovery,
            },
            _ => DiscoveryFetches::default(),
        }
    }
}

/// The whole run's verdict.
pub struct Report {
    settings: Settings,
    plan: Plan,
    phases: Vec<PhaseStats>,
    checks: Vec<Check>,
    stalls: StallSummary,
    key_events: Vec<KeyEvent>,
    tokens_minted: u64,
    discovery: DiscoveryFetches,
    probe: ProbeSummary,
    memory: MemorySummary,
    attacks: Vec<AttackSummary>,
    outages: Vec<OutageSummary>,
}

impl Report {
    /// Judges the run: the load's `records`, what the `script` did with the `keys`, and what
    /// the monitors `observed`.
    pub fn build(
        plan: &Plan,
        settings: Settings,
        records: &[Record],
        script: &ScriptLog,
        keys: &Keys,
        observed: &Observed,
    ) -> Report {
        let judge = Judge::new(settings, script, keys, &observed.stalls);
        let tally = Tally::new(records, &judge);
        let phases: Vec<PhaseStats> = script
            .phases
            .iter()
            .enumerate()
            .map(|(index, log)| {
                PhaseStats::new(index, log, records, &observed.fresh, &judge, settings)
            })
            .collect();
        let stalls = StallSummary::new(&observed.stalls, script);
        let probe = ProbeSummary::new(&observed.probe, &judge);
        let memory = MemorySummary::new(&observed.memory);
        let attacks: Vec<AttackSummary> = script
            .attacks
            .iter()
            .map(|log| AttackSummary::new(log, &tally, &observed.memory))
            .collect();
        let outages = dpop::outages(script, records, &judge, &probe);
        let checks = vec![
            checks::valid_tokens(&tally),
            checks::server_errors(&tally, &stalls),
            checks::contract(&tally),
            checks::cooldown(script, &phases, settings),
            checks::rotation(&script.key_events),
            checks::revocation(&script.key_events),
            checks::memory(&memory),
            checks::probe(&probe, &stalls),
            checks::new_clients_under_attack(&attacks, &phases),
            checks::service_under_attack(&attacks, &phases),
            dpop::answers(&tally),
            dpop::replays(&phases),
            dpop::while_down(&outages),
            dpop::service_while_down(&outages),
            dpop::recovery(&outages),
        ];
        Report {
            settings,
            plan: *plan,
            phases,
            checks,
            stalls,
            key_events: script.key_events.clone(),
            tokens_minted: script.tokens_minted,
            discovery: DiscoveryFetches::new(script),
            probe,
            memory,
            attacks,
            outages,
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.failed() == 0
    }

    /// How many checks failed.
    fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }
}
