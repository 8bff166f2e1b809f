//! The figures the report is made of: per-phase counts and latencies, the machine's stalls,
//! the probe's and the memory's summaries, and the arithmetic they share (the connection
//! slots' figures are in [`super::connections`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::connections::NewConnections;
use super::judge::{Judge, StoreState};
use crate::load::soak::Settings;
use crate::load::soak::dpop::Refusal;
use crate::load::soak::monitors::{Control, FreshProbe, MemorySample, Probe, ProbeFailure, Stall};
use crate::load::soak::script::{PhaseLog, ScriptLog};
use crate::load::soak::traffic::{Kind, Record};

/// One phase's figures.
#[derive(Debug, Default, Serialize)]
pub struct PhaseStats {
    /// Its name in the script.
    pub name: &'static str,
    /// How long it lasted.
    pub seconds: f64,
    /// Load requests sent in it.
    pub requests: u64,
    /// Their answers, by status (0: no answer).
    pub statuses: BTreeMap<u16, u64>,
    /// Their median latency.
    pub p50_ms: f64,
    /// Their 99th percentile latency.
    pub p99_ms: f64,
    /// The valid-token requests' p99 alone: they must not wait for the issuer.
    pub valid_p99_ms: f64,
    /// Valid-token requests judged (see [`Judge::judged`]).
    pub valid_judged: u64,
    /// Of those, the ones that got another answer than the contract's.
    pub valid_failed: u64,
    /// DPoP requests judged (see [`Judge::dpop_judged`]).
    pub dpop_judged: u64,
    /// Of those, the ones that got another answer than their right one.
    pub dpop_failed: u64,
    /// Replays sent while the store answered, of a request it accepted.
    pub replays_judged: u64,
    /// Of those, refused 401 `invalid_dpop_proof` as replays.
    pub replays_refused: u64,
    /// JWKS fetches the issuer counted in it.
    pub jwks_fetches: u64,
    /// The most the cooldown allows in its length ([`fetch_bound`]).
    pub jwks_fetch_bound: u64,
    /// Discovery fetches the issuer counted in it.
    pub discovery_fetches: u64,
    /// How new clients fared in it: `GET /api/public` on a connection of their own.
    pub new_connections: NewConnections,
}

impl PhaseStats {
    /// The figures of phase `index`, which `log` describes, from the run's `records` and
    /// `fresh`-connection probes.
    pub fn new(
        index: usize,
        log: &PhaseLog,
        records: &[Record],
        fresh: &[FreshProbe],
        judge: &Judge<'_>,
        settings: Settings,
    ) -> Self {
        let in_phase: Vec<&Record> = records.iter().filter(|r| r.phase == index).collect();
        let mut statuses = BTreeMap::new();
        for record in &in_phase {
            *statuses.entry(record.status).or_insert(0) += 1;
        }
        let latencies = sorted_latencies(in_phase.iter().copied());
        let valid_latencies =
            sorted_latencies(in_phase.iter().copied().filter(|r| r.kind.is_valid()));
        let judged: Vec<&Record> = in_phase
            .iter()
            .copied()
            .filter(|r| judge.judged(r))
            .collect();
        let seconds = (log.end_us - log.start_us) as f64 / 1e6;
        let dpop: Vec<&Record> = in_phase
            .iter()
            .copied()
            .filter(|r| judge.dpop_judged(r))
            .collect();
        let replays: Vec<&Record> = dpop
            .iter()
            .copied()
            .filter(|r| r.kind == Kind::PrivateDpopReplay && !judge.forgotten(r))
            .filter(|r| judge.store_state(r) == StoreState::Up)
            .collect();
        PhaseStats {
            name: log.name,
            seconds,
            requests: in_phase.len() as u64,
            statuses,
            p50_ms: percentile(&latencies, 50.0) / 1e3,
            p99_ms: percentile(&latencies, 99.0) / 1e3,
            valid_p99_ms: percentile(&valid_latencies, 99.0) / 1e3,
            valid_judged: judged.len() as u64,
            valid_failed: judged
                .iter()
                .filter(|r| r.status != r.kind.expected())
                .count() as u64,
            dpop_judged: dpop.len() as u64,
            dpop_failed: dpop.iter().filter(|r| !judge.dpop_right(r)).count() as u64,
            replays_judged: replays.len() as u64,
            replays_refused: replays
                .iter()
                .filter(|r| r.status == 401 && r.refusal == Refusal::Replayed)
                .count() as u64,
            jwks_fetches: log.counts_end.jwks - log.counts_start.jwks,
            jwks_fetch_bound: fetch_bound(seconds, settings.cooldown),
            discovery_fetches: log.counts_end.discovery - log.counts_start.discovery,
            new_connections: NewConnections::new(index, fresh, judge),
        }
    }

