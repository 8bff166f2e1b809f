//! The soak's verdict: per-phase figures, each check judged from the records with a stated
//! bound, the printed table and the JSON summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Settings;
use crate::load::{self, MemorySample, Probe, Record, Stall};
use crate::script::{KeyInfo, Plan, ScriptLog};

/// One check's verdict.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked, as a sentence.
    pub name: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// One phase's figures.
#[derive(Debug, Clone)]
struct PhaseStats {
    name: &'static str,
    seconds: f64,
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    p50_ms: f64,
    p99_ms: f64,
    /// The valid-token requests' p99 alone: they must not wait for the issuer.
    valid_p99_ms: f64,
    valid_judged: u64,
    valid_failed: u64,
    jwks: u64,
    jwks_bound: u64,
    discovery: u64,
}

/// The whole run's verdict.
pub struct Report {
    settings: Settings,
    plan: Plan,
    phases: Vec<PhaseStats>,
    checks: Vec<Check>,
    stall: StallSummary,
    script: ScriptSummary,
    /// Discovery fetches before the first phase and during the run: the api caches the
    /// metadata after its first success, so the second is expected to stay 0.
    discovery: (u64, u64),
    probe: ProbeSummary,
    memory: MemorySummary,
}

struct ScriptSummary {
    key_events: Vec<Value>,
    key_lines: Vec<String>,
    tokens_minted: u64,
}

/// The machine stalls both controls saw.
struct StallSummary {
    count: usize,
    /// Their union, in seconds.
    seconds: f64,
    longest_ms: f64,
    by_driver: usize,
    by_issuer: usize,
    /// Over [`MAX_STALL_SHARE`] of the run: nothing that stalls excuse can be judged.
    too_busy: bool,
}

/// The share of the run that may be stalled before the run is no longer judged as passing.
const MAX_STALL_SHARE: f64 = 0.05;

fn stall_summary(stalls: &[Stall], script: &ScriptLog) -> StallSummary {
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
    if let Some((s, e)) = current {
        union += e - s;
    }
    let run_us = match (script.phases.first(), script.phases.last()) {
        (Some(first), Some(last)) => last.end_us - first.start_us,
        _ => 0,
    };
    StallSummary {
        count: stalls.len(),
        seconds: union as f64 / 1e6,
        longest_ms: stalls
            .iter()
            .map(|s| s.end_us - s.start_us)
            .max()
            .unwrap_or(0) as f64
            / 1e3,
        by_driver: stalls
            .iter()
            .filter(|s| s.seen_by == "driver timer")
            .count(),
        by_issuer: stalls
            .iter()
            .filter(|s| s.seen_by != "driver timer")
            .count(),
        too_busy: run_us > 0 && union as f64 > MAX_STALL_SHARE * run_us as f64,
    }
}

struct ProbeSummary {
    sent: u64,
    failures: Vec<(f64, usize, String)>,
    p50_ms: f64,
    max_ms: f64,
}

struct MemorySummary {
    samples: Vec<MemorySample>,
    /// The last third's own first and last sample: a leak keeps climbing there, while a step
    /// to a new high-water mark (more connections in a slow phase) stays level.
    last_third_span_kib: Option<(u64, u64)>,
    first_third_kib: Option<u64>,
    last_third_kib: Option<u64>,
    bound_kib: u64,
}

/// How far past a fault's end a refresh started during the fault may still fail a request: the
/// api's fetch timeout, plus this for scheduling.
const WINDOW_SLACK: Duration = Duration::from_millis(500);

/// Memory may grow by this much, or by [`MEMORY_GROWTH_PERCENT`] of the first third's median if
/// that is more: allocator slack and a token cache still settling, not a leak. A leak of even
/// a few hundred bytes per request (over 40 000 requests a third) exceeds it.
const MEMORY_GROWTH_KIB: u64 = 4 * 1024;
/// See [`MEMORY_GROWTH_KIB`].
const MEMORY_GROWTH_PERCENT: u64 = 10;

