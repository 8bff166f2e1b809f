//! The checks: each one judged from the run's figures against a stated bound, with the figures
//! behind its verdict.

use std::time::Duration;

use serde::Serialize;

use super::connections::{AttackSummary, KIB_PER_HELD_CONNECTION};
use super::figures::{
    MEMORY_GROWTH_PERCENT, MemorySummary, PhaseStats, ProbeSummary, StallSummary, fetch_bound, mib,
    run_us,
};
use super::judge::{Counted, Tally};
use crate::load::soak::Settings;
use crate::load::soak::keys::{KeyChange, KeyEvent};
use crate::load::soak::monitors::{PROBE_INTERVAL, PROBE_TIMEOUT};
use crate::load::soak::script::ScriptLog;
use crate::load::soak::traffic::Record;

/// One check's verdict.
#[derive(Debug, Serialize)]
pub struct Check {
    /// What is checked, as a sentence.
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// Valid tokens of a cached key get the contract's answer, whatever the issuer does.
pub fn valid_tokens(tally: &Tally) -> Check {
    none_failed(
        "no request with a valid token fails while its key is cached",
        &tally.valid,
        "judged valid-token requests got another answer than the contract's",
        "",
    )
}

/// A check that holds when `counted` holds requests and none of them failed; its detail says
/// how many failed of how many `what`, then `more`, then a few examples.
pub fn none_failed(name: &'static str, counted: &Counted, what: &str, more: &str) -> Check {
    Check {
        name,
        passed: counted.total > 0 && counted.failures.is_empty(),
        detail: format!(
            "{} of {} {what}{more}{}",
            counted.failures.len(),
            counted.total,
            examples(&counted.failures)
        ),
    }
}

/// No 5xx but the documented 503, and that only when the issuer could not give a usable key.
pub fn server_errors(tally: &Tally, stalls: &StallSummary) -> Check {
    Check {
        name: "no 5xx but the documented 503, and 503 only when no usable key could be had or the replay store could not answer",
        // Excuses count only while stalls are rare enough for the run to mean something.
        passed: tally.server_errors.is_empty()
            && !(stalls.too_busy_to_judge && tally.stall_503 > 0),
        detail: format!(
            "{} undocumented 5xx; {} documented 503 (unknown kid while the issuer was faulted), {} (DPoP while the replay store was down), {} while the machine stalled{}",
            tally.server_errors.len(),
            tally.documented_503,
            tally.replay_store_503,
            tally.stall_503,
            examples(&tally.server_errors)
        ),
    }
}

/// Requests without a valid token get the contract's answer.
pub fn contract(tally: &Tally) -> Check {
    Check {
        name: "every other answer is the contract's (no token, bad tokens, unknown kid, public)",
        passed: tally.others.failures.is_empty(),
        detail: format!(
            "{} of {} requests answered otherwise{}",
            tally.others.failures.len(),
            tally.others.total,
            examples(&tally.others.failures)
        ),
    }
}

/// The unknown-`kid` flood costs the issuer at most one JWKS fetch per cooldown, in every
/// phase and over the run, and really drives refetches.
pub fn cooldown(script: &ScriptLog, phases: &[PhaseStats], settings: Settings) -> Check {
    let name = "JWKS fetches obey the cooldown under the unknown-kid flood";
    let (Some(first), Some(last)) = (script.phases.first(), script.phases.last()) else {
        return Check {
            name,
            passed: false,
            detail: "no phase ran".to_owned(),
        };
    };
    let over: Vec<String> = phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.jwks_fetches > p.jwks_fetch_bound)
        .map(|(i, p)| {
            let (fetches, bound) = (p.jwks_fetches, p.jwks_fetch_bound);
            format!("phase {i} ({}): {fetches} > {bound}", p.name)
        })
        .collect();
    let seconds = run_us(script) as f64 / 1e6;
    let total = last.counts_end.jwks - first.counts_start.jwks;
    let bound = fetch_bound(seconds, settings.cooldown);
    // The flood must really drive refetches, or the bound holds vacuously: at least one fetch
    // per two cooldowns over the run.
    let floor = (seconds / (2.0 * settings.cooldown.as_secs_f64())).floor() as u64;
    Check {
        name,
        passed: over.is_empty() && total <= bound && total >= floor,
        detail: format!(
            "{total} JWKS fetches in {seconds:.1} s with a {} s cooldown: at most {bound} allowed (⌊t/c⌋+2), at least {floor} expected from the flood; every phase within its bound{}",
            settings.cooldown.as_secs_f64(),
            if over.is_empty() {
                String::new()
            } else {
                format!(" EXCEPT {}", over.join(", "))
            }
        ),
    }
}

