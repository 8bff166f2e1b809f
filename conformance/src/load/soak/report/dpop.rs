//! The DPoP part of the verdict: the figures of each replay-store outage (DPoP answers and
//! latencies while Redis was down, how bearer traffic and `/api/public` fared meanwhile, how
//! soon DPoP was served again after the restart and replays refused again), and the checks on
//! DPoP traffic over the whole run.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::checks::{Check, all_of, examples, none_failed};
use super::figures::{PhaseStats, ProbeSummary, percentile};
use super::judge::{Judge, RECOVERY_BOUND, Tally};
use crate::load::soak::dpop::Refusal;
use crate::load::soak::script::{Outage, ScriptLog};
use crate::load::soak::traffic::{Kind, Record};

/// The slowest a DPoP request may be answered while the store is down: the store's 500 ms
/// deadline per proof, plus a margin for a shared 2-core machine.
pub const DOWN_ANSWER_BOUND: Duration = Duration::from_millis(1_000);

/// One outage of the replay store, as the report shows it.
#[derive(Debug, Default, Serialize)]
pub struct OutageSummary {
    /// The phase's index in the run.
    pub phase: usize,
    /// From the kill's reaping to the restart, in seconds.
    pub down_s: f64,
    /// From the restart to the new server's first `PONG`.
    pub start_ms: f64,
    /// DPoP requests sent and answered while the store was down, by status (0: no answer).
    pub dpop_statuses: BTreeMap<u16, u64>,
    /// Of those, 503 `replay_store_unavailable` with `Retry-After`.
    pub dpop_store_down: u64,
    /// Their median latency.
    pub dpop_p50_ms: f64,
    /// Their 99th percentile latency.
    pub dpop_p99_ms: f64,
    /// The slowest of them.
    pub dpop_max_ms: f64,
    /// Of them, answered after [`DOWN_ANSWER_BOUND`] while no stall excuses it.
    pub dpop_slow: u64,
    /// Bearer-token and no-token requests meanwhile.
    pub others_sent: u64,
    /// Valid bearer-token requests judged meanwhile.
    pub bearer_judged: u64,
    /// Requests meanwhile, bearer or none, answered otherwise than the contract says (their
    /// count in the JSON summary).
    #[serde(serialize_with = "count")]
    pub others_wrong: Vec<Record>,
    /// Of those, 5xx nothing excuses.
    pub others_5xx: u64,
    /// `/api/public` probes that failed in the phase while no stall excuses it.
    pub probe_failures: usize,
    /// From the new server's first `PONG` to the first DPoP 200 sent after the restart.
    pub first_200_ms: Option<f64>,
    /// From the same to the end of the last 503 to a DPoP request sent after the restart.
    pub last_503_ms: Option<f64>,
    /// Replays sent after the recovery bound, in the phase, of a request the new store
    /// accepted.
    pub replays_after: u64,
    /// Of those, refused 401 `invalid_dpop_proof` as replays.
    pub replays_after_refused: u64,
}

impl OutageSummary {
    /// The figures of `outage` from the run's `records`, its phase ending at `phase_end_us`.
    pub fn new(
        outage: &Outage,
        records: &[Record],
        judge: &Judge<'_>,
        probe: &ProbeSummary,
        phase_end_us: u64,
    ) -> Self {
        let down: Vec<&Record> = records
            .iter()
            .filter(|r| r.sent_us >= outage.down_us && r.done_us <= outage.restart_us)
            .collect();
        let (dpop, others): (Vec<&Record>, Vec<&Record>) =
            down.into_iter().partition(|r| r.kind.is_dpop());
        let others: Vec<Record> = others.into_iter().copied().collect();
        let tally = Tally::new(&others, judge);
        let mut summary = OutageSummary {
            phase: outage.phase,
            down_s: (outage.restart_us - outage.down_us) as f64 / 1e6,
            start_ms: (outage.answering_us - outage.restart_us) as f64 / 1e3,
            others_sent: others.len() as u64,
            bearer_judged: tally.valid.total,
            others_5xx: tally.server_errors.len() as u64,
            // A judged valid request answered 5xx is in both lists: counted once.
            others_wrong: [tally.valid.failures, tally.others.failures]
                .concat()
                .into_iter()
                .chain(tally.server_errors.into_iter().filter(|r| !judge.judged(r)))
                .collect(),
            probe_failures: probe
                .failures
                .iter()
                .filter(|f| f.phase == outage.phase)
                .count(),
            ..OutageSummary::default()
        };
        summary.add_down_dpop(&dpop, judge);
        summary.add_recovery(outage, records, judge, phase_end_us);
        summary
    }