impl Report {
    /// Judges the run.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        plan: &Plan,
        settings: Settings,
        records: &[Record],
        script: &ScriptLog,
        keys: &[KeyInfo],
        probe: &Probe,
        memory: &[MemorySample],
        stalls: &[Stall],
    ) -> Report {
        let stall = stall_summary(stalls, script);
        let window_tail = (settings.http_timeout + WINDOW_SLACK).as_micros() as u64;
        // A refresh that started inside a window may fail up to a fetch timeout after it.
        let overlaps = |record: &Record, start: u64, end: u64| {
            record.done_us >= start && record.sent_us <= end.saturating_add(window_tail)
        };
        let in_fault_window = |record: &Record| {
            script
                .fault_windows
                .iter()
                .any(|&(start, end)| overlaps(record, start, end))
        };
        // The issuer too slow to answer a fetch in time, because the machine was: the api's
        // fetch failed for real, and 503 is then its documented answer.
        let in_stall = |record: &Record| {
            stalls
                .iter()
                .any(|stall| overlaps(record, stall.start_us, stall.end_us))
        };
        // A valid request is judged when its key was known before it was sent and was still
        // published when it was answered (see `script`'s module documentation).
        let judged = |record: &Record| {
            record.kind.is_valid()
                && record.key.and_then(|k| keys.get(k)).is_some_and(|key| {
                    key.known_us.is_some_and(|known| known <= record.sent_us)
                        && key
                            .retired_us
                            .is_none_or(|retired| retired > record.done_us)
                })
        };

        let mut valid_judged = 0u64;
        let mut valid_failures: Vec<String> = Vec::new();
        let mut bad_5xx: Vec<String> = Vec::new();
        let mut contract_failures: Vec<String> = Vec::new();
        let mut documented_503 = 0u64;
        let mut stall_503 = 0u64;
        let describe = |record: &Record| {
            format!(
                "{} -> {} at {:.1} s (phase {})",
                record.kind.name(),
                record.status,
                record.sent_us as f64 / 1e6,
                record.phase
            )
        };
        for record in records {
            let may_need_fetch =
                !judged(record) && (record.kind.is_unknown_kid() || record.kind.is_valid());
            let faulted = may_need_fetch && in_fault_window(record);
            let stalled = may_need_fetch && !faulted && in_stall(record);
            if record.status >= 500 {
                if record.status == 503 && faulted {
                    documented_503 += 1;
                } else if record.status == 503 && stalled {
                    stall_503 += 1;
                } else {
                    bad_5xx.push(describe(record));
                }
            }
            if judged(record) {
                valid_judged += 1;
                if record.status != record.kind.expected() {
                    valid_failures.push(describe(record));
                }
            } else if !record.kind.is_valid()
                && record.status < 500
                && record.status != record.kind.expected()
            {
                // 5xx are the 5xx check's; everything else that differs (no answer included)
                // is this one's.
                contract_failures.push(describe(record));
            }
        }

        let mut phases = Vec::new();
        for (index, log) in script.phases.iter().enumerate() {
            let in_phase: Vec<&Record> = records.iter().filter(|r| r.phase == index).collect();
            let mut statuses = BTreeMap::new();
            for record in &in_phase {
                *statuses.entry(record.status).or_insert(0) += 1;
            }
            let mut latencies: Vec<u64> = in_phase.iter().map(|r| r.done_us - r.sent_us).collect();
            latencies.sort_unstable();
            let mut valid_latencies: Vec<u64> = in_phase
                .iter()
                .filter(|r| r.kind.is_valid())
                .map(|r| r.done_us - r.sent_us)
                .collect();
            valid_latencies.sort_unstable();
            let seconds = (log.end_us - log.start_us) as f64 / 1e6;
            phases.push(PhaseStats {
                name: log.name,
                seconds,
                requests: in_phase.len() as u64,
                statuses,
                p50_ms: percentile(&latencies, 50.0) / 1e3,
                p99_ms: percentile(&latencies, 99.0) / 1e3,
                valid_p99_ms: percentile(&valid_latencies, 99.0) / 1e3,
                valid_judged: in_phase.iter().filter(|r| judged(r)).count() as u64,
                valid_failed: in_phase
                    .iter()
                    .filter(|r| judged(r) && r.status != r.kind.expected())
                    .count() as u64,
                jwks: log.counts_end.jwks - log.counts_start.jwks,
                jwks_bound: fetch_bound(seconds, settings.cooldown),
                discovery: log.counts_end.discovery - log.counts_start.discovery,
            });
        }

        let mut checks = Vec::new();
        checks.push(Check {
            name: "no request with a valid token fails while its key is cached",
            passed: valid_judged > 0 && valid_failures.is_empty(),
            detail: format!(
                "{} of {valid_judged} judged valid-token requests got another answer than the contract's{}",
                valid_failures.len(),
                first(&valid_failures)
            ),
        });
        checks.push(Check {
            name: "no 5xx but the documented 503, and 503 only when no usable key could be had",
            // Excuses count only while stalls are rare enough for the run to mean something.
            passed: bad_5xx.is_empty() && !(stall.too_busy && stall_503 > 0),
            detail: format!(
                "{} undocumented 5xx; {documented_503} documented 503 (unknown kid while the issuer was faulted), {stall_503} while the machine stalled{}",
                bad_5xx.len(),
                first(&bad_5xx)
            ),
        });
        checks.push(Check {
            name: "every other answer is the contract's (no token, bad tokens, unknown kid, public)",
            passed: contract_failures.is_empty(),
            detail: format!(
                "{} of {} requests answered otherwise{}",
                contract_failures.len(),
                records.iter().filter(|r| !r.kind.is_valid()).count(),
                first(&contract_failures)
            ),
        });
        checks.push(cooldown_check(script, &phases, settings));
        let (rotation, revocation, key_lines, key_events) = key_checks(script);
        checks.push(rotation);
        checks.push(revocation);
        let memory = memory_summary(memory);
        checks.push(memory_check(&memory));
        let probe = probe_summary(probe);
        // A probe failure while a control saw the machine stall says nothing about the api;
        // one while both controls were answering promptly is the api's.
        let (excused, failed): (Vec<_>, Vec<_>) = probe.failures.iter().partition(|(at, _, _)| {
            let sent = (at * 1e6) as u64;
            let end = sent + (load::PROBE_TIMEOUT + WINDOW_SLACK).as_micros() as u64;
            let start = sent.saturating_sub(WINDOW_SLACK.as_micros() as u64);
            stalls
                .iter()
                .any(|stall| stall.end_us >= start && stall.start_us <= end)
        });
        checks.push(Check {
            name: "the api never stops answering /api/public",
            passed: probe.sent > 0 && failed.is_empty() && !stall.too_busy,
            detail: format!(
                "{} probes every {} ms with a {} ms timeout: {} failed, {} more during a machine stall; p50 {:.2} ms, max {:.2} ms{}{}",
                probe.sent,
                load::PROBE_INTERVAL.as_millis(),
                load::PROBE_TIMEOUT.as_millis(),
                failed.len(),
                excused.len(),
                probe.p50_ms,
                probe.max_ms,
                failed
                    .iter()
                    .chain(&excused)
                    .next()
                    .map(|(at, phase, what)| format!("; first at {at:.1} s (phase {phase}): {what}"))
                    .unwrap_or_default(),
                if stall.too_busy {
                    "; the machine stalled too long to judge: run again on a quieter one"
                } else {
                    ""
                }
            ),
        });

        let discovery = match (script.phases.first(), script.phases.last()) {
            (Some(first), Some(last)) => (
                first.counts_start.discovery,
                last.counts_end.discovery - first.counts_start.discovery,
            ),
            _ => (0, 0),
        };
        Report {
            settings,
            plan: *plan,
            discovery,
            phases,
            checks,
            stall,
            script: ScriptSummary {
                key_events,
                key_lines,
                tokens_minted: script.tokens_minted,
            },
            probe,
            memory,
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The printed report: phases, key events, checks, and the `N passed, M failed` line.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{:<3} {:<20} {:>5} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>4} {:>7} {:>7} {:>9} {:>13} {:>9} {:>4}",
            "#",
            "phase",
            "s",
            "reqs",
            "200",
            "401",
            "403",
            "503",
            "other",
            "err",
            "p50 ms",
            "p99 ms",
            "valid p99",
            "valid ok/all",
            "jwks/max",
            "disc"
        );
        for (index, phase) in self.phases.iter().enumerate() {
            let count = |status: u16| phase.statuses.get(&status).copied().unwrap_or(0);
            let other: u64 = phase
                .statuses
                .iter()
                .filter(|(s, _)| ![0, 200, 401, 403, 503].contains(*s))
                .map(|(_, n)| n)
                .sum();
            let _ = writeln!(
                out,
                "{index:<3} {:<20} {:>5.1} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>4} {:>7.2} {:>7.2} {:>9.2} {:>13} {:>9} {:>4}",
                phase.name,
                phase.seconds,
                phase.requests,
                count(200),
                count(401),
                count(403),
                count(503),
                other,
                count(0),
                phase.p50_ms,
                phase.p99_ms,
                phase.valid_p99_ms,
                format!(
                    "{}/{}",
                    phase.valid_judged - phase.valid_failed,
                    phase.valid_judged
                ),
                format!("{}/{}", phase.jwks, phase.jwks_bound),
                phase.discovery,
            );
        }
        let _ = writeln!(out, "\nkey changes:");
        for line in &self.script.key_lines {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(
            out,
            "machine stalls (a control over {} ms late): {} ({} by the driver's timer, {} by the issuer's /healthz), {:.2} s in all, longest {:.0} ms",
            load::STALL_THRESHOLD.as_millis(),
            self.stall.count,
            self.stall.by_driver,
            self.stall.by_issuer,
            self.stall.seconds,
            self.stall.longest_ms,
        );
        let _ = writeln!(
            out,
            "discovery: {} fetch(es) before the first phase, {} during the run",
            self.discovery.0, self.discovery.1
        );
        let _ = writeln!(
            out,
            "memory: {} samples of VmRSS; median of the first third after warm-up {}, of the last third {} (bound: +{} KiB or +{MEMORY_GROWTH_PERCENT}%)",
            self.memory.samples.len(),
            kib(self.memory.first_third_kib),
            kib(self.memory.last_third_kib),
            self.memory.bound_kib,
        );
        let _ = writeln!(out, "\nchecks:");
        for check in &self.checks {
            let _ = writeln!(
                out,
                "  {} {}\n       {}",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        let _ = writeln!(
            out,
            "\n{} passed, {failed} failed",
            self.checks.len() - failed
        );
        out
    }

    /// The summary written under `target/soak/`.
    pub fn json(&self) -> Value {
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        json!({
            "settings": {
                "jwks_cooldown_s": self.settings.cooldown.as_secs_f64(),
                "jwks_cache_max_age_s": self.settings.cache_max_age.as_secs_f64(),
                "http_timeout_s": self.settings.http_timeout.as_secs_f64(),
            },
            "plan": {
                "phases": self.plan.phases,
                "phase_length_s": self.plan.phase_length.as_secs_f64(),
            },
            "phases": self.phases.iter().map(|p| json!({
                "name": p.name,
                "seconds": p.seconds,
                "requests": p.requests,
                "statuses": p.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "p50_ms": p.p50_ms,
                "p99_ms": p.p99_ms,
                "valid_p99_ms": p.valid_p99_ms,
                "valid_judged": p.valid_judged,
                "valid_failed": p.valid_failed,
                "jwks_fetches": p.jwks,
                "jwks_fetch_bound": p.jwks_bound,
                "discovery_fetches": p.discovery,
            })).collect::<Vec<_>>(),
            "key_events": self.script.key_events,
            "tokens_minted": self.script.tokens_minted,
            "machine_stalls": {
                "count": self.stall.count,
                "by_driver_timer": self.stall.by_driver,
                "by_issuer_healthz": self.stall.by_issuer,
                "seconds": self.stall.seconds,
                "longest_ms": self.stall.longest_ms,
                "too_busy_to_judge": self.stall.too_busy,
            },
            "discovery_fetches": {
                "before_first_phase": self.discovery.0,
                "during_run": self.discovery.1,
            },
            "probe": {
                "sent": self.probe.sent,
                "failed": self.probe.failures.len(),
                "p50_ms": self.probe.p50_ms,
                "max_ms": self.probe.max_ms,
            },
            "memory": {
                "first_third_median_kib": self.memory.first_third_kib,
                "last_third_median_kib": self.memory.last_third_kib,
                "bound_kib": self.memory.bound_kib,
                "last_third_first_and_last_kib": self.memory.last_third_span_kib,
                "samples": self.memory.samples.iter().map(|s| json!([s.at, s.phase, s.rss_kib])).collect::<Vec<_>>(),
            },
            "checks": self.checks.iter().map(|c| json!({
                "name": c.name,
                "passed": c.passed,
                "detail": c.detail,
            })).collect::<Vec<_>>(),
            "passed": self.checks.len() - failed,
            "failed": failed,
        })
    }
}

/// The most JWKS fetches an interval of `seconds` may hold when fetches are at least
/// `cooldown` apart: ⌊L/c⌋ + 1, plus one because the driver reads the issuer's counts at
/// instants that jitter against the api's own clock.
fn fetch_bound(seconds: f64, cooldown: Duration) -> u64 {
    (seconds / cooldown.as_secs_f64()).floor() as u64 + 2
}

fn cooldown_check(script: &ScriptLog, phases: &[PhaseStats], settings: Settings) -> Check {
    let over: Vec<String> = phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.jwks > p.jwks_bound)
        .map(|(i, p)| format!("phase {i} ({}): {} > {}", p.name, p.jwks, p.jwks_bound))
        .collect();
    let (Some(first), Some(last)) = (script.phases.first(), script.phases.last()) else {
        return Check {
            name: "JWKS fetches obey the cooldown under the unknown-kid flood",
            passed: false,
            detail: "no phase ran".to_owned(),
        };
    };
    let seconds = (last.end_us - first.start_us) as f64 / 1e6;
    let total = last.counts_end.jwks - first.counts_start.jwks;
    let bound = fetch_bound(seconds, settings.cooldown);
    // The flood must really drive refetches, or the bound holds vacuously: at least one fetch
    // per two cooldowns over the run.
    let floor = (seconds / (2.0 * settings.cooldown.as_secs_f64())).floor() as u64;
    Check {
        name: "JWKS fetches obey the cooldown under the unknown-kid flood",
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

fn key_checks(script: &ScriptLog) -> (Check, Check, Vec<String>, Vec<Value>) {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    for event in &script.key_events {
        let seen: Vec<String> = event.seen.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        lines.push(format!(
            "phase {}: {} {}: {} (bound {:.1} s; answers while waiting: {})",
            event.phase,
            event.what,
            event.kid,
            event
                .latency
                .map_or("never".to_owned(), |l| format!("{:.3} s", l.as_secs_f64())),
            event.bound.as_secs_f64(),
            seen.join(" ")
        ));
        events.push(json!({
            "phase": event.phase,
            "what": event.what,
            "kid": event.kid,
            "latency_s": event.latency.map(|l| l.as_secs_f64()),
            "bound_s": event.bound.as_secs_f64(),
            "seen": event.seen.iter().map(|(s, n)| json!([s, n])).collect::<Vec<_>>(),
        }));
    }
    let judge = |filter: &dyn Fn(&str) -> bool, must: &str| {
        let chosen: Vec<_> = script
            .key_events
            .iter()
            .filter(|e| filter(e.what))
            .collect();
        let late: Vec<String> = chosen
            .iter()
            .filter(|e| e.latency.is_none_or(|l| l > e.bound))
            .map(|e| format!("{} in phase {}", e.what, e.phase))
            .collect();
        let worst = chosen
            .iter()
            .filter_map(|e| e.latency)
            .max()
            .map_or("none".to_owned(), |l| format!("{:.3} s", l.as_secs_f64()));
        let has_required = chosen.iter().any(|e| e.what.contains(must));
        (chosen.len(), late, worst, has_required)
    };
    let (count, late, worst, has_unseen) =
        judge(&|what| what.starts_with("rotated"), "never served");
    let rotation = Check {
        name: "a rotated key is accepted within the cooldown",
        passed: count > 0 && late.is_empty() && has_unseen,
        detail: format!(
            "{count} rotations measured (at least one of a key never served before), slowest {worst}; late: {}",
            if late.is_empty() {
                "none".to_owned()
            } else {
                late.join(", ")
            }
        ),
    };
    let (count, late, worst, _) = judge(&|what| what.starts_with("revoked"), "revoked");
    let revocation = Check {
        name: "a revoked key is refused within the max age plus the cooldown",
        passed: count > 0 && late.is_empty(),
        detail: format!(
            "{count} revocations measured, slowest {worst}; late: {}",
            if late.is_empty() {
                "none".to_owned()
            } else {
                late.join(", ")
            }
        ),
    };
    (rotation, revocation, lines, events)
}

fn memory_summary(samples: &[MemorySample]) -> MemorySummary {
    // The first phase (healthy) is the warm-up: it grows the heap to its working size, and
    // flatness is judged after it.
    let after: Vec<u64> = samples
        .iter()
        .filter(|s| s.phase > 0)
        .map(|s| s.rss_kib)
        .collect();
    let third = after.len() / 3;
    let median_of = |slice: &[u64]| {
        let mut sorted = slice.to_vec();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied()
    };
    let (first, last) = if third >= 3 {
        (
            median_of(&after[..third]),
            median_of(&after[after.len() - third..]),
        )
    } else {
        (None, None)
    };
    let last_third_span_kib = (third >= 3).then(|| {
        let tail = &after[after.len() - third..];
        (tail[0], tail[tail.len() - 1])
    });
    let bound_kib = first.map_or(MEMORY_GROWTH_KIB, |f| {
        MEMORY_GROWTH_KIB.max(f * MEMORY_GROWTH_PERCENT / 100)
    });
    MemorySummary {
        samples: samples.to_vec(),
        last_third_span_kib,
        first_third_kib: first,
        last_third_kib: last,
        bound_kib,
    }
}

fn memory_check(memory: &MemorySummary) -> Check {
    let name = "memory stays flat";
    match (memory.first_third_kib, memory.last_third_kib) {
        (Some(first), Some(last)) => Check {
            name,
            passed: last <= first + memory.bound_kib,
            detail: format!(
                "VmRSS median {} → {} ({:+} KiB; bound +{} KiB = max(4 MiB, {MEMORY_GROWTH_PERCENT}%)); peak {}; within the last third {:+} KiB",
                kib(Some(first)),
                kib(Some(last)),
                last as i64 - first as i64,
                memory.bound_kib,
                kib(memory.samples.iter().map(|s| s.rss_kib).max()),
                memory
                    .last_third_span_kib
                    .map_or(0, |(from, to)| to as i64 - from as i64),
            ),
        },
        _ => Check {
            name,
            passed: false,
            detail: format!(
                "only {} samples after warm-up: was /proc/PID/status readable?",
                memory.samples.iter().filter(|s| s.phase > 0).count()
            ),
        },
    }
}

fn probe_summary(probe: &Probe) -> ProbeSummary {
    let mut latencies = probe.latencies_us.clone();
    latencies.sort_unstable();
    ProbeSummary {
        sent: probe.sent,
        failures: probe.failures.clone(),
        p50_ms: percentile(&latencies, 50.0) / 1e3,
        max_ms: latencies.last().copied().unwrap_or(0) as f64 / 1e3,
    }
}

/// The nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

fn kib(value: Option<u64>) -> String {
    value.map_or("n/a".to_owned(), |v| {
        format!("{:.1} MiB", v as f64 / 1024.0)
    })
}

/// The first few examples of a failure list, for the detail line.
fn first(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
    format!("; e.g. {}", shown.join("; "))
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
            seen_by: "driver timer",
        };
        let script = ScriptLog {
            phases: vec![crate::script::PhaseLog {
                name: "healthy",
                start_us: 0,
                end_us: 10_000_000,
                counts_start: Default::default(),
                counts_end: Default::default(),
            }],
            ..ScriptLog::default()
        };

        let few = stall_summary(&[stall(0, 200_000), stall(100_000, 300_000)], &script);
        let many = stall_summary(&[stall(0, 600_000)], &script);

        assert!((few.seconds - 0.3).abs() < 1e-9);
        assert!(!few.too_busy);
        assert!(many.too_busy);
    }

    #[test]
    fn memory_that_grows_past_the_bound_fails() {
        let samples: Vec<MemorySample> = (0..30)
            .map(|i| MemorySample {
                at: i as f64,
                phase: 1,
                rss_kib: 20_000 + i * 1_000,
            })
            .collect();

        let check = memory_check(&memory_summary(&samples));

        assert!(!check.passed, "{}", check.detail);
    }
}