/// The key changes of one sort the script measured.
struct Measured<'a> {
    events: Vec<&'a KeyEvent>,
    /// The ones that came after their bound, or never.
    late: String,
    /// The slowest latency.
    slowest: String,
}

impl<'a> Measured<'a> {
    fn of(events: &'a [KeyEvent], sort: impl Fn(KeyChange) -> bool) -> Self {
        let events: Vec<&KeyEvent> = events.iter().filter(|e| sort(e.change)).collect();
        let late: Vec<String> = events
            .iter()
            .filter(|e| e.is_late())
            .map(|e| format!("{} in phase {}", e.change.name(), e.phase))
            .collect();
        let slowest = events
            .iter()
            .filter_map(|e| e.latency)
            .max()
            .map_or("none".to_owned(), |l| format!("{:.3} s", l.as_secs_f64()));
        Measured {
            late: if late.is_empty() {
                "none".to_owned()
            } else {
                late.join(", ")
            },
            slowest,
            events,
        }
    }

    fn on_time(&self) -> bool {
        !self.events.is_empty() && self.events.iter().all(|e| !e.is_late())
    }
}

/// Every rotated key is accepted within the cooldown, one never served before among them.
pub fn rotation(events: &[KeyEvent]) -> Check {
    let rotations = Measured::of(events, KeyChange::is_rotation);
    let never_served = rotations
        .events
        .iter()
        .any(|e| e.change == KeyChange::RotatedNeverServed);
    Check {
        name: "a rotated key is accepted within the cooldown",
        passed: rotations.on_time() && never_served,
        detail: format!(
            "{} rotations measured (at least one of a key never served before), slowest {}; late: {}",
            rotations.events.len(),
            rotations.slowest,
            rotations.late
        ),
    }
}

/// A revoked key's tokens are refused within the max age plus the cooldown.
pub fn revocation(events: &[KeyEvent]) -> Check {
    let revocations = Measured::of(events, |change| !change.is_rotation());
    Check {
        name: "a revoked key is refused within the max age plus the cooldown",
        passed: revocations.on_time(),
        detail: format!(
            "{} revocations measured, slowest {}; late: {}",
            revocations.events.len(),
            revocations.slowest,
            revocations.late
        ),
    }
}

/// The api's memory does not climb after the warm-up.
pub fn memory(memory: &MemorySummary) -> Check {
    let name = "memory stays flat";
    let (Some(first), Some(last)) = (memory.first_third_median_kib, memory.last_third_median_kib)
    else {
        return Check {
            name,
            passed: false,
            detail: format!(
                "only {} samples after warm-up: was /proc/PID/status readable?",
                memory.judged_samples()
            ),
        };
    };
    Check {
        name,
        passed: last <= first + memory.bound_kib,
        detail: format!(
            "VmRSS median {} → {} ({:+} KiB; bound +{} KiB = max(4 MiB, {MEMORY_GROWTH_PERCENT}%)); peak {}; within the last third {:+} KiB",
            mib(Some(first)),
            mib(Some(last)),
            last as i64 - first as i64,
            memory.bound_kib,
            mib(memory.peak_kib()),
            memory
                .last_third_first_and_last_kib
                .map_or(0, |(from, to)| to as i64 - from as i64),
        ),
    }
}

/// The api answers its cheapest route promptly throughout.
pub fn probe(probe: &ProbeSummary, stalls: &StallSummary) -> Check {
    let first = probe
        .failures
        .iter()
        .chain(&probe.failures_during_stalls)
        .next()
        .map(|f| format!("; first at {:.1} s (phase {}): {}", f.at_s, f.phase, f.what))
        .unwrap_or_default();
    Check {
        name: "the api never stops answering /api/public",
        passed: probe.sent > 0 && probe.failures.is_empty() && !stalls.too_busy_to_judge,
        detail: format!(
            "{} probes every {} ms with a {} ms timeout: {} failed, {} more during a machine stall; p50 {:.2} ms, max {:.2} ms{first}{}",
            probe.sent,
            PROBE_INTERVAL.as_millis(),
            PROBE_TIMEOUT.as_millis(),
            probe.failures.len(),
            probe.failures_during_stalls.len(),
            probe.p50_ms,
            probe.max_ms,
            if stalls.too_busy_to_judge {
                "; the machine stalled too long to judge: run again on a quieter one"
            } else {
                ""
            }
        ),
    }
}