    /// Answers with `status`.
    pub fn count(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// The latencies of `records`, in microseconds, sorted.
fn sorted_latencies<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<u64> {
    let mut latencies: Vec<u64> = records.map(|r| r.done_us - r.sent_us).collect();
    latencies.sort_unstable();
    latencies
}

/// The nearest-rank percentile of sorted values; 0 for none.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

/// The most JWKS fetches an interval of `seconds` may hold when fetches are at least
/// `cooldown` apart: ⌊L/c⌋ + 1, plus one because the driver reads the issuer's counts at
/// instants that jitter against the api's own clock.
pub fn fetch_bound(seconds: f64, cooldown: Duration) -> u64 {
    (seconds / cooldown.as_secs_f64()).floor() as u64 + 2
}

/// The run's length, first phase to last, in microseconds; 0 if no phase ran.
pub fn run_us(script: &ScriptLog) -> u64 {
    match (script.phases.first(), script.phases.last()) {
        (Some(first), Some(last)) => last.end_us - first.start_us,
        _ => 0,
    }
}

/// The machine stalls both controls saw.
#[derive(Debug, Serialize)]
pub struct StallSummary {
    /// Stalls seen.
    pub count: usize,
    /// Of those, by the driver's timer.
    pub by_driver_timer: usize,
    /// Of those, by the issuer's `/healthz`.
    pub by_issuer_healthz: usize,
    /// Their union, in seconds.
    pub seconds: f64,
    /// The longest one.
    pub longest_ms: f64,
    /// Over [`MAX_STALL_SHARE`] of the run: nothing that stalls excuse can be judged.
    pub too_busy_to_judge: bool,
}

/// The share of the run that may be stalled before the run is no longer judged as passing.
const MAX_STALL_SHARE: f64 = 0.05;

impl StallSummary {
    /// Sums up `stalls` over the run `script` describes.
    pub fn new(stalls: &[Stall], script: &ScriptLog) -> Self {
        let union = union_us(stalls);
        let run_us = run_us(script);
        let seen_by = |control| stalls.iter().filter(|s| s.seen_by == control).count();
        StallSummary {
            count: stalls.len(),
            by_driver_timer: seen_by(Control::DriverTimer),
            by_issuer_healthz: seen_by(Control::IssuerHealthz),
            seconds: union as f64 / 1e6,
            longest_ms: stalls
                .iter()
                .map(|s| s.end_us - s.start_us)
                .max()
                .unwrap_or(0) as f64
                / 1e3,
            too_busy_to_judge: run_us > 0 && union as f64 > MAX_STALL_SHARE * run_us as f64,
        }
    }
}

/// The length of the union of the stalls' spans, in microseconds: overlaps count once.
fn union_us(stalls: &[Stall]) -> u64 {
    let mut spans: Vec<(u64, u64)> = stalls.iter().map(|s| (s.start_us, s.end_us)).collect();
    spans.sort_unstable();
    let mut union = 0u64;
    let mut current: Option<(u64, u64)> = None;
    for (start, end) in spans {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                union += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    union + current.map_or(0, |(s, e)| e - s)
}

/// The `/api/public` probe's figures.
#[derive(Debug, Serialize)]
pub struct ProbeSummary {
    /// Probes sent.
    pub sent: u64,
    /// The median latency of the answered probes.
    pub p50_ms: f64,
    /// The slowest answered probe.
    pub max_ms: f64,
    /// Probes that failed while both controls answered promptly: the api's.
    pub failures: Vec<ProbeFailure>,
    /// Probes that failed while a control saw the machine stall: they say nothing about the
    /// api.
    pub failures_during_stalls: Vec<ProbeFailure>,
}

impl ProbeSummary {
    /// Sums up `probe`, telling its failures during `stalls` apart.
    pub fn new(probe: &Probe, judge: &Judge<'_>) -> Self {
        let mut latencies = probe.latencies_us.clone();
        latencies.sort_unstable();
        let (failures_during_stalls, failures) = probe
            .failures
            .iter()
            .cloned()
            .partition(|failure| judge.probe_in_stall(failure));
        ProbeSummary {
            sent: probe.sent,
            p50_ms: percentile(&latencies, 50.0) / 1e3,
            max_ms: latencies.last().copied().unwrap_or(0) as f64 / 1e3,
            failures,
            failures_during_stalls,
        }
    }
}

/// The api's memory over the run.
#[derive(Debug, Serialize)]
pub struct MemorySummary {
    /// The median of the first third after the warm-up phase.
    pub first_third_median_kib: Option<u64>,
    /// The median of the last third.
    pub last_third_median_kib: Option<u64>,
    /// How much the last third's median may exceed the first's.
    pub bound_kib: u64,
    /// The last third's own first and last sample: a leak keeps climbing there, while a step
    /// to a new high-water mark (more connections in a slow phase) stays level.
    pub last_third_first_and_last_kib: Option<(u64, u64)>,
    /// Every sample.
    pub samples: Vec<MemorySample>,
}

/// Memory may grow by this much, or by [`MEMORY_GROWTH_PERCENT`] of the first third's median if
/// that is more: allocator slack and a token cache still settling, not a leak. A leak of even
/// a few hundred bytes per request (over 40 000 requests a third) exceeds it.
const MEMORY_GROWTH_KIB: u64 = 4 * 1024;
/// See [`MEMORY_GROWTH_KIB`].
pub const MEMORY_GROWTH_PERCENT: u64 = 10;

impl MemorySummary {
    /// Sums up `samples`.
    pub fn new(samples: &[MemorySample]) -> Self {
        // The first phase (healthy) is the warm-up: it grows the heap to its working size, and
        // flatness is judged after it.
        let after = samples_after_warm_up(samples);
        let third = after.len() / 3;
        let (first, last) = if third >= 3 {
            (
                median(&after[..third]),
                median(&after[after.len() - third..]),
            )
        } else {
            (None, None)
        };
        let span = (third >= 3).then(|| {
            let tail = &after[after.len() - third..];
            (tail[0], tail[tail.len() - 1])
        });
        MemorySummary {
            first_third_median_kib: first,
            last_third_median_kib: last,
            bound_kib: memory_bound_kib(first),
            last_third_first_and_last_kib: span,
            samples: samples.to_vec(),
        }
    }

    /// The samples after the warm-up phase.
    pub fn judged_samples(&self) -> usize {
        samples_after_warm_up(&self.samples).len()
    }

    /// The highest sample.
    pub fn peak_kib(&self) -> Option<u64> {
        self.samples.iter().map(|s| s.rss_kib).max()
    }
}

/// How much the api's memory may grow from `base` KiB: [`MEMORY_GROWTH_KIB`], or
/// [`MEMORY_GROWTH_PERCENT`] of `base` if that is more.
pub fn memory_bound_kib(base: Option<u64>) -> u64 {
    base.map_or(MEMORY_GROWTH_KIB, |base| {
        MEMORY_GROWTH_KIB.max(base * MEMORY_GROWTH_PERCENT / 100)
    })
}

/// The readings of `samples` after the first phase, in KiB.
fn samples_after_warm_up(samples: &[MemorySample]) -> Vec<u64> {
    samples
        .iter()
        .filter(|s| s.phase > 0)
        .map(|s| s.rss_kib)
        .collect()
}

/// The median of `values` (the upper one of an even count); `None` for none.
fn median(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

/// A KiB figure in MiB, or `n/a`.
pub fn mib(value: Option<u64>) -> String {
    value.map_or("n/a".to_owned(), |v| {
        format!("{:.1} MiB", v as f64 / 1024.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_rank_percentile_picks_a_real_value() {
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        assert_eq!(percentile(&values, 50.0), 5.0);
        assert_eq!(percentile(&values, 99.0), 10.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn fetches_a_cooldown_apart_fit_the_bound() {
        // Fetches at 0, 2, 4, …, 10 s: six in ten seconds with a two-second cooldown.
        assert!(6 <= fetch_bound(10.0, Duration::from_secs(2)));
        // One more per cooldown would not.
        assert!(11 > fetch_bound(10.0, Duration::from_secs(2)));
    }

    #[test]
    fn overlapping_stalls_count_once_and_too_many_make_the_run_unjudgeable() {
        let stall = |start_us, end_us| Stall {
            start_us,
            end_us,
            seen_by: Control::DriverTimer,
        };
        let script = ScriptLog {
            phases: vec![PhaseLog {
                name: "healthy",
                start_us: 0,
                end_us: 10_000_000,
                counts_start: Default::default(),
                counts_end: Default::default(),
            }],
            ..ScriptLog::default()
        };

        let few = StallSummary::new(&[stall(0, 200_000), stall(100_000, 300_000)], &script);
        let many = StallSummary::new(&[stall(0, 600_000)], &script);

        assert!((few.seconds - 0.3).abs() < 1e-9);
        assert!(!few.too_busy_to_judge);
        assert!(many.too_busy_to_judge);
    }
}
