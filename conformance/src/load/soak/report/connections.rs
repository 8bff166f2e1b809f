//! The figures about connection slots: how new clients fared in each phase (the
//! fresh-connection probe), and what happened while the attacker held every slot.

use serde::Serialize;

use super::figures::{memory_bound_kib, percentile};
use super::judge::{Judge, Tally};
use crate::load::soak::attacker::AttackFigures;
use crate::load::soak::monitors::{FRESH_TIMEOUT, FreshProbe, MemorySample, ProbeFailure};
use crate::load::soak::script::AttackLog;

/// The fresh-connection probes of one phase.
#[derive(Debug, Default, Serialize)]
pub struct NewConnections {
    /// Probes sent.
    pub sent: u64,
    /// Of those, answered 200.
    pub answered: u64,
    /// The median time to a 200, from connecting.
    pub p50_ms: f64,
    /// The 99th percentile of the same.
    pub p99_ms: f64,
    /// The slowest 200.
    pub max_ms: f64,
    /// Probes that got no 200 while both controls answered promptly: the api's.
    pub failures: Vec<ProbeFailure>,
    /// Probes in flight while a control saw the machine stall: left out of every figure but
    /// `sent`, as they say nothing about the api.
    pub during_stalls: u64,
}

impl NewConnections {
    /// Sums up the probes of `fresh` sent in phase `index`.
    pub fn new(index: usize, fresh: &[FreshProbe], judge: &Judge<'_>) -> Self {
        let mut summary = NewConnections::default();
        let mut latencies = Vec::new();
        for probe in fresh.iter().filter(|p| p.phase == index) {
            summary.sent += 1;
            let sent_us = (probe.at_s * 1e6) as u64;
            let waited_us = match &probe.outcome {
                Ok(latency_us) => *latency_us,
                Err(_) => FRESH_TIMEOUT.as_micros() as u64,
            };
            if judge.in_stall(sent_us, sent_us + waited_us) {
                summary.during_stalls += 1;
                continue;
            }
            match &probe.outcome {
                Ok(latency_us) => latencies.push(*latency_us),
                Err(what) => summary.failures.push(ProbeFailure {
                    at_s: probe.at_s,
                    phase: index,
                    what: what.clone(),
                }),
            }
        }
        latencies.sort_unstable();
        summary.answered = latencies.len() as u64;
        summary.p50_ms = percentile(&latencies, 50.0) / 1e3;
        summary.p99_ms = percentile(&latencies, 99.0) / 1e3;
        summary.max_ms = latencies.last().copied().unwrap_or(0) as f64 / 1e3;
        summary
    }
}

/// One phase in which the attacker held every slot.
#[derive(Debug, Serialize)]
pub struct AttackSummary {
    /// The phase's index in the run.
    pub phase: usize,
    /// The attacker's own counts: what it opened, what the server closed and answered.
    pub attacker: AttackFigures,
    /// The load's 5xx answers in the phase that nothing excuses (the issuer is healthy).
    pub server_errors: u64,
    /// The api's highest `VmRSS` in the phase before, in KiB.
    pub memory_before_kib: Option<u64>,
    /// Its highest `VmRSS` during the attack.
    pub memory_peak_kib: Option<u64>,
    /// How far the peak may exceed the phase before's: the memory check's bound plus
    /// [`KIB_PER_HELD_CONNECTION`] for each connection the attacker holds.
    pub memory_bound_kib: u64,
}

/// What the api may spend on a connection the attacker holds: a head buffer of hyper's (8 KiB,
/// growing with the head), an HTTP/2 connection's state and HPACK tables, a task and a socket;
/// rounded up. Memory for the connections is expected; memory beyond it is not.
pub const KIB_PER_HELD_CONNECTION: u64 = 64;

impl AttackSummary {
    /// The figures of the attack `log`, with the run's `tally` and memory `samples`.
    pub fn new(log: &AttackLog, tally: &Tally, samples: &[MemorySample]) -> Self {
        let peak_in = |phase: usize| {
            samples
                .iter()
                .filter(|s| s.phase == phase)
                .map(|s| s.rss_kib)
                .max()
        };
        let memory_before_kib = log.phase.checked_sub(1).and_then(peak_in);
        AttackSummary {
            phase: log.phase,
            attacker: log.figures.clone(),
            server_errors: tally
                .server_errors
                .iter()
                .filter(|r| r.phase == log.phase)
                .count() as u64,
            memory_before_kib,
            memory_peak_kib: peak_in(log.phase),
            memory_bound_kib: memory_bound_kib(memory_before_kib)
                + log.figures.slots as u64 * KIB_PER_HELD_CONNECTION,
        }
    }

    /// Whether the api's memory during the attack stayed within its bound (and was sampled).
    pub fn memory_bounded(&self) -> bool {
        match (self.memory_before_kib, self.memory_peak_kib) {
            (Some(before), Some(peak)) => peak <= before + self.memory_bound_kib,
            _ => false,
        }
    }
}