/// The slowest a new client's 99th percentile may be while every slot is held.
const NEW_CLIENT_P99: Duration = Duration::from_secs(1);

/// New clients get a prompt 200 while the attacker holds every slot, and it really held them.
pub fn new_clients_under_attack(attacks: &[AttackSummary], phases: &[PhaseStats]) -> Check {
    let name = "a new client is answered within 1 s while an attacker holds every connection slot";
    per_attack(name, attacks, phases, |attack, stats| {
        let bound_ms = NEW_CLIENT_P99.as_secs_f64() * 1e3;
        let new = &stats.new_connections;
        let attacker = &attack.attacker;
        let opened = attacker.total(|way| way.opened);
        let passed = new.answered > 0
            && new.failures.is_empty()
            && new.p99_ms < bound_ms
            && opened >= attacker.slots as u64;
        let ways: Vec<String> = attacker
            .ways
            .iter()
            .map(|way| format!("{} {}", way.slots, way.way))
            .collect();
        let first = new
            .failures
            .first()
            .map(|f| format!("; first at {:.1} s: {}", f.at_s, f.what))
            .unwrap_or_default();
        let detail = format!(
            "phase {}: {} new connections, {} without a 200 ({} more during a machine stall), time to a 200 p50 {:.2} ms, p99 {:.2} ms (bound {bound_ms:.0} ms), max {:.2} ms; the attacker held {} connections on top of the load's ({}), opened {opened}, the server closed {}{first}",
            attack.phase,
            new.sent,
            new.failures.len(),
            new.during_stalls,
            new.p50_ms,
            new.p99_ms,
            new.max_ms,
            attacker.slots,
            ways.join(", "),
            attacker.total(|way| way.closed_by_server),
        );
        (passed, detail)
    })
}

/// While the attacker holds every slot, the load is served as in any healthy phase and the
/// api's memory grows by no more than the held connections cost.
pub fn service_under_attack(attacks: &[AttackSummary], phases: &[PhaseStats]) -> Check {
    let name = "while every slot is held, valid tokens keep their answers, no 5xx, memory bounded";
    per_attack(name, attacks, phases, |attack, stats| {
        let passed = stats.valid_judged > 0
            && stats.valid_failed == 0
            && attack.server_errors == 0
            && attack.memory_bounded();
        let growth = match (attack.memory_before_kib, attack.memory_peak_kib) {
            (Some(before), Some(peak)) => format!("{:+} KiB", peak as i64 - before as i64),
            _ => "not sampled".to_owned(),
        };
        let detail = format!(
            "phase {}: {} of {} judged valid-token requests got the contract's answer, {} load requests unanswered, {} undocumented 5xx; VmRSS peak {} before, {} during ({growth}; bound +{} KiB: the memory check's, plus {KIB_PER_HELD_CONNECTION} KiB a held connection)",
            attack.phase,
            stats.valid_judged - stats.valid_failed,
            stats.valid_judged,
            stats.count(0),
            attack.server_errors,
            mib(attack.memory_before_kib),
            mib(attack.memory_peak_kib),
            attack.memory_bound_kib,
        );
        (passed, detail)
    })
}

/// A check that holds when `judge` passes every attacker phase (and at least one ran); its
/// detail is theirs, phase by phase.
fn per_attack(
    name: &'static str,
    attacks: &[AttackSummary],
    phases: &[PhaseStats],
    judge: impl Fn(&AttackSummary, &PhaseStats) -> (bool, String),
) -> Check {
    let verdicts: Vec<(bool, String)> = attacks
        .iter()
        .map(|attack| match phases.get(attack.phase) {
            Some(stats) => judge(attack, stats),
            None => (false, format!("phase {}: no figures", attack.phase)),
        })
        .collect();
    all_of(name, &verdicts, "no phase held every slot")
}