    /// The DPoP requests sent and answered while the store was down.
    fn add_down_dpop(&mut self, dpop: &[&Record], judge: &Judge<'_>) {
        let mut latencies = Vec::new();
        for record in dpop {
            *self.dpop_statuses.entry(record.status).or_insert(0) += 1;
            if record.status == 503 && record.refusal == Refusal::StoreDown {
                self.dpop_store_down += 1;
            }
            let latency = record.done_us - record.sent_us;
            if latency > DOWN_ANSWER_BOUND.as_micros() as u64
                && !judge.in_stall(record.sent_us, record.done_us)
            {
                self.dpop_slow += 1;
            }
            latencies.push(latency);
        }
        latencies.sort_unstable();
        self.dpop_p50_ms = percentile(&latencies, 50.0) / 1e3;
        self.dpop_p99_ms = percentile(&latencies, 99.0) / 1e3;
        self.dpop_max_ms = latencies.last().copied().unwrap_or(0) as f64 / 1e3;
    }

    /// The DPoP requests sent from the restart to the phase's end.
    fn add_recovery(
        &mut self,
        outage: &Outage,
        records: &[Record],
        judge: &Judge<'_>,
        phase_end_us: u64,
    ) {
        let back = outage.answering_us;
        let since_back_ms = |at_us: u64| at_us.saturating_sub(back) as f64 / 1e3;
        let mut after: Vec<&Record> = records
            .iter()
            .filter(|r| r.kind.is_dpop() && r.sent_us >= outage.restart_us)
            .filter(|r| r.sent_us <= phase_end_us)
            .collect();
        after.sort_by_key(|r| r.sent_us);
        let fresh = after.iter().filter(|r| r.kind != Kind::PrivateDpopReplay);
        self.first_200_ms = fresh
            .clone()
            .find(|r| r.status == 200)
            .map(|r| since_back_ms(r.done_us));
        self.last_503_ms = fresh
            .filter(|r| r.status == 503)
            .map(|r| since_back_ms(r.done_us))
            .reduce(f64::max);
        let recovered_us = back + RECOVERY_BOUND.as_micros() as u64;
        for replay in after.iter().filter(|r| {
            r.kind == Kind::PrivateDpopReplay
                && r.sent_us > recovered_us
                && judge.dpop_judged(r)
                && !judge.forgotten(r)
        }) {
            self.replays_after += 1;
            if replay.status == 401 && replay.refusal == Refusal::Replayed {
                self.replays_after_refused += 1;
            }
        }
    }
}

/// The outages of `script`, summed up.
pub fn outages(
    script: &ScriptLog,
    records: &[Record],
    judge: &Judge<'_>,
    probe: &ProbeSummary,
) -> Vec<OutageSummary> {
    script
        .outages
        .iter()
        .map(|outage| {
            let end_us = script
                .phases
                .get(outage.phase)
                .map_or(u64::MAX, |phase| phase.end_us);
            OutageSummary::new(outage, records, judge, probe, end_us)
        })
        .collect()
}

/// DPoP requests get their right answer (see [`Judge::dpop_right`]) all run long.
pub fn answers(tally: &Tally) -> Check {
    none_failed(
        "every DPoP request gets its answer: 200 with a fresh proof, 401 invalid_dpop_proof to a replay, 503 replay_store_unavailable only while the store is down",
        &tally.dpop,
        "judged DPoP requests answered otherwise",
        &format!(
            "; {} documented 503 while the replay store was down or coming back",
            tally.replay_store_503
        ),
    )
}

/// In every phase, replays are sent and each is refused as a replay.
pub fn replays(phases: &[PhaseStats]) -> Check {
    let short: Vec<String> = phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.replays_judged == 0 || p.replays_refused < p.replays_judged)
        .map(|(i, p)| {
            let (refused, judged) = (p.replays_refused, p.replays_judged);
            format!("phase {i} ({}): {refused} of {judged}", p.name)
        })
        .collect();
    let total: u64 = phases.iter().map(|p| p.replays_judged).sum();
    let refused: u64 = phases.iter().map(|p| p.replays_refused).sum();
    Check {
        name: "a replayed proof is refused 401 invalid_dpop_proof in every phase the store answers",
        passed: !phases.is_empty() && short.is_empty(),
        detail: format!(
            "{refused} of {total} replays refused as replays (the store answering, the original accepted by it), in {} phases{}",
            phases.len(),
            if short.is_empty() {
                String::new()
            } else {
                format!("; short: {}", short.join(", "))
            }
        ),
    }
}

/// While the store is down, every DPoP request is refused 503 with `Retry-After`, promptly.
pub fn while_down(outages: &[OutageSummary]) -> Check {
    let bound = DOWN_ANSWER_BOUND.as_millis();
    per_outage(
        "while the replay store is down, every DPoP request is answered 503 replay_store_unavailable with Retry-After within 1 s (never 200, never 500)",
        outages,
        |o| {
            let sent: u64 = o.dpop_statuses.values().sum();
            let passed = sent > 0 && o.dpop_store_down == sent && o.dpop_slow == 0;
            let detail = format!(
                "phase {}: down {:.1} s, {sent} DPoP requests ({}), {} of them 503 replay_store_unavailable with Retry-After; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} over {bound} ms outside stalls",
                o.phase,
                o.down_s,
                statuses_text(&o.dpop_statuses),
                o.dpop_store_down,
                o.dpop_p50_ms,
                o.dpop_p99_ms,
                o.dpop_max_ms,
                o.dpop_slow,
            );
            (passed, detail)
        },
    )
}