/// A check that holds when every one of `verdicts` (`(passed, detail)`, one per occasion) does
/// and there was at least one; its detail is theirs, or `none` when there was none.
pub fn all_of(name: &'static str, verdicts: &[(bool, String)], none: &str) -> Check {
    let details: Vec<&str> = verdicts.iter().map(|(_, detail)| detail.as_str()).collect();
    Check {
        name,
        passed: !verdicts.is_empty() && verdicts.iter().all(|(passed, _)| *passed),
        detail: if details.is_empty() {
            none.to_owned()
        } else {
            details.join("; ")
        },
    }
}

/// The first few of `records`, for a detail line.
pub fn examples(records: &[Record]) -> String {
    if records.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = records.iter().take(3).map(describe).collect();
    format!("; e.g. {}", shown.join("; "))
}

/// One request, as a failure's example.
fn describe(record: &Record) -> String {
    format!(
        "{} -> {}{} at {:.1} s (phase {})",
        record.kind.name(),
        record.status,
        record.refusal.name(),
        record.sent_us as f64 / 1e6,
        record.phase
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::soak::attacker::{AttackFigures, WayFigures};
    use crate::load::soak::monitors::{MemorySample, ProbeFailure};
    use crate::load::soak::report::connections::NewConnections;

    /// Phase 0 held by an attacker that opened `opened` connections for its 3 slots, and
    /// grew the api's memory by 2,000 KiB.
    fn attack(opened: u64) -> AttackSummary {
        AttackSummary {
            phase: 0,
            attacker: AttackFigures {
                slots: 3,
                ways: vec![WayFigures {
                    way: "slow-loris",
                    slots: 3,
                    opened,
                    closed_by_server: 0,
                    refused: 0,
                    answered_200: 0,
                    answered_other: 0,
                }],
            },
            server_errors: 0,
            memory_before_kib: Some(10_000),
            memory_peak_kib: Some(12_000),
            memory_bound_kib: 4_096,
        }
    }

    /// Phase 0, in which 40 new clients were answered with this p99 and `failures` more were
    /// not, and 100 valid-token requests were judged, `valid_failed` of them failing.
    fn phase(p99_ms: f64, failures: usize, valid_failed: u64) -> PhaseStats {
        let failure = ProbeFailure {
            at_s: 1.0,
            phase: 0,
            what: "no answer within 5000 ms".to_owned(),
        };
        PhaseStats {
            valid_judged: 100,
            valid_failed,
            new_connections: NewConnections {
                sent: 40 + failures as u64,
                answered: 40,
                p50_ms: 1.0,
                p99_ms,
                max_ms: p99_ms,
                failures: vec![failure; failures],
                during_stalls: 0,
            },
            ..PhaseStats::default()
        }
    }

    #[test]
    fn new_clients_kept_waiting_or_unanswered_fail_the_attack_check() {
        let prompt = new_clients_under_attack(&[attack(3)], &[phase(3.0, 0, 0)]);
        let failing = [
            new_clients_under_attack(&[attack(3)], &[phase(1_500.0, 0, 0)]),
            new_clients_under_attack(&[attack(3)], &[phase(3.0, 1, 0)]),
            // The attacker did not even open its slots: nothing was held.
            new_clients_under_attack(&[attack(2)], &[phase(3.0, 0, 0)]),
            new_clients_under_attack(&[], &[phase(3.0, 0, 0)]),
        ];

        assert!(prompt.passed, "{}", prompt.detail);
        for check in failing {
            assert!(!check.passed, "{}", check.detail);
        }
    }

    #[test]
    fn a_failed_valid_request_or_memory_past_its_bound_fails_the_service_check() {
        let grown = AttackSummary {
            memory_peak_kib: Some(20_000),
            ..attack(3)
        };

        let served = service_under_attack(&[attack(3)], &[phase(3.0, 0, 0)]);
        let one_failed = service_under_attack(&[attack(3)], &[phase(3.0, 0, 1)]);
        let leaked = service_under_attack(&[grown], &[phase(3.0, 0, 0)]);

        assert!(served.passed, "{}", served.detail);
        assert!(!one_failed.passed, "{}", one_failed.detail);
        assert!(!leaked.passed, "{}", leaked.detail);
    }

    #[test]
    fn memory_that_grows_past_the_bound_fails() {
        let samples: Vec<MemorySample> = (0..30)
            .map(|i| MemorySample {
                at_s: i as f64,
                phase: 1,
                rss_kib: 20_000 + i * 1_000,
            })
            .collect();

        let check = memory(&MemorySummary::new(&samples));

        assert!(!check.passed, "{}", check.detail);
    }
}