/// While the store is down, bearer requests and `/api/public` keep their answers.
pub fn service_while_down(outages: &[OutageSummary]) -> Check {
    per_outage(
        "while the replay store is down, bearer requests and /api/public keep their answers",
        outages,
        |o| {
            let passed = o.bearer_judged > 0 && o.others_wrong.is_empty() && o.probe_failures == 0;
            let detail = format!(
                "phase {}: {} bearer and no-token requests ({} judged valid-token), {} answered otherwise ({} 5xx), {} /api/public probes failed{}",
                o.phase,
                o.others_sent,
                o.bearer_judged,
                o.others_wrong.len(),
                o.others_5xx,
                o.probe_failures,
                examples(&o.others_wrong),
            );
            (passed, detail)
        },
    )
}

/// After the restart, DPoP requests are served again within [`RECOVERY_BOUND`], and replays
/// refused again.
pub fn recovery(outages: &[OutageSummary]) -> Check {
    let bound_ms = RECOVERY_BOUND.as_secs_f64() * 1e3;
    per_outage(
        "after the replay store restarts, DPoP requests are 200 again within 2 s and replays are refused again",
        outages,
        |o| {
            let served = o.first_200_ms.is_some_and(|ms| ms <= bound_ms)
                && o.last_503_ms.is_none_or(|ms| ms <= bound_ms);
            let refused = o.replays_after > 0 && o.replays_after_refused == o.replays_after;
            let first = o.first_200_ms.map_or("no DPoP 200".to_owned(), |v| {
                format!("the first DPoP 200 after {v:.0} ms")
            });
            let last = o.last_503_ms.map_or("no 503 since".to_owned(), |v| {
                format!("the last 503 after {v:.0} ms")
            });
            let detail = format!(
                "phase {}: the new redis-server answered PING {:.0} ms after its start; from then, {first}, {last} (bound {bound_ms:.0} ms); {} of {} later replays refused as replays",
                o.phase, o.start_ms, o.replays_after_refused, o.replays_after,
            );
            (served && refused, detail)
        },
    )
}

/// A check that holds when `judge` passes every outage (and at least one happened); its
/// detail is theirs, outage by outage.
fn per_outage(
    name: &'static str,
    outages: &[OutageSummary],
    judge: impl Fn(&OutageSummary) -> (bool, String),
) -> Check {
    let verdicts: Vec<(bool, String)> = outages.iter().map(judge).collect();
    all_of(name, &verdicts, "the replay store was never down")
}

/// Writes `records` as their count.
fn count<S: serde::Serializer>(records: &[Record], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(records.len() as u64)
}

/// Statuses and counts, as `503×120 200×1`.
pub fn statuses_text(statuses: &BTreeMap<u16, u64>) -> String {
    let parts: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An outage in which every DPoP request got the store's 503 promptly, bearer traffic was
    /// served, and DPoP recovered at once; changed by `change`.
    fn outage(change: impl FnOnce(&mut OutageSummary)) -> [OutageSummary; 1] {
        let mut outage = OutageSummary {
            dpop_statuses: BTreeMap::from([(503, 40)]),
            dpop_store_down: 40,
            others_sent: 300,
            bearer_judged: 100,
            first_200_ms: Some(3.0),
            last_503_ms: Some(1.0),
            replays_after: 5,
            replays_after_refused: 5,
            ..OutageSummary::default()
        };
        change(&mut outage);
        [outage]
    }

    #[test]
    fn a_dpop_request_served_or_slow_while_the_store_is_down_fails_the_outage_check() {
        let accepted = outage(|o| {
            o.dpop_statuses.insert(200, 1);
        });

        assert!(while_down(&outage(|_| {})).passed);
        assert!(!while_down(&accepted).passed);
        assert!(!while_down(&outage(|o| o.dpop_slow = 1)).passed);
        assert!(!while_down(&[]).passed, "no outage proves nothing");
    }

    #[test]
    fn bearer_traffic_failing_or_the_probe_failing_while_the_store_is_down_fails() {
        let failed = Record {
            phase: 0,
            kind: Kind::PrivateScoped,
            key: Some(0),
            status: 500,
            refusal: Refusal::None,
            replay_of_us: None,
            sent_us: 1,
            done_us: 2,
        };

        assert!(service_while_down(&outage(|_| {})).passed);
        assert!(!service_while_down(&outage(|o| o.others_wrong.push(failed))).passed);
        assert!(!service_while_down(&outage(|o| o.probe_failures = 1)).passed);
    }

    #[test]
    fn a_late_recovery_or_an_accepted_replay_after_the_restart_fails() {
        assert!(recovery(&outage(|_| {})).passed);
        for broken in [
            outage(|o| o.last_503_ms = Some(2_500.0)),
            outage(|o| o.first_200_ms = None),
            outage(|o| o.replays_after_refused = 4),
        ] {
            let check = recovery(&broken);
            assert!(!check.passed, "{}", check.detail);
        }
    }
}
